//! An account's recent posts (Page `published_posts`, Instagram `media`) and Instagram's
//! `online_followers` (`docs/insights.md` §1, §2).

use std::collections::BTreeMap;

use cmis_core::{Error, MediaKind, OnlineDay, RecentPost, Result};
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::{ApiRequest, MetaClient, Session};
use crate::reconcile::{id_of, parse_time};
use crate::request::Host;

/// Pages read at most.
const MAX_PAGES: usize = 10;
/// Meta's largest page of posts.
const PAGE_SIZE: usize = 100;

/// The kind of an Instagram media object from `media_product_type` and `media_type`.
fn ig_kind(v: &Value) -> MediaKind {
    let product = v.get("media_product_type").and_then(Value::as_str);
    let media = v.get("media_type").and_then(Value::as_str);
    match (product, media) {
        (Some("REELS"), _) => MediaKind::Reel,
        (Some("STORY"), _) => MediaKind::Story,
        (_, Some("CAROUSEL_ALBUM")) => MediaKind::Carousel,
        (_, Some("VIDEO")) => MediaKind::Video,
        (_, Some("IMAGE")) => MediaKind::Image,
        _ => MediaKind::Unknown,
    }
}

/// Up to `limit` posts created at or after `since`, newest first. Page `since` filters
/// `updated_time`, not `created_time` (Rfacebook), so the creation time is checked here.
pub(super) async fn recent(
    client: &MetaClient,
    s: Session<'_>,
    host: Host,
    since: OffsetDateTime,
    limit: usize,
) -> Result<Vec<RecentPost>> {
    let account = s.account();
    let instagram = account.platform == cmis_core::Platform::Instagram;
    let (edge, fields, time_key) = if instagram {
        (
            "media",
            "id,media_type,media_product_type,timestamp",
            "timestamp",
        )
    } else {
        ("published_posts", "id,created_time", "created_time")
    };
    let url = client.url(host, &format!("{}/{edge}", account.account));
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut req = ApiRequest::get(url.clone())
            .query("fields", fields)
            .query("limit", limit.min(PAGE_SIZE).to_string());
        if instagram {
            req = req.query("since", since.unix_timestamp().to_string());
        }
        if let Some(cursor) = &after {
            req = req.query("after", cursor.clone());
        }
        let page = client.read(s, &req).await?;
        let Some(data) = page.get("data").and_then(Value::as_array) else {
            return Err(Error::transient("the post listing has no data array")
                .with_platform(account.platform));
        };
        let mut older = false;
        for item in data {
            let Some(id) = item.get("id").and_then(id_of) else {
                continue;
            };
            let at = item
                .get(time_key)
                .and_then(Value::as_str)
                .and_then(parse_time);
            if at.is_some_and(|t| t < since) {
                older = true;
                continue;
            }
            let kind = if instagram {
                ig_kind(item)
            } else {
                MediaKind::Post
            };
            out.push(RecentPost::new(id, at, kind));
            if out.len() == limit {
                return Ok(out);
            }
        }
        let next = page
            .pointer("/paging/cursors/after")
            .and_then(Value::as_str)
            .filter(|_| page.pointer("/paging/next").is_some());
        match next {
            Some(c) if !older && !data.is_empty() => after = Some(c.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// `GET /{ig-user-id}/insights?metric=online_followers&period=lifetime&since&until`: one entry
/// per day, hour keys `"0"`–`"23"`, `{}` for days without data yet.
pub(super) async fn online_followers(
    client: &MetaClient,
    s: Session<'_>,
    host: Host,
    since: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<OnlineDay>> {
    let account = s.account();
    let url = client.url(host, &format!("{}/insights", account.account));
    let req = ApiRequest::get(url)
        .query("metric", "online_followers")
        .query("period", "lifetime")
        .query("since", since.unix_timestamp().to_string())
        .query("until", until.unix_timestamp().to_string());
    let v = client.read(s, &req).await?;
    Ok(parse_online(&v))
}

pub(super) fn parse_online(v: &Value) -> Vec<OnlineDay> {
    let values = v
        .get("data")
        .and_then(Value::as_array)
        .and_then(|d| {
            d.iter()
                .find(|m| m.get("name").and_then(Value::as_str) == Some("online_followers"))
        })
        .and_then(|m| m.get("values"))
        .and_then(Value::as_array);
    let mut out = Vec::new();
    for day in values.into_iter().flatten() {
        let Some(end) = day
            .get("end_time")
            .and_then(Value::as_str)
            .and_then(parse_time)
        else {
            continue;
        };
        let hours: BTreeMap<u8, u64> = day
            .get("value")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(h, n)| Some((h.parse::<u8>().ok().filter(|h| *h < 24)?, n.as_u64()?)))
            .collect();
        out.push(OnlineDay::new(end, (!hours.is_empty()).then_some(hours)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_come_from_the_product_type_first() {
        let k = |p: &str, m: &str| ig_kind(&json!({"media_product_type": p, "media_type": m}));
        assert_eq!(k("REELS", "VIDEO"), MediaKind::Reel);
        assert_eq!(k("STORY", "IMAGE"), MediaKind::Story);
        assert_eq!(k("FEED", "CAROUSEL_ALBUM"), MediaKind::Carousel);
        assert_eq!(k("FEED", "VIDEO"), MediaKind::Video);
        assert_eq!(k("FEED", "IMAGE"), MediaKind::Image);
    }

    #[test]
    fn an_empty_day_is_no_data_not_zero() {
        let v = json!({"data":[{"name":"online_followers","period":"lifetime","values":[
            {"value":{},"end_time":"2026-09-01T07:00:00+0000"},
            {"value":{"9":20,"12":100,"13":80},"end_time":"2026-09-02T07:00:00+0000"}]}]});
        let days = parse_online(&v);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].by_hour, None);
        assert_eq!(days[1].by_hour.as_ref().unwrap()[&12], 100);
    }
}
