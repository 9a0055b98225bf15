//! What Instagram and Threads containers share: polling a set of containers with bounded
//! backoff, and the best-effort permalink read of a published post.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use cmis_core::{Error, PollPolicy, Result};
use serde_json::Value;
use url::Url;

use crate::client::{ApiRequest, MetaClient, Session, segment};

/// What one read of a container said.
pub(crate) enum Seen {
    /// Ready to publish.
    Finished,
    /// Already published (by an earlier attempt whose answer was lost).
    Published,
    /// Processing failed or the container expired: the error to return.
    Failed(Error),
    /// Still processing, or a status this version does not know.
    Working,
}

/// How polling ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polled {
    /// Every container is `FINISHED`.
    Finished,
    /// A container is already `PUBLISHED`.
    Published,
    /// The polling budget ran out with containers still processing.
    StillProcessing,
}

/// Reads each container with `read` until all are finished, one is published or failed, or
/// `policy`'s budget runs out.
pub(crate) async fn poll_all<F, Fut>(
    policy: PollPolicy,
    containers: &[String],
    mut read: F,
) -> Result<Polled>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Seen>>,
{
    let mut finished: BTreeSet<&str> = BTreeSet::new();
    let mut waited = Duration::ZERO;
    let mut round = 0;
    loop {
        for id in containers {
            if finished.contains(id.as_str()) {
                continue;
            }
            match read(id.clone()).await? {
                Seen::Finished => {
                    finished.insert(id);
                }
                Seen::Published => return Ok(Polled::Published),
                Seen::Failed(err) => return Err(err),
                Seen::Working => {}
            }
        }
        if finished.len() == containers.len() {
            return Ok(Polled::Finished);
        }
        // Never a busy loop, whatever the policy says.
        let delay = policy.delay(round).max(Duration::from_millis(10));
        if waited + delay > policy.budget {
            return Ok(Polled::StillProcessing);
        }
        tokio::time::sleep(delay).await;
        waited += delay;
        round += 1;
    }
}

/// `GET {url}?fields={fields}` and its `permalink`; any failure is logged and yields `None`: a
/// failed lookup never fails a published post.
pub(crate) async fn permalink(
    client: &MetaClient,
    s: Session<'_>,
    media_id: &str,
    url: String,
    fields: &str,
) -> Option<Url> {
    segment(media_id, "media id").ok()?;
    let req = ApiRequest::get(url).query("fields", fields);
    match client.call(s, &req).await {
        Ok(v) => v
            .get("permalink")
            .and_then(Value::as_str)
            .and_then(|p| Url::parse(p).ok()),
        Err(err) => {
            tracing::warn!(kind = %err.kind(), "permalink lookup failed; the post is published");
            None
        }
    }
}
