//! Instagram containers, their status, the publishing limit and media_publish.

use super::params::id_list;
use super::*;

/// What a container that failed processing answers when published: the Instagram error of
/// its subcode (the error-codes reference's table: code and message per subcode).
pub(super) fn processing_error(subcode: i64) -> GraphError {
    let (code, message, transient) = match subcode {
        2_207_001 => (-1, "An unknown error occurred.", true),
        2_207_003 => (-2, "It takes too long to download the media.", true),
        2_207_004 => (36_000, "The image is too large to download.", false),
        2_207_005 => (36_001, "The image format is not supported.", false),
        2_207_009 => (
            36_003,
            "The submitted image with aspect ratio cannot be published.",
            false,
        ),
        2_207_026 => (352, "The video format is not supported.", false),
        2_207_032 => (-1, "Create media has failed.", true),
        2_207_052 => (9004, "The media could not be fetched from this URI.", false),
        2_207_053 => (-1, "An unknown upload error occurred.", false),
        _ => (-1, "Media upload has failed.", false),
    };
    let mut e = graph_error(400, code, Some(subcode), message);
    e.user_title = Some("Media upload has failed".into());
    e.user_msg = Some(format!("Media upload has failed with error code {subcode}"));
    e.is_transient = Some(transient);
    e
}

impl MetaState {
    pub(crate) fn create_container(
        &self,
        t: Option<&str>,
        ig_user: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let caption = p.get("caption").cloned();
        if caption
            .as_deref()
            .is_some_and(|c| c.chars().count() > CAPTION_MAX_CHARS)
        {
            let mut e = graph_error(400, 36004, Some(2_207_010), "The caption is too long.");
            e.user_title = Some("Caption too long".into());
            e.user_msg = Some("The caption is longer than 2,200 characters.".into());
            return Err(e);
        }
        let media_type = p.get("media_type").map(String::as_str).unwrap_or("IMAGE");
        let resumable = p.get("upload_type").is_some_and(|u| u == "resumable");
        let (kind, media) = match media_type {
            "CAROUSEL" => {
                let children = id_list(p, "children")?;
                if !(2..=10).contains(&children.len()) {
                    return Err(graph_error(
                        400,
                        100,
                        Some(2_207_028),
                        "Carousels need between 2 and 10 items.",
                    ));
                }
                for child in &children {
                    let ok = inner
                        .containers
                        .get(child)
                        .is_some_and(|c| c.owner == ig_user && c.kind.ends_with("carousel_item"));
                    if !ok {
                        return Err(invalid_param(format!(
                            "children: {child} is not a carousel item of this account"
                        )));
                    }
                }
                ("ig_carousel", children)
            }
            "REELS" | "STORIES" | "VIDEO" | "IMAGE" => {
                let url = match media_type {
                    "IMAGE" => p.get("image_url"),
                    "STORIES" => p.get("image_url").or_else(|| p.get("video_url")),
                    _ => p.get("video_url"),
                };
                if url.is_none() && !resumable {
                    return Err(invalid_param("image_url or video_url is required"));
                }
                let carousel_item = p.get("is_carousel_item").is_some_and(|v| v == "true");
                let kind = match (media_type, carousel_item) {
                    ("IMAGE", true) => "ig_image_carousel_item",
                    ("VIDEO", true) => "ig_video_carousel_item",
                    ("VIDEO", false) => {
                        return Err(invalid_param("Unsupported media type VIDEO: use REELS"));
                    }
                    ("IMAGE", false) => "ig_image",
                    ("REELS", _) => "ig_reel",
                    _ => "ig_story",
                };
                (kind, url.cloned().into_iter().collect())
            }
            other => {
                return Err(invalid_param(format!(
                    "media_type {other} is not supported"
                )));
            }
        };
        let id = Self::next_id(&mut inner, 17_889_000_000_000_000);
        let now = Instant::now();
        let slowdown = std::mem::take(&mut inner.pending_slowdown);
        let error = inner.pending_error.take();
        inner.containers.insert(
            id.clone(),
            Container {
                owner: ig_user.to_owned(),
                kind: kind.to_owned(),
                caption,
                media,
                created_at: now,
                ready_at: now + self.config.container_processing_time + slowdown,
                awaiting_upload: resumable,
                published_as: None,
                error,
            },
        );
        Ok(json!({ "id": id }))
    }

