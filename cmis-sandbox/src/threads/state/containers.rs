//! `POST /{threads-user-id}/threads`: media containers and Threads' validation of them
//! (publishing reference, as listed in brief §2.1 and §3).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Container, Inner, Params, ThreadsError, ThreadsState, error, millis, param};

/// "Text posts are limited to 500 characters", counted in UTF-8 bytes (brief §3: the observed
/// behaviour; a 504-byte, 498-character post was refused).
const TEXT_MAX_BYTES: usize = 500;
/// "Threads posts containing more than 5 links will fail … during the media creation step"
/// (brief §2.1, text-attachments page).
const MAX_LINKS: usize = 5;
/// Carousels hold 2 to 20 items (brief §2.1: Ayrshare, PostSyncer, dialogbrain).
const CAROUSEL_ITEMS: std::ops::RangeInclusive<usize> = 2..=20;
/// Topic tags are 1–50 characters without `.` or `&` (brief §2.1).
const TOPIC_TAG_CHARS: std::ops::RangeInclusive<usize> = 1..=50;
/// The `reply_control` values of the publishing reference (brief §2.1).
const REPLY_CONTROLS: [&str; 5] = [
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
];
/// The marker that makes a media URL fail processing without configuration.
const ERROR_MARKER: &str = "cmis_sandbox_error=";

/// The URLs a text links to, as the link limit counts them: each distinct `http://`,
/// `https://` or `www.` run of non-space characters, without trailing punctuation. (The brief
/// says "unique URLs in `text` count"; bare domains such as `example.com` are not counted here.)
pub(super) fn links(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in text.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let start = ["https://", "http://", "www."]
            .iter()
            .filter_map(|p| lower.find(p))
            .min();
        let Some(start) = start else { continue };
        let url = word[start..].trim_end_matches(|c: char| {
            matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '"' | '\''
            )
        });
        let lower = url.to_ascii_lowercase();
        let after_prefix = ["https://", "http://", "www."]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .unwrap_or("");
        if !after_prefix.is_empty() {
            out.insert(url.to_owned());
        }
    }
    out
}

/// Whether `url` is an absolute `http(s)` URL with a host: Threads cURLs media from a public
/// server (brief §2).
fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !url.contains(char::is_whitespace)
    })
}

fn flag(p: &Params, name: &str) -> Result<bool, ThreadsError> {
    match p.get(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(v) => Err(param(format!(
            "Param {name} must be a boolean, not \"{v}\"."
        ))),
    }
}

/// A non-empty parameter.
fn get<'p>(p: &'p Params, name: &str) -> Option<&'p String> {
    p.get(name).filter(|v| !v.is_empty())
}

