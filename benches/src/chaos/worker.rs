//! A worker process: one [`Scheduler`] with the real connectors pointed at the sandbox, run
//! until it is killed (or its parent goes away).
//!
//! Everything it needs comes from the environment the parent sets, so that no secret shows in
//! the process list.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use cmis_bluesky::{BlueskyClient, BlueskyPublisher, BlueskyRefresher};
use cmis_core::url::Url;
use cmis_core::{
    Clock, Error, Platform, PollPolicy, RateLimit, RefreshingTokenProvider, Result, RetryPolicy,
    SecretString,
};
use cmis_linkedin::{LinkedInClient, LinkedInPublisher, LinkedInRefresher};
use cmis_meta::{
    FacebookPagePublisher, InstagramPublisher, MetaClient, ReconcilePolicy, ThreadsClient,
    ThreadsPublisher, ThreadsTokenRefresher,
};
use cmis_scheduler::{DeliveryPolicy, ScheduleStore, Scheduler, WebhookNotifier};
use cmis_tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher, default_poll};
use cmis_youtube::{GoogleTokenRefresher, YouTubeClient, YouTubePublisher};

use super::db::{Location, StoreKind, open_with_clock};
use super::faulty::FaultyStore;
use super::media::HostClient;
use super::skew::SkewedClock;
use super::watch::{Watched, open_log};
use super::{HTTP_TIMEOUT, LEASE};

pub(crate) const ENV_STORE: &str = "CMIS_CHAOS_STORE";
pub(crate) const ENV_URL: &str = "CMIS_CHAOS_URL";
pub(crate) const ENV_SCHEMA: &str = "CMIS_CHAOS_SCHEMA";
pub(crate) const ENV_KEY: &str = "CMIS_CHAOS_KEY";
pub(crate) const ENV_META_URL: &str = "CMIS_CHAOS_META_URL";
pub(crate) const ENV_META_APP_ID: &str = "CMIS_CHAOS_META_APP_ID";
pub(crate) const ENV_META_APP_SECRET: &str = "CMIS_CHAOS_META_APP_SECRET";
pub(crate) const ENV_TIKTOK_URL: &str = "CMIS_CHAOS_TIKTOK_URL";
pub(crate) const ENV_TIKTOK_KEY: &str = "CMIS_CHAOS_TIKTOK_KEY";
pub(crate) const ENV_TIKTOK_SECRET: &str = "CMIS_CHAOS_TIKTOK_SECRET";
pub(crate) const ENV_BLUESKY_URL: &str = "CMIS_CHAOS_BLUESKY_URL";
pub(crate) const ENV_THREADS_URL: &str = "CMIS_CHAOS_THREADS_URL";
pub(crate) const ENV_THREADS_APP_ID: &str = "CMIS_CHAOS_THREADS_APP_ID";
pub(crate) const ENV_THREADS_APP_SECRET: &str = "CMIS_CHAOS_THREADS_APP_SECRET";
pub(crate) const ENV_LINKEDIN_URL: &str = "CMIS_CHAOS_LINKEDIN_URL";
pub(crate) const ENV_LINKEDIN_CLIENT_ID: &str = "CMIS_CHAOS_LINKEDIN_CLIENT_ID";
pub(crate) const ENV_LINKEDIN_CLIENT_SECRET: &str = "CMIS_CHAOS_LINKEDIN_CLIENT_SECRET";
pub(crate) const ENV_YOUTUBE_URL: &str = "CMIS_CHAOS_YOUTUBE_URL";
pub(crate) const ENV_GOOGLE_CLIENT_ID: &str = "CMIS_CHAOS_GOOGLE_CLIENT_ID";
pub(crate) const ENV_GOOGLE_CLIENT_SECRET: &str = "CMIS_CHAOS_GOOGLE_CLIENT_SECRET";
/// The parent's media server (`chaos::media`), which TikTok pulls from.
pub(crate) const ENV_PULL_HOST: &str = "CMIS_CHAOS_PULL_HOST";
pub(crate) const ENV_WORKER_ID: &str = "CMIS_CHAOS_WORKER_ID";
/// Where the worker writes down its publish calls (the soak's working directory).
pub(crate) const ENV_DIR: &str = "CMIS_CHAOS_DIR";
/// The rate of injected statement faults (`--db-faults`).
pub(crate) const ENV_DB_FAULTS: &str = "CMIS_CHAOS_DB_FAULTS";
/// The worker's clock offset in seconds, signed (`--clock-skew`, alternating by worker).
pub(crate) const ENV_CLOCK_SKEW: &str = "CMIS_CHAOS_CLOCK_SKEW";
/// The webhook receiver (`--notifier`): URL, secret and the time allowed per attempt.
pub(crate) const ENV_NOTIFY_URL: &str = "CMIS_CHAOS_NOTIFY_URL";
pub(crate) const ENV_NOTIFY_SECRET: &str = "CMIS_CHAOS_NOTIFY_SECRET";
pub(crate) const ENV_NOTIFY_TIMEOUT: &str = "CMIS_CHAOS_NOTIFY_TIMEOUT";

