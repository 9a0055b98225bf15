//! Facebook Page publishing: feed, photos, resumable uploads, videos and reels.

use super::params::{id_of, list_param, schedule_time};
use super::*;

impl MetaState {
    pub(crate) fn feed(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        let message = p.get("message").cloned();
        let link = p.get("link").cloned();
        // `attached_media=[{"media_fbid":"1"}]`, `attached_media[0]={"media_fbid":"1"}`, or
        // one object; each item names an unpublished photo by `media_fbid`.
        let attached: Vec<String> = list_param(p, "attached_media")?
            .unwrap_or_default()
            .iter()
            .map(|m| m.get("media_fbid").and_then(id_of))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid_param("attached_media items need media_fbid"))?;
        for id in &attached {
            let owned = inner
                .posts
                .iter()
                .any(|x| &x.id == id && x.kind == "photo" && x.owner == page_id && !x.published);
            if !owned {
                return Err(invalid_param(format!(
                    "attached_media {id} is not an unpublished photo of this Page"
                )));
            }
        }
        if message.as_deref().is_none_or(str::is_empty) && link.is_none() && attached.is_empty() {
            return Err(invalid_param(
                "The post is empty: give message, link or attached_media",
            ));
        }
        let published = p.get("published").is_none_or(|v| v != "false");
        let scheduled = match p.get("scheduled_publish_time") {
            Some(raw) => {
                let at = schedule_time(raw)?;
                let delta = at - unix_now();
                if published || !(SCHEDULE_MIN..=SCHEDULE_MAX).contains(&delta) {
                    return Err(invalid_param(
                        "The specified scheduled publish time is invalid: it must be between 10 minutes and 30 days from now, with published=false",
                    ));
                }
                Some(at)
            }
            None => None,
        };
        let id = format!(
            "{page_id}_{}",
            Self::next_id(&mut inner, 100_000_000_000_000)
        );
        let mut media = attached;
        media.extend(link);
        inner.posts.push(MetaPost {
            id: id.clone(),
            owner: page_id.to_owned(),
            kind: "feed".into(),
            message,
            published: published && scheduled.is_none(),
            scheduled_publish_time: scheduled,
            media,
            created_time: (published && scheduled.is_none()).then(unix_now),
        });
        Ok(json!({ "id": id }))
    }

    pub(crate) fn photos(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
        source_len: Option<usize>,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        let media = match (p.get("url"), source_len) {
            (Some(url), None) => url.clone(),
            (None, Some(len)) if len > 0 => format!("source:{len} bytes"),
            _ => {
                return Err(invalid_param(
                    "Give exactly one of url or a multipart source",
                ));
            }
        };
        let published = p.get("published").is_none_or(|v| v != "false");
        let photo_id = Self::next_id(&mut inner, 200_000_000_000_000);
        inner.posts.push(MetaPost {
            id: photo_id.clone(),
            owner: page_id.to_owned(),
            kind: "photo".into(),
            message: p.get("message").or_else(|| p.get("caption")).cloned(),
            published,
            scheduled_publish_time: None,
            media: vec![media],
            created_time: published.then(unix_now),
        });
        if published {
            Ok(json!({ "id": photo_id, "post_id": format!("{page_id}_{photo_id}") }))
        } else {
            Ok(json!({ "id": photo_id }))
        }
    }

    pub(crate) fn start_upload(
        &self,
        t: Option<&str>,
        app_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        if app_id != self.config.app_id {
            return Err(graph_error(
                400,
                100,
                Some(33),
                "Unsupported post request. Object does not exist.",
            ));
        }
        let length: u64 = p
            .get("file_length")
            .and_then(|v| v.parse().ok())
            .filter(|l| *l > 0)
            .ok_or_else(|| invalid_param("file_length is required"))?;
        if p.get("file_type")
            .is_none_or(|t| !t.starts_with("video/") && !t.starts_with("image/"))
        {
            return Err(invalid_param(
                "file_type is required (video/mp4, image/jpeg, ...)",
            ));
        }
        let id = format!("upload:{}", token("MTp"));
        inner.uploads.insert(
            id.clone(),
            Upload {
                file_length: length,
                offset: 0,
                handle: None,
            },
        );
        Ok(json!({ "id": id }))
    }

    pub(crate) fn upload_bytes(
        &self,
        t: Option<&str>,
        session: &str,
        file_offset: Option<u64>,
        len: u64,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        let up = inner
            .uploads
            .get_mut(session)
            .ok_or_else(|| invalid_param("Unknown upload session"))?;
        let Some(offset) = file_offset else {
            return Err(invalid_param("The file_offset header is required"));
        };
        if offset != up.offset {
            return Err(graph_error(
                400,
                100,
                None,
                format!("(#100) file_offset must be {}", up.offset),
            ));
        }
        if offset + len > up.file_length {
            return Err(invalid_param("More bytes than file_length"));
        }
        up.offset += len;
        if up.offset < up.file_length {
            return Ok(json!({ "id": session, "file_offset": up.offset }));
        }
        let handle = up
            .handle
            .get_or_insert_with(|| format!("4:{}", token("")))
            .clone();
        inner.handles.insert(handle.clone());
        Ok(json!({ "h": handle }))
    }

    pub(crate) fn videos(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        let handle = p
            .get("fbuploader_video_file_chunk")
            .ok_or_else(|| invalid_param("fbuploader_video_file_chunk is required"))?;
        if !inner.handles.contains(handle) {
            return Err(invalid_param("The upload handle is unknown or incomplete"));
        }
        let id = Self::next_id(&mut inner, 300_000_000_000_000);
        inner.posts.push(MetaPost {
            id: id.clone(),
            owner: page_id.to_owned(),
            kind: "video".into(),
            message: p.get("description").cloned(),
            published: true,
            scheduled_publish_time: None,
            media: vec![handle.clone()],
            created_time: Some(unix_now()),
        });
        Ok(json!({ "id": id }))
    }

    pub(crate) fn reels(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        match p.get("upload_phase").map(String::as_str) {
            Some("start") => {
                let video_id = Self::next_id(&mut inner, 400_000_000_000_000);
                inner.reels.insert(
                    video_id.clone(),
                    Reel {
                        page_id: page_id.to_owned(),
                        received: 0,
                        finished: false,
                        state: None,
                    },
                );
                let version = p.get("__version").cloned().unwrap_or_default();
                Ok(json!({
                    "video_id": video_id,
                    "upload_url": format!("{}/video-upload/{version}/{video_id}", self.base_url()),
                }))
            }
            Some("finish") => {
                let video_id = p
                    .get("video_id")
                    .ok_or_else(|| invalid_param("video_id is required"))?;
                let reel = inner
                    .reels
                    .get_mut(video_id)
                    .filter(|r| r.page_id == page_id)
                    .ok_or_else(|| invalid_param("Unknown video_id"))?;
                if reel.received == 0 {
                    return Err(invalid_param("The video has not been uploaded"));
                }
                if reel.finished {
                    return Err(invalid_param("The reel was already finished"));
                }
                if !matches!(
                    p.get("video_state").map(String::as_str),
                    Some("PUBLISHED" | "DRAFT" | "SCHEDULED")
                ) {
                    return Err(invalid_param(
                        "video_state must be PUBLISHED, DRAFT or SCHEDULED",
                    ));
                }
                reel.finished = true;
                reel.state = p.get("video_state").cloned();
                let published = p.get("video_state").is_some_and(|s| s == "PUBLISHED");
                inner.posts.push(MetaPost {
                    id: video_id.clone(),
                    owner: page_id.to_owned(),
                    kind: "reel".into(),
                    message: p.get("description").cloned(),
                    published,
                    scheduled_publish_time: None,
                    media: Vec::new(),
                    created_time: published.then(unix_now),
                });
                Ok(json!({ "success": true }))
            }
            _ => Err(invalid_param("upload_phase must be start or finish")),
        }
    }

    /// rupload: reels (`video-upload`) and Instagram resumable containers (`ig-api-upload`).
    pub(crate) fn rupload(
        &self,
        t: Option<&str>,
        kind: &str,
        id: &str,
        body: &RuploadBody<'_>,
    ) -> Result<Value, GraphError> {
        let RuploadBody {
            offset,
            file_size,
            len,
            file_url,
        } = *body;
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        let bytes = match (file_url, offset, file_size) {
            (Some(_), _, _) => 1,
            (None, Some(0), Some(size)) if size == len && len > 0 => len,
            _ => {
                return Err(invalid_param(
                    "Send offset: 0 and file_size equal to the body, or a file_url header",
                ));
            }
        };
        match kind {
            "video-upload" => {
                let reel = inner
                    .reels
                    .get_mut(id)
                    .ok_or_else(|| invalid_param("Unknown video id"))?;
                reel.received = bytes;
            }
            "ig-api-upload" => {
                let processing = self.config.container_processing_time;
                let c = inner
                    .containers
                    .get_mut(id)
                    .filter(|c| c.awaiting_upload)
                    .ok_or_else(|| invalid_param("Unknown resumable container"))?;
                c.awaiting_upload = false;
                c.ready_at = Instant::now() + processing;
            }
            _ => return Err(invalid_param("Unknown upload kind")),
        }
        Ok(json!({ "success": true, "message": "Upload successful." }))
    }

    // ----- Instagram -----
}