/// The messages below are constructed in the style of the observed "Param text must be at most
/// 500 characters long." except where a fixture is named.
impl ThreadsState {
    pub(crate) fn create_container(
        &self,
        t: Option<&str>,
        path_user: &str,
        p: &Params,
    ) -> Result<Value, ThreadsError> {
        let mut inner = self.lock();
        let user = self.owner(&inner, t, path_user)?;
        let media_type = match get(p, "media_type").map(String::as_str) {
            Some("TEXT") => "TEXT",
            Some("IMAGE") => "IMAGE",
            Some("VIDEO") => "VIDEO",
            Some("CAROUSEL") => "CAROUSEL",
            // The reads' names (`TEXT_POST`, `CAROUSEL_ALBUM`) are not the create call's.
            Some(other) => {
                return Err(param(format!(
                    "Param media_type must be one of {{TEXT, IMAGE, VIDEO, CAROUSEL}}, not \
                     \"{other}\"."
                )));
            }
            None => return Err(param("The parameter media_type is required.")),
        };
        let is_carousel_item = flag(p, "is_carousel_item")?;
        if is_carousel_item && !matches!(media_type, "IMAGE" | "VIDEO") {
            return Err(param(
                "Param is_carousel_item is only allowed on IMAGE and VIDEO containers.",
            ));
        }
        let text = p.get("text").cloned();
        if media_type == "TEXT" && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(param("Param text is required for TEXT posts."));
        }
        if text.as_ref().is_some_and(|t| t.len() > TEXT_MAX_BYTES) {
            // Fixture `text_too_long`, verbatim.
            return Err(param("Param text must be at most 500 characters long."));
        }
        let link_attachment = get(p, "link_attachment").cloned();
        if let Some(link) = &link_attachment {
            if media_type != "TEXT" {
                return Err(param(
                    "Param link_attachment is only supported on TEXT posts.",
                ));
            }
            if !is_web_url(link) {
                return Err(param("Param link_attachment must be a valid http(s) URL."));
            }
        }
        let mut urls = text.as_deref().map(links).unwrap_or_default();
        urls.extend(link_attachment.clone());
        if urls.len() > MAX_LINKS {
            // Fixture `link_limit_exceeded` (constructed around the documented identifier).
            return Err(param("THREADS_API__LINK_LIMIT_EXCEEDED"));
        }
        let media_url = match media_type {
            "IMAGE" | "VIDEO" => {
                let name = if media_type == "IMAGE" {
                    "image_url"
                } else {
                    "video_url"
                };
                let Some(url) = get(p, name) else {
                    return Err(param(format!(
                        "Param {name} is required for {media_type} posts."
                    )));
                };
                if !is_web_url(url) {
                    return Err(param(format!(
                        "Param {name} must be a public http(s) URL: media is fetched from it."
                    )));
                }
                Some(url.clone())
            }
            _ => None,
        };
        let topic_tag = p.get("topic_tag").cloned();
        if let Some(tag) = &topic_tag
            && (!TOPIC_TAG_CHARS.contains(&tag.chars().count()) || tag.contains(['.', '&']))
        {
            return Err(param(
                "Param topic_tag must be 1 to 50 characters long, without '.' or '&'.",
            ));
        }
        let reply_control = get(p, "reply_control").cloned();
        if let Some(rc) = &reply_control
            && !REPLY_CONTROLS.contains(&rc.as_str())
        {
            return Err(param(format!(
                "Param reply_control must be one of {{{}}}.",
                REPLY_CONTROLS.join(", ")
            )));
        }
        let reply_to_id = get(p, "reply_to_id").cloned();
        let quote_post_id = get(p, "quote_post_id").cloned();
        for (name, id) in [
            ("reply_to_id", &reply_to_id),
            ("quote_post_id", &quote_post_id),
        ] {
            if let Some(id) = id {
                if is_carousel_item {
                    return Err(param(format!(
                        "Param {name} is not allowed on carousel items."
                    )));
                }
                if inner.post(id).is_none() {
                    return Err(param(format!(
                        "Param {name} must be the id of a published Threads post: {id} is not."
                    )));
                }
            }
        }
        let children = if media_type == "CAROUSEL" {
            self.check_children(&inner, &user, p)?
        } else {
            Vec::new()
        };
        let auto_publish = media_type == "TEXT" && flag(p, "auto_publish_text")?;
        let is_reply = reply_to_id.is_some();
        let failure = media_url
            .as_deref()
            .and_then(|url| failure_for(&inner, url));
        let now = self.now_ms();
        let slowdown = std::mem::take(&mut inner.pending_slowdown_ms);
        let id = Self::next_container_id(&mut inner);
        for child in &children {
            if let Some(c) = inner.containers.iter_mut().find(|c| &c.id == child) {
                c.used_by = Some(id.clone());
            }
        }
        inner.containers.push(Container {
            id: id.clone(),
            user_id: user.clone(),
            media_type,
            is_carousel_item,
            children,
            text,
            alt_text: media_url.as_ref().and_then(|_| get(p, "alt_text").cloned()),
            media_url,
            reply_control,
            topic_tag,
            link_attachment,
            reply_to_id,
            quote_post_id,
            created_ms: now,
            ready_ms: now
                .saturating_add(millis(self.config.container_ready_after))
                .saturating_add(slowdown),
            failure,
            published_as: None,
            used_by: None,
        });
        if auto_publish {
            // `auto_publish_text=true` "makes a TEXT container publish itself without
            // `threads_publish`" (brief §2.1): here at once, under the same quota.
            self.check_quota(&inner, &user, is_reply)?;
            self.publish_locked(&mut inner, &id);
        }
        Ok(json!({ "id": id }))
    }

    /// A carousel's `children`: a comma list of 2–20 distinct carousel items of this user that
    /// have `FINISHED` processing and belong to no other carousel.
    fn check_children(
        &self,
        inner: &Inner,
        user: &str,
        p: &Params,
    ) -> Result<Vec<String>, ThreadsError> {
        let Some(raw) = get(p, "children") else {
            return Err(param("Param children is required for CAROUSEL posts."));
        };
        let children: Vec<String> = raw
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if !CAROUSEL_ITEMS.contains(&children.len()) {
            return Err(param(format!(
                "Param children must list 2 to 20 carousel items, not {}.",
                children.len()
            )));
        }
        let now = self.now_ms();
        for (i, child) in children.iter().enumerate() {
            if children[..i].contains(child) {
                return Err(param(format!("Param children lists {child} twice.")));
            }
            let Some(c) = inner.container(child).filter(|c| c.user_id == user) else {
                return Err(param(format!(
                    "Param children: {child} is not a container of this user."
                )));
            };
            if !c.is_carousel_item {
                return Err(param(format!(
                    "Param children: {child} was not created with is_carousel_item=true."
                )));
            }
            if c.used_by.is_some() {
                return Err(param(format!(
                    "Param children: {child} already belongs to a carousel."
                )));
            }
            let (status, _) = self.status(c, now);
            if status != "FINISHED" {
                return Err(param(format!(
                    "Param children: {child} is {status}; every carousel item must be FINISHED."
                )));
            }
        }
        Ok(children)
    }

    /// Whether publishing one more post (or reply) would exceed the rolling 24-hour quota.
    ///
    /// The error is undocumented for Threads: the body is fixture `quota_exceeded`, Instagram's
    /// content-publishing limit (code 9, subcode 2207042), the closest documented Meta error.
    /// Replies get the same code with "replies" in the message (constructed).
    pub(super) fn check_quota(
        &self,
        inner: &Inner,
        user: &str,
        reply: bool,
    ) -> Result<(), ThreadsError> {
        let (used, quota) = if reply {
            (self.quota_usage(inner, user, true), self.config.reply_quota)
        } else {
            (
                self.quota_usage(inner, user, false),
                self.config.publish_quota,
            )
        };
        if used < quota {
            return Ok(());
        }
        let what = if reply { "replies" } else { "posts" };
        Err(error(
            9,
            Some(2_207_042),
            "OAuthException",
            format!(
                "You reached maximum number of {what} that is allowed to be published by \
                 Content Publishing API."
            ),
        ))
    }
}