/// How far after a Meta call started the post it made may have been created: the client's
/// timeout, and an injected delay that outlives it.
const META_CALL_SPAN: Duration = Duration::from_secs(HTTP_TIMEOUT.as_secs() + 5);

fn var(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| {
        Error::invalid_input(format!(
            "{name} is not set (workers are started by the chaos binary)"
        ))
    })
}

pub(crate) fn decode_key(hex_key: &str) -> Result<[u8; 32]> {
    let bytes = hex::decode(hex_key.trim())
        .map_err(|_| Error::invalid_input("the worker key is not hex"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| Error::invalid_input("the worker key is not 32 bytes"))
}

/// Exits when the parent closes our stdin (it holds the other end until it ends, however it
/// ends), so that no worker outlives a soak.
fn exit_with_parent() {
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
}

/// Runs the worker until it is killed.
pub(crate) async fn run() -> Result<()> {
    exit_with_parent();
    let kind = StoreKind::parse(&var(ENV_STORE)?)?;
    let location = Location {
        kind,
        url: var(ENV_URL)?,
        schema: std::env::var(ENV_SCHEMA).unwrap_or_default(),
    };
    let key = decode_key(&var(ENV_KEY)?)?;
    let skew: i64 = parsed(ENV_CLOCK_SKEW)?.unwrap_or(0);
    // The scheduler and the store see the skewed clock; the connectors keep the host's true
    // one, which their reconcile windows compare with the platform's own clock.
    let clock: Arc<dyn Clock> = Arc::new(SkewedClock { offset_secs: skew });
    let db = open_with_clock(&location, &key, Arc::clone(&clock)).await?;
    let worker_id = var(ENV_WORKER_ID)?;
    let log = open_log(std::path::Path::new(&var(ENV_DIR)?), &worker_id)?;
    let db_faults: f64 = parsed(ENV_DB_FAULTS)?.unwrap_or(0.0);
    let jobs: Arc<dyn ScheduleStore> = if db_faults > 0.0 {
        Arc::new(FaultyStore::new(db.jobs.clone(), kind, db_faults))
    } else {
        db.jobs.clone()
    };

    // Graph reads (Meta and Threads) are retried briefly in-process; a longer throttle goes
    // back to the scheduler. Containers are polled for a few seconds per call.
    let graph_reads = RetryPolicy::default()
        .with_max_attempts(4)
        .with_base(Duration::from_millis(100))
        .with_cap(Duration::from_secs(1))
        .with_max_retry_after(Duration::from_secs(5));
    let graph_poll = PollPolicy::new(
        Duration::from_millis(200),
        Duration::from_secs(1),
        Duration::from_secs(3),
    );
    let meta = MetaClient::builder()
        .graph_url(var(ENV_META_URL)?)
        .app_id(var(ENV_META_APP_ID)?)
        .app_secret(SecretString::from(var(ENV_META_APP_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        .read_retry(graph_reads.clone())
        .max_throttle_wait(Duration::from_secs(5))
        .poll_policy(graph_poll)
        .build()?;
    let threads = ThreadsClient::builder()
        .url(var(ENV_THREADS_URL)?)
        .app_id(var(ENV_THREADS_APP_ID)?)
        .app_secret(SecretString::from(var(ENV_THREADS_APP_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        .read_retry(graph_reads)
        .max_throttle_wait(Duration::from_secs(5))
        .poll_policy(graph_poll)
        .build()?;
    let tiktok = TikTokClient::builder()
        .api_base_url(var(ENV_TIKTOK_URL)?)
        .client_key(var(ENV_TIKTOK_KEY)?)
        .client_secret(SecretString::from(var(ENV_TIKTOK_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let bluesky = BlueskyClient::builder()
        .pds_url(var(ENV_BLUESKY_URL)?)
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let linkedin_url = var(ENV_LINKEDIN_URL)?;
    let linkedin = LinkedInClient::builder()
        .api_url(linkedin_url.as_str())
        .token_url(format!("{linkedin_url}/oauth/v2/accessToken"))
        .client_id(var(ENV_LINKEDIN_CLIENT_ID)?)
        .client_secret(SecretString::from(var(ENV_LINKEDIN_CLIENT_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let youtube_url = var(ENV_YOUTUBE_URL)?;
    let youtube = YouTubeClient::builder()
        .api_url(youtube_url.as_str())
        .token_url(format!("{youtube_url}/token"))
        .client_id(var(ENV_GOOGLE_CLIENT_ID)?)
        .client_secret(SecretString::from(var(ENV_GOOGLE_CLIENT_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let tokens = RefreshingTokenProvider::builder(db.credentials.clone())
        .refresher(Arc::new(LinkedInRefresher::new(linkedin.clone())))
        .refresher(Arc::new(GoogleTokenRefresher::new(youtube.clone())))
        .refresher(Arc::new(TikTokRefresher::new(tiktok.clone())))
        .refresher(Arc::new(BlueskyRefresher::new(bluesky.clone())))
        .refresher(Arc::new(ThreadsTokenRefresher::new(threads.clone())))
        .audit(db.audit.clone())
        .build();
    // The sandbox lists a public video once its processing is over (seconds, or the injected
    // slow processing): a lost init is looked for again until then.
    let pull_host = Url::parse(&var(ENV_PULL_HOST)?)
        .map_err(|e| cmis_core::Error::invalid_input(format!("{ENV_PULL_HOST}: {e}")))?;
    let tiktok_publisher = TikTokPublisher::new(tiktok)
        .with_pull_host(Arc::new(HostClient::new(pull_host)?))
        .with_list_settle(Duration::from_secs(30))
        .with_poll(
            default_poll()
                .with_initial(Duration::from_millis(300))
                .with_multiplier(1.5)
                .with_max_interval(Duration::from_secs(1))
                .with_budget(Duration::from_secs(4)),
        )
        .with_upload_retry(
            RetryPolicy::default()
                .with_base(Duration::from_millis(100))
                .with_cap(Duration::from_secs(1)),
        );
    // The sandbox lists a post as soon as it exists, so absence is proven once the call's
    // window has closed.
    let reconcile = ReconcilePolicy::new()
        .with_settle(Duration::ZERO)
        .with_call_span(META_CALL_SPAN);
    let watched = |p: Arc<dyn cmis_core::Publisher>| Arc::new(Watched::new(p, Arc::clone(&log)));
    let mut builder = Scheduler::builder(jobs)
        .worker_id(worker_id)
        .clock(clock)
        .publisher(watched(Arc::new(
            FacebookPagePublisher::new(meta.clone()).with_reconcile_policy(reconcile),
        )))
        .publisher(watched(Arc::new(
            InstagramPublisher::new(meta).with_reconcile_policy(reconcile),
        )))
        .publisher(watched(Arc::new(tiktok_publisher)))
        .publisher(watched(Arc::new(BlueskyPublisher::new(bluesky))))
        // The sandbox's containers are ready in about a second; polling decides.
        .publisher(watched(Arc::new(
            ThreadsPublisher::new(threads)
                .with_publish_delay(Duration::from_millis(500))
                .with_reconcile_policy(reconcile),
        )))
        // Media are polled for a few seconds per call; then the post is pending and resumed.
        .publisher(watched(Arc::new(
            LinkedInPublisher::new(linkedin).with_media_poll(graph_poll),
        )))
        // Four 256 KiB chunks per clip, so that faults interrupt uploads mid-file.
        .publisher(watched(Arc::new(
            YouTubePublisher::new(youtube)
                .with_chunk_size(256 * 1024)?
                .with_poll(graph_poll)
                .with_upload_retry(
                    RetryPolicy::default()
                        .with_base(Duration::from_millis(100))
                        .with_cap(Duration::from_secs(1)),
                ),
        )))
        .refreshing_tokens(tokens)
        // Per-account dispatch budgets, as an embedder would set them; they also make a
        // platform's Retry-After pause the whole account without spending attempts.
        .rate_limit(Platform::Facebook, RateLimit::per_minute(60)?)
        .rate_limit(Platform::Instagram, RateLimit::per_minute(60)?)
        .rate_limit(Platform::TikTok, RateLimit::per_minute(6)?)
        .rate_limit(Platform::Bluesky, RateLimit::per_minute(60)?)
        .rate_limit(Platform::Threads, RateLimit::per_minute(60)?)
        .rate_limit(Platform::LinkedIn, RateLimit::per_minute(60)?)
        .rate_limit(Platform::YouTube, RateLimit::per_minute(60)?)
        .concurrency(32)
        .lease(LEASE)
        .poll_interval(Duration::from_millis(200))
        .maintenance_interval(Duration::from_secs(1))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(12)
                .with_base(Duration::from_millis(250))
                .with_cap(Duration::from_secs(5)),
        )
        .staleness(Duration::from_secs(20 * 60))
        .pending_interval(Duration::from_secs(1))
        // Unknown outcomes are re-checked every 2 s; after 45 s past the post's time a check
        // that cannot tell parks the job for a person (here: the soak's operator).
        .reconcile(Duration::from_secs(2), Duration::from_secs(45));
    if let Ok(url) = std::env::var(ENV_NOTIFY_URL) {
        let url =
            Url::parse(&url).map_err(|e| Error::invalid_input(format!("{ENV_NOTIFY_URL}: {e}")))?;
        let timeout = Duration::from_secs(parsed(ENV_NOTIFY_TIMEOUT)?.unwrap_or(5));
        let webhook = WebhookNotifier::builder(url, SecretString::from(var(ENV_NOTIFY_SECRET)?))
            .timeout(timeout)
            .build()?;
        let mut policy = DeliveryPolicy::default();
        policy.timeout = timeout;
        policy.base = Duration::from_secs(1);
        // Retries come soon after a receiver starts answering again.
        policy.cap = Duration::from_secs(5);
        // A slow receiver takes its time with each delivery: more of them at once.
        policy.concurrency = if timeout > Duration::from_secs(10) {
            64
        } else {
            16
        };
        builder = builder.notifier(Arc::new(webhook)).delivery(policy);
    }
    builder.build()?.run(std::future::pending::<()>()).await
}

/// The value of `name` parsed, if set.
fn parsed<T: std::str::FromStr>(name: &str) -> Result<Option<T>> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid_input(format!("{name}={v:?} cannot be parsed"))),
        Err(_) => Ok(None),
    }
}
