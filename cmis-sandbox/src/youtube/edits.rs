//! `videos.update` and `videos.delete` (brief §0, §6: update costs 50 units and is idempotent;
//! videos reference). Both need a full YouTube scope (`youtube`, `youtube.force-ssl` or
//! `youtubepartner`): `youtube.upload` does not allow them.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::state::{YouTubeState, YtError, google};
use super::upload::validate;

fn video_not_found(what: &str, field: &str, location: &str) -> YtError {
    google(
        404,
        "youtube.video",
        "videoNotFound",
        &format!(
            "The video that you are trying to {what} cannot be found. Check the value of the {field} to ensure that it is correct."
        ),
        Some((
            location,
            if location == "id" {
                "parameter"
            } else {
                "other"
            },
        )),
    )
}

fn part_list(q: &HashMap<String, String>) -> Result<Vec<String>, YtError> {
    let part = q
        .get("part")
        .map(String::as_str)
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            google(
                400,
                "global",
                "required",
                "Required parameter: part",
                Some(("part", "parameter")),
            )
        })?;
    Ok(part.split(',').map(|p| p.trim().to_owned()).collect())
}

impl YouTubeState {
    /// `PUT /youtube/v3/videos?part=…` with a video resource: the parts named are replaced by
    /// the body's ("if your request does not specify a value for a property that already has a
    /// value, the property's existing value will be deleted"), `snippet` must carry `title`
    /// and `categoryId` (400 `invalidCategoryId` without one), and the result passes the same
    /// metadata checks as an insert. Another channel's or an unknown video gets 404
    /// `videoNotFound`. The answer is the video with the parts named (200). Only `snippet` and
    /// `status` are stored; other parts are accepted and dropped.
    pub(crate) fn update_video(
        &self,
        channel: &str,
        q: &HashMap<String, String>,
        body: &[u8],
    ) -> Result<Value, YtError> {
        let parts = part_list(q)?;
        let resource: Value = serde_json::from_slice(body)
            .map_err(|_| google(400, "global", "parseError", "Parse Error", None))?;
        let id = resource.get("id").and_then(Value::as_str).unwrap_or("");
        let audited = self.config().audited_project;
        let mut inner = self.lock();
        let i = inner
            .videos
            .iter()
            .position(|v| v.id == id && v.channel == channel)
            .ok_or_else(|| video_not_found("update", "id field in the request body", "body.id"))?;
        let mut meta = inner.videos[i].metadata.clone();
        if !meta.is_object() {
            meta = json!({});
        }
        for p in &parts {
            match p.as_str() {
                "snippet" => {
                    let sn = resource.get("snippet").cloned().unwrap_or(json!({}));
                    let category = sn.get("categoryId").and_then(Value::as_str);
                    if category.is_none_or(str::is_empty) {
                        return Err(google(
                            400,
                            "youtube.video",
                            "invalidCategoryId",
                            "The snippet.categoryId property specifies an invalid category ID. Use the videoCategories.list method to retrieve supported categories.",
                            Some(("body.snippet.categoryId", "other")),
                        ));
                    }
                    meta["snippet"] = sn;
                }
                "status" => meta["status"] = resource.get("status").cloned().unwrap_or(json!({})),
                _ => {}
            }
        }
        validate(&meta)?;
        let v = &mut inner.videos[i];
        if parts.iter().any(|p| p == "status") && audited {
            v.privacy = meta
                .pointer("/status/privacyStatus")
                .and_then(Value::as_str)
                .unwrap_or("public")
                .to_owned();
        }
        v.metadata = meta;
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        Ok(self.video_json(&inner, &inner.videos[i], &refs, true))
    }

    /// `DELETE /youtube/v3/videos?id=…`: 204; the video is gone from every read. Another
    /// channel's or an unknown video gets 404 `videoNotFound`.
    pub(crate) fn delete_video(
        &self,
        channel: &str,
        q: &HashMap<String, String>,
    ) -> Result<(), YtError> {
        let id = q.get("id").map_or("", String::as_str);
        let mut inner = self.lock();
        let i = inner
            .videos
            .iter()
            .position(|v| v.id == id && v.channel == channel)
            .ok_or_else(|| video_not_found("delete", "request's id parameter", "id"))?;
        inner.videos.remove(i);
        Ok(())
    }
}
