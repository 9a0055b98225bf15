//! The soak's world: tenants, their Facebook Pages, Instagram accounts, Threads profiles, TikTok
//! creators, Bluesky accounts, LinkedIn pages and YouTube channels on the sandbox, their
//! credentials in the store, and the posts, each carrying a marker that finds it again in the
//! sandbox's record.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cmis_core::time::OffsetDateTime;
use cmis_core::url::Url;
use cmis_core::{
    AccountRef, Credential, Error, Media, Platform, Post, PostKey, PrivacyLevel, Result, Target,
    TenantId, TikTokOptions,
};
use cmis_sandbox::{BlueskyAccount, Creator, InstagramLogin, Sandbox};
use cmis_scheduler::NewPost;

use super::db::Db;

/// The verified domain the posts' media URLs live on (the sandbox never fetches them).
pub(crate) const MEDIA_PREFIX: &str = "https://media.chaos.example/";

/// The scopes a creator grants: publishing, and `video.list` so that a publish whose init answer
/// was lost can be found among the creator's public videos.
pub(crate) const TIKTOK_SCOPES: [&str; 4] = [
    "user.info.basic",
    "video.publish",
    "video.upload",
    "video.list",
];

const TENANTS: usize = 4;
/// Posts per account at most. Platform limits stay out of the way (Instagram allows 50 API
/// posts per account per 24 h; TikTok 6 inits per minute per token), and an injected rate limit
/// or expired token, which stops one account for a minute or until it is reconnected, holds up
/// a handful of posts rather than a large share of them.
const FACEBOOK_POSTS_PER_PAGE: usize = 10;
const INSTAGRAM_POSTS_PER_ACCOUNT: usize = 10;
const TIKTOK_POSTS_PER_CREATOR: usize = 5;
/// Bluesky allows 1 666 creates per hour per account; the soak stays far below.
const BLUESKY_POSTS_PER_ACCOUNT: usize = 10;
/// Threads allows 250 API posts per profile per 24 hours; the soak stays far below.
const THREADS_POSTS_PER_PROFILE: usize = 10;
/// LinkedIn allows about 100 posts per member per day; the soak stays far below.
const LINKEDIN_POSTS_PER_PAGE: usize = 10;
/// YouTube channels have a daily upload cap of their own (the sandbox's is raised for the soak).
const YOUTUBE_VIDEOS_PER_CHANNEL: usize = 5;
/// The platforms posts go to, round-robin.
const PLATFORMS: usize = 7;
/// The YouTube clip's size: four 256 KiB chunks, so uploads resume mid-file under faults.
const YOUTUBE_CLIP_BYTES: usize = 1_000_000;
/// The scopes a LinkedIn page administrator grants.
const LINKEDIN_SCOPES: [&str; 4] = [
    "openid",
    "w_member_social",
    "r_organization_social",
    "w_organization_social",
];

/// One post: its marker index, tenant, target and content.
#[derive(Debug, Clone)]
pub(crate) struct PlannedPost {
    pub(crate) index: usize,
    pub(crate) tenant: TenantId,
    pub(crate) target: Target,
    pub(crate) post: Post,
    pub(crate) kind: &'static str,
}

/// Tenants, accounts and posts.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) tenants: Vec<TenantId>,
    pub(crate) accounts: Vec<AccountRef>,
    pub(crate) posts: Vec<PlannedPost>,
    pub(crate) video: PathBuf,
    pub(crate) youtube_clip: PathBuf,
}

/// The marker written into post `index`'s text; [`marker_of`] reads it back.
pub(crate) fn marker(index: usize) -> String {
    format!("[chaos p{index:06}]")
}

/// The post index of the first marker in `text`, if any.
pub(crate) fn marker_of(text: &str) -> Option<usize> {
    let start = text.find("[chaos p")? + "[chaos p".len();
    let rest = &text[start..];
    let end = rest.find(']')?;
    rest[..end].parse().ok()
}

