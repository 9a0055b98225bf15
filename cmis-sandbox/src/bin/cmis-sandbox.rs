//! Runs the sandbox platforms until interrupted, printing their URLs and seeded accounts' tokens
//! as one JSON line: a TikTok creator, a Facebook Page, an Instagram account, a Bluesky account,
//! a Threads user, a LinkedIn member who administers an organization, and a YouTube channel;
//! and `control_url`, the control API's base URL (see `cmis_sandbox::control`).
//!
//! ```text
//! cmis-sandbox [--port P] [--seed N] [--state FILE] [--listen IP [--allow-remote]]
//! ```
//!
//! - `--port P`: the control API on port P and the fakes on P+1 to P+7, in the order TikTok,
//!   Meta, Bluesky, Bluesky video, Threads, LinkedIn, YouTube (random ports by default). One
//!   number is all a test needs to know before the start line arrives.
//! - `--seed N`: the same tokens and ids from one run to the next: every random draw of the fakes
//!   comes from one generator seeded with N, on a single thread (so the same requests in the same
//!   order get the same answers). Times still follow the real clock, and so does whatever
//!   embeds one: timestamps, Bluesky record keys (TIDs) and Bluesky JWTs (`iat`, `exp`). N
//!   also seeds the insights' planted engagement curves and noise (Meta's and TikTok's
//!   `InsightsConfig::seed`), which depend on nothing else. The start line's `insights` key
//!   gives the seed, the delay before insights, and the planted best slot (hour of the week,
//!   0 = Monday 00:00 local) of the seeded Page, Instagram account and TikTok creator.
//! - `--state FILE`: also seeds the accounts of a JSON state document (the control API's
//!   `POST /seed` format); their tokens are under the start line's `state` key.
//! - `--listen IP`: the address of every server (`127.0.0.1` by default); one that is not a
//!   loopback address is refused unless `--allow-remote` is given too.

#![allow(clippy::print_stdout)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use cmis_core::ExposeSecret;
use cmis_sandbox::{BlueskyAccount, Creator, InstagramLogin, MetaConfig, Sandbox, TikTokConfig};

/// The seeded Bluesky account.
const BLUESKY_HANDLE: &str = "sandbox.bsky.social";
const BLUESKY_DID: &str = "did:plc:sandboxsandboxsandbox234";
const BLUESKY_APP_PASSWORD: &str = "sbox-2345-6789-abcd";

/// The seeded Threads user: digits, as Threads user ids are.
const THREADS_USER_ID: &str = "17841400000000101";
const THREADS_USERNAME: &str = "sandbox_threads";

/// The seeded LinkedIn member and organization (the ids of cmis-linkedin's fixtures).
const LINKEDIN_PERSON_ID: &str = "8675309";
const LINKEDIN_ORGANIZATION_ID: &str = "2414183";

/// The seeded YouTube channel (the id of cmis-youtube's fixtures).
const YOUTUBE_CHANNEL_ID: &str = "UCcmisTestChannel0000001";

/// The URL prefix the demo TikTok app has "verified" for `PULL_FROM_URL`.
const VERIFIED_PREFIX: &str = "https://cdn.example.com/";

const USAGE: &str = "usage: cmis-sandbox [--port P] [--seed N] [--state FILE] \
                     [--listen IP [--allow-remote]]";

/// The command line.
#[derive(Debug, Default)]
struct Args {
    port: Option<u16>,
    seed: Option<u64>,
    state: Option<PathBuf>,
    listen: Option<IpAddr>,
    allow_remote: bool,
}

