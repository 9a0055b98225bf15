//! Everything Threads would refuse, checked before any call: the 500-byte text, the link
//! limit, the topic tag, media by URL only, carousel sizes (`docs/threads-api.md` §2.1, §3, §7.4).

use std::collections::BTreeSet;

use cmis_core::{Error, MediaSource, Platform, Post, Result, Surface, Target, Violation};

use super::ThKind;
use crate::client::segment;
use crate::media::{Kind, sniff_media};

/// Items in a carousel: 2 to 20 mixed images and videos (§2.1 "Item count").
pub(crate) const CAROUSEL_MIN: usize = 2;
/// See [`CAROUSEL_MIN`].
pub(crate) const CAROUSEL_MAX: usize = 20;

/// Links in one post: more than 5 fail with `THREADS_API__LINK_LIMIT_EXCEEDED` (§2.1 "Link
/// limit"). Peers saw failures from 4; that is only warned about.
pub(crate) const MAX_LINKS: usize = 5;
const WARN_LINKS: usize = 4;

/// A topic tag: 1–50 characters, without `.` or `&` (§2.1).
const TOPIC_TAG_MAX: usize = 50;

/// What a valid post becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) kind: ThKind,
    /// The kind of each carousel child.
    pub(crate) child_kinds: Vec<ThKind>,
}

/// The distinct `http(s)://` URLs in `text`, in order, as Threads counts links: unique URLs,
/// compared in their normal form (`HTTPS://A.example` and `https://a.example/` are one).
pub(crate) fn links(text: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace()) {
        // ASCII lowercasing keeps every byte offset, so `start` indexes `word` too.
        let lower = word.to_ascii_lowercase();
        let Some(start) = ["https://", "http://"]
            .iter()
            .filter_map(|p| lower.find(p))
            .min()
        else {
            continue;
        };
        let Some(raw) = word.get(start..) else {
            continue;
        };
        let raw = raw.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
        let Ok(url) = url::Url::parse(raw) else {
            continue;
        };
        let url = url.to_string();
        if seen.insert(url.clone()) {
            out.push(url);
        }
    }
    out
}

