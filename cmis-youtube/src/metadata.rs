//! A post as a YouTube video: which medium is the video and which the thumbnail, the title and
//! description taken from the text, every metadata rule checked before any call
//! (`docs/youtube-api.md` §4), and the `videos.insert` resource sent to start the upload.

use cmis_core::{
    Error, ErrorKind, Media, MediaSource, Platform, Post, Result, Surface, Target, Violation,
    YouTubePrivacy,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// The longest description, in UTF-8 bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 5000;
/// The most characters all tags may take together (as YouTube counts them: a comma between
/// tags, quotes around a tag with a space).
pub const MAX_TAGS_CHARS: usize = 500;
/// The category used when none is set: People & Blogs.
pub const DEFAULT_CATEGORY_ID: &str = "22";

/// The metadata of the video to create: everything `videos.insert` is sent, and what a receipt
/// and a reconciliation need later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VideoMeta {
    pub(crate) title: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) category_id: String,
    /// The privacy asked for (`public`, `unlisted`, `private`).
    pub(crate) privacy: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) publish_at: Option<OffsetDateTime>,
    pub(crate) made_for_kids: bool,
    #[serde(default)]
    pub(crate) contains_synthetic_media: bool,
    #[serde(default)]
    pub(crate) notify_subscribers: Option<bool>,
}

impl VideoMeta {
    /// The `videos.insert` resource (`part=snippet,status`).
    pub(crate) fn resource(&self) -> Value {
        let mut snippet = json!({
            "title": self.title,
            "description": self.description,
            "categoryId": self.category_id,
        });
        if !self.tags.is_empty() {
            snippet["tags"] = json!(self.tags);
        }
        let mut status = json!({
            "privacyStatus": self.privacy,
            "selfDeclaredMadeForKids": self.made_for_kids,
        });
        if let Some(at) = self.publish_at.and_then(rfc3339) {
            status["publishAt"] = json!(at);
        }
        if self.contains_synthetic_media {
            status["containsSyntheticMedia"] = json!(true);
        }
        json!({"snippet": snippet, "status": status})
    }
}

/// `at` in RFC 3339, in UTC (`2026-12-01T15:00:00Z`).
pub(crate) fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// The post's title and description: the title option with the whole text as the description,
/// or the text's first line with the rest as the description.
pub(crate) fn title_and_description(post: &Post) -> (String, String) {
    let text = post.text_or_empty();
    match post.options.youtube.title.as_deref() {
        Some(title) => (title.trim().to_owned(), text.trim().to_owned()),
        None => {
            let text = text.trim_start();
            let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
            (first.trim().to_owned(), rest.trim().to_owned())
        }
    }
}

/// How YouTube counts the tags' length: each tag's characters, a comma between two tags, and
/// two quotes around a tag holding a space.
fn tags_len(tags: &[String]) -> usize {
    let chars: usize = tags
        .iter()
        .map(|t| t.chars().count() + if t.contains(' ') { 2 } else { 0 })
        .sum();
    chars + tags.len().saturating_sub(1)
}