fn tenant_name(t: usize) -> String {
    format!("chaos-tenant-{t}")
}

fn account_id(platform: Platform, i: usize) -> String {
    match platform {
        Platform::Facebook => format!("{}", 100_000_000_000_000u64 + i as u64),
        Platform::Instagram => format!("{}", 17_841_400_000_000_000u64 + i as u64),
        Platform::Threads => format!("{}", 17_841_500_000_000_000u64 + i as u64),
        Platform::LinkedIn => format!("urn:li:organization:{}", 3_000_000 + i),
        // `UC` and 22 characters, like a real channel id.
        Platform::YouTube => format!("UCchaosChannel{i:08}"),
        // A did:plc is 24 base32 characters; the digits are spelled a..j.
        Platform::Bluesky => {
            let digits: String = format!("{i:019}")
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            format!("did:plc:chaos{digits}")
        }
        _ => format!("chaos-creator-{i:05}"),
    }
}

fn media_url(name: &str) -> Result<Media> {
    let url = Url::parse(&format!("{MEDIA_PREFIX}{name}"))
        .map_err(|e| Error::internal(format!("bad media URL {name}: {e}")))?;
    Ok(Media::url(url))
}

impl World {
    /// Plans `n` posts, spread round-robin over the seven platforms and over enough accounts of
    /// [`TENANTS`] tenants; content drawn with `rng`.
    pub(crate) fn plan(n: usize, rng: &mut fastrand::Rng, dir: &Path) -> Result<Self> {
        let per_platform = n.div_ceil(PLATFORMS).max(1);
        let counts = [
            (
                Platform::Facebook,
                per_platform.div_ceil(FACEBOOK_POSTS_PER_PAGE),
            ),
            (
                Platform::Instagram,
                per_platform.div_ceil(INSTAGRAM_POSTS_PER_ACCOUNT),
            ),
            (
                Platform::TikTok,
                per_platform.div_ceil(TIKTOK_POSTS_PER_CREATOR),
            ),
            (
                Platform::Bluesky,
                per_platform.div_ceil(BLUESKY_POSTS_PER_ACCOUNT),
            ),
            (
                Platform::Threads,
                per_platform.div_ceil(THREADS_POSTS_PER_PROFILE),
            ),
            (
                Platform::LinkedIn,
                per_platform.div_ceil(LINKEDIN_POSTS_PER_PAGE),
            ),
            (
                Platform::YouTube,
                per_platform.div_ceil(YOUTUBE_VIDEOS_PER_CHANNEL),
            ),
        ];
        let tenants: Vec<TenantId> = (0..TENANTS)
            .map(|t| TenantId::new(tenant_name(t)))
            .collect();
        let mut by_platform: Vec<Vec<AccountRef>> = Vec::new();
        let mut accounts = Vec::new();
        for (platform, count) in counts {
            let list: Vec<AccountRef> = (0..count)
                .map(|i| {
                    AccountRef::new(
                        TenantId::new(tenant_name(i % TENANTS).as_str()),
                        platform,
                        account_id(platform, i).as_str(),
                    )
                })
                .collect();
            accounts.extend(list.iter().cloned());
            by_platform.push(list);
        }
        let video = dir.join("clip.mp4");
        let youtube_clip = dir.join("youtube-clip.mp4");
        let mut posts = Vec::with_capacity(n);
        for index in 0..n {
            let list = &by_platform[index % PLATFORMS];
            let account = list[(index / PLATFORMS) % list.len()].clone();
            let tenant = account.tenant.clone();
            let file = if account.platform == Platform::YouTube {
                &youtube_clip
            } else {
                &video
            };
            let (post, kind) = content(index, account.platform, rng, file)?;
            posts.push(PlannedPost {
                index,
                tenant,
                target: Target::feed(account),
                post,
                kind,
            });
        }
        Ok(Self {
            tenants,
            accounts,
            posts,
            video,
            youtube_clip,
        })
    }

