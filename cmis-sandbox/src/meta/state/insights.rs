//! Insights reads: a Page post's `insights`, a video's or Reel's `video_insights`, an Instagram
//! media's `insights` and an Instagram account's `online_followers`.
//!
//! Values come from [`InsightsConfig`](crate::InsightsConfig)'s planted curve; availability,
//! retired metrics and permissions are judged at the fake's clock (real time).

use super::metrics::{self, FB_POST, FB_VIDEO, FB_VIDEO_DEFAULT, IG_MEDIA, Metric, ig_supports};
use super::nodes::{live_since, post_id};
use super::objects::{media, page_post};
use super::*;
use crate::insights::Counters;

/// How long story insights last.
const STORY_LIFETIME: i64 = 24 * 3600;
/// How far back `online_followers` reaches ("only the last 30 days").
const ONLINE_WINDOW: i64 = 30 * 86_400;

fn insight(id: &str, m: &Metric, period: &str, value: Value) -> Value {
    json!({
        "name": m.name,
        "period": period,
        "values": [{ "value": value }],
        "title": m.title,
        "description": m.title,
        "id": format!("{id}/insights/{}/{period}", m.name),
    })
}

/// `{"like": n, "love": m}` of `likes` reactions, the types with none left out.
fn reactions(likes: u64) -> Value {
    let like = likes * 4 / 5;
    let mut v = serde_json::Map::new();
    for (k, n) in [("like", like), ("love", likes - like)] {
        if n > 0 {
            v.insert(k.into(), json!(n));
        }
    }
    Value::Object(v)
}

fn fb_value(name: &str, c: &Counters) -> Value {
    match name {
        "post_media_view" | "fb_reels_total_plays" | "blue_reels_play_count" => json!(c.views),
        "post_total_media_view_unique" => json!(c.reach),
        "post_clicks" => json!(c.clicks),
        "post_reactions_like_total" => json!(c.likes * 4 / 5),
        "post_reactions_by_type_total" | "post_video_reactions" => reactions(c.likes),
        "fb_reels_replay_count" => json!(c.views / 8),
        "post_video_avg_time_watched" => json!(c.watch_ms / c.views.max(1)),
        "post_video_view_time" => json!(c.watch_ms),
        _ => json!(0),
    }
}

fn ig_value(name: &str, c: &Counters, skip_rate: f64) -> Value {
    match name {
        "reach" => json!(c.reach),
        "views" => json!(c.views),
        "likes" => json!(c.likes),
        "comments" | "replies" => json!(c.comments),
        "saved" => json!(c.saves),
        "shares" => json!(c.shares),
        "total_interactions" => json!(c.interactions()),
        "profile_visits" => json!(c.profile_visits),
        "profile_activity" => json!(c.profile_visits + c.follows),
        "follows" => json!(c.follows),
        "navigation" => json!(c.views - c.views / 10),
        "ig_reels_avg_watch_time" => json!(c.watch_ms / c.views.max(1)),
        "ig_reels_video_view_total_time" => json!(c.watch_ms),
        "reels_skip_rate" => json!((skip_rate * 10.0).round() / 10.0),
        "reposts" => json!(c.shares / 2),
        _ => json!(0),
    }
}

fn permission(scope: &str) -> GraphError {
    graph_error(
        403,
        200,
        None,
        format!("(#200) Permissions error: {scope} is required."),
    )
}

fn no_metric() -> GraphError {
    graph_error(
        400,
        3001,
        Some(1_504_028),
        "Invalid query: the metric parameter is required",
    )
}

impl MetaState {
    fn has_scope(inner: &Inner, t: Option<&str>, scope: &str) -> bool {
        t.and_then(|t| inner.tokens.get(t))
            .is_some_and(|tok| tok.scopes.contains(scope))
    }

