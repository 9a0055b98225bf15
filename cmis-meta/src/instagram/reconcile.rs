//! Reconciling an Instagram publish whose outcome was lost: the checkpoint, the container's
//! `status_code`, and for a `PUBLISHED` container whose media id was lost, the account's media
//! (`GET /{ig-user-id}/media`) matched by exact caption and time.

use cmis_core::{
    Checkpoint, Platform, PostId, PublishContext, Receipt, Reconciliation, Result, Target,
};
use serde_json::Value;
use url::Url;

use super::{IgKind, IgState, InstagramPublisher};
use crate::client::Session;
use crate::reconcile::{
    Found, Listed, decide, id_of, list_since, parse_time, undecided, undecided_until,
};

/// The fields read for each media object (IG Media reference).
pub(crate) const MEDIA_FIELDS: &str = "id,caption,timestamp,media_type,permalink";

/// The stage saved just before `media_publish` is sent.
const STAGE_PUBLISHING: &str = "publishing";

fn undecided_ig(reason: impl Into<String>) -> cmis_core::Error {
    undecided(Platform::Instagram, reason)
}

/// One object of `/{ig-user-id}/media`.
pub(crate) fn parse_media(v: &Value) -> Option<Listed> {
    Some(Listed {
        id: id_of(v.get("id")?)?,
        text: v.get("caption").and_then(Value::as_str).map(str::to_owned),
        created: v
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time),
        media_type: v
            .get("media_type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        attached: Vec::new(),
        permalink: v
            .get("permalink")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// The `media_type` Instagram lists for what `kind` publishes (a Reel is a `VIDEO`).
fn media_type_of(kind: IgKind) -> Option<&'static str> {
    match kind {
        IgKind::Image => Some("IMAGE"),
        IgKind::Carousel => Some("CAROUSEL_ALBUM"),
        IgKind::Reel => Some("VIDEO"),
        IgKind::Story => None,
    }
}

impl InstagramPublisher {
    pub(super) async fn find_lost(
        &self,
        target: &Target,
        cp: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        // `media_publish`, the only call that publishes, is always preceded by a saved
        // checkpoint ("publishing"): without one, it never ran.
        let Some(cp) = cp else {
            return Ok(Reconciliation::NotPublished);
        };
        let state: IgState = cp.decode()?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        if let Some(media_id) = &state.media_id {
            return Ok(Reconciliation::Published(
                self.receipt(s, target, media_id.clone()).await,
            ));
        }
        let Some(container) = &state.container else {
            // No publishable container was ever created, so media_publish never ran.
            return Ok(Reconciliation::NotPublished);
        };
        let status = self.status(s, container).await?;
        match status.code.as_str() {
            "PUBLISHED" => self.find_published(target, cp, &state, ctx).await,
            "ERROR" | "EXPIRED" => Ok(Reconciliation::NotPublished),
            _ => Ok(Reconciliation::Pending(cp.clone())),
        }
    }

    /// The container is `PUBLISHED` but the media id was lost with the response: the media
    /// created within the `media_publish` call's window with the same caption.
    async fn find_published(
        &self,
        target: &Target,
        cp: &Checkpoint,
        state: &IgState,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        let Some(want) = media_type_of(state.kind) else {
            return Err(undecided_ig(
                "the story's container is PUBLISHED, but stories are not listed among the \
                 account's media, so its id cannot be found",
            ));
        };
        if cp.stage != STAGE_PUBLISHING {
            return Err(undecided_ig(format!(
                "the container is PUBLISHED, but the checkpoint (stage {}) does not record when \
                 media_publish was sent",
                cp.stage
            )));
        }
        let window = self.reconcile.window(cp.created_at);
        let url = self
            .client
            .url(self.host(), &format!("{}/media", target.account.account));
        let since = window.start - self.reconcile.lookback;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        let (listed, complete) = list_since(
            &self.client,
            s,
            &url,
            MEDIA_FIELDS,
            since,
            &self.reconcile,
            parse_media,
        )
        .await?;
        let now = self.client.clock().now();
        let found = decide(
            &listed,
            complete,
            state.post.text_or_empty(),
            window,
            now,
            self.reconcile.settle,
            |p| p.media_type.as_deref() == Some(want),
        );
        match found {
            Found::Ours(p) => {
                let mut r = Receipt::new(
                    Platform::Instagram,
                    target.account.account.clone(),
                    PostId::new(p.id),
                )
                .with_published_at(p.created.unwrap_or(cp.created_at));
                if let Some(link) = p.permalink.as_deref().and_then(|l| Url::parse(l).ok()) {
                    r = r.with_permalink(link);
                }
                Ok(Reconciliation::Published(r))
            }
            Found::Unknown(reason) => Err(undecided_ig(format!(
                "the container is PUBLISHED, but its media id was lost and {reason}"
            ))),
            Found::NotYet { reason, at } => Err(undecided_until(
                Platform::Instagram,
                format!("the container is PUBLISHED, but its media id was lost and {reason}"),
                at,
                now,
            )),
            Found::Absent => Err(undecided_ig(
                "the container is PUBLISHED, but no media with its caption is listed in the \
                 window of the media_publish call",
            )),
        }
    }
}