fn parse_args() -> Result<Option<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("port") => args.port = Some(parser.value()?.parse()?),
            Long("seed") => args.seed = Some(parser.value()?.parse()?),
            Long("state") => args.state = Some(parser.value()?.into()),
            Long("listen") => args.listen = Some(parser.value()?.parse()?),
            Long("allow-remote") => args.allow_remote = true,
            Short('h') | Long("help") => return Ok(None),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cmis-sandbox: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // With a seed, one thread draws every random value from one seeded generator.
    let runtime = match args.seed {
        Some(_) => tokio::runtime::Builder::new_current_thread(),
        None => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cmis-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let state = match &args.state {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the state file {}: {e}", path.display()))?,
        ),
        None => None,
    };
    if let Some(seed) = args.seed {
        fastrand::seed(seed);
    }
    let mut tiktok_config = TikTokConfig::default();
    tiktok_config.verified_url_prefixes = vec![VERIFIED_PREFIX.to_owned()];
    let mut meta_config = MetaConfig::default();
    // The insights' planted curves and noise follow the seed too.
    if let Some(seed) = args.seed {
        tiktok_config.insights.seed = seed;
        meta_config.insights.seed = seed;
    }
    let insights = meta_config.insights;
    let mut builder = Sandbox::builder()
        .tiktok(tiktok_config)
        .meta(meta_config)
        .control_api(true)
        .allow_remote(args.allow_remote);
    if let Some(ip) = args.listen {
        builder = builder.listen(ip);
    }
    if let Some(port) = args.port {
        builder = builder.ports(port);
    }
    let sandbox = builder.start().await?;
    let tiktok = sandbox.tiktok();
    tiktok.add_creator(Creator::public("sandbox-creator"));
    let tokens = tiktok.issue_tokens(
        "sandbox-creator",
        &[
            "user.info.basic",
            "video.publish",
            "video.upload",
            "video.list",
        ],
    );
    let meta = sandbox.meta();
    let page_token = meta.add_page("100000000000001", "Sandbox Page");
    let ig_token = meta.add_instagram_account("17841400000000001", InstagramLogin::Facebook);
    let bluesky = sandbox.bluesky();
    bluesky.add_account(BlueskyAccount::new(
        BLUESKY_HANDLE,
        BLUESKY_DID,
        BLUESKY_APP_PASSWORD,
    ));
    let bluesky_session = bluesky
        .issue_session(BLUESKY_DID)
        .ok_or("the seeded Bluesky account is missing")?;
    let threads = sandbox.threads();
    let threads_token = threads.add_user(THREADS_USER_ID, THREADS_USERNAME);
    let linkedin = sandbox.linkedin();
    let linkedin_tokens = linkedin.add_member(LINKEDIN_PERSON_ID);
    linkedin.add_organization(LINKEDIN_ORGANIZATION_ID, LINKEDIN_PERSON_ID);
    let youtube = sandbox.youtube();
    let youtube_tokens = youtube.add_channel(YOUTUBE_CHANNEL_ID, "Sandbox Channel");
    let seeded = match &state {
        Some(text) => {
            let answer = sandbox
                .seed(text)
                .map_err(|e| format!("the state file: {e}"))?;
            Some(serde_json::from_str::<serde_json::Value>(&answer)?)
        }
        None => None,
    };
    let mut line = serde_json::json!({
            "tiktok_url": tiktok.url(),
            "tiktok_verified_url_prefix": VERIFIED_PREFIX,
            "tiktok_client_key": tiktok.client_key(),
            "tiktok_client_secret": tiktok.client_secret().expose_secret(),
            "tiktok_open_id": tokens.open_id,
            "tiktok_access_token": tokens.access_token.expose_secret(),
            "tiktok_refresh_token": tokens.refresh_token.expose_secret(),
            "meta_url": meta.url(),
            "meta_app_id": meta.app_id(),
            "meta_app_secret": meta.app_secret().expose_secret(),
            "facebook_page_id": "100000000000001",
            "facebook_page_token": page_token.expose_secret(),
            "instagram_user_id": "17841400000000001",
            "instagram_token": ig_token.expose_secret(),
            "bluesky_url": bluesky.url(),
            "bluesky_handle": BLUESKY_HANDLE,
            "bluesky_did": BLUESKY_DID,
            "bluesky_app_password": BLUESKY_APP_PASSWORD,
            "bluesky_access_jwt": bluesky_session.access_jwt.expose_secret(),
            "bluesky_refresh_jwt": bluesky_session.refresh_jwt.expose_secret(),
            "bluesky_video_url": sandbox.bluesky_video().url(),
            "threads_url": threads.url(),
            "threads_app_id": threads.app_id(),
            "threads_app_secret": threads.app_secret().expose_secret(),
            "threads_user_id": THREADS_USER_ID,
            "threads_username": THREADS_USERNAME,
            "threads_token": threads_token.expose_secret(),
            "linkedin_url": linkedin.url(),
            "linkedin_client_id": linkedin.client_id(),
            "linkedin_client_secret": linkedin.client_secret().expose_secret(),
            "linkedin_person_urn": linkedin_tokens.person,
            "linkedin_organization_urn": format!("urn:li:organization:{LINKEDIN_ORGANIZATION_ID}"),
            "linkedin_access_token": linkedin_tokens.access_token.expose_secret(),
            "linkedin_refresh_token": linkedin_tokens.refresh_token.as_ref().map(|t| t.expose_secret().to_owned()),
            "youtube_url": youtube.url(),
            "youtube_client_id": youtube.client_id(),
            "youtube_client_secret": youtube.client_secret().expose_secret(),
            "youtube_channel_id": YOUTUBE_CHANNEL_ID,
            "youtube_access_token": youtube_tokens.access_token.expose_secret(),
            "youtube_refresh_token": youtube_tokens.refresh_token.expose_secret(),
            "control_url": sandbox.control_url(),
    });
    let best = |id: &str| insights.best_slot(id);
    let insights_key = serde_json::json!({
        "seed": insights.seed,
        "delay_seconds": insights.delay.as_secs(),
        "utc_offset_minutes": insights.utc_offset_minutes,
        "best_slots": {
            "100000000000001": best("100000000000001"),
            "17841400000000001": best("17841400000000001"),
            "sandbox-creator": best("sandbox-creator"),
        },
    });
    if let Some(map) = line.as_object_mut() {
        map.insert("insights".to_owned(), insights_key);
    }
    if let (Some(seeded), Some(map)) = (seeded, line.as_object_mut()) {
        map.insert("state".to_owned(), seeded);
    }
    println!("{line}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
