//! Publishes one post to Facebook, Instagram, Threads, TikTok, Bluesky, LinkedIn or YouTube,
//! through the platform's real API or any server that speaks it (such as `cmis-sandbox`).
//!
//! ```text
//! cargo run -q --example publish -- \
//!     --platform facebook|instagram|threads|tiktok|bluesky|linkedin|youtube --account ID \
//!     [--text TEXT] [--media PATH_OR_URL]... [--kind feed|reel|story|carousel] \
//!     [--privacy LEVEL] [--draft]
//! ```
//!
//! Environment: `CMIS_ACCESS_TOKEN` (required), `CMIS_REFRESH_TOKEN` (TikTok), app credentials
//! `CMIS_META_APP_ID`/`CMIS_META_APP_SECRET` and `CMIS_TIKTOK_CLIENT_KEY`/`CMIS_TIKTOK_CLIENT_SECRET`
//! (each falling back to `CMIS_CLIENT_ID`/`CMIS_CLIENT_SECRET`), `CMIS_META_GRAPH_URL`,
//! `CMIS_META_GRAPH_VIDEO_URL`, `CMIS_META_RUPLOAD_URL` (the last two default to the first when
//! it is set, else to Meta's hosts), `CMIS_TIKTOK_API_URL` (TikTok's host by default, used for
//! the token endpoint too), and `CMIS_INSTAGRAM_LOGIN=instagram` for Instagram-Login tokens
//! (graph.instagram.com; `CMIS_META_GRAPH_URL` then points there).
//!
//! Threads (`--account THREADS_USER_ID`): `CMIS_ACCESS_TOKEN` (a long-lived Threads token),
//! `CMIS_THREADS_URL` (default `https://graph.threads.net`; the library appends `/v1.0/…`), and
//! the Threads app's credentials `CMIS_THREADS_APP_ID`/`CMIS_THREADS_APP_SECRET`. Media are
//! public URLs (Threads fetches them); the text's limit is 500 UTF-8 bytes.
//!
//! Bluesky (`--account HANDLE_OR_DID`): `CMIS_BLUESKY_APP_PASSWORD` (a session is created), or
//! `CMIS_ACCESS_TOKEN` and `CMIS_REFRESH_TOKEN` (a session's accessJwt and refreshJwt);
//! `CMIS_BLUESKY_PDS_URL` (found from the handle or DID by default; when set, used as is and as
//! the entryway), `CMIS_BLUESKY_VIDEO_URL` (Bluesky's video service by default, for a `--media`
//! MP4). Links, mentions and hashtags in `--text` become facets.
//!
//! LinkedIn (`--account URN`, `urn:li:person:…` or `urn:li:organization:…`): `CMIS_ACCESS_TOKEN`
//! (+ `CMIS_REFRESH_TOKEN` for apps approved for programmatic refresh), `CMIS_LINKEDIN_API_URL`
//! (default `https://api.linkedin.com`, used for `/rest/…`), `CMIS_LINKEDIN_TOKEN_URL` (default
//! `https://www.linkedin.com/oauth/v2/accessToken`), `CMIS_LINKEDIN_VERSION` (the
//! `LinkedIn-Version`, `YYYYMM`), and the app's `CMIS_LINKEDIN_CLIENT_ID`/
//! `CMIS_LINKEDIN_CLIENT_SECRET`. Reserved characters in `--text` are escaped; mentions
//! (`@[Name](urn:li:organization:…)`) and `#hashtags` stay live.
//!
//! YouTube (`--account CHANNEL_ID --media VIDEO [--text TITLE_AND_DESCRIPTION]
//! [--privacy public|unlisted|private]`): `CMIS_ACCESS_TOKEN` (+ `CMIS_REFRESH_TOKEN`),
//! `CMIS_YOUTUBE_API_URL` (default `https://www.googleapis.com`, used for `/youtube/v3/…` and
//! `/upload/youtube/v3/…`), `CMIS_GOOGLE_TOKEN_URL` (default `https://oauth2.googleapis.com/token`),
//! and the app's `CMIS_GOOGLE_CLIENT_ID`/`CMIS_GOOGLE_CLIENT_SECRET`. The first line of `--text`
//! is the title, the rest the description; a second `--media`, an image, is the thumbnail.
//!
//! On success it prints one JSON line with `platform`, `account`, `post_id`, `permalink`,
//! `state` and `published_at`. Exit codes: 0 published, 2 invalid input (refused before any
//! network call), 3 re-authorisation needed, 4 rate limited or quota, 5 rejected by the platform,
//! 6 unknown outcome, 1 anything else; a message with the error kind goes to stderr.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cmis::time::format_description::well_known::Rfc3339;
use cmis::{
    AccountRef, Credential, CredentialStore, Error, MemoryCredentialStore, Outcome, Platform, Post,
    Progress, PublishContext, Publisher, Receipt, RefreshingTokenProvider, Result, TikTokOptions,
};
use cmis_examples::cli::{env, env_secret, fail};
use cmis_examples::connectors::{
    bluesky_account, linkedin_client, meta_client, threads_client, tiktok_client, youtube_client,
};
use cmis_examples::publish_args::PublishArgs;

