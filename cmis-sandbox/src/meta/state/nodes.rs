//! The nodes the fake Meta serves, as its reads write them: Page posts, photos, Instagram
//! containers and media, with the fields each node type knows and its default fields.

use serde_json::{Value, json};

use super::{Inner, MetaPost, graph_time};

/// The Page post fields served (Page Post reference).
pub(crate) const POST_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "updated_time",
    "permalink_url",
    "is_published",
    "from",
    "attachments",
    "shares",
    "comments",
    "reactions",
];
/// A Page feed edge's default fields: the Page Feed reference's sample response shows
/// `created_time`, `message` and `id`.
pub(crate) const POST_DEFAULT: &str = "id,message,created_time";

/// The Photo fields served (Photo reference).
pub(crate) const PHOTO_FIELDS: &[&str] = &[
    "id",
    "created_time",
    "updated_time",
    "name",
    "link",
    "from",
    "images",
    "page_story_id",
];
/// A photo's default fields: Graph answers a bare `GET /{photo-id}` with `created_time`, `name`
/// (when it has a caption) and `id`.
pub(crate) const PHOTO_DEFAULT: &str = "id,created_time,name";

/// The IG Container fields (IG Container reference).
pub(crate) const CONTAINER_FIELDS: &[&str] =
    &["id", "status_code", "status", "copyright_check_status"];

/// The IG Media fields served (IG Media reference).
pub(crate) const MEDIA_FIELDS: &[&str] = &[
    "id",
    "caption",
    "timestamp",
    "media_type",
    "media_product_type",
    "permalink",
    "shortcode",
    "like_count",
    "comments_count",
    "is_comment_enabled",
    "media_url",
    "owner",
];
/// The IG User media edge, and an IG Media node, return only ids unless fields are asked for (sample response of
/// <https://developers.facebook.com/docs/instagram-basic-display-api/reference/user/media>).
pub(crate) const MEDIA_DEFAULT: &str = "id";

/// When a Page post went live: its creation time, or for a natively scheduled post, its
/// scheduled time once that has passed. `None` while it is not live.
/// A Page post as the post reads write it (Page Post reference): `id`, `message`, times,
/// `permalink_url`, `is_published`, `from` and `attachments`. `time` is when it went live.
pub(crate) fn post_value(inner: &Inner, x: &MetaPost, time: i64) -> Value {
    let id = post_id(x);
    let name = inner.pages.get(&x.owner).cloned().unwrap_or_default();
    let updated = inner.edited.get(&x.id).copied().unwrap_or(time).max(time);
    let mut v = json!({
        "id": id,
        "created_time": graph_time(time),
        "updated_time": graph_time(updated),
        "permalink_url": format!("https://www.facebook.com/{id}"),
        "is_published": true,
        "from": { "id": x.owner, "name": name },
    });
    if let Some(m) = &x.message {
        v["message"] = json!(m);
    }
    if let Some(a) = attachments(inner, x) {
        v["attachments"] = json!({ "data": [a] });
    }
    v
}

/// A published Instagram media object (IG Media reference). `time` is when it was published.
pub(crate) fn media_value(inner: &Inner, x: &MetaPost, time: i64) -> Value {
    let (media_type, product) = match x.kind.as_str() {
        "ig_carousel" => ("CAROUSEL_ALBUM", "FEED"),
        "ig_reel" => ("VIDEO", "REELS"),
        "ig_story" => ("IMAGE", "STORY"),
        _ => ("IMAGE", "FEED"),
    };
    let mut v = json!({
        "id": x.id,
        "timestamp": graph_time(time),
        "media_type": media_type,
        "media_product_type": product,
        "owner": { "id": x.owner },
        "like_count": 0,
        "comments_count": 0,
        "is_comment_enabled": true,
    });
    if let Some(c) = &x.message {
        v["caption"] = json!(c);
    }
    if let Some(url) = x.media.first().filter(|_| x.kind != "ig_carousel") {
        v["media_url"] = json!(url);
    }
    if let Some(link) = inner.permalinks.get(&x.id) {
        v["permalink"] = json!(link);
        let code = link.trim_end_matches('/').rsplit('/').next();
        v["shortcode"] = json!(code);
    }
    v
}

