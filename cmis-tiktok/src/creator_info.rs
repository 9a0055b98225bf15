//! `creator_info/query` and the gate TikTok requires before a Direct Post.

use std::time::Duration;

use cmis_core::{Error, PrivacyLevel, Result, SecretString, TikTokOptions, Violation};
use serde::Deserialize;

use crate::TikTokClient;
use crate::client::Endpoint;

/// What TikTok says about a creator right now, for the posting UI TikTok's guidelines demand:
/// show `creator_nickname`, offer exactly `privacy_level_options` with no default, grey out
/// the interactions the creator disabled, and enforce `max_video_post_duration_sec`.
///
/// Query it fresh each time the posting UI is shown: the options change, and the avatar URL
/// expires after two hours.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreatorInfo {
    /// The avatar's URL (valid for about 2 hours).
    #[serde(default)]
    pub creator_avatar_url: Option<String>,
    /// The creator's unique handle.
    #[serde(default)]
    pub creator_username: String,
    /// The display name, which the posting UI must show.
    #[serde(default)]
    pub creator_nickname: String,
    /// The privacy levels this creator may post with; the user must pick one (no default).
    #[serde(default)]
    pub privacy_level_options: Vec<PrivacyLevel>,
    /// Comments are off in the creator's settings: the post must disable them too.
    #[serde(default)]
    pub comment_disabled: bool,
    /// Duets are off (always for private accounts).
    #[serde(default)]
    pub duet_disabled: bool,
    /// Stitches are off (always for private accounts).
    #[serde(default)]
    pub stitch_disabled: bool,
    /// The longest video this creator may post, in seconds.
    #[serde(default)]
    pub max_video_post_duration_sec: Option<u64>,
}

impl CreatorInfo {
    /// Whether `level` is one of the options offered to this creator.
    pub fn allows_privacy(&self, level: &PrivacyLevel) -> bool {
        self.privacy_level_options.contains(level)
    }

    /// The longest video this creator may post, when TikTok said.
    pub fn max_video_duration(&self) -> Option<Duration> {
        self.max_video_post_duration_sec.map(Duration::from_secs)
    }
}

/// The interaction settings sent with a post after the creator's own settings were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interactions {
    pub(crate) disable_comment: bool,
    pub(crate) disable_duet: bool,
    pub(crate) disable_stitch: bool,
}

/// Checks a Direct Post against `info` before anything is uploaded. Interactions the creator
/// disabled are disabled on the post too (TikTok's UI rules grey them out, so the user cannot
/// turn them on); every other broken rule is reported at once as `InvalidInput`.
pub(crate) fn gate(
    info: &CreatorInfo,
    options: &TikTokOptions,
    is_video: bool,
    video_duration: Option<Duration>,
) -> Result<Interactions> {
    let mut violations = Vec::new();
    let allowed = info
        .privacy_level_options
        .iter()
        .map(PrivacyLevel::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    match &options.privacy_level {
        None => violations.push(Violation::new(
            "tiktok.privacy_level",
            "tiktok.privacy_level.required",
            "none chosen",
            format!("one of {allowed} chosen by the user (TikTok allows no default)"),
        )),
        Some(level) if !info.allows_privacy(level) => violations.push(Violation::new(
            "tiktok.privacy_level",
            "tiktok.privacy_level.option",
            level.as_str(),
            format!("one of the creator's options: {allowed}"),
        )),
        Some(_) => {}
    }
    if options.brand_content_toggle && options.privacy_level == Some(PrivacyLevel::SelfOnly) {
        violations.push(Violation::new(
            "tiktok.privacy_level",
            "tiktok.branded_content.visibility",
            "SELF_ONLY with branded content",
            "branded content cannot be private (SELF_ONLY)",
        ));
    }
    if is_video
        && let (Some(max), Some(actual)) = (info.max_video_duration(), video_duration)
        && actual > max
    {
        violations.push(Violation::new(
            "video",
            "tiktok.video.max_duration",
            format!("{:.1} s", actual.as_secs_f64()),
            format!("at most {} s for this creator", max.as_secs()),
        ));
    }
    if !violations.is_empty() {
        return Err(Error::violations(violations));
    }
    let interactions = Interactions {
        disable_comment: options.disable_comment || info.comment_disabled,
        disable_duet: options.disable_duet || info.duet_disabled,
        disable_stitch: options.disable_stitch || info.stitch_disabled,
    };
    Ok(interactions)
}

impl TikTokClient {
    /// Queries the creator's current posting options (`POST /v2/post/publish/creator_info/query/`,
    /// scope `video.publish`, 20 per minute per token). Errors TikTok sends with HTTP 200, such
    /// as `spam_risk_too_many_posts`, are errors here too.
    pub async fn creator_info(&self, access_token: &SecretString) -> Result<CreatorInfo> {
        self.call(Endpoint::CreatorInfo, access_token, None).await
    }
}

#[cfg(test)]
mod tests {
    use cmis_core::ErrorKind;

    use super::*;

    fn info() -> CreatorInfo {
        CreatorInfo {
            creator_avatar_url: None,
            creator_username: "tiktok".into(),
            creator_nickname: "TikTok Official".into(),
            privacy_level_options: vec![PrivacyLevel::MutualFollowFriends, PrivacyLevel::SelfOnly],
            comment_disabled: true,
            duet_disabled: false,
            stitch_disabled: true,
            max_video_post_duration_sec: Some(300),
        }
    }

    #[test]
    fn creator_settings_win_over_the_post() {
        let opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly);
        let i = gate(&info(), &opts, true, Some(Duration::from_secs(300))).unwrap();
        assert_eq!(
            i,
            Interactions {
                disable_comment: true,
                disable_duet: false,
                disable_stitch: true
            }
        );
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let mut opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone);
        opts.brand_content_toggle = true;
        let err = gate(&info(), &opts, true, Some(Duration::from_secs(301))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let rules: Vec<_> = err
            .violation_list()
            .iter()
            .map(|v| v.rule.as_str())
            .collect();
        assert_eq!(
            rules,
            ["tiktok.privacy_level.option", "tiktok.video.max_duration"]
        );

        let mut opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly);
        opts.brand_content_toggle = true;
        let err = gate(&info(), &opts, false, None).unwrap_err();
        assert_eq!(
            err.violation_list()[0].rule,
            "tiktok.branded_content.visibility"
        );

        let err = gate(&info(), &TikTokOptions::new(), false, None).unwrap_err();
        assert_eq!(
            err.violation_list()[0].rule,
            "tiktok.privacy_level.required"
        );
    }
}
