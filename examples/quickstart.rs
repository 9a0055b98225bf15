//! The quickstart: cmis end to end, offline, in one command.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It starts the sandbox (local fakes of the Meta Graph API, the Threads API, TikTok's Content
//! Posting API, a Bluesky PDS, LinkedIn and YouTube, written from the platforms'
//! documentation), opens an SQLite file, seeds a tenant with a Facebook Page, an Instagram
//! account, a Threads profile, a TikTok creator — the TikTok token one minute from expiry, so
//! the scheduler's token provider refreshes it (and stores the rotated refresh token) before
//! publishing — a Bluesky account signed in with an app password, a LinkedIn page and a YouTube
//! channel, writes the captions with the offline generator, schedules a Facebook text post, an
//! Instagram carousel, a Threads post, a TikTok video, a Bluesky post, a LinkedIn page post and
//! a YouTube video a few seconds ahead, runs the scheduler with upload progress bars, and prints
//! a table of receipts whose ids the sandbox issued. Nothing leaves 127.0.0.1.

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cmis::ai::OfflineGenerator;
use cmis::bluesky::{BlueskyClient, BlueskyPublisher, BlueskyRefresher};
use cmis::linkedin::{LinkedInClient, LinkedInPublisher, LinkedInRefresher};
use cmis::meta::{
    FacebookPagePublisher, InstagramPublisher, MetaClient, ThreadsClient, ThreadsPublisher,
    ThreadsTokenRefresher,
};
use cmis::sandbox::{
    BlueskyAccount, Creator, InstagramLogin, MetaConfig, Sandbox, ThreadsConfig, TikTokConfig,
};
use cmis::scheduler::{Job, JobState, NewPost, Scheduler, SqliteStore, TokenKey};
use cmis::tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher, default_poll};
use cmis::time::OffsetDateTime;
use cmis::time::format_description::well_known::Rfc3339;
use cmis::youtube::{GoogleTokenRefresher, YouTubeClient, YouTubePublisher};
use cmis::{
    AccountRef, ContentGenerator, Credential, CredentialStore, Error, GenerateRequest,
    GenerationTask, Media, Platform, Post, PostKey, PrivacyLevel, Progress,
    RefreshingTokenProvider, Result, SecretString, Surface, Target, TenantId, TikTokOptions,
};
use indicatif::{ProgressBar, ProgressStyle};

const TENANT: &str = "demo-tenant";
const PAGE: &str = "100000000000001";
const INSTAGRAM: &str = "17841400000000001";
const CREATOR: &str = "demo-creator";
const TIKTOK_SCOPES: [&str; 3] = ["user.info.basic", "video.publish", "video.upload"];
const CDN: &str = "https://cdn.example.com/";
const THREADS_USER: &str = "17841405793187218";
const BLUESKY_HANDLE: &str = "demo-cafe.bsky.social";
const BLUESKY_DID: &str = "did:plc:democafedemocafedemocafe";
/// A made-up app password for the sandbox's account (Settings → App passwords on Bluesky).
const BLUESKY_APP_PASSWORD: &str = "demo-cafe-app-pass";
const LINKEDIN_MEMBER: &str = "demo-owner";
const LINKEDIN_PAGE: &str = "urn:li:organization:2414183";
const YOUTUBE_CHANNEL: &str = "UCdemoCafeChannel000001";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => cmis_examples::cli::fail(&err),
    }
}