    /// Adds every account to the sandbox and stores its credential; writes the sample video.
    pub(crate) async fn seed(
        &self,
        sandbox: &Sandbox,
        db: &Db,
        rng: &mut fastrand::Rng,
    ) -> Result<()> {
        std::fs::write(&self.video, cmis_media::sample::mp4(1080, 1920, 5, 30))
            .map_err(|e| Error::internal(format!("cannot write {}: {e}", self.video.display())))?;
        let mut clip = cmis_media::sample::mp4(1280, 720, 5, 30);
        let pad = YOUTUBE_CLIP_BYTES.saturating_sub(clip.len());
        clip.extend(u32::try_from(pad).unwrap_or(0).to_be_bytes());
        clip.extend(b"free");
        clip.resize(YOUTUBE_CLIP_BYTES, 0);
        std::fs::write(&self.youtube_clip, clip).map_err(|e| {
            Error::internal(format!("cannot write {}: {e}", self.youtube_clip.display()))
        })?;
        for account in &self.accounts {
            // A third of the TikTok tokens expire within the refresh margin, so workers refresh
            // them (rotating the refresh token) while they publish.
            let soon = matches!(
                account.platform,
                Platform::TikTok | Platform::Bluesky | Platform::LinkedIn | Platform::YouTube
            ) && rng.u8(..3) == 0;
            let credential = issue(sandbox, account, soon)?;
            db.credentials.put_credential(credential).await?;
        }
        Ok(())
    }

    /// Schedules every post, `spread` over the next seconds, in one transaction per chunk.
    /// Returns how many jobs were created and each post's time (a job's `scheduled_for` moves
    /// when it is run again).
    pub(crate) async fn schedule(
        &self,
        db: &Db,
        start: OffsetDateTime,
        spread: Duration,
        rng: &mut fastrand::Rng,
    ) -> Result<(u64, HashMap<usize, OffsetDateTime>)> {
        let mut created = 0;
        let mut due = HashMap::new();
        for tenant in &self.tenants {
            let mine: Vec<NewPost> = self
                .posts
                .iter()
                .filter(|p| &p.tenant == tenant)
                .map(|p| {
                    let offset = spread.mul_f64(rng.f64());
                    due.insert(p.index, start + offset);
                    NewPost::new(
                        PostKey::new(format!("post-{:06}", p.index)),
                        p.post.clone(),
                        vec![p.target.clone()],
                        start + offset,
                    )
                })
                .collect();
            for chunk in mine.chunks(1000) {
                created += db.jobs.schedule_many(tenant, chunk).await?;
            }
        }
        Ok((created, due))
    }

    /// The post index of a store post id (`post-000042`).
    pub(crate) fn index_of(post_id: &PostKey) -> Option<usize> {
        post_id.as_str().strip_prefix("post-")?.parse().ok()
    }
}

