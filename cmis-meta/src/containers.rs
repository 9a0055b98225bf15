//! What Instagram and Threads containers share: polling a set of containers with bounded
//! backoff, and the receipt of a published post with its permalink read best effort.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use cmis_core::{Error, PollPolicy, PostId, Receipt, Result, Target};
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

/// A receipt for the published `media_id` of `target`'s account, with the permalink that
/// `GET {url}?fields={fields}` gives. Best effort: any failure of the lookup is logged and the
/// receipt has no permalink; a failed lookup never fails a published post.
pub(crate) async fn receipt(
    client: &MetaClient,
    s: Session<'_>,
    target: &Target,
    media_id: String,
    url: String,
    fields: &str,
) -> Receipt {
    let permalink = permalink(client, s, &media_id, url, fields).await;
    let mut r = Receipt::new(
        target.account.platform,
        target.account.account.clone(),
        PostId::new(media_id),
    )
    .with_published_at(client.clock().now());
    if let Some(p) = permalink {
        r = r.with_permalink(p);
    }
    r
}

async fn permalink(
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
