//! Page photos: `POST /{page-id}/photos` by URL (`url=`) or by file (multipart `source`).

use bytes::{BufMut, Bytes, BytesMut};
use cmis_core::{Media, MediaSource, Post, PublishContext, Receipt, Result, Target};
use serde::Deserialize;

use super::feed::Creating;
use super::{Creates, FacebookPagePublisher, FbState, scheduling};
use crate::client::{ApiRequest, Host, Session, de_id, de_opt_id};
use crate::media::{file_name, load, sniff_media};

/// `{"id":"photo_id","post_id":"page_post_id"}` (`post_id` is absent for unpublished photos).
#[derive(Debug, Deserialize)]
pub(crate) struct PhotoResponse {
    #[serde(deserialize_with = "de_id")]
    pub(crate) id: String,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub(crate) post_id: Option<String>,
}

/// A `multipart/form-data` body: text fields, then one file part.
pub(crate) fn multipart(
    fields: &[(String, String)],
    file_field: &str,
    file_name: &str,
    mime: &str,
    data: &[u8],
) -> (String, Bytes) {
    let boundary = format!("cmis-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let mut body = BytesMut::with_capacity(data.len() + 256 * (fields.len() + 1));
    for (name, value) in fields {
        body.put_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.put_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\nContent-Type: {mime}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.put_slice(data);
    body.put_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.freeze(),
    )
}

impl FacebookPagePublisher {
    /// Creates one photo from `media` with `fields` (message, `published`, schedule).
    pub(super) async fn upload_photo(
        &self,
        s: Session<'_>,
        target: &Target,
        media: &Media,
        mut fields: Vec<(String, String)>,
    ) -> Result<PhotoResponse> {
        let url = self
            .client
            .url(Host::Graph, &format!("{}/photos", target.account.account));
        let req = match &media.source {
            MediaSource::Url(u) => {
                fields.insert(0, ("url".into(), u.to_string()));
                ApiRequest::post(url).form(fields)
            }
            _ => {
                let sniffed = sniff_media(media).await?;
                let data = load(media).await?;
                let name = file_name(media, sniffed);
                let (ct, body) = multipart(&fields, "source", &name, sniffed.mime, &data);
                ApiRequest::post(url).raw(ct, body)
            }
        };
        self.client.call_as(s, &req).await
    }

    /// A single-photo post.
    pub(super) async fn photo_post(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        let Some(media) = post.media.first() else {
            return Err(cmis_core::Error::internal("photo post without media"));
        };
        let mut fields = Vec::new();
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            fields.push(("message".into(), text.to_owned()));
        }
        fields.extend(scheduling(post));
        let ready = FbState::Ready { post: post.clone() };
        let creating = Creating {
            endpoint: "/photos",
            creates: Creates::Photo,
            ids: Vec::new(),
        };
        let photo = self
            .guarded(
                ctx,
                &ready,
                creating,
                self.upload_photo(s, target, media, fields),
            )
            .await?;
        let id = photo.post_id.unwrap_or(photo.id);
        Ok(self.receipt(
            target,
            id,
            post.options.facebook.scheduled_publish_time.is_some(),
        ))
    }
}