/// A fresh credential for `account`, issued by the sandbox as a completed login would.
pub(crate) fn issue(sandbox: &Sandbox, account: &AccountRef, expiring: bool) -> Result<Credential> {
    let now = OffsetDateTime::now_utc();
    let id = account.account.as_str();
    Ok(match account.platform {
        Platform::Facebook => Credential::new(
            account.clone(),
            sandbox.meta().add_page(id, &format!("Page {id}")),
        )
        .with_issued_at(now),
        Platform::Instagram => Credential::new(
            account.clone(),
            sandbox
                .meta()
                .add_instagram_account(id, InstagramLogin::Facebook),
        )
        .with_issued_at(now),
        Platform::TikTok => {
            let tiktok = sandbox.tiktok();
            tiktok.add_creator(Creator::public(id));
            let issued = tiktok.issue_tokens(id, &TIKTOK_SCOPES);
            let lifetime = if expiring {
                Duration::from_secs(120)
            } else {
                issued.expires_in
            };
            Credential::new(account.clone(), issued.access_token)
                .with_refresh_token(issued.refresh_token)
                .with_access_expires_at(now + lifetime)
                .with_refresh_expires_at(now + issued.refresh_expires_in)
                .with_issued_at(now)
                .with_scopes(issued.scopes)
        }
        Platform::Threads => Credential::new(
            account.clone(),
            sandbox.threads().add_user(id, &format!("chaos_{id}")),
        )
        .with_access_expires_at(now + Duration::from_secs(5_183_944))
        .with_issued_at(now),
        Platform::Bluesky => {
            let pds = sandbox.bluesky();
            let handle = format!("chaos{}.bsky.social", id.trim_start_matches("did:plc:"));
            pds.add_account(BlueskyAccount::new(handle, id, "chaos-app-pass-word"));
            let session = pds.issue_session(id).ok_or_else(|| {
                Error::internal(format!("the sandbox issued no session for {id}"))
            })?;
            // The access JWT lives 2 hours; an expiring one is refreshed (and its refresh token
            // rotated) ahead of time by the provider.
            let lifetime = if expiring {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(2 * 60 * 60)
            };
            Credential::new(account.clone(), session.access_jwt)
                .with_refresh_token(session.refresh_jwt)
                .with_access_expires_at(now + lifetime)
                .with_issued_at(now)
        }
        Platform::LinkedIn => {
            // The page's administrator signs in; their token posts as the page.
            let linkedin = sandbox.linkedin();
            let admin = format!(
                "chaosadmin{}",
                id.trim_start_matches("urn:li:organization:")
            );
            linkedin.add_organization(id, &admin);
            let issued = linkedin.issue_tokens(&admin, &LINKEDIN_SCOPES);
            let lifetime = if expiring {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(60 * 24 * 60 * 60)
            };
            let mut c = Credential::new(account.clone(), issued.access_token)
                .with_access_expires_at(now + lifetime)
                .with_issued_at(now)
                .with_scopes(issued.scopes);
            if let Some(rt) = issued.refresh_token {
                c = c.with_refresh_token(rt);
            }
            c
        }
        Platform::YouTube => {
            let youtube = sandbox.youtube();
            youtube.add_channel(id, &format!("Channel {id}"));
            let issued = youtube.issue_tokens(
                id,
                &[
                    "https://www.googleapis.com/auth/youtube.upload",
                    "https://www.googleapis.com/auth/youtube.readonly",
                ],
            );
            // Google's access tokens live about an hour.
            let lifetime = if expiring {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(3599)
            };
            Credential::new(account.clone(), issued.access_token)
                .with_refresh_token(issued.refresh_token)
                .with_access_expires_at(now + lifetime)
                .with_issued_at(now)
        }
        other => {
            return Err(Error::internal(format!(
                "the soak has no accounts on {other}"
            )));
        }
    })
}