impl Plan {
    /// Checks `post` for `target` and decides what to create, without any network call.
    pub(crate) async fn check(target: &Target, post: &Post) -> Result<Plan> {
        if target.platform() != Platform::Threads {
            return Err(Error::invalid_input(format!(
                "target {target} is not a Threads profile"
            )));
        }
        if target.surface != Surface::Feed {
            return Err(Error::unsupported(format!(
                "cmis-meta does not publish to the Threads {} surface",
                target.surface
            )));
        }
        segment(target.account.account.as_str(), "Threads user id")?;
        if post
            .media
            .iter()
            .any(|m| !matches!(m.source, MediaSource::Url(_)))
        {
            return Err(Error::unsupported(
                "Threads fetches media from public URLs and has no upload endpoint: give the \
                 media as https URLs (docs/threads-api.md §2)",
            ));
        }
        let mut v = Vec::new();
        for (i, m) in post.media.iter().enumerate() {
            if let MediaSource::Url(u) = &m.source
                && !matches!(u.scheme(), "http" | "https")
            {
                v.push(Violation::new(
                    format!("media[{i}]"),
                    "threads.media.scheme",
                    u.scheme(),
                    "a public https URL",
                ));
            }
        }
        let mut kinds = Vec::with_capacity(post.media.len());
        for (i, m) in post.media.iter().enumerate() {
            match sniff_media(m).await {
                Ok(s) if s.kind == Kind::Video => kinds.push(ThKind::Video),
                Ok(s) if matches!(s.mime, "image/jpeg" | "image/png") => kinds.push(ThKind::Image),
                Ok(s) => v.push(Violation::new(
                    format!("media[{i}]"),
                    "threads.image.format",
                    s.mime,
                    "image/jpeg or image/png",
                )),
                Err(e) => v.push(Violation::new(
                    format!("media[{i}]"),
                    "threads.media.type",
                    e.message().to_owned(),
                    "a JPEG or PNG image or an MP4/MOV video",
                )),
            }
        }
        let text = post.text.as_deref().unwrap_or("");
        let n = post.media.len();
        let kind = match n {
            0 => ThKind::Text,
            1 => kinds.first().copied().unwrap_or(ThKind::Image),
            _ => ThKind::Carousel,
        };
        if n == 0 && text.trim().is_empty() {
            v.push(Violation::new(
                "text",
                "threads.text.required",
                "empty",
                "text, or 1 to 20 media items",
            ));
        }
        if n > CAROUSEL_MAX {
            v.push(Violation::new(
                "media",
                "threads.carousel.items",
                n.to_string(),
                format!("{CAROUSEL_MIN} to {CAROUSEL_MAX}"),
            ));
        }
        let mut urls = links(text);
        if let Some(link) = &post.link {
            if n > 0 {
                v.push(Violation::new(
                    "link",
                    "threads.link_attachment.text_only",
                    format!("{n} media item(s)"),
                    "a link attachment on a text post only",
                ));
            }
            if !matches!(link.scheme(), "http" | "https") {
                v.push(Violation::new(
                    "link",
                    "threads.link_attachment.scheme",
                    link.scheme(),
                    "http or https",
                ));
            }
            if !urls.iter().any(|u| u == link.as_str()) {
                urls.push(link.to_string());
            }
        }
        if urls.len() > MAX_LINKS {
            v.push(Violation::new(
                "text",
                "threads.text.links",
                format!("{} links", urls.len()),
                format!("at most {MAX_LINKS} distinct links (text and link attachment)"),
            ));
        } else if urls.len() >= WARN_LINKS {
            tracing::warn!(
                links = urls.len(),
                "Threads posts with 4 or more links have been seen failing (docs/threads-api.md §2.1)"
            );
        }
        let opts = &post.options.threads;
        if let Some(control) = &opts.reply_control
            && control.as_str().trim().is_empty()
        {
            v.push(Violation::new(
                "options.threads.reply_control",
                "threads.reply_control",
                "empty",
                "everyone, accounts_you_follow, mentioned_only, parent_post_author_only or \
                 followers_only",
            ));
        }
        if let Some(tag) = &opts.topic_tag {
            let len = tag.chars().count();
            if len == 0 || len > TOPIC_TAG_MAX || tag.contains(['.', '&']) {
                v.push(Violation::new(
                    "options.threads.topic_tag",
                    "threads.topic_tag",
                    format!("{tag:?} ({len} characters)"),
                    "1 to 50 characters, without '.' or '&'",
                ));
            }
        }
        for (name, id) in [
            ("reply_to_id", &opts.reply_to_id),
            ("quote_post_id", &opts.quote_post_id),
        ] {
            if let Some(id) = id
                && segment(id, name).is_err()
            {
                v.push(Violation::new(
                    format!("options.threads.{name}"),
                    "threads.media_id",
                    id.clone(),
                    "a Threads media id",
                ));
            }
        }
        if !v.is_empty() {
            return Err(Error::violations(v));
        }
        // Text length in UTF-8 bytes, media counts and specs: the versioned rule set.
        cmis_media::validate_async(Platform::Threads, Surface::Feed, post).await?;
        let child_kinds = if kind == ThKind::Carousel {
            kinds
        } else {
            Vec::new()
        };
        Ok(Plan { kind, child_kinds })
    }
}

#[cfg(test)]
mod tests {
    use super::links;

    #[test]
    fn links_are_distinct_urls_without_trailing_punctuation() {
        let text = "See https://a.example/x, and https://a.example/x. Also (http://b.example) \
                    and https://c.example/?q=1! not a link: https:// or www.d.example";
        assert_eq!(
            links(text),
            [
                "https://a.example/x",
                "http://b.example/",
                "https://c.example/?q=1"
            ]
        );
        assert!(links("no links here").is_empty());
        assert_eq!(
            links("x:https://é.example/ü"),
            ["https://xn--9ca.example/%C3%BC"]
        );
        // One link, however it is spelled.
        assert_eq!(
            links("HTTPS://A.example https://a.example/"),
            ["https://a.example/"]
        );
        assert!(links("éé HTTPS://").is_empty());
    }
}
