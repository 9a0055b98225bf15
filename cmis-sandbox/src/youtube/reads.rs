//! Reads (brief §2, §3 step 4, §6) and `thumbnails.set` (brief §4).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::state::{YouTubeState, YtError, bad_request, google};

fn etag() -> String {
    format!("cmisEtag{}", crate::http::trace_id())
}

fn required<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, YtError> {
    q.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            google(
                400,
                "global",
                "required",
                &format!("Required parameter: {name}"),
                Some((name, "parameter")),
            )
        })
}

fn parts(q: &HashMap<String, String>) -> Result<Vec<String>, YtError> {
    Ok(required(q, "part")?
        .split(',')
        .map(|p| p.trim().to_owned())
        .collect())
}

impl YouTubeState {
    /// `GET /youtube/v3/videos?part=…&id=a,b`: the caller's videos, and other channels' that
    /// are not private. A read with `status` or `processingDetails` counts towards processing
    /// (`processing_reads`).
    pub(crate) fn list_videos(
        &self,
        channel: &str,
        q: &HashMap<String, String>,
    ) -> Result<Value, YtError> {
        let parts = parts(q)?;
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let ids: Vec<&str> = required(q, "id")?.split(',').map(str::trim).collect();
        let counts = parts.contains(&"status") || parts.contains(&"processingDetails");
        let mut inner = self.lock();
        let mut items = Vec::new();
        for id in ids {
            let Some(i) = inner
                .videos
                .iter()
                .position(|v| v.id == id && (v.channel == channel || v.privacy != "private"))
            else {
                continue;
            };
            items.push(self.video_json(&inner, &inner.videos[i], &parts, true));
            let v = &mut inner.videos[i];
            if counts && v.reads_left > 0 {
                v.reads_left -= 1;
            }
        }
        Ok(json!({
            "kind": "youtube#videoListResponse",
            "etag": etag(),
            "items": items,
            "pageInfo": {"totalResults": items.len(), "resultsPerPage": items.len()},
        }))
    }

    /// `GET /youtube/v3/channels?part=snippet,contentDetails&mine=true` (or `id=`): the
    /// channel id and its uploads playlist (brief §2).
    pub(crate) fn list_channels(
        &self,
        channel: &str,
        q: &HashMap<String, String>,
    ) -> Result<Value, YtError> {
        let parts = parts(q)?;
        let inner = self.lock();
        let wanted: Vec<&str> = if q.get("mine").map(String::as_str) == Some("true") {
            vec![channel]
        } else if let Some(ids) = q.get("id") {
            ids.split(',').map(str::trim).collect()
        } else {
            return Err(bad_request(
                "No filter selected. Expected one of: mine, id, forHandle, forUsername.",
            ));
        };
        let items: Vec<Value> = wanted
            .iter()
            .filter_map(|id| inner.channel(id))
            .map(|c| {
                let mut item = json!({"kind": "youtube#channel", "etag": etag(), "id": c.id});
                if parts.iter().any(|p| p == "snippet") {
                    item["snippet"] = json!({
                        "title": c.title,
                        "description": "",
                        "publishedAt": super::upload::rfc3339(c.created_ms),
                        "localized": {"title": c.title, "description": ""},
                    });
                }
                if parts.iter().any(|p| p == "contentDetails") {
                    item["contentDetails"] =
                        json!({"relatedPlaylists": {"likes": "", "uploads": c.uploads_playlist()}});
                }
                item
            })
            .collect();
        Ok(json!({
            "kind": "youtube#channelListResponse",
            "etag": etag(),
            "pageInfo": {"totalResults": items.len(), "resultsPerPage": 5},
            "items": items,
        }))
    }