    pub(crate) fn revoke_scope(&self, t: &str, scope: &str) {
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.scopes.remove(scope);
        }
    }

    /// `GET /{id}/insights`: a Page post's, an Instagram media's or an Instagram account's.
    pub(crate) fn insights(
        &self,
        t: Option<&str>,
        id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let inner = self.lock();
        if inner.instagram.contains_key(id) {
            return self.account_insights(&inner, t, id, p);
        }
        if let Some(i) = media(&inner, id) {
            return self.media_insights(&inner, t, &inner.posts[i], p);
        }
        let Some(i) = page_post(&inner, id) else {
            self.subject(&inner, t)?;
            return Err(unsupported("get", id));
        };
        let post = &inner.posts[i];
        self.page_read_token(&inner, t, &post.owner)?;
        if post.kind == "reel" {
            // Reels have no `/insights` edge: they answer on `video_insights`.
            return Err(invalid_param(
                "Tried accessing nonexisting field (insights) on node type (Video)",
            ));
        }
        if !Self::has_scope(&inner, t, "read_insights") {
            return Err(permission("read_insights"));
        }
        let now = unix_now();
        let names = metrics::requested(p)?.ok_or_else(no_metric)?;
        let period = p.get("period").map(String::as_str);
        if period.is_some_and(|x| x != "lifetime" && x != "day") {
            return Err(invalid_param(
                "period must be one of the following values: day, lifetime",
            ));
        }
        let chosen = metrics::check(FB_POST, &names, now, |_| None)?;
        let published = live_since(post, now).unwrap_or(now);
        let c = self.counters_at(&post.owner, &post.id, published, now);
        let id = post_id(post);
        let mut data = Vec::new();
        for m in &chosen {
            if period != Some("day") {
                data.push(insight(&id, m, "lifetime", fb_value(m.name, &c)));
            }
            // Without `period=lifetime` a counter also comes back per day: the last 24 hours.
            let countable = fb_value(m.name, &c).is_u64();
            if period != Some("lifetime") && countable {
                let before = self.counters_at(&post.owner, &post.id, published, now - 86_400);
                let a = fb_value(m.name, &c).as_u64().unwrap_or(0);
                let b = fb_value(m.name, &before).as_u64().unwrap_or(0);
                let day = a.saturating_sub(b);
                let mut v = insight(&id, m, "day", json!(day));
                v["values"][0]["end_time"] = json!(graph_time(now));
                data.push(v);
            }
        }
        Ok(json!({ "data": data }))
    }

    /// The counters of a post at `now`: zeros before the configured delay.
    fn counters_at(&self, owner: &str, post: &str, published: i64, now: i64) -> Counters {
        let config = &self.config.insights;
        let now = if config.available(published, now) {
            now
        } else {
            published
        };
        config.counters(owner, post, published, now)
    }

    /// Adds a Page post's counts, without insights (brightbean's `published_posts` fields):
    /// `shares` (`{"count"}`, absent at zero, as Graph leaves it out), and the `comments` and
    /// `reactions` edges, empty (the fake holds no comments or reactions themselves) with a
    /// `summary` of their `total_count`, which a read keeps only with `.summary(true)`.
    pub(super) fn add_counts(&self, v: &mut Value, post: &MetaPost, published: i64) {
        let now = unix_now();
        let c = self.counters_at(&post.owner, &post.id, published, now.max(published));
        if c.shares > 0 {
            v["shares"] = json!({ "count": c.shares });
        }
        v["comments"] = json!({
            "data": [],
            "summary": { "order": "ranked", "total_count": c.comments, "can_comment": true },
        });
        v["reactions"] = json!({
            "data": [],
            "summary": { "total_count": c.likes, "viewer_reaction": "NONE" },
        });
    }

    /// Sets an Instagram media's `like_count` and `comments_count` (organic, as the IG Media
    /// reference says) to the `likes` and `comments` its insights give.
    pub(super) fn add_media_counts(&self, v: &mut Value, post: &MetaPost, published: i64) {
        let now = unix_now().max(published);
        let c = self.counters_at(&post.owner, &post.id, published, now);
        v["like_count"] = json!(c.likes);
        v["comments_count"] = json!(c.comments);
    }

    /// `GET /{video-id}/video_insights`: a Page video's or Reel's.
    pub(crate) fn video_insights(
        &self,
        t: Option<&str>,
        id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let inner = self.lock();
        let Some(post) = inner
            .posts
            .iter()
            .find(|x| x.id == id && (x.kind == "reel" || x.kind == "video"))
        else {
            self.subject(&inner, t)?;
            return Err(unsupported("get", id));
        };
        self.page_read_token(&inner, t, &post.owner)?;
        if !Self::has_scope(&inner, t, "read_insights") {
            return Err(permission("read_insights"));
        }
        let now = unix_now();
        let chosen: Vec<&Metric> = match metrics::requested(p)? {
            Some(names) => metrics::check(FB_VIDEO, &names, now, |_| None)?,
            None => FB_VIDEO.iter().take(FB_VIDEO_DEFAULT).collect(),
        };
        let published = live_since(post, now).unwrap_or(now);
        let c = self.counters_at(&post.owner, &post.id, published, now);
        let data: Vec<Value> = chosen
            .iter()
            .map(|m| insight(&post.id, m, "lifetime", fb_value(m.name, &c)))
            .collect();
        Ok(json!({ "data": data }))
    }

    fn media_insights(
        &self,
        inner: &Inner,
        t: Option<&str>,
        post: &MetaPost,
        p: &Params,
    ) -> Result<Value, GraphError> {
        self.ig_token(inner, t, &post.owner)?;
        let scope = match inner.instagram.get(&post.owner) {
            Some(InstagramLogin::Instagram) => "instagram_business_manage_insights",
            _ => "instagram_manage_insights",
        };
        if !Self::has_scope(inner, t, scope) {
            return Err(permission(scope));
        }
        let product = match post.kind.as_str() {
            "ig_reel" => "REELS",
            "ig_story" => "STORY",
            _ => "FEED",
        };
        let now = unix_now();
        let names = metrics::requested(p)?.ok_or_else(no_metric)?;
        let chosen = metrics::check(IG_MEDIA, &names, now, |name| {
            (!ig_supports(product, name)).then(|| {
                invalid_param(format!(
                    "The Media Insights API does not support the {name} metric for this media product type"
                ))
            })
        })?;
        let published = post.created_time.unwrap_or(now);
        let config = &self.config.insights;
        let expired = product == "STORY" && now - published > STORY_LIFETIME;
        if !config.available(published, now) || expired {
            // "An empty data set instead of 0"; a story's insights go with it after 24 hours.
            return Ok(json!({ "data": [] }));
        }
        let c = config.counters(&post.owner, &post.id, published, now);
        let skip = 20.0 + 30.0 * crate::insights::unit(config.seed, &["skip", &post.id]);
        let data: Vec<Value> = chosen
            .iter()
            .map(|m| insight(&post.id, m, "lifetime", ig_value(m.name, &c, skip)))
            .collect();
        Ok(json!({ "data": data }))
    }

    /// `GET /{ig-user-id}/insights?metric=online_followers&period=lifetime`: one value per day
    /// (ending 07:00 UTC) of the last 30 days at most, hours of the account's local day as
    /// string keys; the latest two days are `{}`.
    fn account_insights(
        &self,
        inner: &Inner,
        t: Option<&str>,
        id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        self.ig_token(inner, t, id)?;
        let scope = match inner.instagram.get(id) {
            Some(InstagramLogin::Instagram) => "instagram_business_manage_insights",
            _ => "instagram_manage_insights",
        };
        if !Self::has_scope(inner, t, scope) {
            return Err(permission(scope));
        }
        let names = metrics::requested(p)?.ok_or_else(no_metric)?;
        if let Some(i) = names.iter().position(|n| n != "online_followers") {
            return Err(metrics::not_a_metric(i, &["online_followers"]));
        }
        if p.get("period").is_some_and(|x| x != "lifetime") {
            return Err(invalid_param(
                "period must be one of the following values: lifetime",
            ));
        }
        let now = unix_now();
        let until = super::graph::time_param(p, "until")?
            .unwrap_or(now)
            .min(now);
        let since = super::graph::time_param(p, "since")?
            .unwrap_or(until - 2 * 86_400)
            .max(now - ONLINE_WINDOW);
        let config = &self.config.insights;
        // Days end at 07:00 UTC; the first day ending after `since`.
        let mut end = (since - 7 * 3600).div_euclid(86_400) * 86_400 + 7 * 3600 + 86_400;
        let mut values = Vec::new();
        while end <= until + 86_400 && end - 86_400 < until {
            let mut hours = serde_json::Map::new();
            if end <= now - 2 * 86_400 {
                for h in 0..24 {
                    let slot = config.hour_of_week(end - 86_400 + h * 3600);
                    let n = config.online(id, slot, end.div_euclid(86_400));
                    hours.insert((slot % 24).to_string(), json!(n));
                }
            }
            values.push(json!({ "value": hours, "end_time": graph_time(end) }));
            end += 86_400;
        }
        let m = json!({
            "name": "online_followers",
            "period": "lifetime",
            "values": values,
            "title": "Online followers",
            "description": "Total number of this profile's followers that were online during the specified range",
            "id": format!("{id}/insights/online_followers/lifetime"),
        });
        Ok(json!({ "data": [m] }))
    }
}
