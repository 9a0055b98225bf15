//! Publishing, first half: post info and URL checks, Direct Post and inbox init, photo posts, pulls.

use super::*;

impl TikTokState {
    /// Checks `post_info` for a Direct Post against the creator and the app's audit status.
    pub(super) fn check_post_info(
        &self,
        inner: &Inner,
        open_id: &str,
        info: &Value,
    ) -> Result<Option<String>, ApiError> {
        let config = self.config();
        let creator = inner.creators.get(open_id).ok_or_else(|| {
            api(
                403,
                "spam_risk_user_banned_from_posting",
                "The user cannot post.",
            )
        })?;
        let privacy = info.get("privacy_level").and_then(Value::as_str);
        let Some(privacy) =
            privacy.filter(|p| creator.privacy_level_options.iter().any(|o| o == p))
        else {
            return Err(api(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is missing or is not one of the creator's privacy_level_options.",
            ));
        };
        if !config.audited && (privacy != "SELF_ONLY" || !creator.private_account) {
            return Err(api(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to private accounts.",
            ));
        }
        if privacy == "SELF_ONLY"
            && info.get("brand_content_toggle").and_then(Value::as_bool) == Some(true)
        {
            return Err(api(
                400,
                "invalid_param",
                "Branded content cannot be private (SELF_ONLY).",
            ));
        }
        Ok(Some(privacy.to_owned()))
    }

    /// Checks a `PULL_FROM_URL` URL: HTTPS under a verified prefix; with
    /// [`TikTokConfig::fetch_pulled_media`], plain HTTP on a loopback host too.
    pub(super) fn check_url(&self, url: &str) -> Result<(), ApiError> {
        let config = self.config();
        let scheme_ok = url.starts_with("https://")
            || (config.fetch_pulled_media
                && url.starts_with("http://")
                && cmis_core::url::Url::parse(url).is_ok_and(|u| pull::is_loopback(&u)));
        let verified = config.verified_url_prefixes;
        if !scheme_ok || !verified.iter().any(|p| url.starts_with(p.as_str())) {
            return Err(api(
                403,
                "url_ownership_unverified",
                "The domain or URL prefix of the media is not verified.",
            ));
        }
        Ok(())
    }

    pub(super) fn new_record(
        &self,
        inner: &mut Inner,
        prefix: &str,
        open_id: &str,
        kind: PublishKind,
        request: Value,
    ) -> Result<usize, ApiError> {
        if let Some(refusal) = self.posting_refusal(inner, open_id, kind) {
            return Err(refusal);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let publish_id = format!("{prefix}~v2-1.{}", 7_300_000_000_000_000_000u64 + id);
        let extra = std::mem::take(&mut inner.pending_slowdown);
        inner.publishes.push(PublishRecord {
            publish_id: publish_id.clone(),
            open_id: open_id.to_owned(),
            kind,
            privacy_level: None,
            title: None,
            description: None,
            urls: Vec::new(),
            upload: None,
            media_complete_at: None,
            downloaded: 0,
            pull_failed: false,
            extra_processing: extra,
            cancelled: false,
            auth_removed: false,
            forced_failure: inner.pending_failure.take(),
            created_at: Instant::now(),
            seq: id,
            aged: Duration::ZERO,
            request,
        });
        let index = inner.publishes.len() - 1;
        inner.by_publish_id.insert(publish_id, index);
        Ok(index)
    }

    /// Marks a pull init's media: arrived now, or (with [`TikTokConfig::fetch_pulled_media`]) to
    /// be downloaded by the returned [`Pull`].
    pub(super) fn pull_or_arrive(&self, record: &mut PublishRecord) -> Option<Pull> {
        if self.config().fetch_pulled_media {
            Some(Pull {
                publish_id: record.publish_id.clone(),
                urls: record.urls.clone(),
            })
        } else {
            record.media_complete_at = Some(Instant::now());
            None
        }
    }

    /// Counts `bytes` downloaded for `publish_id`; false when the download should stop (the
    /// publish was cancelled or is unknown).
    pub(crate) fn pull_progress(&self, publish_id: &str, bytes: u64) -> bool {
        let mut inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return false;
        };
        let record = &mut inner.publishes[index];
        record.downloaded = record.downloaded.saturating_add(bytes);
        !record.cancelled
    }

