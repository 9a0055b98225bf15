//! Instagram containers: creation (`POST /{ig-user-id}/media`), resumable upload to rupload, and
//! status polling with bounded backoff.

use cmis_core::{Error, Media, MediaSource, Platform, Post, Result, Target};
use serde::Deserialize;
use serde_json::Value;

use super::{IgKind, InstagramPublisher};
use crate::client::{ApiRequest, Host, IdResponse, Session, segment};
pub(super) use crate::containers::Polled;
use crate::containers::{Seen, poll_all};
use crate::media::{Kind, load, sniff_media};

/// A container's `status_code` and `status`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Status {
    #[serde(rename = "status_code", default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) status: Option<String>,
}

/// The 2207xxx subcode inside an `ERROR` status such as
/// "Error: Media upload has failed with error code 2207026".
pub(crate) fn subcode_in(status: &str) -> Option<String> {
    status
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 7 && w.starts_with("2207"))
        .map(str::to_owned)
}

impl InstagramPublisher {
    /// The parameters of a container for `media` as a `kind` item (or carousel child).
    async fn container_fields(
        &self,
        media: &Media,
        kind: IgKind,
        child: bool,
        post: &Post,
    ) -> Result<Vec<(String, String)>> {
        let sniffed = sniff_media(media).await?;
        let video = sniffed.kind == Kind::Video;
        let opts = &post.options.instagram;
        let mut f: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: String| f.push((k.to_owned(), v));
        if child {
            push("is_carousel_item", "true".into());
            if video {
                push("media_type", "VIDEO".into());
            }
        } else {
            match kind {
                IgKind::Reel => push("media_type", "REELS".into()),
                IgKind::Story => push("media_type", "STORIES".into()),
                IgKind::Image | IgKind::Carousel => {}
            }
        }
        match &media.source {
            MediaSource::Url(u) if video => push("video_url", u.to_string()),
            MediaSource::Url(u) => push("image_url", u.to_string()),
            _ => push("upload_type", "resumable".into()),
        }
        if !video && let Some(alt) = media.alt_text.as_deref() {
            push("alt_text", alt.to_owned());
        }
        if !child && kind != IgKind::Story {
            self.post_fields(post, &mut f);
        }
        if kind == IgKind::Reel {
            if let Some(share) = opts.share_to_feed {
                f.push(("share_to_feed".into(), share.to_string()));
            }
            if let Some(cover) = &opts.cover_url {
                f.push(("cover_url".into(), cover.to_string()));
            }
            if let Some(ms) = opts.thumb_offset_ms {
                f.push(("thumb_offset".into(), ms.to_string()));
            }
        }
        Ok(f)
    }

    /// Caption, location and collaborators of the published item.
    fn post_fields(&self, post: &Post, f: &mut Vec<(String, String)>) {
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            f.push(("caption".into(), text.to_owned()));
        }
        let opts = &post.options.instagram;
        if let Some(loc) = &opts.location_id {
            f.push(("location_id".into(), loc.clone()));
        }
        if !opts.collaborators.is_empty() {
            f.push((
                "collaborators".into(),
                serde_json::to_string(&opts.collaborators).unwrap_or_default(),
            ));
        }
    }

    pub(super) fn media_url(&self, target: &Target, edge: &str) -> String {
        self.client
            .url(self.host(), &format!("{}/{edge}", target.account.account))
    }

    /// Creates a container for one item (or a carousel child).
    pub(super) async fn create_item(
        &self,
        s: Session<'_>,
        target: &Target,
        media: &Media,
        kind: IgKind,
        child: bool,
        post: &Post,
    ) -> Result<String> {
        let fields = self.container_fields(media, kind, child, post).await?;
        let req = ApiRequest::post(self.media_url(target, "media")).form(fields);
        let created: IdResponse = self.client.call_as(s, &req).await?;
        Ok(created.id)
    }

    /// Creates the carousel container from its children.
    pub(super) async fn create_carousel(
        &self,
        s: Session<'_>,
        target: &Target,
        children: &[String],
        post: &Post,
    ) -> Result<String> {
        let mut f = vec![
            ("media_type".to_owned(), "CAROUSEL".to_owned()),
            ("children".to_owned(), children.join(",")),
        ];
        self.post_fields(post, &mut f);
        let req = ApiRequest::post(self.media_url(target, "media")).form(f);
        let created: IdResponse = self.client.call_as(s, &req).await?;
        Ok(created.id)
    }

    /// Uploads a local file into a resumable container through rupload
    /// (`POST {rupload}/ig-api-upload/{ver}/{container-id}`, `Authorization: OAuth`).
    pub(super) async fn upload(
        &self,
        s: Session<'_>,
        container: &str,
        media: &Media,
    ) -> Result<()> {
        segment(container, "container id")?;
        let data = load(media).await?;
        let url = self.client.unversioned_url(
            Host::Rupload,
            &format!("ig-api-upload/{}/{container}", self.client.graph_version()),
        );
        // The whole file from offset 0: repeating it is idempotent, so it is retried as a read.
        let req = ApiRequest::post(url)
            .header("offset", "0")
            .header("file_size", data.len().to_string())
            .raw("application/octet-stream", data)
            .oauth()
            .idempotent();
        let v: Value = self.client.read(s, &req).await?;
        if v.get("success").and_then(Value::as_bool) == Some(true) {
            return Ok(());
        }
        let kind = v
            .pointer("/debug_info/type")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        Err(
            Error::rejected(format!("the Instagram upload failed ({kind})"))
                .with_platform(Platform::Instagram),
        )
    }

    /// `GET /{container-id}?fields=status_code,status`.
    pub(super) async fn status(&self, s: Session<'_>, container: &str) -> Result<Status> {
        segment(container, "container id")?;
        let req = ApiRequest::get(self.client.url(self.host(), container))
            .query("fields", "status_code,status");
        self.client.read_as(s, &req).await
    }

    /// Polls `containers` with bounded backoff until all are `FINISHED`, one is `PUBLISHED`, or
    /// the budget runs out. `ERROR` and `EXPIRED` end it with an error.
    pub(super) async fn poll(&self, s: Session<'_>, containers: &[String]) -> Result<Polled> {
        poll_all(self.client.poll_policy(), containers, |id| async move {
            let st = self.status(s, &id).await?;
            Ok(match st.code.as_str() {
                "FINISHED" => Seen::Finished,
                "PUBLISHED" => Seen::Published,
                "ERROR" => {
                    let text = st.status.unwrap_or_else(|| "ERROR".to_owned());
                    let mut err = Error::rejected(format!(
                        "Instagram could not process container {id}: {text}"
                    ))
                    .with_platform(Platform::Instagram);
                    if let Some(sub) = subcode_in(&text) {
                        err = err.with_platform_subcode(sub);
                    }
                    Seen::Failed(err)
                }
                "EXPIRED" => Seen::Failed(
                    Error::rejected(format!(
                        "Instagram container {id} expired (containers live 24 h); publish the \
                         post again to create a new one"
                    ))
                    .with_platform(Platform::Instagram)
                    .with_platform_subcode("2207020"),
                ),
                // IN_PROGRESS, or a status this version does not know: keep polling.
                _ => Seen::Working,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::subcode_in;

    #[test]
    fn finds_the_subcode_in_an_error_status() {
        assert_eq!(
            subcode_in("Error: Media upload has failed with error code 2207026").as_deref(),
            Some("2207026")
        );
        assert_eq!(subcode_in("Error: unknown"), None);
    }
}
