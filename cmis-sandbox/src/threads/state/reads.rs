//! Reads: a container's status, a media object, a profile, and a user's threads (brief §2.2,
//! §2.3 and §5), with Graph's `fields`, `since`/`until` and cursor conventions, as the Meta fake
//! serves them for Instagram's `media` edge.
//!
//! - **Fields**: `id` always comes back; without `fields`, an object or a listing gives `id`
//!   only (Graph's default); an unknown field is refused with code 100 (Graph's "Tried accessing
//!   nonexisting field").
//! - **Listing** `GET /{user-id}/threads`: the user's published posts, newest first; replies and
//!   carousel items are not threads of their own (replies have their own `replies` edge, which
//!   the fake does not serve). `since`/`until` (Unix seconds or ISO 8601) bound `timestamp`,
//!   both inclusive. `limit` defaults to 25 and is served as at most 100. Cursors name an item;
//!   `paging.cursors.before`/`after` are the first and last item returned (fixture
//!   `user_threads.json`), `paging.next` appears only when a further page exists and
//!   `paging.previous` only when the page is not the first. An empty page carries no `paging`.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Inner, Params, Published, ThreadsError, ThreadsState, error, no_such_object, param};
use crate::meta::{Field, parse_fields, parse_time, project};

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// The container fields (troubleshooting page, brief §2.2).
const CONTAINER_FIELDS: &[&str] = &["id", "status", "error_message"];
/// The Threads Media fields served; those the fake does not model are accepted and left out.
const MEDIA_FIELDS: &[&str] = &[
    "id",
    "media_product_type",
    "media_type",
    "media_url",
    "permalink",
    "owner",
    "username",
    "text",
    "timestamp",
    "shortcode",
    "thumbnail_url",
    "children",
    "is_quote_post",
    "quoted_post",
    "alt_text",
    "link_attachment_url",
    "has_replies",
    "is_reply",
    "replied_to",
    "root_post",
    "reply_audience",
    "topic_tag",
    "gif_url",
    "poll_attachment",
    "hide_status",
    "is_verified",
    "profile_picture_url",
];
/// The Threads User fields served.
const USER_FIELDS: &[&str] = &[
    "id",
    "username",
    "name",
    "threads_profile_picture_url",
    "threads_biography",
];

/// The fields asked for (or `default`), every one known.
fn fields(
    p: &Params,
    default: &str,
    known: &[&str],
    node: &str,
) -> Result<Vec<Field>, ThreadsError> {
    let raw = p.get("fields").map_or(default, String::as_str);
    let fields = parse_fields(raw).map_err(|e| param(e.message))?;
    if let Some(unknown) = fields.iter().find(|f| !known.contains(&f.name.as_str())) {
        return Err(param(format!(
            "(#100) Tried accessing nonexisting field ({}) on node type ({node})",
            unknown.name
        )));
    }
    Ok(fields)
}

/// The fields asked for, with `id` first when it was not asked for.
fn selection(p: &Params, known: &[&str], node: &str) -> Result<Vec<Field>, ThreadsError> {
    let mut f = fields(p, "id", known, node)?;
    if !f.iter().any(|f| f.name == "id") {
        f.insert(
            0,
            Field {
                name: "id".into(),
                sub: None,
                summary: false,
            },
        );
    }
    Ok(f)
}

/// The names of the fields asked for (or `default`), without `id`: for nodes that have none.
pub(super) fn field_names(
    p: &Params,
    default: &str,
    known: &[&str],
    node: &str,
) -> Result<Vec<String>, ThreadsError> {
    Ok(fields(p, default, known, node)?
        .into_iter()
        .map(|f| f.name)
        .collect())
}

fn id_ref(id: &str) -> Value {
    json!({ "id": id })
}