/// The metadata of `post`, or every rule it breaks. `now` decides whether `publish_at` is in
/// the future.
pub(crate) fn metadata(post: &Post, now: OffsetDateTime) -> (VideoMeta, Vec<Violation>) {
    let options = &post.options.youtube;
    let mut v = Vec::new();
    let (title, description) = title_and_description(post);
    let title_chars = title.chars().count();
    if title.is_empty() {
        v.push(Violation::new(
            "title",
            "youtube.title.required",
            "empty",
            "a title: YouTubeOptions::title or the text's first line",
        ));
    }
    if title_chars > MAX_TITLE_CHARS {
        v.push(Violation::new(
            "title",
            "youtube.title.max_chars",
            format!("{title_chars} characters"),
            format!("at most {MAX_TITLE_CHARS}"),
        ));
    }
    if title.contains(['<', '>']) {
        v.push(Violation::new(
            "title",
            "youtube.title.angle_brackets",
            "contains < or >",
            "no < or >",
        ));
    }
    if description.len() > MAX_DESCRIPTION_BYTES {
        v.push(Violation::new(
            "description",
            "youtube.description.max_bytes",
            format!("{} UTF-8 bytes", description.len()),
            format!("at most {MAX_DESCRIPTION_BYTES}"),
        ));
    }
    if description.contains(['<', '>']) {
        v.push(Violation::new(
            "description",
            "youtube.description.angle_brackets",
            "contains < or >",
            "no < or >",
        ));
    }
    let tags: Vec<String> = options
        .tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let tags_chars = tags_len(&tags);
    if tags_chars > MAX_TAGS_CHARS {
        v.push(Violation::new(
            "tags",
            "youtube.tags.max_chars",
            format!("{tags_chars} characters"),
            format!("at most {MAX_TAGS_CHARS} in all"),
        ));
    }
    if tags.iter().any(|t| t.contains(['<', '>', ','])) {
        v.push(Violation::new(
            "tags",
            "youtube.tags.characters",
            "a tag contains <, > or a comma",
            "no <, > or comma in a tag",
        ));
    }
    let privacy = match (&options.privacy, options.publish_at) {
        (Some(p), _) => p.clone(),
        (None, Some(_)) => YouTubePrivacy::Private,
        (None, None) => YouTubePrivacy::Public,
    };
    match &privacy {
        YouTubePrivacy::Other(raw) => v.push(Violation::new(
            "privacy",
            "youtube.privacy.value",
            format!("{raw:?}"),
            "public, unlisted or private",
        )),
        YouTubePrivacy::Private | YouTubePrivacy::Public | YouTubePrivacy::Unlisted => {}
        _ => {}
    }
    if let Some(at) = options.publish_at {
        if privacy != YouTubePrivacy::Private {
            v.push(Violation::new(
                "publish_at",
                "youtube.publish_at.private_only",
                format!("privacy {privacy}"),
                "privacy private (YouTube makes the video public at publish_at)",
            ));
        }
        if at <= now {
            v.push(Violation::new(
                "publish_at",
                "youtube.publish_at.future",
                rfc3339(at).unwrap_or_else(|| at.to_string()),
                "a time in the future",
            ));
        }
    }
    let category_id = options
        .category_id
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_CATEGORY_ID)
        .to_owned();
    if category_id.is_empty() || !category_id.bytes().all(|b| b.is_ascii_digit()) {
        v.push(Violation::new(
            "category_id",
            "youtube.category_id.digits",
            format!("{category_id:?}"),
            "a category id made of digits, such as \"22\"",
        ));
    }
    let meta = VideoMeta {
        title,
        description,
        tags,
        category_id,
        privacy: privacy.as_str().to_owned(),
        publish_at: options.publish_at,
        made_for_kids: options.made_for_kids.unwrap_or(false),
        contains_synthetic_media: options.contains_synthetic_media,
        notify_subscribers: options.notify_subscribers,
    };
    (meta, v)
}

/// A post checked and cut into what the upload needs.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub(crate) video: &'a Media,
    pub(crate) video_index: usize,
    pub(crate) video_mime: &'static str,
    pub(crate) thumbnail: Option<&'a Media>,
    pub(crate) meta: VideoMeta,
}

/// The `Content-Type` of the upload: the format sniffed from the bytes.
fn video_mime(format: cmis_media::Format) -> &'static str {
    use cmis_media::Format;
    match format {
        Format::Mp4 | Format::Mov | Format::Webm | Format::Matroska => format.mime(),
        _ => "application/octet-stream",
    }
}

/// Checks everything before any call and cuts the post into video, thumbnail and metadata.
pub(crate) async fn prepare<'a>(
    target: &Target,
    post: &'a Post,
    now: OffsetDateTime,
) -> Result<Prepared<'a>> {
    if target.platform() != Platform::YouTube {
        return Err(Error::invalid_input(format!(
            "the YouTube publisher cannot publish to {}",
            target.platform()
        )));
    }
    if !matches!(target.surface, Surface::Feed | Surface::Reel) {
        return Err(Error::invalid_input(format!(
            "YouTube has no {} surface: publish to the feed (a video) or reel (a Short)",
            target.surface
        )));
    }
    if post
        .media
        .iter()
        .any(|m| matches!(m.source, MediaSource::Url(_)))
    {
        return Err(Error::unsupported(
            "YouTube does not fetch media from a URL: give the video as a file or bytes",
        )
        .with_platform(Platform::YouTube));
    }
    let (meta, mut violations) = metadata(post, now);
    let mut video = None;
    let mut thumbnail = None;
    let mut extra = 0;
    for (i, media) in post.media.iter().enumerate() {
        let format = cmis_media::sniff(media).await?;
        match format {
            Some(f) if f.is_video() && video.is_none() => video = Some((i, media, f)),
            Some(f) if f.is_image() && thumbnail.is_none() => thumbnail = Some(media),
            _ => extra += 1,
        }
    }
    if video.is_none() {
        violations.push(Violation::new(
            "media",
            "youtube.media.video",
            format!("{} item(s), no video", post.media.len()),
            "exactly one video (and optionally one image, its thumbnail)",
        ));
    }
    if extra > 0 {
        violations.push(Violation::new(
            "media",
            "youtube.media.items",
            format!("{} item(s)", post.media.len()),
            "one video, and optionally one image as its thumbnail",
        ));
    }
    // The media rules (formats, sizes, durations, the description's 5 000 bytes) on the post
    // as YouTube sees it: the description is the text.
    let mut as_sent = post.clone();
    as_sent.text = Some(meta.description.clone());
    if let Err(err) = cmis_media::validate_async(Platform::YouTube, target.surface, &as_sent).await
    {
        if err.kind() == ErrorKind::InvalidInput && !err.violation_list().is_empty() {
            for found in err.violation_list() {
                // The description's length is checked above already.
                if !(found.subject == "text" && found.rule.ends_with("max_len")) {
                    violations.push(found.clone());
                }
            }
        } else {
            return Err(err);
        }
    }
    if !violations.is_empty() {
        return Err(Error::violations(violations));
    }
    let Some((video_index, video, format)) = video else {
        return Err(Error::internal("a checked post has no video"));
    };
    Ok(Prepared {
        video,
        video_index,
        video_mime: video_mime(format),
        thumbnail,
        meta,
    })
}