async fn run() -> Result<()> {
    // 1. The sandbox platforms, on random local ports.
    let mut tiktok_config = TikTokConfig::default();
    tiktok_config.verified_url_prefixes = vec![CDN.to_owned()];
    let mut meta_config = MetaConfig::default();
    meta_config.container_processing_time = Duration::from_millis(500);
    let mut threads_config = ThreadsConfig::default();
    threads_config.container_ready_after = Duration::from_millis(500);
    let sandbox = Sandbox::builder()
        .tiktok(tiktok_config)
        .meta(meta_config)
        .threads(threads_config)
        .start()
        .await?;
    println!(
        "sandbox: meta {}  threads {}  tiktok {}  bluesky {}  linkedin {}  youtube {}",
        sandbox.meta().url(),
        sandbox.threads().url(),
        sandbox.tiktok().url(),
        sandbox.bluesky().url(),
        sandbox.linkedin().url(),
        sandbox.youtube().url()
    );

    // 2. An SQLite file with credentials encrypted at rest.
    let dir = std::env::temp_dir().join(format!("cmis-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
    let db = dir.join("quickstart.db");
    let result = scheduled_publish(&sandbox, &dir, &db).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn scheduled_publish(
    sandbox: &Sandbox,
    dir: &std::path::Path,
    db: &std::path::Path,
) -> Result<()> {
    let store = Arc::new(
        SqliteStore::builder()
            .path(db)
            .encryption_key(TokenKey::from_bytes(random_key()?))
            .build()
            .await?,
    );
    println!("store: {}", db.display());

    // 3. A tenant with seven accounts; the TikTok token expires in a minute.
    let tenant = TenantId::new(TENANT);
    let page = AccountRef::new(TenantId::new(TENANT), Platform::Facebook, PAGE);
    let instagram = AccountRef::new(TenantId::new(TENANT), Platform::Instagram, INSTAGRAM);
    let creator = AccountRef::new(TenantId::new(TENANT), Platform::TikTok, CREATOR);
    let meta = sandbox.meta();
    store
        .put_credential(Credential::new(
            page.clone(),
            meta.add_page(PAGE, "Demo Cafe"),
        ))
        .await?;
    store
        .put_credential(Credential::new(
            instagram.clone(),
            meta.add_instagram_account(INSTAGRAM, InstagramLogin::Facebook),
        ))
        .await?;
    let threads = AccountRef::new(TenantId::new(TENANT), Platform::Threads, THREADS_USER);
    store
        .put_credential(Credential::new(
            threads.clone(),
            sandbox.threads().add_user(THREADS_USER, "demo_cafe"),
        ))
        .await?;
    let tiktok = sandbox.tiktok();
    tiktok.add_creator(Creator::public(CREATOR));
    let issued = tiktok.issue_tokens(CREATOR, &TIKTOK_SCOPES);
    store
        .put_credential(
            Credential::new(creator.clone(), issued.access_token)
                .with_refresh_token(issued.refresh_token)
                .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(60))
                .with_scopes(issued.scopes),
        )
        .await?;

    // The Bluesky account signs in once with its app password; the session is stored and
    // refreshed from then on.
    let pds = sandbox.bluesky();
    pds.add_account(BlueskyAccount::new(
        BLUESKY_HANDLE,
        BLUESKY_DID,
        BLUESKY_APP_PASSWORD,
    ));
    let bluesky_client = BlueskyClient::builder().pds_url(pds.url()).build()?;
    let session = bluesky_client
        .create_session(BLUESKY_HANDLE, &SecretString::from(BLUESKY_APP_PASSWORD))
        .await?;
    let bluesky = session.credential(&tenant).account.clone();
    store.put_credential(session.credential(&tenant)).await?;

    // The LinkedIn page is posted to with its administrator's token; the YouTube channel with
    // its owner's.
    let linkedin = sandbox.linkedin();
    let owner = linkedin.add_member(LINKEDIN_MEMBER);
    linkedin.add_organization(
        LINKEDIN_PAGE.trim_start_matches("urn:li:organization:"),
        LINKEDIN_MEMBER,
    );
    let page_on_linkedin =
        AccountRef::new(TenantId::new(TENANT), Platform::LinkedIn, LINKEDIN_PAGE);
    let mut li_credential =
        Credential::new(page_on_linkedin.clone(), owner.access_token).with_scopes(owner.scopes);
    if let Some(refresh) = owner.refresh_token {
        li_credential = li_credential.with_refresh_token(refresh);
    }
    store.put_credential(li_credential).await?;
    let youtube = sandbox.youtube();
    let channel_tokens = youtube.add_channel(YOUTUBE_CHANNEL, "Demo Cafe");
    let channel = AccountRef::new(TenantId::new(TENANT), Platform::YouTube, YOUTUBE_CHANNEL);
    store
        .put_credential(
            Credential::new(channel.clone(), channel_tokens.access_token)
                .with_refresh_token(channel_tokens.refresh_token),
        )
        .await?;

    // 4. Captions from the offline generator (no network, no key).
    let brief = "our autumn menu with pumpkin soup and apple pie at the Demo Cafe";
    let fb_text = caption(&tenant, Platform::Facebook, brief).await?;
    let ig_text = caption(&tenant, Platform::Instagram, brief).await?;
    let tt_text = caption(&tenant, Platform::TikTok, brief).await?;
    let bs_text = caption(&tenant, Platform::Bluesky, brief).await?;
    let th_text = caption(&tenant, Platform::Threads, brief).await?;
    let li_text = caption(&tenant, Platform::LinkedIn, brief).await?;
    let yt_text = format!(
        "Autumn at the Demo Cafe\n{}",
        caption(&tenant, Platform::YouTube, brief).await?
    );

    // 5. The scheduler, with the real connectors pointed at the sandbox.
    let meta_client = MetaClient::builder()
        .graph_url(meta.url())
        .app_id(meta.app_id())
        .app_secret(meta.app_secret())
        .build()?;
    // Threads has its own app id and secret, not the Facebook app's.
    let threads_client = ThreadsClient::builder()
        .url(sandbox.threads().url())
        .app_id(sandbox.threads().app_id())
        .app_secret(sandbox.threads().app_secret())
        .build()?;
    let tiktok_client = TikTokClient::builder()
        .api_base_url(tiktok.url())
        .client_key(tiktok.client_key())
        .client_secret(tiktok.client_secret())
        .build()?;
    let linkedin_client = LinkedInClient::builder()
        .api_url(linkedin.url())
        .token_url(format!("{}/oauth/v2/accessToken", linkedin.url()))
        .client_id(linkedin.client_id())
        .client_secret(linkedin.client_secret())
        .build()?;
    let youtube_client = YouTubeClient::builder()
        .api_url(youtube.url())
        .token_url(format!("{}/token", youtube.url()))
        .client_id(youtube.client_id())
        .client_secret(youtube.client_secret())
        .build()?;
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(TikTokRefresher::new(tiktok_client.clone())))
        .refresher(Arc::new(BlueskyRefresher::new(bluesky_client.clone())))
        .refresher(Arc::new(ThreadsTokenRefresher::new(threads_client.clone())))
        .refresher(Arc::new(LinkedInRefresher::new(linkedin_client.clone())))
        .refresher(Arc::new(GoogleTokenRefresher::new(youtube_client.clone())))
        .build();
    let bars = Arc::new(Bars::default());
    let progress = bars.clone();
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(FacebookPagePublisher::new(meta_client.clone())))
        .publisher(Arc::new(InstagramPublisher::new(meta_client)))
        .publisher(Arc::new(
            TikTokPublisher::new(tiktok_client)
                .with_chunk_size(5 * 1024 * 1024)
                .with_poll(default_poll().with_initial(Duration::from_millis(300))),
        ))
        .publisher(Arc::new(BlueskyPublisher::new(bluesky_client)))
        // The sandbox's containers are ready in half a second; Threads' need about 30.
        .publisher(Arc::new(
            ThreadsPublisher::new(threads_client).with_publish_delay(Duration::from_secs(1)),
        ))
        .publisher(Arc::new(LinkedInPublisher::new(linkedin_client)))
        .publisher(Arc::new(
            YouTubePublisher::new(youtube_client).with_chunk_size(4 * 1024 * 1024)?,
        ))
        .refreshing_tokens(tokens)
        .poll_interval(Duration::from_millis(200))
        .progress(Arc::new(move |job: &Job, p: &Progress| {
            progress.update(job, p)
        }))
        .build()?;

    // 6. The posts: a Facebook text post, an Instagram carousel, a Threads post, a TikTok video
    // from disk and a Bluesky post (its hashtags become facets), each checked by its platform's
    // publisher before it is stored.
    let video = dir.join("autumn.mp4");
    let mut bytes = cmis::media::sample::mp4(1080, 1920, 8, 30);
    bytes.resize(12 * 1024 * 1024, 0); // big enough to go up in two chunks
    std::fs::write(&video, &bytes)
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", video.display())))?;
    let at = OffsetDateTime::now_utc() + Duration::from_secs(3);
    let mut jobs = Vec::new();
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-facebook"),
                Post::new().with_text(fb_text),
                vec![Target::feed(page)],
                at,
            ))
            .await?,
    );
    let carousel = Post::new()
        .with_text(ig_text)
        .with_media(Media::from_path_or_url(&format!("{CDN}soup.jpg"))?)
        .with_media(Media::from_path_or_url(&format!("{CDN}pie.jpg"))?);
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-instagram"),
                carousel,
                vec![Target::feed(instagram)],
                at,
            ))
            .await?,
    );
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-threads"),
                Post::new().with_text(th_text),
                vec![Target::feed(threads)],
                at,
            ))
            .await?,
    );
    let clip = Post::new()
        .with_text(tt_text)
        .with_media(Media::path(&video))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone));
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-tiktok"),
                clip,
                vec![Target::new(creator, Surface::Feed)],
                at,
            ))
            .await?,
    );
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-bluesky"),
                Post::new().with_text(bs_text),
                vec![Target::feed(bluesky)],
                at,
            ))
            .await?,
    );
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-linkedin"),
                Post::new().with_text(li_text),
                vec![Target::feed(page_on_linkedin)],
                at,
            ))
            .await?,
    );
    // The vertical 8-second clip: YouTube will classify it as a Short.
    jobs.extend(
        scheduler
            .schedule(NewPost::new(
                PostKey::new("autumn-youtube"),
                Post::new()
                    .with_text(yt_text)
                    .with_media(Media::path(&video)),
                vec![Target::feed(channel)],
                at,
            ))
            .await?,
    );
    println!(
        "scheduled {} jobs for {}",
        jobs.len(),
        at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
    );

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = scheduler.clone();
    let running = tokio::spawn(async move {
        runner
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let finished = settle_all(&scheduler, &jobs, Duration::from_secs(90)).await;
    let _ = stop.send(());
    running
        .await
        .map_err(|e| Error::internal(format!("the scheduler task failed: {e}")))??;
    bars.finish();
    let finished = finished?;

    // 7. The receipts: ids the sandbox issued, not ids made up here.
    println!();
    println!(
        "{:<10} {:<10} {:<40} permalink",
        "platform", "state", "post id"
    );
    for job in &finished {
        let (id, link) = job
            .receipt
            .as_ref()
            .map_or(("-".to_owned(), String::new()), |r| {
                (
                    r.post_id.to_string(),
                    r.permalink
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
            });
        println!(
            "{:<10} {:<10} {id:<40} {link}",
            job.target.platform().as_str(),
            job.state.as_str()
        );
    }
    println!();
    println!(
        "token refreshes: {} (TikTok, rotated refresh token stored before use)",
        tiktok.refresh_count()
    );
    let published = finished
        .iter()
        .filter(|j| j.state == JobState::Published)
        .count();
    if published != finished.len() {
        return Err(Error::internal(format!(
            "{published} of {} jobs were published",
            finished.len()
        )));
    }
    Ok(())
}

async fn caption(tenant: &TenantId, platform: Platform, brief: &str) -> Result<String> {
    let generated = OfflineGenerator::new()
        .generate(&GenerateRequest::new(
            tenant.clone(),
            GenerationTask::Caption,
            platform,
            brief,
        ))
        .await?;
    Ok(format!(
        "{} {}",
        generated.text,
        generated.hashtags.join(" ")
    ))
}

/// Waits for every job to settle (published, failed or parked), at most `limit` in all.
async fn settle_all(scheduler: &Scheduler, jobs: &[Job], limit: Duration) -> Result<Vec<Job>> {
    let all = async {
        let mut settled = Vec::new();
        for job in jobs {
            settled.push(scheduler.settled(&job.tenant, job.id).await?);
        }
        Ok(settled)
    };
    tokio::time::timeout(limit, all).await.map_err(|_| {
        Error::internal(format!(
            "the jobs did not settle within {} s",
            limit.as_secs()
        ))
    })?
}

fn random_key() -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| Error::internal(format!("no randomness for the encryption key: {e}")))?;
    Ok(key)
}

/// One progress bar per uploading job.
#[derive(Default)]
struct Bars {
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn update(&self, job: &Job, p: &Progress) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bars.entry(job.id.to_string()).or_insert_with(|| {
            let bar = ProgressBar::new(p.total_bytes);
            if let Ok(style) =
                ProgressStyle::with_template("{msg:>10} [{bar:30}] {bytes}/{total_bytes}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(job.target.platform().as_str());
            bar
        });
        bar.set_position(p.bytes_sent);
    }

    /// Finishes the bars; where stderr is not a terminal (no bar was drawn), prints one line per
    /// upload instead.
    fn finish(&self) {
        for bar in self.bars.lock().unwrap_or_else(|e| e.into_inner()).values() {
            bar.finish();
            if bar.is_hidden() {
                println!(
                    "uploaded {}: {}/{} bytes",
                    bar.message(),
                    bar.position(),
                    bar.length().unwrap_or_default()
                );
            }
        }
    }
}
