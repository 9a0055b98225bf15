//! One object by its id: `GET /{id}` with `fields` on a Page post, a photo, an Instagram
//! container or media, a video or an upload session; `POST /{id}` edits a Page post; `DELETE
//! /{id}` deletes a Page post or photo.
//!
//! - **Reads** answer the fields asked for (and `id`), or the node's default fields; a field the
//!   node type does not have is refused with code 100 (Graph API overview, field expansion). A
//!   Page post or photo is read with a Page token of its Page.
//! - **Edits** (Page Posts guide, "Update a Post": `POST /{page-post-id}` with `message`, or
//!   `is_published=true` to publish an unpublished post) and **deletes** (`DELETE
//!   /{page-post-id}`) answer `{"success": true}` and need the Page's token ("an app can only
//!   update posts it created"; every post here was created by the sandbox's one app). A photo's
//!   post is its `page_story_id`, `{page-id}_{photo-id}`. The Photo reference takes no updates;
//!   Instagram media and containers take neither updates nor deletes: those are answered as
//!   Graph answers an unsupported method, code 100 subcode 33.
//! - An id that names nothing is the same code 100 subcode 33 (`GraphMethodException`).

use super::graph::selection;
use super::nodes::{
    CONTAINER_FIELDS, MEDIA_DEFAULT, MEDIA_FIELDS, PHOTO_DEFAULT, PHOTO_FIELDS, POST_DEFAULT,
    POST_FIELDS, live_since, media_value, photo_value, post_value,
};
use super::*;

/// What an id names, for routing and fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    /// A Page post: a feed post's id, or the `{page-id}_{object-id}` post of a photo, video or
    /// Reel.
    PagePost,
    /// A Page photo.
    Photo,
    /// An Instagram container.
    Container,
    /// Published Instagram media.
    Media,
    /// A Page video or Reel.
    Video,
    /// A resumable upload session.
    Upload,
    /// Nothing known.
    Unknown,
}

/// The index of the Page post `id` names: a feed post by its own id, or a photo, video or Reel
/// by `{page-id}_{object-id}`.
pub(super) fn page_post(inner: &Inner, id: &str) -> Option<usize> {
    inner.posts.iter().position(|x| match x.kind.as_str() {
        "feed" => x.id == id,
        "photo" | "video" | "reel" => {
            x.published
                && id
                    .split_once('_')
                    .is_some_and(|(page, obj)| page == x.owner && obj == x.id)
        }
        _ => false,
    })
}

fn photo(inner: &Inner, id: &str) -> Option<usize> {
    inner
        .posts
        .iter()
        .position(|x| x.id == id && x.kind == "photo")
}

pub(super) fn media(inner: &Inner, id: &str) -> Option<usize> {
    inner
        .posts
        .iter()
        .position(|x| x.id == id && x.kind.starts_with("ig_"))
}

impl MetaState {
    /// What `id` names.
    pub(crate) fn object_kind(&self, id: &str) -> ObjectKind {
        let inner = self.lock();
        if id.starts_with("upload:") {
            ObjectKind::Upload
        } else if inner.containers.contains_key(id) {
            ObjectKind::Container
        } else if media(&inner, id).is_some() {
            ObjectKind::Media
        } else if photo(&inner, id).is_some() {
            ObjectKind::Photo
        } else if page_post(&inner, id).is_some() {
            ObjectKind::PagePost
        } else if inner.reels.contains_key(id)
            || inner
                .posts
                .iter()
                .any(|p| p.id == id && (p.kind == "video" || p.kind == "reel"))
        {
            ObjectKind::Video
        } else {
            ObjectKind::Unknown
        }
    }

    /// Makes the next container created fail processing with Instagram error `subcode`.
    pub(crate) fn fail_next_container(&self, subcode: i64) {
        self.lock().pending_error = Some(subcode);
    }