/// A Page photo (Photo reference): `id`, `created_time`, `updated_time`, `name` (its caption),
/// `link`, `from`, `images` (the source URL here) and, once published, `page_story_id`.
pub(crate) fn photo_value(inner: &Inner, x: &MetaPost) -> Value {
    let created = x.created_time.unwrap_or_default();
    let updated = inner.edited.get(&x.id).copied().unwrap_or(created);
    let name = inner.pages.get(&x.owner).cloned().unwrap_or_default();
    let mut v = json!({
        "id": x.id,
        "created_time": graph_time(created),
        "updated_time": graph_time(updated),
        "link": format!("https://www.facebook.com/photo.php?fbid={}", x.id),
        "from": { "id": x.owner, "name": name },
        "images": x.media.iter().map(|m| json!({ "source": m })).collect::<Vec<_>>(),
    });
    if let Some(m) = &x.message {
        v["name"] = json!(m);
    }
    if x.published {
        v["page_story_id"] = json!(post_id(x));
    }
    v
}

pub(crate) fn live_since(x: &MetaPost, now: i64) -> Option<i64> {
    if x.published {
        return x.created_time;
    }
    x.scheduled_publish_time.filter(|at| *at <= now)
}

/// A Page post's id, `{page-id}_{post-id}`: a feed post's own id; for a photo, video or Reel,
/// the Page id joined to the object's id (what `/photos` returns as `post_id`).
pub(crate) fn post_id(x: &MetaPost) -> String {
    if x.kind == "feed" {
        x.id.clone()
    } else {
        format!("{}_{}", x.owner, x.id)
    }
}

fn photo_attachment(id: &str) -> Value {
    let url = format!("https://www.facebook.com/photo.php?fbid={id}");
    json!({ "media_type": "photo", "type": "photo", "target": { "id": id, "url": url }, "url": url })
}

/// The post's attachment (Story Attachment: `media_type`, `target{id,url}`, `type`, `url`, and
/// for a multi-photo post, an `album` whose `subattachments` are the photos).
pub(crate) fn attachments(inner: &Inner, x: &MetaPost) -> Option<Value> {
    match x.kind.as_str() {
        "photo" => Some(photo_attachment(&x.id)),
        "video" | "reel" => {
            let url = format!("https://www.facebook.com/{}/videos/{}/", x.owner, x.id);
            Some(json!({
                "media_type": "video", "type": "video_inline",
                "target": { "id": x.id, "url": url }, "url": url,
            }))
        }
        _ => {
            let is_photo = |id: &str| {
                inner
                    .posts
                    .iter()
                    .any(|y| y.id == id && y.kind == "photo" && y.owner == x.owner)
            };
            let (photos, links): (Vec<&String>, Vec<&String>) =
                x.media.iter().partition(|m| is_photo(m));
            match photos.as_slice() {
                [] => links.first().map(|link| {
                    json!({
                        "media_type": "link", "type": "share",
                        "target": { "url": link }, "url": link,
                    })
                }),
                [one] => Some(photo_attachment(one)),
                many => {
                    // The album is named by the post's own object id (the part after the `_`).
                    let album = x.id.rsplit('_').next().unwrap_or(&x.id);
                    let url = format!("https://www.facebook.com/media/set/?set=a.{album}");
                    let subs: Vec<Value> = many.iter().map(|id| photo_attachment(id)).collect();
                    Some(json!({
                        "media_type": "album", "type": "album",
                        "target": { "id": album, "url": url }, "url": url,
                        "subattachments": { "data": subs },
                    }))
                }
            }
        }
    }
}
