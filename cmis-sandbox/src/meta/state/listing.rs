//! Reading what was published: a Page's `published_posts` and an Instagram account's `media`,
//! with the Graph conventions they share.
//!
//! - **Fields** (Graph API overview, field expansion): `fields=a,b{c,d}` returns those fields and
//!   the node's `id`; a field Meta does not know is refused with code 100. Without `fields`, an
//!   edge returns its default fields.
//! - **Time bounds** (Paginated Results, <https://developers.facebook.com/docs/graph-api/results/>):
//!   `since` and `until` are "a Unix timestamp or strtotime data value" pointing at the start and
//!   end of the range. Here they bound the creation time, both inclusive (the page is silent on
//!   the ends); strtotime values are taken in their ISO 8601 form only.
//! - **Cursors** (same page): `data` with `paging.cursors.before`/`after` pointing at the first
//!   and last item returned, `paging.next` only while more remain ("if not included, this is the
//!   last page of data") and `paging.previous` only when the page is not the first. A cursor
//!   names an item, so new posts do not shift later pages. An empty page carries no `paging`.
//!   `limit` defaults to 25, as in the page's examples.
//! - **Links**: Graph puts the query back into `next`/`previous`, including `access_token` when
//!   the call carried it as a parameter; a token sent in the `Authorization` header is not copied
//!   into links (undocumented; the safer reading).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{GraphError, Inner, MetaPost, MetaState, Params, graph_error, invalid_param, unix_now};

const DEFAULT_LIMIT: usize = 25;
/// The Page feed edges' upper bound for `limit`: "They all have an upper boundary for the limit
/// parameter of 100 posts. Specifying any higher limit will throw an error."
/// (<https://developers.facebook.com/docs/graph-api/reference/v2.9/page/feed>; the current Page
/// Feed reference keeps "a maximum of 100").
const MAX_LIMIT: usize = 100;

/// The Page post fields served (Page Post reference).
const POST_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "updated_time",
    "permalink_url",
    "is_published",
    "from",
    "attachments",
];
/// A Page feed edge's default fields: the Page Feed reference's sample response shows
/// `created_time`, `message` and `id`.
const POST_DEFAULT: &str = "id,message,created_time";

/// The IG Media fields served (IG Media reference).
const MEDIA_FIELDS: &[&str] = &[
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
];
/// The IG User media edge returns only ids unless fields are asked for (sample response of
/// <https://developers.facebook.com/docs/instagram-basic-display-api/reference/user/media>).
const MEDIA_DEFAULT: &str = "id";

/// One requested field and its sub-selection: `attachments{media_type,target}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) sub: Option<Vec<Field>>,
}

fn syntax_error(raw: &str) -> GraphError {
    invalid_param(format!("Syntax error in fields: \"{raw}\""))
}

/// Parses a `fields` value: comma-separated names, each optionally followed by `{...}`.
pub(crate) fn parse_fields(raw: &str) -> Result<Vec<Field>, GraphError> {
    let chars: Vec<char> = raw.chars().collect();
    let mut pos = 0;
    let fields = parse_list(&chars, &mut pos).ok_or_else(|| syntax_error(raw))?;
    if pos != chars.len() {
        return Err(syntax_error(raw));
    }
    Ok(fields)
}

fn parse_list(chars: &[char], pos: &mut usize) -> Option<Vec<Field>> {
    let mut out = Vec::new();
    loop {
        let start = *pos;
        while chars
            .get(*pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            *pos += 1;
        }
        let name: String = chars[start..*pos].iter().collect();
        if name.is_empty() {
            return None;
        }
        let sub = if chars.get(*pos) == Some(&'{') {
            *pos += 1;
            let sub = parse_list(chars, pos)?;
            if chars.get(*pos) != Some(&'}') {
                return None;
            }
            *pos += 1;
            Some(sub)
        } else {
            None
        };
        out.push(Field { name, sub });
        if chars.get(*pos) == Some(&',') {
            *pos += 1;
        } else {
            return Some(out);
        }
    }
}