    /// `GET /youtube/v3/playlistItems?part=snippet&playlistId=UU…&maxResults=…&pageToken=…`:
    /// a channel's uploads, newest first (brief §6). Another channel's private videos are left
    /// out. An unknown playlist gets 404 `playlistNotFound` (constructed).
    pub(crate) fn list_playlist_items(
        &self,
        channel: &str,
        q: &HashMap<String, String>,
    ) -> Result<Value, YtError> {
        parts(q)?;
        let playlist = required(q, "playlistId")?;
        let max: usize = match q.get("maxResults") {
            None => 5,
            Some(m) => m
                .parse()
                .ok()
                .filter(|n| *n <= 50)
                .ok_or_else(|| bad_request("maxResults must be between 0 and 50"))?,
        };
        let start: usize = match q.get("pageToken") {
            None => 0,
            Some(t) => t
                .strip_prefix("CMIS")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| bad_request("Invalid pageToken"))?,
        };
        let inner = self.lock();
        let Some(owner) = inner
            .channels
            .iter()
            .find(|c| c.uploads_playlist() == playlist)
        else {
            return Err(google(
                404,
                "youtube.playlistItem",
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
                Some(("playlistId", "parameter")),
            ));
        };
        let mut videos: Vec<_> = inner
            .videos
            .iter()
            .filter(|v| v.channel == owner.id && (v.channel == channel || v.privacy != "private"))
            .collect();
        videos.sort_by_key(|v| std::cmp::Reverse(v.created_ms));
        let total = videos.len();
        let items: Vec<Value> = videos
            .iter()
            .enumerate()
            .skip(start)
            .take(max)
            .map(|(pos, v)| {
                let sn = v.metadata.get("snippet").unwrap_or(&Value::Null);
                json!({
                    "kind": "youtube#playlistItem",
                    "etag": etag(),
                    "id": format!("UExpc3Q{}", v.id),
                    "snippet": {
                        "publishedAt": super::upload::rfc3339(v.created_ms),
                        "channelId": owner.id,
                        "title": sn.get("title").cloned().unwrap_or(json!("")),
                        "description": sn.get("description").cloned().unwrap_or(json!("")),
                        "channelTitle": owner.title,
                        "playlistId": playlist,
                        "position": pos,
                        "resourceId": {"kind": "youtube#video", "videoId": v.id},
                        "videoOwnerChannelTitle": owner.title,
                        "videoOwnerChannelId": owner.id,
                    },
                })
            })
            .collect();
        let mut out = json!({
            "kind": "youtube#playlistItemListResponse",
            "etag": etag(),
            "items": items,
            "pageInfo": {"totalResults": total, "resultsPerPage": max},
        });
        if start + max < total {
            out["nextPageToken"] = json!(format!("CMIS{}", start + max));
        }
        Ok(out)
    }

    /// `POST /upload/youtube/v3/thumbnails/set?videoId=…` with the image as the body: 404
    /// `video_not_found` for a video that is not the caller's, 403
    /// `thumbnail_forbidden_unverified_channel` when the channel may not set thumbnails, 400
    /// `mediaBodyRequired` for an empty body and `invalidImage` over `max_thumbnail_bytes`
    /// (constructed bodies for those two); else fixture `thumbnails_set_response.json`.
    pub(crate) fn set_thumbnail(
        &self,
        channel: &str,
        video_id: &str,
        len: usize,
    ) -> Result<Value, YtError> {
        let mut inner = self.lock();
        let allowed = inner.channel(channel).is_none_or(|c| c.thumbnails_allowed);
        let Some(v) = inner
            .videos
            .iter_mut()
            .find(|v| v.id == video_id && v.channel == channel)
        else {
            let m = "The video that you are trying to insert a thumbnail image for cannot be found. Check the value of the request's videoId parameter to ensure that it is correct.";
            return Err(google(
                404,
                "youtube.video",
                "videoNotFound",
                m,
                Some(("videoId", "parameter")),
            ));
        };
        if !allowed {
            let m = "The authenticated user doesn't have permissions to upload and set custom video thumbnails.";
            return Err(google(
                403,
                "youtube.thumbnail",
                "forbidden",
                m,
                Some(("Authorization", "header")),
            ));
        }
        if len == 0 {
            return Err(google(
                400,
                "youtube.thumbnail",
                "mediaBodyRequired",
                "The request does not include the image content.",
                None,
            ));
        }
        if len > self.config().max_thumbnail_bytes {
            return Err(google(
                400,
                "youtube.thumbnail",
                "invalidImage",
                "The provided image content is invalid: it is larger than the 2 MB limit.",
                None,
            ));
        }
        v.thumbnail_bytes = Some(len);
        let id = v.id.clone();
        let size = |name: &str, w: u32, h: u32| json!({"url": format!("https://i.ytimg.com/vi/{id}/{name}.jpg"), "width": w, "height": h});
        Ok(json!({
            "kind": "youtube#thumbnailSetResponse",
            "etag": etag(),
            "items": [{
                "default": size("default", 120, 90),
                "medium": size("mqdefault", 320, 180),
                "high": size("hqdefault", 480, 360),
                "standard": size("sddefault", 640, 480),
                "maxres": size("maxresdefault", 1280, 720),
            }],
        }))
    }
}
