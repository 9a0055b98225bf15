//! `POST /{threads-user-id}/threads_publish` and `GET /{threads-user-id}/threads_publishing_limit`
//! (brief §2.3 and §3).

use serde_json::{Map, Value, json};

use super::{Inner, Params, Published, ThreadsError, ThreadsState, error, param, shortcode};
use crate::meta::graph_time;
use crate::threads::ThreadsPost;

/// The quota window: "per rolling 24 h" (`quota_duration` 86400, fixture `publishing_limit.json`).
pub(super) const QUOTA_WINDOW_SECS: i64 = 86_400;
/// Deletes allowed per account per day (delete-posts page: "100 deletes per day per account").
pub(super) const DELETE_QUOTA: u32 = 100;

/// The `threads_publishing_limit` fields served (brief §3; the `delete_*` pair from the
/// troubleshooting example that the fixture README mentions).
const LIMIT_FIELDS: &[&str] = &[
    "quota_usage",
    "config",
    "reply_quota_usage",
    "reply_config",
    "delete_quota_usage",
    "delete_config",
];

/// "Media Not Found": code 24, subcode 4279009. The body is fixture `media_not_found_yet`
/// (peer-observed), with this container's id in `error_user_msg`. Threads answers it when a
/// container is published before it is visible (brief §2.2) and, here, for an id that is no
/// container of this user.
fn media_not_found(id: &str) -> ThreadsError {
    ThreadsError {
        user_title: Some("Media Not Found".into()),
        user_msg: Some(format!("The media with id {id} cannot be found.")),
        is_transient: Some(false),
        ..error(
            24,
            Some(4_279_009),
            "OAuthException",
            "The requested resource does not exist",
        )
    }
}