/// A post for `platform`: mostly cheap ones, some with more steps.
fn content(
    index: usize,
    platform: Platform,
    rng: &mut fastrand::Rng,
    video: &Path,
) -> Result<(Post, &'static str)> {
    let mark = marker(index);
    let roll = rng.u8(..100);
    Ok(match platform {
        Platform::Facebook => {
            let text = format!("{mark} Soak post {index}: doors open at nine.");
            let post = Post::new().with_text(text);
            match roll {
                0..70 => (post, "fb-text"),
                70..90 => {
                    let link = Url::parse(&format!("https://www.example.com/chaos/{index}"))
                        .map_err(|e| Error::internal(format!("bad link: {e}")))?;
                    (post.with_link(link), "fb-link")
                }
                _ => (
                    post.with_media(media_url(&format!("photo-{index}.jpg"))?),
                    "fb-photo",
                ),
            }
        }
        Platform::Instagram => {
            let post = Post::new().with_text(format!("{mark} Soak post {index} #chaos"));
            match roll {
                0..85 => (
                    post.with_media(media_url(&format!("ig-{index}.jpg"))?),
                    "ig-image",
                ),
                _ => (
                    post.with_media(media_url(&format!("ig-{index}-a.jpg"))?)
                        .with_media(media_url(&format!("ig-{index}-b.jpg"))?),
                    "ig-carousel",
                ),
            }
        }
        Platform::Threads => {
            // An emoji and an accent: the 500 is counted in bytes.
            let post = Post::new().with_text(format!("{mark} Soak post {index} ☕ café #chaos"));
            match roll {
                0..70 => (post, "th-text"),
                70..80 => {
                    let link = Url::parse(&format!("https://www.example.com/chaos/{index}"))
                        .map_err(|e| Error::internal(format!("bad link: {e}")))?;
                    (post.with_link(link), "th-link")
                }
                80..92 => (
                    post.with_media(media_url(&format!("th-{index}.jpg"))?),
                    "th-image",
                ),
                _ => (
                    post.with_media(media_url(&format!("th-{index}-a.jpg"))?)
                        .with_media(media_url(&format!("th-{index}-b.mp4"))?),
                    "th-carousel",
                ),
            }
        }
        Platform::LinkedIn => {
            // Parentheses and a hashtag: sent unescaped, LinkedIn would cut the post short.
            let post = Post::new().with_text(format!(
                "{mark} Soak post {index} (doors open at nine) #chaos"
            ));
            match roll {
                0..70 => (post, "li-text"),
                70..85 => {
                    let link = Url::parse(&format!("https://www.example.com/chaos/{index}"))
                        .map_err(|e| Error::internal(format!("bad link: {e}")))?;
                    (
                        post.with_link(link).with_linkedin(
                            cmis_core::LinkedInOptions::new()
                                .with_article(format!("Chaos {index}"), "an article"),
                        ),
                        "li-article",
                    )
                }
                _ => (
                    post.with_media(
                        Media::bytes(
                            Some(format!("li-{index}.jpg")),
                            cmis_media::sample::jpeg(64, 48),
                        )
                        .with_alt_text("a test pattern"),
                    ),
                    "li-image",
                ),
            }
        }
        Platform::YouTube => {
            // The first line is the title.
            let post = Post::new()
                .with_text(format!("{mark} Soak video {index}\nUploaded by the soak."))
                .with_media(Media::path(video))
                .with_youtube(
                    cmis_core::YouTubeOptions::new()
                        .with_privacy(cmis_core::YouTubePrivacy::Unlisted)
                        .with_made_for_kids(false),
                );
            (post, "yt-video")
        }
        Platform::Bluesky => {
            let post = Post::new().with_text(format!(
                "{mark} Soak post {index} 🦋 https://www.example.com/chaos/{index} #chaos"
            ));
            match roll {
                0..80 => (post, "bsky-text"),
                _ => (
                    post.with_media(
                        Media::new(cmis_core::MediaSource::Bytes {
                            name: Some(format!("bsky-{index}.jpg")),
                            data: cmis_media::sample::jpeg(64, 48).into(),
                        })
                        .with_alt_text("a test pattern"),
                    ),
                    "bsky-image",
                ),
            }
        }
        _ => {
            let post = Post::new()
                .with_text(format!("{mark} Soak post {index}"))
                .with_tiktok(
                    TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone),
                );
            match roll {
                0..70 => (
                    post.with_media(media_url(&format!("clip-{index}.mp4"))?),
                    "tt-pull-video",
                ),
                70..90 => (
                    post.with_media(media_url(&format!("tt-{index}.jpg"))?),
                    "tt-photo",
                ),
                _ => (post.with_media(Media::path(video)), "tt-file-upload"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        assert_eq!(marker_of(&format!("x {} y", marker(42))), Some(42));
        assert_eq!(marker_of("no marker"), None);
    }
}
