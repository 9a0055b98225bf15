//! Reading what was published: a Page's `published_posts` (and its `feed` and `posts`) and an
//! Instagram account's `media`.
//!
//! - **Cursors** (Paginated Results, <https://developers.facebook.com/docs/graph-api/results/>):
//!   `data` with `paging.cursors.before`/`after` pointing at the first and last item returned, `paging.next` only while more remain ("if not included, this is the
//!   last page of data") and `paging.previous` only when the page is not the first. A cursor
//!   names an item, so new posts do not shift later pages. An empty page carries no `paging`.
//!   `limit` defaults to 25, as in the page's examples.
//! - **Links**: Graph puts the query back into `next`/`previous`, including `access_token` when
//!   the call carried it as a parameter; a token sent in the `Authorization` header is not copied
//!   into links (undocumented; the safer reading).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::graph::{project, selection, time_param};
use super::nodes::{
    MEDIA_DEFAULT, MEDIA_FIELDS, POST_DEFAULT, POST_FIELDS, live_since, media_value, post_value,
};
use super::{GraphError, MetaPost, MetaState, Params, invalid_param, unix_now};

const DEFAULT_LIMIT: usize = 25;
/// The Page feed edges' upper bound for `limit`: "They all have an upper boundary for the limit
/// parameter of 100 posts. Specifying any higher limit will throw an error."
/// (<https://developers.facebook.com/docs/graph-api/reference/v2.9/page/feed>; the current Page
/// Feed reference keeps "a maximum of 100").
const MAX_LIMIT: usize = 100;

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

/// Where a listing lives, for its `next` and `previous` links.
#[derive(Debug)]
pub(crate) struct Edge<'a> {
    pub(crate) version: &'a str,
    pub(crate) node: &'a str,
    pub(crate) edge: &'a str,
}

/// What the limit rule is on an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitRule {
    /// Above 100 is an error (Page feed edges).
    Refuse,
    /// Above 100 is served as 100 (the IG media reference states no maximum).
    Clamp,
}

impl MetaState {
    fn link(&self, at: &Edge<'_>, p: &Params, limit: usize, cursor: (&str, &str)) -> String {
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
        format!(
            "{}/{}/{}/{}?{}",
            self.base_url(),
            at.version,
            at.node,
            at.edge,
            query.join("&")
        )
    }

    /// One page of `items` (newest first, each with its cursor key) as Graph returns it.
    fn paginate(
        &self,
        items: &[(String, Value)],
        p: &Params,
        at: &Edge<'_>,
        rule: LimitRule,
    ) -> Result<Value, GraphError> {
        let limit = match p.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(0) | Err(_) => {
                    return Err(invalid_param(format!(
                        "limit must be a positive number, not \"{raw}\""
                    )));
                }
                Ok(n) if n > MAX_LIMIT && rule == LimitRule::Refuse => {
                    return Err(invalid_param(format!(
                        "limit must not exceed {MAX_LIMIT}: {n} was asked for"
                    )));
                }
                Ok(n) => n.min(MAX_LIMIT),
            },
        };
        let find = |name: &str| -> Result<Option<usize>, GraphError> {
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
                .ok_or_else(|| invalid_param(format!("The {name} cursor is not valid")))
        };
        let (start, end) = match (find("after")?, find("before")?) {
            (Some(i), _) => (i + 1, (i + 1 + limit).min(items.len())),
            (None, Some(i)) => (i.saturating_sub(limit), i),
            (None, None) => (0, limit.min(items.len())),
        };
        let page = &items[start..end];
        let data: Vec<Value> = page.iter().map(|(_, v)| v.clone()).collect();
        let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) else {
            return Ok(json!({ "data": [] }));
        };
        let (before, after) = (hex::encode(first), hex::encode(last));
        let mut paging = json!({ "cursors": { "before": before, "after": after } });
        if start > 0 {
            paging["previous"] = json!(self.link(at, p, limit, ("before", &before)));
        }
        if end < items.len() {
            paging["next"] = json!(self.link(at, p, limit, ("after", &after)));
        }
        Ok(json!({ "data": data, "paging": paging }))
    }

    /// `GET /{page-id}/published_posts`: "All published posts by the page" (Page Published Posts
    /// reference): feed posts, published photos, videos and Reels published to the Page, newest
    /// first; not unpublished photos, natively scheduled posts before their time, or draft Reels.
    ///
    /// Reels are listed as video posts: a Reel published on a Page is a post of the Page, and the
    /// reference names no exception (it is silent on Reels).
    pub(crate) fn published_posts(
        &self,
        t: Option<&str>,
        at: &Edge<'_>,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let page_id = at.node;
        let fields = selection(p, POST_DEFAULT, POST_FIELDS, "PagePost")?;
        let (since, until) = (time_param(p, "since")?, time_param(p, "until")?);
        let inner = self.lock();
        self.page_read_token(&inner, t, page_id)?;
        let now = unix_now();
        let mut live: Vec<(i64, usize, &MetaPost)> = inner
            .posts
            .iter()
            .enumerate()
            .filter(|(_, x)| {
                x.owner == page_id && matches!(x.kind.as_str(), "feed" | "photo" | "video" | "reel")
            })
            .filter_map(|(i, x)| live_since(x, now).map(|t| (t, i, x)))
            .filter(|(t, _, _)| since.is_none_or(|s| *t >= s) && until.is_none_or(|u| *t <= u))
            .collect();
        live.sort_by_key(|&(t, i, _)| Reverse((t, i)));
        let items: Vec<(String, Value)> = live
            .iter()
            .map(|(time, _, x)| {
                let mut v = post_value(&inner, x, *time);
                self.add_counts(&mut v, x, *time);
                (
                    v["id"].as_str().unwrap_or_default().to_owned(),
                    project(&v, &fields),
                )
            })
            .collect();
        drop(inner);
        self.paginate(&items, p, at, LimitRule::Refuse)
    }

    /// `GET /{ig-user-id}/media`: the account's published media, newest first: images, carousels
    /// (`CAROUSEL_ALBUM`) and Reels (`VIDEO`, `media_product_type` `REELS`), not stories, which
    /// the media edge does not return (they have their own `stories` edge), nor carousel items.
    pub(crate) fn ig_media(
        &self,
        t: Option<&str>,
        at: &Edge<'_>,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let ig_user = at.node;
        let fields = selection(p, MEDIA_DEFAULT, MEDIA_FIELDS, "IGMedia")?;
        let (since, until) = (time_param(p, "since")?, time_param(p, "until")?);
        let inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let mut live: Vec<(i64, usize, &MetaPost)> = inner
            .posts
            .iter()
            .enumerate()
            .filter(|(_, x)| {
                x.owner == ig_user
                    && x.published
                    && matches!(x.kind.as_str(), "ig_image" | "ig_carousel" | "ig_reel")
            })
            .filter_map(|(i, x)| x.created_time.map(|t| (t, i, x)))
            .filter(|(t, _, _)| since.is_none_or(|s| *t >= s) && until.is_none_or(|u| *t <= u))
            .collect();
        live.sort_by_key(|&(t, i, _)| Reverse((t, i)));
        let items: Vec<(String, Value)> = live
            .iter()
            .map(|(time, _, x)| {
                let mut v = media_value(&inner, x, *time);
                self.add_media_counts(&mut v, x, *time);
                (x.id.clone(), project(&v, &fields))
            })
            .collect();
        drop(inner);
        self.paginate(&items, p, at, LimitRule::Clamp)
    }
}