    /// `GET /{id}`.
    pub(crate) fn get_object(
        &self,
        t: Option<&str>,
        id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let kind = self.object_kind(id);
        let inner = self.lock();
        self.subject(&inner, t)?;
        let now = Instant::now();
        match kind {
            ObjectKind::Container => {
                let fields = selection(p, "id", CONTAINER_FIELDS, "ShadowIGMediaBuilder")?;
                let c = inner
                    .containers
                    .get(id)
                    .ok_or_else(|| unsupported("get", id))?;
                let status_code = self.container_status(c, now);
                let status = match c.error.filter(|_| status_code == "ERROR") {
                    Some(sub) => format!("Error: Media upload has failed with error code {sub}"),
                    None => status_code.to_owned(),
                };
                let v = json!({
                    "id": id, "status_code": status_code, "status": status,
                    "copyright_check_status": { "status": "not_started", "matches_found": false },
                });
                Ok(project(&v, &fields))
            }
            ObjectKind::Media => {
                let fields = selection(p, MEDIA_DEFAULT, MEDIA_FIELDS, "IGMedia")?;
                let x = media(&inner, id).and_then(|i| inner.posts.get(i));
                let x = x.ok_or_else(|| unsupported("get", id))?;
                let time = x.created_time.unwrap_or_else(unix_now);
                let mut v = media_value(&inner, x, time);
                self.add_media_counts(&mut v, x, time);
                Ok(project(&v, &fields))
            }
            ObjectKind::Photo | ObjectKind::PagePost => {
                let is_photo = kind == ObjectKind::Photo;
                let i = if is_photo {
                    photo(&inner, id)
                } else {
                    page_post(&inner, id)
                };
                let x = i
                    .and_then(|i| inner.posts.get(i))
                    .ok_or_else(|| unsupported("get", id))?;
                self.page_read_token(&inner, t, &x.owner)?;
                if is_photo {
                    let fields = selection(p, PHOTO_DEFAULT, PHOTO_FIELDS, "Photo")?;
                    return Ok(project(&photo_value(&inner, x), &fields));
                }
                let fields = selection(p, POST_DEFAULT, POST_FIELDS, "PagePost")?;
                let live = live_since(x, unix_now());
                let time = live
                    .or(x.scheduled_publish_time)
                    .or(x.created_time)
                    .unwrap_or_else(unix_now);
                let mut v = post_value(&inner, x, time);
                self.add_counts(&mut v, x, time);
                if live.is_none() {
                    v["is_published"] = json!(false);
                }
                Ok(project(&v, &fields))
            }
            ObjectKind::Video => {
                let v = self
                    .video_status(&inner, id)
                    .ok_or_else(|| unsupported("get", id))?;
                // Graph answers `id` with whatever was asked for.
                match p.get("fields") {
                    Some(raw) => {
                        let mut fields = parse_fields(raw)?;
                        fields.push(Field {
                            name: "id".into(),
                            sub: None,
                            summary: false,
                        });
                        Ok(project(&v, &fields))
                    }
                    None => Ok(v),
                }
            }
            ObjectKind::Upload => {
                let up = inner
                    .uploads
                    .get(id)
                    .ok_or_else(|| unsupported("get", id))?;
                Ok(json!({ "id": id, "file_offset": up.offset }))
            }
            ObjectKind::Unknown => Err(unsupported("get", id)),
        }
    }

    /// `POST /{page-post-id}`: edits its `message`, or publishes it with `is_published=true`.
    pub(crate) fn edit_object(
        &self,
        t: Option<&str>,
        id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        let i = page_post(&inner, id).ok_or_else(|| unsupported("post", id))?;
        let owner = inner
            .posts
            .get(i)
            .map(|x| x.owner.clone())
            .unwrap_or_default();
        self.page_token(&inner, t, &owner)?;
        let message = p.get("message").cloned();
        let publish = match p.get("is_published").map(String::as_str) {
            None => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(invalid_param(format!(
                    "is_published can only be set to true, not \"{other}\""
                )));
            }
        };
        if message.is_none() && !publish {
            return Err(invalid_param(
                "Nothing to update: give message or is_published",
            ));
        }
        let now = unix_now();
        let x = inner
            .posts
            .get_mut(i)
            .ok_or_else(|| unsupported("post", id))?;
        if let Some(m) = message {
            x.message = Some(m);
        }
        if publish && !x.published {
            x.published = true;
            x.scheduled_publish_time = None;
            x.created_time = Some(now);
        }
        let key = x.id.clone();
        inner.edited.insert(key, now);
        Ok(json!({ "success": true }))
    }

    /// `DELETE /{id}` of a Page post or photo.
    pub(crate) fn delete_object(&self, t: Option<&str>, id: &str) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        let i = photo(&inner, id)
            .or_else(|| page_post(&inner, id))
            .ok_or_else(|| unsupported("delete", id))?;
        let owner = inner
            .posts
            .get(i)
            .map(|x| x.owner.clone())
            .unwrap_or_default();
        self.page_token(&inner, t, &owner)?;
        inner.posts.remove(i);
        Ok(json!({ "success": true }))
    }
}