/// A post as the Threads Media node reads.
fn media_json(inner: &Inner, x: &Published) -> Value {
    let post = &x.post;
    let mut v = json!({
        "id": post.id,
        "media_product_type": "THREADS",
        "media_type": post.media_type,
        "permalink": post.permalink,
        "owner": id_ref(&post.user_id),
        "username": x.username,
        "timestamp": post.timestamp,
        "shortcode": x.shortcode,
        "is_quote_post": post.quote_post_id.is_some(),
        "is_reply": post.reply_to_id.is_some(),
        "has_replies": inner.posts.iter().any(|r| r.post.reply_to_id.as_ref() == Some(&post.id)),
    });
    let set = |v: &mut Value, k: &str, x: Option<Value>| {
        if let Some(x) = x {
            v[k] = x;
        }
    };
    set(&mut v, "text", post.text.as_ref().map(|t| json!(t)));
    if post.media_type != "CAROUSEL_ALBUM" {
        set(
            &mut v,
            "media_url",
            post.media_urls.first().map(|u| json!(u)),
        );
        set(
            &mut v,
            "alt_text",
            post.alt_texts.first().cloned().flatten().map(|a| json!(a)),
        );
    }
    if !x.child_ids.is_empty() {
        let data: Vec<Value> = x.child_ids.iter().map(|c| id_ref(c)).collect();
        v["children"] = json!({ "data": data });
    }
    set(
        &mut v,
        "quoted_post",
        post.quote_post_id.as_deref().map(id_ref),
    );
    set(
        &mut v,
        "replied_to",
        post.reply_to_id.as_deref().map(id_ref),
    );
    if post.reply_to_id.is_some() {
        let mut root = post.reply_to_id.clone();
        while let Some(parent) = root.as_deref().and_then(|r| inner.post(r)) {
            match &parent.post.reply_to_id {
                Some(up) => root = Some(up.clone()),
                None => break,
            }
        }
        set(&mut v, "root_post", root.as_deref().map(id_ref));
    }
    set(
        &mut v,
        "link_attachment_url",
        post.link_attachment.as_ref().map(|l| json!(l)),
    );
    set(
        &mut v,
        "topic_tag",
        post.topic_tag.as_ref().map(|t| json!(t)),
    );
    set(
        &mut v,
        "reply_audience",
        post.reply_control
            .as_ref()
            .map(|r| json!(r.to_ascii_uppercase())),
    );
    v
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn time_param(p: &Params, name: &str) -> Result<Option<i64>, ThreadsError> {
    p.get(name)
        .map(|raw| {
            parse_time(raw).ok_or_else(|| {
                param(format!(
                    "Param {name} must be a Unix timestamp or a strtotime value, not \"{raw}\"."
                ))
            })
        })
        .transpose()
}

impl ThreadsState {
    /// `GET /{id}`: a container's status, a published post, or a user's profile (`me` or the
    /// token's own id).
    pub(crate) fn get_object(
        &self,
        t: Option<&str>,
        id: &str,
        p: &Params,
    ) -> Result<Value, ThreadsError> {
        let inner = self.lock();
        let user = self.user_of(&inner, t)?;
        if let Some(c) = inner.container(id).filter(|c| c.user_id == user) {
            let f = selection(p, CONTAINER_FIELDS, "ThreadsMediaContainer")?;
            let (status, error_message) = self.status(c, self.now_ms());
            let mut v = json!({ "id": c.id, "status": status });
            if let Some(m) = error_message {
                v["error_message"] = json!(m);
            }
            return Ok(project(&v, &f));
        }
        if let Some(x) = inner.post(id) {
            let f = selection(p, MEDIA_FIELDS, "ThreadsMedia")?;
            return Ok(project(&media_json(&inner, x), &f));
        }
        if id == "me" || inner.users.contains_key(id) {
            let user = self.owner(&inner, t, id)?;
            let f = selection(p, USER_FIELDS, "ThreadsUser")?;
            let username = inner
                .users
                .get(&user)
                .map_or_else(|| user.clone(), |u| u.username.clone());
            let v = json!({ "id": user, "username": username, "name": username });
            return Ok(project(&v, &f));
        }
        Err(no_such_object(id))
    }

    /// `GET /{user-id}/threads`.
    pub(crate) fn list_threads(
        &self,
        t: Option<&str>,
        path_user: &str,
        version: &str,
        p: &Params,
    ) -> Result<Value, ThreadsError> {
        let f = selection(p, MEDIA_FIELDS, "ThreadsMedia")?;
        let (since, until) = (time_param(p, "since")?, time_param(p, "until")?);
        let limit = match p.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n > 0 => n.min(MAX_LIMIT),
                _ => {
                    return Err(param(format!(
                        "Param limit must be a positive number, not \"{raw}\"."
                    )));
                }
            },
        };
        let inner = self.lock();
        let user = self.owner(&inner, t, path_user)?;
        let mut mine: Vec<(usize, &Published)> = inner
            .posts
            .iter()
            .enumerate()
            .filter(|(_, x)| x.post.user_id == user && x.post.reply_to_id.is_none())
            .filter(|(_, x)| {
                let at = x.created_ms / 1000;
                since.is_none_or(|s| at >= s) && until.is_none_or(|u| at <= u)
            })
            .collect();
        mine.sort_by_key(|&(i, x)| Reverse((x.created_ms, i)));
        let items: Vec<(String, Value)> = mine
            .iter()
            .map(|(_, x)| (x.post.id.clone(), project(&media_json(&inner, x), &f)))
            .collect();
        drop(inner);
        let at = format!("{}/{version}/{path_user}/threads", self.base_url());
        paginate(&items, p, &at, limit)
    }
}

/// One page of `items` (newest first, each with its id) as Graph returns it.
fn paginate(
    items: &[(String, Value)],
    p: &Params,
    at: &str,
    limit: usize,
) -> Result<Value, ThreadsError> {
    let find = |name: &str| -> Result<Option<usize>, ThreadsError> {
        let Some(raw) = p.get(name) else {
            return Ok(None);
        };
        let key = hex::decode(raw)
            .ok()
            .and_then(|k| String::from_utf8(k).ok());
        items
            .iter()
            .position(|(k, _)| Some(k) == key.as_ref())
            .map(Some)
            .ok_or_else(|| {
                error(
                    100,
                    None,
                    "THApiException",
                    format!("Param {name} is not a valid cursor."),
                )
            })
    };
    let (start, end) = match (find("after")?, find("before")?) {
        (Some(i), _) => (i + 1, (i + 1 + limit).min(items.len())),
        (None, Some(i)) => (i.saturating_sub(limit), i),
        (None, None) => (0, limit.min(items.len())),
    };
    let page = &items[start..end];
    let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) else {
        return Ok(json!({ "data": [] }));
    };
    let data: Vec<Value> = page.iter().map(|(_, v)| v.clone()).collect();
    let (before, after) = (hex::encode(first), hex::encode(last));
    let link = |cursor: (&str, &str)| {
        // Graph repeats the query in its links, `access_token` included when the call sent it
        // as a parameter (a header token is not copied).
        let mut query: BTreeMap<&str, String> = p
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "after" | "before" | "limit"))
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        query.insert("limit", limit.to_string());
        query.insert(cursor.0, cursor.1.to_owned());
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{at}?{}", query.join("&"))
    };
    let mut paging = json!({ "cursors": { "before": before, "after": after } });
    if start > 0 {
        paging["previous"] = json!(link(("before", &before)));
    }
    if end < items.len() {
        paging["next"] = json!(link(("after", &after)));
    }
    Ok(json!({ "data": data, "paging": paging }))
}