#[cfg(test)]
mod tests {
    use cmis_core::YouTubeOptions;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-20 09:30 UTC);

    fn rules(post: &Post) -> Vec<String> {
        metadata(post, NOW).1.into_iter().map(|v| v.rule).collect()
    }

    #[test]
    fn the_first_line_is_the_title_and_the_rest_the_description() {
        let post = Post::new().with_text("Launch day\nEverything we shipped.\nMore.");
        let (t, d) = title_and_description(&post);
        assert_eq!(
            (t.as_str(), d.as_str()),
            ("Launch day", "Everything we shipped.\nMore.")
        );
        let post = post.with_youtube(YouTubeOptions::new().with_title("Other"));
        let (t, d) = title_and_description(&post);
        assert_eq!(t, "Other");
        assert_eq!(d, "Launch day\nEverything we shipped.\nMore.");
    }

    #[test]
    fn limits_count_characters_for_titles_and_bytes_for_descriptions() {
        let ok = Post::new().with_text(format!("{}\n{}", "é".repeat(100), "a".repeat(5000)));
        assert!(rules(&ok).is_empty(), "{:?}", rules(&ok));
        let long = Post::new().with_text(format!("{}\n{}", "é".repeat(101), "é".repeat(2501)));
        assert_eq!(
            rules(&long),
            ["youtube.title.max_chars", "youtube.description.max_bytes"]
        );
        assert_eq!(
            rules(&Post::new().with_text("a <b>\nc > d")),
            [
                "youtube.title.angle_brackets",
                "youtube.description.angle_brackets"
            ]
        );
        assert_eq!(rules(&Post::new()), ["youtube.title.required"]);
    }

    #[test]
    fn tags_publish_times_and_categories_are_checked() {
        let tags = |t: Vec<String>| {
            Post::new()
                .with_text("t")
                .with_youtube(YouTubeOptions::new().with_tags(t))
        };
        // 50 tags of 9 characters and 49 commas: 499.
        assert!(rules(&tags(vec!["abcdefghi".into(); 50])).is_empty());
        assert_eq!(
            rules(&tags(vec!["abcdefghij".into(); 50])),
            ["youtube.tags.max_chars"]
        );
        assert_eq!(tags_len(&["a b".into(), "c".into()]), 7);

        let at = datetime!(2026-12-01 15:00 UTC);
        let public = Post::new().with_text("t").with_youtube(
            YouTubeOptions::new()
                .with_publish_at(at)
                .with_privacy(YouTubePrivacy::Public),
        );
        assert_eq!(rules(&public), ["youtube.publish_at.private_only"]);
        let past = Post::new()
            .with_text("t")
            .with_youtube(YouTubeOptions::new().with_publish_at(datetime!(2026-11-01 0:00 UTC)));
        assert_eq!(rules(&past), ["youtube.publish_at.future"]);
        let mut cat = YouTubeOptions::new();
        cat.category_id = Some("2x".into());
        assert_eq!(
            rules(&Post::new().with_text("t").with_youtube(cat)),
            ["youtube.category_id.digits"]
        );
        // publish_at without a privacy means private.
        let scheduled = Post::new()
            .with_text("t")
            .with_youtube(YouTubeOptions::new().with_publish_at(at));
        assert_eq!(metadata(&scheduled, NOW).0.privacy, "private");
    }
}