/// The `error_message` a media URL ends in: configured patterns first, then the
/// `cmis_sandbox_error=` marker (up to the next `&` or `#`).
fn failure_for(inner: &Inner, url: &str) -> Option<String> {
    if let Some((_, message)) = inner
        .failing_media_urls
        .iter()
        .find(|(pattern, _)| url.contains(pattern.as_str()))
    {
        return Some(message.clone());
    }
    let at = url.find(ERROR_MARKER)?;
    let rest = &url[at + ERROR_MARKER.len()..];
    let message = rest.split(['&', '#']).next().unwrap_or("");
    Some(
        if message.is_empty() {
            "UNKNOWN"
        } else {
            message
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_distinct_urls_without_trailing_punctuation() {
        let l =
            links("See https://a.example/x, and (https://a.example/x) or www.b.example! http://");
        let l: Vec<&str> = l.iter().map(String::as_str).collect();
        assert_eq!(l, ["https://a.example/x", "www.b.example"]);
        assert!(links("no links here. example.com").is_empty());
    }

    #[test]
    fn web_urls_need_a_scheme_and_a_host() {
        assert!(is_web_url("https://cdn.example.com/a.jpg"));
        assert!(is_web_url("HTTP://cdn.example.com"));
        assert!(!is_web_url("https:///a.jpg"));
        assert!(!is_web_url("ftp://cdn.example.com/a.jpg"));
        assert!(!is_web_url("/local/a.jpg"));
    }
}
