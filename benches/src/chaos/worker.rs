//! A worker process: one [`Scheduler`] with the real connectors pointed at the sandbox, run
//! until it is killed (or its parent goes away).
//!
//! Everything it needs comes from the environment the parent sets, so that no secret shows in
//! the process list.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    Error, Platform, RateLimit, RefreshingTokenProvider, Result, RetryPolicy, SecretString,
};
use cmis_meta::{FacebookPagePublisher, InstagramPublisher, MetaClient, PollPolicy};
use cmis_scheduler::Scheduler;
use cmis_tiktok::{PollConfig, TikTokClient, TikTokPublisher, TikTokRefresher};

use super::db::{Location, StoreKind, open};
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
pub(crate) const ENV_WORKER_ID: &str = "CMIS_CHAOS_WORKER_ID";

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
    let db = open(&location, &key).await?;
    let worker_id = var(ENV_WORKER_ID)?;

    let meta_url = var(ENV_META_URL)?;
    let meta = MetaClient::builder()
        .graph_url(meta_url)
        .app_id(var(ENV_META_APP_ID)?)
        .app_secret(SecretString::from(var(ENV_META_APP_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        // Reads are retried briefly in-process; a longer throttle goes back to the scheduler.
        .read_retry(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_base(Duration::from_millis(100))
                .with_cap(Duration::from_secs(1))
                .with_max_retry_after(Duration::from_secs(5)),
        )
        .max_throttle_wait(Duration::from_secs(5))
        .poll_policy(PollPolicy::new(
            Duration::from_millis(200),
            Duration::from_secs(1),
            Duration::from_secs(3),
        ))
        .build()?;
    let tiktok = TikTokClient::builder()
        .api_base_url(var(ENV_TIKTOK_URL)?)
        .client_key(var(ENV_TIKTOK_KEY)?)
        .client_secret(SecretString::from(var(ENV_TIKTOK_SECRET)?))
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let tokens = RefreshingTokenProvider::builder(db.credentials.clone())
        .refresher(Arc::new(TikTokRefresher::new(tiktok.clone())))
        .audit(db.audit.clone())
        .build();
    let tiktok_publisher = TikTokPublisher::new(tiktok)
        .with_poll(
            PollConfig::default()
                .with_initial(Duration::from_millis(300))
                .with_multiplier(1.5)
                .with_max_interval(Duration::from_secs(1))
                .with_horizon(Duration::from_secs(4)),
        )
        .with_upload_retry(
            RetryPolicy::default()
                .with_base(Duration::from_millis(100))
                .with_cap(Duration::from_secs(1)),
        );
    let scheduler = Scheduler::builder(db.jobs.clone())
        .worker_id(worker_id)
        .publisher(Arc::new(FacebookPagePublisher::new(meta.clone())))
        .publisher(Arc::new(InstagramPublisher::new(meta)))
        .publisher(Arc::new(tiktok_publisher))
        .refreshing_tokens(tokens)
        // Per-account dispatch budgets, as an embedder would set them; they also make a
        // platform's Retry-After pause the whole account without spending attempts.
        .rate_limit(Platform::Facebook, RateLimit::per_minute(60)?)
        .rate_limit(Platform::Instagram, RateLimit::per_minute(60)?)
        .rate_limit(Platform::TikTok, RateLimit::per_minute(6)?)
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
        .reconcile(Duration::from_secs(2), Duration::from_secs(45))
        .build()?;
    scheduler.run(std::future::pending::<()>()).await
}