/// Keeps the selected fields of `value`: an edge (`{"data": [...]}`) keeps them in each item.
pub(crate) fn project(value: &Value, selection: &[Field]) -> Value {
    match value {
        Value::Object(obj) if obj.get("data").is_some_and(Value::is_array) => {
            let items = obj["data"].as_array().map_or_else(Vec::new, |items| {
                items.iter().map(|x| project(x, selection)).collect()
            });
            json!({ "data": items })
        }
        Value::Object(obj) => {
            let mut out = Map::new();
            for f in selection {
                if let Some(v) = obj.get(&f.name) {
                    let v = match &f.sub {
                        Some(sub) => project(v, sub),
                        None => v.clone(),
                    };
                    out.insert(f.name.clone(), v);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The selection for a node of `node_type`: the fields asked for (or the edge's default), known
/// ones only, with `id` always included.
fn selection(
    p: &Params,
    default: &str,
    known: &[&str],
    node_type: &str,
) -> Result<Vec<Field>, GraphError> {
    let raw = p.get("fields").map_or(default, String::as_str);
    let mut fields = parse_fields(raw)?;
    if let Some(unknown) = fields.iter().find(|f| !known.contains(&f.name.as_str())) {
        return Err(graph_error(
            400,
            100,
            None,
            format!(
                "(#100) Tried accessing nonexisting field ({}) on node type ({node_type})",
                unknown.name
            ),
        ));
    }
    if !fields.iter().any(|f| f.name == "id") {
        fields.insert(
            0,
            Field {
                name: "id".into(),
                sub: None,
            },
        );
    }
    Ok(fields)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Graph's time format, as in the Page Feed sample response: `2019-05-17T16:24:04+0000`.
pub(crate) fn graph_time(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn number(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A `since`/`until` value: Unix seconds, or an ISO 8601 date or date-time (`Z`, `+hhmm` or
/// `+hh:mm`; no offset is UTC).
pub(crate) fn parse_time(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Some(n) = number(raw) {
        return Some(n);
    }
    let (date, rest) = raw.split_at(raw.len().min(10));
    let mut parts = date.split('-');
    let (y, m, d) = (
        number(parts.next()?)?,
        number(parts.next()?)?,
        number(parts.next()?)?,
    );
    if date.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let (clock, offset) = rest.split_at(rest.len().min(8));
    let mut hms = clock.split(':');
    let (h, min, s) = (
        number(hms.next()?)?,
        number(hms.next()?)?,
        number(hms.next()?)?,
    );
    if clock.len() != 8 || h > 23 || min > 59 || s > 60 {
        return None;
    }
    secs += h * 3600 + min * 60 + s;
    let offset = match offset {
        "" | "Z" => 0,
        o => {
            let sign = match o.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let digits = o.get(1..)?.replace(':', "");
            if digits.len() != 4 {
                return None;
            }
            let (oh, om) = (number(&digits[..2])?, number(&digits[2..])?);
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(secs - offset)
}

fn time_param(p: &Params, name: &str) -> Result<Option<i64>, GraphError> {
    p.get(name)
        .map(|raw| {
            parse_time(raw).ok_or_else(|| {
                invalid_param(format!(
                    "{name} must be a Unix timestamp or a strtotime value, not \"{raw}\""
                ))
            })
        })
        .transpose()
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
        let name = inner.pages.get(page_id).cloned().unwrap_or_default();
        let items: Vec<(String, Value)> = live
            .iter()
            .map(|(time, _, x)| {
                let id = post_id(x);
                let mut v = json!({
                    "id": id,
                    "created_time": graph_time(*time),
                    "updated_time": graph_time(*time),
                    "permalink_url": format!("https://www.facebook.com/{id}"),
                    "is_published": true,
                    "from": { "id": page_id, "name": name },
                });
                if let Some(m) = &x.message {
                    v["message"] = json!(m);
                }
                if let Some(a) = attachments(&inner, x) {
                    v["attachments"] = json!({ "data": [a] });
                }
                (id, project(&v, &fields))
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
                let (media_type, product) = match x.kind.as_str() {
                    "ig_carousel" => ("CAROUSEL_ALBUM", "FEED"),
                    "ig_reel" => ("VIDEO", "REELS"),
                    _ => ("IMAGE", "FEED"),
                };
                let mut v = json!({
                    "id": x.id,
                    "timestamp": graph_time(*time),
                    "media_type": media_type,
                    "media_product_type": product,
                    "like_count": 0,
                    "comments_count": 0,
                    "is_comment_enabled": true,
                });
                if let Some(c) = &x.message {
                    v["caption"] = json!(c);
                }
                if let Some(link) = inner.permalinks.get(&x.id) {
                    v["permalink"] = json!(link);
                    let code = link.trim_end_matches('/').rsplit('/').next();
                    v["shortcode"] = json!(code);
                }
                (x.id.clone(), project(&v, &fields))
            })
            .collect();
        drop(inner);
        self.paginate(&items, p, at, LimitRule::Clamp)
    }
}

/// When a Page post went live: its creation time, or for a natively scheduled post, its
/// scheduled time once that has passed. `None` while it is not live.
fn live_since(x: &MetaPost, now: i64) -> Option<i64> {
    if x.published {
        return x.created_time;
    }
    x.scheduled_publish_time.filter(|at| *at <= now)
}

/// A Page post's id, `{page-id}_{post-id}`: a feed post's own id; for a photo, video or Reel,
/// the Page id joined to the object's id (what `/photos` returns as `post_id`).
fn post_id(x: &MetaPost) -> String {
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
fn attachments(inner: &Inner, x: &MetaPost) -> Option<Value> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_format_and_parse() {
        assert_eq!(graph_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(graph_time(1_558_110_244), "2019-05-17T16:24:04+0000");
        assert_eq!(graph_time(951_782_400), "2000-02-29T00:00:00+0000");
        assert_eq!(parse_time("2019-05-17T16:24:04+0000"), Some(1_558_110_244));
        assert_eq!(parse_time("2019-05-17T18:24:04+02:00"), Some(1_558_110_244));
        assert_eq!(parse_time("2019-05-17T16:24:04Z"), Some(1_558_110_244));
        assert_eq!(parse_time("2019-05-17"), Some(1_558_051_200));
        assert_eq!(parse_time("1558110244"), Some(1_558_110_244));
        for bad in [
            "",
            "soon",
            "2019-13-01",
            "2019-05-17T25:00:00",
            "2019-05-17T16:24",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        for t in [0, 1, 86_399, 1_558_110_244, 4_102_444_800, 1_700_000_000] {
            assert_eq!(parse_time(&graph_time(t)), Some(t));
        }
    }

    #[test]
    fn fields_parse_with_nested_selections() {
        let f = parse_fields("id,attachments{media_type,target{id}},message").unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].name, "attachments");
        let sub = f[1].sub.as_ref().unwrap();
        assert_eq!(sub[1].sub.as_ref().unwrap()[0].name, "id");
        for bad in ["", "id,", "a{b", "a}b", "a{}", "a b"] {
            assert!(parse_fields(bad).is_err(), "{bad}");
        }
        let v = json!({ "id": "1", "x": 2, "attachments": { "data": [{ "media_type": "photo", "url": "u" }] } });
        let sel = parse_fields("id,attachments{media_type}").unwrap();
        assert_eq!(
            project(&v, &sel),
            json!({ "id": "1", "attachments": { "data": [{ "media_type": "photo" }] } })
        );
    }
}
