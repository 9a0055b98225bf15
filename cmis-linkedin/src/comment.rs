//! Comments on posts (`docs/linkedin-api.md` §2): plain text, never little text.

use cmis_core::{Error, Platform, PublishContext, Result, TokenSession};
use cmis_http::{Call, reqwest::Method};
use serde::Deserialize;
use serde_json::json;

use crate::client::encode_urn;
use crate::publisher::LinkedInPublisher;
use crate::validate::author_of;

impl LinkedInPublisher {
    /// Comments `text` on the post `post_urn` as `actor` (a person or organization URN):
    /// `POST /rest/socialActions/{post}/comments`. Returns the comment's id.
    ///
    /// A comment is **plain text, not little text**: it is sent exactly as given (escaping it
    /// would show the backslashes, as a peer's users saw). Comments are not idempotent either; a
    /// lost answer is an [`UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) and is not repeated.
    pub async fn comment(
        &self,
        account: &cmis_core::AccountRef,
        post_urn: &str,
        actor: &str,
        text: &str,
        ctx: &PublishContext,
    ) -> Result<String> {
        author_of(actor)?;
        if !(post_urn.starts_with("urn:li:share:") || post_urn.starts_with("urn:li:ugcPost:")) {
            return Err(Error::invalid_input(format!(
                "{post_urn:?} is not a LinkedIn post URN (urn:li:share:… or urn:li:ugcPost:…)"
            )));
        }
        if text.trim().is_empty() {
            return Err(Error::invalid_input("a LinkedIn comment needs text"));
        }
        let body = json!({
            "actor": actor,
            "object": post_urn,
            "message": {"text": text},
        });
        let path = format!("socialActions/{}/comments", encode_urn(post_urn));
        let session = TokenSession::new(ctx.tokens().as_ref(), account);
        let raw = session
            .run(|token| {
                let body = &body;
                let path = path.clone();
                async move {
                    let raw = self
                        .client
                        .rest_raw(Method::POST, &path, &[], Some(body), &token, Call::Mutation)
                        .await?;
                    if raw.is_success() {
                        Ok(raw)
                    } else {
                        Err(self
                            .client
                            .error(&raw, Call::Mutation, "socialActions/comments"))
                    }
                }
            })
            .await?;
        #[derive(Deserialize)]
        struct Made {
            #[serde(default)]
            id: Option<String>,
            #[serde(default, rename = "$URN")]
            urn: Option<String>,
        }
        let made: Option<Made> = serde_json::from_slice(&raw.body).ok();
        raw.id
            .or_else(|| made.and_then(|m| m.urn.or(m.id)))
            .ok_or_else(|| {
                Error::unknown_outcome("LinkedIn accepted the comment without saying its id")
                    .with_platform(Platform::LinkedIn)
            })
    }
}