/// How long to keep resuming a publish the platform is still processing.
const PENDING_BUDGET: Duration = Duration::from_secs(15 * 60);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(receipt) => {
            let line = serde_json::json!({
                "platform": receipt.platform.as_str(),
                "account": receipt.account.as_str(),
                "post_id": receipt.post_id.as_str(),
                "permalink": receipt.permalink.as_ref().map(|u| u.as_str()),
                "state": serde_json::to_value(receipt.state).unwrap_or_default(),
                "published_at": receipt.published_at.format(&Rfc3339).ok(),
            });
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}

async fn run() -> Result<Receipt> {
    let args = PublishArgs::parse(std::env::args_os().skip(1))?;
    let post = post_from(&args);
    let tenant = cmis::TenantId::new("cli");
    let (publisher, refresher, credential) = if args.platform == Platform::Bluesky {
        // Every rule Bluesky would enforce, checked before signing in.
        let unchecked = AccountRef::new(tenant.clone(), args.platform, args.account.as_str());
        cmis::bluesky::BlueskyPublisher::new(cmis::bluesky::BlueskyClient::builder().build()?)
            .validate(&cmis::Target::new(unchecked, args.surface), &post)
            .await?;
        let account = bluesky_account(&tenant, &args.account).await?;
        let publisher: Box<dyn Publisher> =
            Box::new(cmis::bluesky::BlueskyPublisher::new(account.client));
        let refresher: Arc<dyn cmis::TokenRefresher> = Arc::new(account.refresher);
        (publisher, Some(refresher), account.credential)
    } else {
        let access_token = env_secret("CMIS_ACCESS_TOKEN").ok_or_else(|| {
            Error::invalid_input("CMIS_ACCESS_TOKEN is not set: give the account's access token")
        })?;
        let account = AccountRef::new(tenant.clone(), args.platform, args.account.as_str());
        let mut credential = Credential::new(account, access_token);
        let (publisher, refresher) = connector(&args)?;
        if let Some(refresh) = env_secret("CMIS_REFRESH_TOKEN") {
            credential = credential.with_refresh_token(refresh);
        }
        (publisher, refresher, credential)
    };
    let target = cmis::Target::new(credential.account.clone(), args.surface);

    // Every rule the platform would enforce, checked before any network call.
    publisher.validate(&target, &post).await?;

    let store = Arc::new(MemoryCredentialStore::new());
    store.put_credential(credential).await?;
    let mut tokens = RefreshingTokenProvider::builder(store);
    if let Some(refresher) = refresher {
        tokens = tokens.refresher(refresher);
    }
    let ctx =
        PublishContext::new(Arc::new(tokens.build())).with_progress(Arc::new(|p: &Progress| {
            eprintln!(
                "upload: media {} {}/{} bytes",
                p.media_index, p.bytes_sent, p.total_bytes
            );
        }));

    let mut outcome = publisher.publish(&target, &post, &ctx).await?;
    let started = tokio::time::Instant::now();
    loop {
        match outcome {
            Outcome::Published(receipt) => return Ok(receipt),
            Outcome::Pending(checkpoint) => {
                if started.elapsed() > PENDING_BUDGET {
                    return Err(Error::transient(format!(
                        "{} is still processing the post after {} minutes (stage {:?}); it was not published twice",
                        args.platform,
                        PENDING_BUDGET.as_secs() / 60,
                        checkpoint.stage
                    )));
                }
                let wait = checkpoint.resume_after.unwrap_or(Duration::from_secs(5));
                eprintln!(
                    "{} is processing (stage {}); checking again in {}s",
                    args.platform,
                    checkpoint.stage,
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                outcome = publisher.resume(&target, &checkpoint, &ctx).await?;
            }
        }
    }
}

fn post_from(args: &PublishArgs) -> Post {
    let mut post = Post::new();
    if let Some(text) = &args.text {
        post = post.with_text(text.clone());
    }
    for media in &args.media {
        post = post.with_media(media.clone());
    }
    if args.platform == Platform::TikTok {
        let mut options = TikTokOptions::new().with_draft(args.draft);
        if let Some(level) = &args.privacy {
            options = options.with_privacy_level(level.clone());
        }
        post = post.with_tiktok(options);
    }
    if let Some(privacy) = &args.youtube_privacy {
        post = post.with_youtube(cmis::YouTubeOptions::new().with_privacy(privacy.clone()));
    }
    post
}

type Connector = (Box<dyn Publisher>, Option<Arc<dyn cmis::TokenRefresher>>);

fn connector(args: &PublishArgs) -> Result<Connector> {
    match args.platform {
        Platform::TikTok => {
            let (client, can_refresh) = tiktok_client()?;
            let refresher: Option<Arc<dyn cmis::TokenRefresher>> = (can_refresh
                && env("CMIS_REFRESH_TOKEN").is_some())
            .then(|| Arc::new(cmis::tiktok::TikTokRefresher::new(client.clone())) as _);
            Ok((
                Box::new(cmis::tiktok::TikTokPublisher::new(client)),
                refresher,
            ))
        }
        Platform::Facebook => Ok((
            Box::new(cmis::meta::FacebookPagePublisher::new(meta_client()?)),
            None,
        )),
        Platform::Instagram => {
            let login = match env("CMIS_INSTAGRAM_LOGIN").as_deref() {
                Some("instagram") => cmis::meta::InstagramLogin::Instagram,
                Some("facebook") | None => cmis::meta::InstagramLogin::Facebook,
                Some(other) => {
                    return Err(Error::invalid_input(format!(
                        "CMIS_INSTAGRAM_LOGIN must be facebook or instagram, not {other:?}"
                    )));
                }
            };
            Ok((
                Box::new(cmis::meta::InstagramPublisher::new(meta_client()?).with_login(login)),
                None,
            ))
        }
        Platform::LinkedIn => {
            let (client, can_refresh) = linkedin_client()?;
            let refresher: Option<Arc<dyn cmis::TokenRefresher>> = (can_refresh
                && env("CMIS_REFRESH_TOKEN").is_some())
            .then(|| Arc::new(cmis::linkedin::LinkedInRefresher::new(client.clone())) as _);
            Ok((
                Box::new(cmis::linkedin::LinkedInPublisher::new(client)),
                refresher,
            ))
        }
        Platform::YouTube => {
            let (client, can_refresh) = youtube_client()?;
            let refresher: Option<Arc<dyn cmis::TokenRefresher>> = (can_refresh
                && env("CMIS_REFRESH_TOKEN").is_some())
            .then(|| Arc::new(cmis::youtube::GoogleTokenRefresher::new(client.clone())) as _);
            Ok((
                Box::new(cmis::youtube::YouTubePublisher::new(client)),
                refresher,
            ))
        }
        Platform::Threads => {
            let client = threads_client()?;
            Ok((
                Box::new(cmis::meta::ThreadsPublisher::new(client.clone())),
                Some(Arc::new(cmis::meta::ThreadsTokenRefresher::new(client)) as _),
            ))
        }
        other => Err(Error::invalid_input(format!(
            "platform {other} is not supported"
        ))),
    }
}
