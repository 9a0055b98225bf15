//! What each fake holds, as JSON, with the requests behind each object.

use serde_json::{Value, json};

use super::log::Entry;
use super::{Fakes, Platform};

/// The ids of the objects `platform` holds, oldest first.
pub(crate) fn ids(fakes: &Fakes, platform: Platform) -> Vec<String> {
    items(fakes, platform)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// `platform`'s objects, oldest first: each id and its JSON.
fn items(fakes: &Fakes, platform: Platform) -> Vec<(String, Value)> {
    match platform {
        Platform::TikTok => fakes
            .tiktok
            .publishes()
            .into_iter()
            .map(|p| {
                let request: Value = serde_json::from_str(&p.request)
                    .unwrap_or_else(|_| Value::String(p.request.clone()));
                let item = json!({
                    "id": p.publish_id, "publish_id": p.publish_id, "open_id": p.open_id,
                    "kind": format!("{:?}", p.kind), "status": p.status,
                    "fail_reason": p.fail_reason, "privacy_level": p.privacy_level,
                    "title": p.title, "description": p.description,
                    "uploaded_bytes": p.uploaded_bytes, "video_size": p.video_size,
                    "urls": p.urls, "downloaded_bytes": p.downloaded_bytes,
                    "post_ids": p.post_ids, "request_body": request,
                });
                (p.publish_id, item)
            })
            .collect(),
        Platform::Meta => fakes
            .meta
            .posts()
            .into_iter()
            .map(|p| {
                let item = json!({
                    "id": p.id, "owner": p.owner, "kind": p.kind, "message": p.message,
                    "published": p.published, "scheduled_publish_time": p.scheduled_publish_time,
                    "media": p.media, "created_time": p.created_time,
                });
                (p.id, item)
            })
            .collect(),
        Platform::Bluesky => {
            let bluesky = &fakes.bluesky;
            bluesky
                .state
                .dids()
                .iter()
                .flat_map(|did| bluesky.records(did))
                .map(|r| {
                    let record: Value = serde_json::from_str(&r.record)
                        .unwrap_or_else(|_| Value::String(r.record.clone()));
                    let item = json!({
                        "id": r.uri, "uri": r.uri, "cid": r.cid, "did": r.did,
                        "collection": r.collection, "rkey": r.rkey, "record": record,
                    });
                    (r.uri, item)
                })
                .collect()
        }
        Platform::BlueskyVideo => fakes
            .bluesky_video
            .jobs()
            .into_iter()
            .map(|j| {
                let item = json!({
                    "id": j.job_id, "job_id": j.job_id, "did": j.did, "name": j.name,
                    "state": j.state, "progress": j.progress, "size": j.size,
                    "source_cid": j.source_cid, "blob_cid": j.blob_cid, "error": j.error,
                });
                (j.job_id, item)
            })
            .collect(),
        Platform::Threads => fakes
            .threads
            .posts()
            .into_iter()
            .map(|p| {
                let item = json!({
                    "id": p.id, "container_id": p.container_id, "user_id": p.user_id,
                    "media_type": p.media_type, "text": p.text, "media_urls": p.media_urls,
                    "alt_texts": p.alt_texts, "reply_control": p.reply_control,
                    "topic_tag": p.topic_tag, "link_attachment": p.link_attachment,
                    "reply_to_id": p.reply_to_id, "quote_post_id": p.quote_post_id,
                    "permalink": p.permalink, "timestamp": p.timestamp,
                    "created_time": p.created_time,
                });
                (p.id, item)
            })
            .collect(),
        Platform::LinkedIn => fakes
            .linkedin
            .posts()
            .into_iter()
            .map(|p| {
                let item = json!({
                    "id": p.urn, "urn": p.urn, "author": p.author,
                    "sent_commentary": p.sent_commentary, "commentary": p.commentary,
                    "text": p.text, "truncated": p.truncated, "visibility": p.visibility,
                    "media": p.media, "article_source": p.article_source,
                    "created_at": p.created_at, "deleted": p.deleted,
                });
                (p.urn, item)
            })
            .collect(),
        Platform::YouTube => fakes
            .youtube
            .videos()
            .into_iter()
            .map(|v| {
                let item = json!({
                    "id": v.id, "channel_id": v.channel_id, "upload_id": v.upload_id,
                    "title": v.title, "description": v.description, "tags": v.tags,
                    "privacy_status": v.privacy_status, "publish_at": v.publish_at,
                    "upload_status": v.upload_status, "bytes": v.bytes,
                    "thumbnail_bytes": v.thumbnail_bytes, "published_at": v.published_at,
                });
                (v.id, item)
            })
            .collect(),
    }
}

/// `{"platform", "count", "items"}` for `platform`, each item with its `requests` from `log`.
pub(crate) fn listing(fakes: &Fakes, platform: Platform, log: &[Entry]) -> Value {
    let items: Vec<Value> = items(fakes, platform)
        .into_iter()
        .map(|(id, mut item)| {
            let requests: Vec<Value> = log
                .iter()
                .filter(|e| e.platform == platform && e.concerns(&id))
                .map(Entry::to_json)
                .collect();
            if let Some(map) = item.as_object_mut() {
                map.insert("requests".into(), Value::Array(requests));
            }
            item
        })
        .collect();
    json!({"platform": platform.name(), "count": items.len(), "items": items})
}