    pub(super) fn container_status(&self, c: &Container, now: Instant) -> &'static str {
        if c.published_as.is_some() {
            "PUBLISHED"
        } else if now >= c.created_at + CONTAINER_LIFETIME {
            "EXPIRED"
        } else if c.awaiting_upload || now < c.ready_at {
            "IN_PROGRESS"
        } else if c.error.is_some() {
            "ERROR"
        } else {
            "FINISHED"
        }
    }

    pub(crate) fn publishing_limit(
        &self,
        t: Option<&str>,
        ig_user: &str,
    ) -> Result<Value, GraphError> {
        let inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let used = self.quota_used(&inner, ig_user);
        Ok(
            json!({ "data": [{ "quota_usage": used, "config": { "quota_total": self.config.publishing_quota, "quota_duration": 86400 } }] }),
        )
    }

    pub(super) fn quota_used(&self, inner: &Inner, ig_user: &str) -> usize {
        let now = Instant::now();
        inner.ig_publishes.get(ig_user).map_or(0, |v| {
            v.iter()
                .filter(|t| now.duration_since(**t) < Duration::from_secs(86_400))
                .count()
        })
    }

    pub(crate) fn media_publish(
        &self,
        t: Option<&str>,
        ig_user: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let creation_id = p
            .get("creation_id")
            .ok_or_else(|| invalid_param("creation_id is required"))?
            .clone();
        let now = Instant::now();
        let Some(c) = inner
            .containers
            .get(&creation_id)
            .filter(|c| c.owner == ig_user)
        else {
            return Err(invalid_param(format!(
                "creation_id {creation_id} is not a container of this account"
            )));
        };
        match self.container_status(c, now) {
            "FINISHED" => {}
            "PUBLISHED" => {
                inner.duplicates += 1;
                return Err(invalid_param("The media has already been published"));
            }
            "ERROR" => return Err(processing_error(c.error.unwrap_or_default())),
            "EXPIRED" => {
                return Err(graph_error(
                    400,
                    -2,
                    Some(2_207_020),
                    "The media container has expired.",
                ));
            }
            _ => {
                let mut e = graph_error(400, 9007, Some(2_207_027), "Media ID is not available");
                e.user_title = Some("Media not ready".into());
                e.user_msg =
                    Some("The media is not ready for publishing, please wait for a moment".into());
                return Err(e);
            }
        }
        if c.kind.ends_with("carousel_item") {
            return Err(invalid_param(
                "A carousel item cannot be published on its own",
            ));
        }
        if self.quota_used(&inner, ig_user)
            >= usize::try_from(self.config.publishing_quota).unwrap_or(usize::MAX)
        {
            return Err(graph_error(
                400,
                9,
                Some(2_207_042),
                "You have reached the maximum number of posts that can be published in 24 hours.",
            ));
        }
        let media_id = Self::next_id(&mut inner, 17_900_000_000_000_000);
        let (kind, caption, media) = {
            let c = inner
                .containers
                .get_mut(&creation_id)
                .ok_or_else(|| invalid_param("container vanished"))?;
            c.published_as = Some(media_id.clone());
            (c.kind.clone(), c.caption.clone(), c.media.clone())
        };
        inner
            .ig_publishes
            .entry(ig_user.to_owned())
            .or_default()
            .push(now);
        let code: String = media_id.chars().rev().take(11).collect();
        inner.permalinks.insert(
            media_id.clone(),
            format!("https://www.instagram.com/p/{code}/"),
        );
        inner.posts.push(MetaPost {
            id: media_id.clone(),
            owner: ig_user.to_owned(),
            kind,
            message: caption,
            published: true,
            scheduled_publish_time: None,
            media,
            created_time: Some(unix_now()),
        });
        Ok(json!({ "id": media_id }))
    }

    // ----- Tokens -----
}