    /// Records how `publish_id`'s download ended.
    pub(crate) fn finish_pull(&self, publish_id: &str, outcome: PullOutcome) {
        let mut inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return;
        };
        let record = &mut inner.publishes[index];
        match outcome {
            PullOutcome::Complete => record.media_complete_at = Some(Instant::now()),
            PullOutcome::Failed => record.pull_failed = true,
            PullOutcome::Abandoned => {}
        }
    }

    /// Video init, Direct Post (`inbox == false`) or inbox; with the download to start, if any.
    pub(crate) fn video_init(
        &self,
        open_id: &str,
        body: &Value,
        inbox: bool,
    ) -> Result<(Value, Option<Pull>), ApiError> {
        let mut inner = self.lock();
        let (privacy, title) = if inbox {
            (None, None)
        } else {
            let info = body
                .get("post_info")
                .ok_or_else(|| api(400, "invalid_param", "post_info is required."))?;
            let privacy = self.check_post_info(&inner, open_id, info)?;
            let title = info.get("title").and_then(Value::as_str).map(str::to_owned);
            if title
                .as_deref()
                .is_some_and(|t| utf16_len(t) > MAX_VIDEO_TITLE_UTF16)
            {
                return Err(api(
                    400,
                    "invalid_param",
                    "title is longer than 2200 UTF-16 units.",
                ));
            }
            (privacy, title)
        };
        let source = body
            .get("source_info")
            .ok_or_else(|| api(400, "invalid_param", "source_info is required."))?;
        let kind = if inbox {
            PublishKind::InboxVideo
        } else {
            PublishKind::DirectVideo
        };
        match source.get("source").and_then(Value::as_str) {
            Some("FILE_UPLOAD") => {
                let get = |k: &str| source.get(k).and_then(Value::as_u64);
                let (Some(size), Some(chunk), Some(count)) = (
                    get("video_size"),
                    get("chunk_size"),
                    get("total_chunk_count"),
                ) else {
                    return Err(api(
                        400,
                        "invalid_params",
                        "video_size, chunk_size and total_chunk_count are required.",
                    ));
                };
                check_chunk_plan(size, chunk, count)?;
                let prefix = if inbox { "v_inbox_file" } else { "v_pub_file" };
                let index = self.new_record(&mut inner, prefix, open_id, kind, body.clone())?;
                let upload_id = format!("{}", 67_890 + index);
                let upload_token = crate::http::token("");
                let lifetime = self.config().upload_url_lifetime;
                let record = &mut inner.publishes[index];
                record.privacy_level = privacy;
                record.title = title;
                record.upload = Some(Upload {
                    video_size: size,
                    chunk_size: chunk,
                    chunk_count: count,
                    received: 0,
                    token: upload_token.clone(),
                    expires_at: Instant::now() + lifetime,
                    content_type: None,
                });
                let publish_id = record.publish_id.clone();
                inner.by_upload_id.insert(upload_id.clone(), index);
                let data = json!({
                    "publish_id": publish_id,
                    "upload_url": format!("{}/video/?upload_id={upload_id}&upload_token={upload_token}", self.base_url()),
                });
                Ok((data, None))
            }
            Some("PULL_FROM_URL") => {
                let url = source
                    .get("video_url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api(400, "invalid_param", "video_url is required."))?;
                self.check_url(url)?;
                let prefix = if inbox { "v_inbox_url" } else { "v_pub_url" };
                let index = self.new_record(&mut inner, prefix, open_id, kind, body.clone())?;
                let record = &mut inner.publishes[index];
                record.privacy_level = privacy;
                record.title = title;
                record.urls = vec![url.to_owned()];
                let pull = self.pull_or_arrive(record);
                Ok((json!({ "publish_id": record.publish_id }), pull))
            }
            _ => Err(api(
                400,
                "invalid_param",
                "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.",
            )),
        }
    }

    /// Photo init (`content/init`); with the download to start, if any.
    pub(crate) fn content_init(
        &self,
        open_id: &str,
        scopes: &BTreeSet<String>,
        body: &Value,
    ) -> Result<(Value, Option<Pull>), ApiError> {
        let mut inner = self.lock();
        if body.get("media_type").and_then(Value::as_str) != Some("PHOTO") {
            return Err(api(400, "invalid_param", "media_type must be PHOTO."));
        }
        let direct = match body.get("post_mode").and_then(Value::as_str) {
            Some("DIRECT_POST") => true,
            Some("MEDIA_UPLOAD") => false,
            _ => {
                return Err(api(
                    400,
                    "invalid_param",
                    "post_mode must be DIRECT_POST or MEDIA_UPLOAD.",
                ));
            }
        };
        if direct && !scopes.contains("video.publish") {
            return Err(api(
                401,
                "scope_not_authorized",
                "DIRECT_POST needs video.publish.",
            ));
        }
        let info = body.get("post_info").cloned().unwrap_or(Value::Null);
        let privacy = if direct {
            self.check_post_info(&inner, open_id, &info)?
        } else {
            None
        };
        let title = info.get("title").and_then(Value::as_str).map(str::to_owned);
        let description = info
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if title
            .as_deref()
            .is_some_and(|t| utf16_len(t) > MAX_PHOTO_TITLE_UTF16)
        {
            return Err(api(
                400,
                "invalid_param",
                "title is longer than 90 UTF-16 units.",
            ));
        }
        if description
            .as_deref()
            .is_some_and(|d| utf16_len(d) > MAX_PHOTO_DESCRIPTION_UTF16)
        {
            return Err(api(
                400,
                "invalid_param",
                "description is longer than 4000 UTF-16 units.",
            ));
        }
        let source = body.get("source_info").cloned().unwrap_or(Value::Null);
        if source.get("source").and_then(Value::as_str) != Some("PULL_FROM_URL") {
            return Err(api(
                400,
                "invalid_param",
                "Photo posts support PULL_FROM_URL only.",
            ));
        }
        let images: Vec<String> = source
            .get("photo_images")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if images.is_empty() || images.len() > MAX_PHOTOS {
            return Err(api(
                400,
                "invalid_param",
                "photo_images must hold 1 to 35 URLs.",
            ));
        }
        let cover = source
            .get("photo_cover_index")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if usize::try_from(cover).map_or(true, |c| c >= images.len()) {
            return Err(api(
                400,
                "invalid_param",
                "photo_cover_index is out of range.",
            ));
        }
        for url in &images {
            self.check_url(url)?;
        }
        let kind = if direct {
            PublishKind::DirectPhoto
        } else {
            PublishKind::InboxPhoto
        };
        let index = self.new_record(&mut inner, "p_pub_url", open_id, kind, body.clone())?;
        let record = &mut inner.publishes[index];
        record.privacy_level = privacy;
        record.title = title;
        record.description = description;
        record.urls = images;
        let pull = self.pull_or_arrive(record);
        Ok((json!({ "publish_id": record.publish_id }), pull))
    }
}
