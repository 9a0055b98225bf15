//! Reconciling a Threads publish whose outcome was lost (`docs/threads-api.md` §5): the
//! checkpoint, the container's `status`, and for a `PUBLISHED` container whose media id was
//! lost, the profile's posts (`GET /{threads-user-id}/threads`) matched by exact text and time.

use cmis_core::{
    Checkpoint, Platform, PostId, PublishContext, Receipt, Reconciliation, Result, Target,
};
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use super::{ThState, ThreadsPublisher};
use crate::client::Session;
use crate::reconcile::{
    Found, Listed, decide, id_of, list_since, parse_time, undecided, undecided_until,
};

/// The fields read for each post (user reference, §5).
const THREAD_FIELDS: &str = "id,text,timestamp,permalink,media_type";

/// The stage saved just before `threads_publish` is sent.
const STAGE_PUBLISHING: &str = "publishing";

/// One post of `/{threads-user-id}/threads`.
pub(crate) fn parse_thread(v: &Value) -> Option<Listed> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(Listed {
        id: id_of(v.get("id")?)?,
        text: text("text"),
        created: v
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time),
        media_type: text("media_type"),
        attached: Vec::new(),
        permalink: text("permalink"),
    })
}

/// What the profile's posts say about a publish whose answer was lost.
pub(super) enum Lookup {
    /// The post, found.
    Found(Receipt),
    /// Proven absent: the listing covers the call's window and holds no such post.
    Absent,
    /// Cannot tell (yet): an [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome)
    /// error whose message says why.
    Undecided(cmis_core::Error),
}

impl ThreadsPublisher {
    pub(super) async fn find_lost(
        &self,
        target: &Target,
        cp: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        // `threads_publish`, the only call that publishes, is always preceded by a saved
        // checkpoint ("publishing"): without one, it never ran.
        let Some(cp) = cp else {
            return Ok(Reconciliation::NotPublished);
        };
        let state: ThState = cp.decode()?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        if let Some(media_id) = &state.media_id {
            return Ok(Reconciliation::Published(
                self.receipt(s, target, media_id.clone()).await,
            ));
        }
        let Some(container) = &state.container else {
            return Ok(Reconciliation::NotPublished);
        };
        let status = self.status(s, container).await?;
        let sent_at = sent_at(cp, &state);
        match (status.status.as_str(), sent_at) {
            ("PUBLISHED", Some(at)) => {
                match self
                    .look_for(target, at, &state, ctx, PUBLISHED_LOST)
                    .await?
                {
                    Lookup::Found(r) => Ok(Reconciliation::Published(r)),
                    Lookup::Undecided(e) => Err(e),
                    Lookup::Absent => Err(undecided(
                        Platform::Threads,
                        "the container is PUBLISHED, but no post with its text is listed in \
                         the window of the threads_publish call",
                    )),
                }
            }
            ("PUBLISHED", None) => Err(undecided(
                Platform::Threads,
                format!(
                    "the container is PUBLISHED, but the checkpoint (stage {}) does not record \
                     when threads_publish was sent",
                    cp.stage
                ),
            )),
            // An unpublished container is invisible and never published by itself.
            ("ERROR" | "EXPIRED", _) => Ok(Reconciliation::NotPublished),
            // Sent, but the container still reads FINISHED: its status may lag, so the
            // profile's posts decide before it is sent again.
            ("FINISHED", Some(at)) => {
                match self
                    .look_for(target, at, &state, ctx, FINISHED_SENT)
                    .await?
                {
                    Lookup::Found(r) => Ok(Reconciliation::Published(r)),
                    Lookup::Undecided(e) => Err(e),
                    Lookup::Absent => Ok(Reconciliation::Pending(cp.clone())),
                }
            }
            _ => Ok(Reconciliation::Pending(cp.clone())),
        }
    }

    /// Looks for the post a `threads_publish` sent at `sent_at` made: same text, same media
    /// type, created within the call's window.
    pub(super) async fn look_for(
        &self,
        target: &Target,
        sent_at: OffsetDateTime,
        state: &ThState,
        ctx: &PublishContext,
        why: &str,
    ) -> Result<Lookup> {
        let window = self.reconcile.window(sent_at);
        let url = self
            .client
            .url(&format!("{}/threads", target.account.account));
        let since = window.start - self.reconcile.lookback;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        let (listed, complete) = list_since(
            self.client.meta(),
            s,
            &url,
            THREAD_FIELDS,
            since,
            &self.reconcile,
            parse_thread,
        )
        .await?;
        let now = self.client.meta().clock().now();
        let want = state.kind.listed_name();
        let found = decide(
            &listed,
            complete,
            state.post.text_or_empty(),
            window,
            now,
            self.reconcile.settle,
            |p| p.media_type.as_deref() == Some(want),
        );
        Ok(match found {
            Found::Ours(p) => {
                let mut r = Receipt::new(
                    Platform::Threads,
                    target.account.account.clone(),
                    PostId::new(p.id),
                )
                .with_published_at(p.created.unwrap_or(sent_at));
                if let Some(link) = p.permalink.as_deref().and_then(|l| Url::parse(l).ok()) {
                    r = r.with_permalink(link);
                }
                Lookup::Found(r)
            }
            Found::Unknown(reason) => {
                Lookup::Undecided(undecided(Platform::Threads, format!("{why} {reason}")))
            }
            Found::NotYet { reason, at } => Lookup::Undecided(undecided_until(
                Platform::Threads,
                format!("{why} {reason}"),
                at,
                now,
            )),
            Found::Absent => Lookup::Absent,
        })
    }
}

const PUBLISHED_LOST: &str = "the container is PUBLISHED, but its media id was lost and";
const FINISHED_SENT: &str =
    "threads_publish was sent without a definite answer and the container still reads FINISHED;";

/// When `threads_publish` was sent: recorded in the state, or (for checkpoints written before it
/// was) the time of the "publishing" checkpoint.
fn sent_at(cp: &Checkpoint, state: &ThState) -> Option<OffsetDateTime> {
    state
        .publish_sent_at
        .or_else(|| (cp.stage == STAGE_PUBLISHING).then_some(cp.created_at))
}