impl ThreadsState {
    /// How many posts (or replies) `user` published in the rolling window.
    pub(super) fn quota_usage(&self, inner: &Inner, user: &str, reply: bool) -> u32 {
        let since = self.now_ms() - QUOTA_WINDOW_SECS * 1000;
        let n = inner.publishes.get(user).map_or(0, |list| {
            list.iter()
                .filter(|&&(at, r)| r == reply && at > since)
                .count()
        });
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// `threads_publish` with `creation_id`.
    ///
    /// Beyond 4279009 and the quota, the refusals are undocumented and constructed (code 100,
    /// `THApiException`): a container already `PUBLISHED` (brief §5: read the container before
    /// any retry), one in `ERROR`, one `EXPIRED`, and a carousel item published on its own.
    pub(crate) fn publish(
        &self,
        t: Option<&str>,
        path_user: &str,
        p: &Params,
    ) -> Result<Value, ThreadsError> {
        let mut inner = self.lock();
        let user = self.owner(&inner, t, path_user)?;
        let Some(id) = p.get("creation_id").filter(|v| !v.is_empty()) else {
            return Err(param("The parameter creation_id is required."));
        };
        let Some(c) = inner.container(id).filter(|c| c.user_id == user) else {
            return Err(media_not_found(id));
        };
        let now = self.now_ms();
        let (status, failure) = self.status(c, now);
        let is_reply = c.reply_to_id.is_some();
        if c.is_carousel_item {
            return Err(param(format!(
                "The media container {id} is a carousel item: publish the CAROUSEL container \
                 that lists it."
            )));
        }
        match status {
            "IN_PROGRESS" => return Err(media_not_found(id)),
            "PUBLISHED" => {
                inner.duplicate_publishes += 1;
                return Err(param(format!(
                    "The media container {id} has already been published."
                )));
            }
            "ERROR" => {
                return Err(param(format!(
                    "The media container {id} cannot be published: its status is ERROR ({}).",
                    failure.unwrap_or("UNKNOWN")
                )));
            }
            "EXPIRED" => {
                return Err(param(format!(
                    "The media container {id} has expired: containers must be published within \
                     24 hours."
                )));
            }
            _ => {}
        }
        self.check_quota(&inner, &user, is_reply)?;
        let id = id.clone();
        let media_id = self.publish_locked(&mut inner, &id);
        Ok(json!({ "id": media_id }))
    }

    /// Publishes a container (checked by the caller) and returns the new media id. A carousel's
    /// children get media ids too and read `PUBLISHED`.
    pub(super) fn publish_locked(&self, inner: &mut Inner, container_id: &str) -> String {
        let now = self.now_ms();
        let (media_num, media_id) = Self::next_media_id(inner);
        let Some(index) = inner.containers.iter().position(|c| c.id == container_id) else {
            return media_id;
        };
        let c = inner.containers[index].clone();
        let mut media_urls = Vec::new();
        let mut alt_texts = Vec::new();
        let mut child_ids = Vec::new();
        for child in &c.children {
            let (_, child_media) = Self::next_media_id(inner);
            if let Some(cc) = inner.containers.iter_mut().find(|x| &x.id == child) {
                cc.published_as = Some(child_media.clone());
                media_urls.extend(cc.media_url.clone());
                alt_texts.push(cc.alt_text.clone());
            }
            child_ids.push(child_media);
        }
        if let Some(url) = &c.media_url {
            media_urls.push(url.clone());
            alt_texts.push(c.alt_text.clone());
        }
        inner.containers[index].published_as = Some(media_id.clone());
        let username = inner
            .users
            .get(&c.user_id)
            .map_or_else(|| c.user_id.clone(), |u| u.username.clone());
        let code = shortcode(media_num);
        let media_type = match c.media_type {
            "TEXT" => "TEXT_POST",
            "CAROUSEL" => "CAROUSEL_ALBUM",
            other => other,
        };
        inner.posts.push(Published {
            post: ThreadsPost {
                id: media_id.clone(),
                container_id: c.id.clone(),
                user_id: c.user_id.clone(),
                media_type: media_type.to_owned(),
                text: c.text.clone(),
                media_urls,
                alt_texts,
                reply_control: c.reply_control.clone(),
                topic_tag: c.topic_tag.clone(),
                link_attachment: c.link_attachment.clone(),
                reply_to_id: c.reply_to_id.clone(),
                quote_post_id: c.quote_post_id.clone(),
                permalink: format!("https://www.threads.net/@{username}/post/{code}"),
                timestamp: graph_time(now / 1000),
                created_time: now / 1000,
            },
            created_ms: now,
            username,
            shortcode: code,
            child_ids,
        });
        inner
            .publishes
            .entry(c.user_id)
            .or_default()
            .push((now, c.reply_to_id.is_some()));
        media_id
    }

    /// `threads_publishing_limit`: `{"data":[{"quota_usage":N,"config":{…}}]}` (fixture
    /// `publishing_limit.json`); only the fields asked for appear, `quota_usage,config` when
    /// none are.
    pub(crate) fn publishing_limit(
        &self,
        t: Option<&str>,
        path_user: &str,
        p: &Params,
    ) -> Result<Value, ThreadsError> {
        let fields = super::reads::field_names(
            p,
            "quota_usage,config",
            LIMIT_FIELDS,
            "ThreadsPublishingLimit",
        )?;
        let inner = self.lock();
        let user = self.owner(&inner, t, path_user)?;
        let config =
            |total: u32| json!({ "quota_total": total, "quota_duration": QUOTA_WINDOW_SECS });
        let mut item = Map::new();
        for f in fields {
            let v = match f.as_str() {
                "quota_usage" => json!(self.quota_usage(&inner, &user, false)),
                "config" => config(self.config.publish_quota),
                "reply_quota_usage" => json!(self.quota_usage(&inner, &user, true)),
                "reply_config" => config(self.config.reply_quota),
                "delete_quota_usage" => json!(self.delete_usage(&inner, &user)),
                _ => config(DELETE_QUOTA),
            };
            item.insert(f, v);
        }
        Ok(json!({ "data": [Value::Object(item)] }))
    }
}
