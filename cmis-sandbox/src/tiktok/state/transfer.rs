//! Publishing, second half: chunk uploads, status and cancel.

use super::*;

impl TikTokState {
    /// One chunk `PUT`.
    pub(crate) fn upload(
        &self,
        upload_id: &str,
        upload_token: &str,
        content_type: Option<&str>,
        content_range: Option<&str>,
        body_len: u64,
    ) -> UploadReply {
        let refused = |status, message: &str| UploadReply::Refused {
            status,
            message: message.to_owned(),
        };
        let mut inner = self.lock();
        let Some(&index) = inner.by_upload_id.get(upload_id) else {
            return refused(404, "no upload task");
        };
        let record = &mut inner.publishes[index];
        let Some(up) = record.upload.as_mut().filter(|u| u.token == upload_token) else {
            return refused(404, "no upload task");
        };
        if Instant::now() >= up.expires_at {
            return refused(403, "upload_url expired");
        }
        if !matches!(
            content_type,
            Some("video/mp4" | "video/quicktime" | "video/webm")
        ) {
            return refused(
                400,
                "Content-Type must be video/mp4, video/quicktime or video/webm",
            );
        }
        if up
            .content_type
            .as_deref()
            .is_some_and(|c| Some(c) != content_type)
        {
            return refused(400, "Content-Type changed between chunks");
        }
        let Some((first, last, total)) = content_range.and_then(parse_content_range) else {
            return refused(400, "Content-Range must be bytes {first}-{last}/{total}");
        };
        if total != up.video_size {
            return refused(400, "Content-Range total does not match video_size");
        }
        if first != up.received {
            return UploadReply::RangeMismatch {
                uploaded: up.received,
                total,
            };
        }
        let index_of_chunk = first / up.chunk_size;
        let expected = if index_of_chunk + 1 >= up.chunk_count {
            up.video_size - first
        } else {
            up.chunk_size
        };
        if index_of_chunk >= up.chunk_count || last + 1 - first != expected || body_len != expected
        {
            return refused(
                400,
                "chunk length does not match the chunk plan or Content-Length",
            );
        }
        up.content_type = content_type.map(str::to_owned);
        up.received += expected;
        let done = up.received == up.video_size;
        let reply = UploadReply::Accepted {
            done,
            last: up.received - 1,
            total,
        };
        if done {
            record.media_complete_at = Some(Instant::now());
        }
        reply
    }

    pub(crate) fn status(&self, open_id: &str, publish_id: &str) -> Result<Value, ApiError> {
        let processing = self.config().processing_time;
        let inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return Err(api(
                400,
                "invalid_publish_id",
                "The publish_id does not exist.",
            ));
        };
        let record = &inner.publishes[index];
        if record.open_id != open_id {
            return Err(api(
                400,
                "token_not_authorized_for_specified_publish_id",
                "The token does not own this publish_id.",
            ));
        }
        let now = Instant::now();
        let (status, fail_reason) = status_of(record, processing, now);
        let post_id = public_post_id(record, processing, now);
        let mut data = json!({
            "status": status,
            "publicaly_available_post_id": post_id.map(|id| vec![id]).unwrap_or_default(),
        });
        if let Some(up) = &record.upload {
            data["uploaded_bytes"] = json!(up.received);
        } else {
            data["downloaded_bytes"] = json!(record.downloaded);
        }
        if let Some(reason) = fail_reason {
            data["fail_reason"] = json!(reason);
        }
        Ok(data)
    }

    pub(crate) fn cancel(&self, open_id: &str, publish_id: &str) -> Result<Value, ApiError> {
        let processing = self.config().processing_time;
        let mut inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return Err(api(
                400,
                "invalid_publish_id",
                "The publish_id does not exist.",
            ));
        };
        let record = &mut inner.publishes[index];
        if record.open_id != open_id {
            return Err(api(
                400,
                "token_not_authorized_for_specified_publish_id",
                "The token does not own this publish_id.",
            ));
        }
        let (status, _) = status_of(record, processing, Instant::now());
        if !status.starts_with("PROCESSING") {
            return Err(api(
                400,
                "publish_not_cancellable",
                "The publish can no longer be cancelled.",
            ));
        }
        record.cancelled = true;
        Ok(json!({}))
    }
}
