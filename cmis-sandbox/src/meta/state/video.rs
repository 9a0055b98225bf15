//! A Page video's or Reel's processing status: `GET /{video-id}?fields=status`.
//!
//! The shape is the Reels Publishing guide's "check the status" answer
//! (<https://developers.facebook.com/docs/video-api/guides/reels-publishing/>, and Meta's Postman
//! collection for Reels): `status.video_status` with one object per phase,
//! `uploading_phase`, `processing_phase` and `publishing_phase`, each with a `status` of
//! `not_started`, `in_progress`, `complete` or `error`; the upload phase adds
//! `bytes_transferred`, the publishing phase `publish_status` and `publish_time`.
//!
//! The guide is silent on a Reel finished as `DRAFT` or `SCHEDULED`: here it is processed
//! (`ready`) but its publishing phase stays `not_started`, so that `complete` always means "live".

use serde_json::{Value, json};

use super::{Inner, MetaState};

fn phase(status: &str) -> Value {
    json!({ "status": status })
}

impl MetaState {
    /// The status object of a Page video or Reel, `None` for any other id.
    pub(super) fn video_status(&self, inner: &Inner, id: &str) -> Option<Value> {
        let post = inner
            .posts
            .iter()
            .find(|p| p.id == id && (p.kind == "video" || p.kind == "reel"));
        let status = match (inner.reels.get(id), post) {
            (Some(reel), _) if !reel.finished => {
                let uploaded = reel.received > 0;
                let mut up = phase(if uploaded { "complete" } else { "not_started" });
                if uploaded {
                    up["bytes_transferred"] = json!(reel.received);
                }
                json!({
                    // Before the bytes arrive Meta is waiting for the upload; after, the guide's
                    // example shows `upload_complete` until the Reel is finished.
                    "video_status": if uploaded { "upload_complete" } else { "processing" },
                    "uploading_phase": up,
                    "processing_phase": phase("not_started"),
                    "publishing_phase": phase("not_started"),
                })
            }
            (Some(reel), _) if reel.state.as_deref() != Some("PUBLISHED") => json!({
                "video_status": "ready",
                "uploading_phase": { "status": "complete", "bytes_transferred": reel.received },
                "processing_phase": phase("complete"),
                "publishing_phase": phase("not_started"),
            }),
            (_, Some(post)) => {
                let mut publishing = phase("complete");
                publishing["publish_status"] = json!("published");
                if let Some(at) = post.created_time {
                    publishing["publish_time"] = json!(at);
                }
                json!({
                    "video_status": "ready",
                    "uploading_phase": phase("complete"),
                    "processing_phase": phase("complete"),
                    "publishing_phase": publishing,
                })
            }
            (Some(_), None) | (None, None) => return None,
        };
        Some(json!({ "id": id, "status": status }))
    }
}
