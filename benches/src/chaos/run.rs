//! The parent: sets the world up, runs and kills the workers, tends the jobs as an operator
//! would, waits until every job has settled, and reconciles.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cmis_core::time::OffsetDateTime;
use cmis_core::{Error, ExposeSecret, Result};
use cmis_sandbox::{
    BlueskyEndpoint, Fault, LinkedInConfig, LinkedInEndpoint, MetaConfig, MetaEndpoint,
    MetaThrottle, Sandbox, ThreadsConfig, ThreadsEndpoint, TikTokConfig, TikTokEndpoint,
    YouTubeConfig, YouTubeEndpoint,
};
use cmis_scheduler::{Job, JobFilter, JobState};

use super::db::{Db, Location, StoreKind, open};
use super::dbfaults;
use super::media::MediaHost;
use super::operator::Operator;
use super::receiver::{Mode, Receiver, SLOW_ANSWER};
use super::reconcile::{Report, all_jobs, early_publishes, notifications, reconcile};
use super::watch::first_starts;
use super::worker::{
    ENV_BLUESKY_URL, ENV_DB_FAULTS, ENV_DIR, ENV_GOOGLE_CLIENT_ID, ENV_GOOGLE_CLIENT_SECRET,
    ENV_KEY, ENV_LINKEDIN_CLIENT_ID, ENV_LINKEDIN_CLIENT_SECRET, ENV_LINKEDIN_URL, ENV_META_APP_ID,
    ENV_META_APP_SECRET, ENV_META_URL, ENV_NOTIFY_SECRET, ENV_NOTIFY_TIMEOUT, ENV_NOTIFY_URL,
    ENV_PULL_HOST, ENV_SCHEMA, ENV_STORE, ENV_THREADS_APP_ID, ENV_THREADS_APP_SECRET,
    ENV_THREADS_URL, ENV_TIKTOK_KEY, ENV_TIKTOK_SECRET, ENV_TIKTOK_URL, ENV_URL, ENV_YOUTUBE_URL,
};
use super::workers::Workers;
use super::world::{MEDIA_PREFIX, World};
use super::{SLOW_PROCESSING, TIMEOUT_DELAY};

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) store: StoreKind,
    pub(crate) url: Option<String>,
    pub(crate) posts: usize,
    pub(crate) fault_rate: f64,
    pub(crate) kills: usize,
    pub(crate) workers: usize,
    pub(crate) seed: u64,
    pub(crate) timeout: Duration,
    pub(crate) keep: bool,
    /// The rate of database faults (see [`dbfaults`] and [`FaultyStore`](super::faulty)).
    pub(crate) db_faults: f64,
    /// The webhook receiver's behaviour; no notifier without it.
    pub(crate) notifier: Option<Mode>,
    /// Each worker's clock is off by this many seconds, the sign alternating.
    pub(crate) clock_skew: u64,
}

/// The result: the report and how long the drain took.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) report: Report,
    pub(crate) seconds: f64,
    /// Notifications the receiver acknowledged, each delivery id once.
    pub(crate) notified: usize,
    /// Terminal outcomes whose notification the receiver never acknowledged.
    pub(crate) notify_lost: usize,
    /// Posts whose publish call started before their scheduled time.
    pub(crate) early: usize,
}

impl Outcome {
    /// Whether the soak failed: anything lost, duplicated, untold or early.
    pub(crate) fn failed(&self) -> bool {
        self.report.lost > 0 || self.report.duplicated > 0 || self.notify_lost > 0 || self.early > 0
    }
}

/// How long a notifier's receiver has per delivery attempt: short, except for a receiver that
/// is slow on purpose, which must be waited for.
fn notify_timeout(mode: Mode) -> Duration {
    match mode {
        Mode::Slow => SLOW_ANSWER + Duration::from_secs(10),
        Mode::Ok | Mode::Hang => Duration::from_secs(5),
    }
}

/// How long the outbox may take to drain once every post is terminal (and a hanging receiver
/// answers).
fn drain_timeout(mode: Mode) -> Duration {
    match mode {
        Mode::Slow => Duration::from_secs(300),
        Mode::Ok | Mode::Hang => Duration::from_secs(150),
    }
}

/// Every fault the sandbox can inject, as the soak uses them.
fn faults() -> Vec<Fault> {
    vec![
        Fault::ServerError,
        Fault::ServerErrorAfterAccept,
        Fault::RateLimited,
        Fault::ExpiredToken,
        Fault::Delay(TIMEOUT_DELAY),
        Fault::DelayAfterAccept(TIMEOUT_DELAY),
        Fault::DropConnection,
        Fault::DropAfterAccept,
        Fault::SlowProcessing(SLOW_PROCESSING),
    ]
}

/// Every Meta endpoint the connectors call, the reads reconciliation uses included.
const META_ENDPOINTS: [MetaEndpoint; 14] = [
    MetaEndpoint::Feed,
    MetaEndpoint::Photos,
    MetaEndpoint::Uploads,
    MetaEndpoint::Videos,
    MetaEndpoint::Reels,
    MetaEndpoint::Media,
    MetaEndpoint::ContainerStatus,
    MetaEndpoint::MediaPublish,
    MetaEndpoint::Permalink,
    MetaEndpoint::PublishingLimit,
    MetaEndpoint::Tokens,
    MetaEndpoint::PublishedPosts,
    MetaEndpoint::MediaList,
    MetaEndpoint::VideoStatus,
];

fn random_key() -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| Error::internal(format!("no randomness for the credential key: {e}")))?;
    Ok(key)
}

fn unique_suffix(seed: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000);
    format!("{}_{nanos}_{}", std::process::id(), seed % 100_000)
}

/// Runs the soak. The working directory and PostgreSQL schema are removed afterwards unless
/// `keep` is set or something was lost or duplicated.
pub(crate) async fn run(cfg: Config) -> Result<Outcome> {
    let suffix = unique_suffix(cfg.seed);
    let dir = std::env::temp_dir().join(format!("cmis-chaos-{suffix}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
    let location = match cfg.store {
        StoreKind::Sqlite => Location {
            kind: StoreKind::Sqlite,
            url: cfg
                .url
                .clone()
                .unwrap_or_else(|| dir.join("chaos.db").display().to_string()),
            schema: String::new(),
        },
        StoreKind::Postgres => Location {
            kind: StoreKind::Postgres,
            url: cfg
                .url
                .clone()
                .or_else(|| std::env::var("CMIS_TEST_POSTGRES_URL").ok())
                .ok_or_else(|| {
                    Error::invalid_input("--store postgres needs --url (or CMIS_TEST_POSTGRES_URL)")
                })?,
            schema: format!("cmis_chaos_{suffix}"),
        },
    };
    let key = random_key()?;
    let db = open(&location, &key).await?;
    let result = soak(&cfg, &location, &key, &db, dir.clone()).await;
    let clean = !cfg.keep && result.as_ref().is_ok_and(|o| !o.failed());
    if clean {
        if let Some(pg) = &db.pg
            && let Err(e) = pg.drop_schema().await
        {
            eprintln!("warning: could not drop schema {}: {e}", location.schema);
        }
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!(
            "kept for inspection: {} (worker logs, database){}",
            dir.display(),
            if location.kind == StoreKind::Postgres {
                format!(" and schema {}", location.schema)
            } else {
                String::new()
            }
        );
    }
    result
}

/// The sandbox, its TikTok pulling media from `media` (the parent's media server) when given.
pub(crate) async fn start_sandbox(media: Option<&MediaHost>) -> Result<Sandbox> {
    let mut tiktok = TikTokConfig::default();
    tiktok.verified_url_prefixes = vec![MEDIA_PREFIX.to_owned()];
    if let Some(media) = media {
        tiktok.verified_url_prefixes.push(media.base.to_string());
        tiktok.fetch_pulled_media = true;
    }
    let mut meta = MetaConfig::default();
    // A rate limit stops one account for a minute, as Meta's business use case limits do; the
    // app-wide limit would stop every account for an hour and tell nothing more.
    meta.throttle = MetaThrottle::Account { regain_minutes: 1 };
    let mut threads = ThreadsConfig::default();
    threads.container_ready_after = Duration::from_secs(1);
    // Thousands of uploads in minutes: YouTube's daily caps (100 a project, a few dozen a
    // channel) would stop the soak until midnight Pacific, which it does not wait for.
    let mut youtube = YouTubeConfig::default();
    youtube.uploads_per_day = u32::MAX;
    youtube.channel_uploads_per_day = u32::MAX;
    Sandbox::builder()
        .tiktok(tiktok)
        .meta(meta)
        .threads(threads)
        .linkedin(LinkedInConfig::default())
        .youtube(youtube)
        .start()
        .await
}

async fn soak(
    cfg: &Config,
    location: &Location,
    key: &[u8; 32],
    db: &Db,
    dir: PathBuf,
) -> Result<Outcome> {
    let mut rng = fastrand::Rng::with_seed(cfg.seed);
    let media = MediaHost::start().await?;
    let sandbox = start_sandbox(Some(&media)).await?;
    let world = World::plan(cfg.posts, &mut rng, &dir)?;
    world.seed(&sandbox, db, &mut rng).await?;
    eprintln!(
        "chaos: seed {} store {} posts {} accounts {} tenants {} workers {} fault rate {} kills {} db faults {} notifier {} clock skew ±{} s; dir {}",
        cfg.seed,
        location.kind.as_str(),
        cfg.posts,
        world.accounts.len(),
        world.tenants.len(),
        cfg.workers,
        cfg.fault_rate,
        cfg.kills,
        cfg.db_faults,
        cfg.notifier.map_or("none", Mode::as_str),
        cfg.clock_skew,
        dir.display()
    );

    let meta = sandbox.meta();
    let tiktok = sandbox.tiktok();
    // The workers' PostgreSQL connections carry a name of their own, by which the parent
    // finds them to terminate (and nothing else: not its own, not another soak's).
    let app = dbfaults::app_name(&location.schema);
    let worker_url = match location.kind {
        StoreKind::Postgres => dbfaults::worker_url(&location.url, &app),
        StoreKind::Sqlite => location.url.clone(),
    };
    let receiver = match cfg.notifier {
        Some(mode) => Some(Receiver::start(mode).await?),
        None => None,
    };
    let mut env = vec![
        (ENV_STORE, location.kind.as_str().to_owned()),
        (ENV_URL, worker_url),
        (ENV_DIR, dir.display().to_string()),
        (ENV_DB_FAULTS, cfg.db_faults.to_string()),
        (ENV_SCHEMA, location.schema.clone()),
        (ENV_KEY, hex::encode(key)),
        (ENV_META_URL, meta.url()),
        (ENV_META_APP_ID, meta.app_id()),
        (
            ENV_META_APP_SECRET,
            meta.app_secret().expose_secret().to_owned(),
        ),
        (ENV_TIKTOK_URL, tiktok.url()),
        (ENV_BLUESKY_URL, sandbox.bluesky().url()),
        (ENV_THREADS_URL, sandbox.threads().url()),
        (ENV_THREADS_APP_ID, sandbox.threads().app_id()),
        (
            ENV_THREADS_APP_SECRET,
            sandbox.threads().app_secret().expose_secret().to_owned(),
        ),
        (ENV_LINKEDIN_URL, sandbox.linkedin().url()),
        (ENV_LINKEDIN_CLIENT_ID, sandbox.linkedin().client_id()),
        (
            ENV_LINKEDIN_CLIENT_SECRET,
            sandbox
                .linkedin()
                .client_secret()
                .expose_secret()
                .to_owned(),
        ),
        (ENV_YOUTUBE_URL, sandbox.youtube().url()),
        (ENV_GOOGLE_CLIENT_ID, sandbox.youtube().client_id()),
        (
            ENV_GOOGLE_CLIENT_SECRET,
            sandbox.youtube().client_secret().expose_secret().to_owned(),
        ),
        (ENV_PULL_HOST, media.base.to_string()),
        (ENV_TIKTOK_KEY, tiktok.client_key()),
        (
            ENV_TIKTOK_SECRET,
            tiktok.client_secret().expose_secret().to_owned(),
        ),
    ];
    if let (Some(r), Some(mode)) = (&receiver, cfg.notifier) {
        env.push((ENV_NOTIFY_URL, r.url.to_string()));
        env.push((ENV_NOTIFY_SECRET, r.secret.clone()));
        env.push((
            ENV_NOTIFY_TIMEOUT,
            notify_timeout(mode).as_secs().to_string(),
        ));
    }

    let start = OffsetDateTime::now_utc() + Duration::from_secs(1);
    let spread = Duration::from_secs(10);
    let (created, due) = world.schedule(db, start, spread, &mut rng).await?;
    eprintln!(
        "chaos: scheduled {created} jobs over {} s",
        spread.as_secs()
    );

    let fault_seed = rng.u64(..);
    meta.set_fault_rate(
        cfg.fault_rate,
        fault_seed,
        faults(),
        META_ENDPOINTS.to_vec(),
    );
    tiktok.set_fault_rate(
        cfg.fault_rate,
        fault_seed ^ 0x5eed,
        faults(),
        TikTokEndpoint::ALL.to_vec(),
    );
    // Every Bluesky call the workers make (createSession and resolveHandle they never make).
    // No injected rate limits: Bluesky's write limit resets hourly, so a 429 there means an
    // hour's wait, longer than the soak (the connector's reading of it is tested on its own).
    sandbox.bluesky().set_fault_rate(
        cfg.fault_rate,
        fault_seed ^ 0xb1_5e,
        faults()
            .into_iter()
            .filter(|f| *f != Fault::RateLimited)
            .collect(),
        vec![
            BlueskyEndpoint::RefreshSession,
            BlueskyEndpoint::CreateRecord,
            BlueskyEndpoint::GetRecord,
            BlueskyEndpoint::UploadBlob,
        ],
    );

    // Every Threads call the workers make (they never exchange codes or short-lived tokens).
    // No injected rate limits: the fake answers them as Graph's app-wide code 4, which stops
    // every profile of the app for an hour, longer than the soak (the connector's reading of
    // code 4 is tested on its own).
    sandbox.threads().set_fault_rate(
        cfg.fault_rate,
        fault_seed ^ 0x7ead,
        faults()
            .into_iter()
            .filter(|f| *f != Fault::RateLimited)
            .collect(),
        vec![
            ThreadsEndpoint::RefreshToken,
            ThreadsEndpoint::CreateContainer,
            ThreadsEndpoint::ContainerStatus,
            ThreadsEndpoint::Publish,
            ThreadsEndpoint::PublishingLimit,
            ThreadsEndpoint::ListThreads,
            ThreadsEndpoint::GetMedia,
        ],
    );

    // Every LinkedIn and YouTube call the workers make. No injected rate limits: LinkedIn's 429
    // is a daily budget (until midnight UTC) and YouTube's quota resets at midnight Pacific,
    // both longer than the soak (the connectors' readings of them are tested on their own).
    let no_rate_limits: Vec<Fault> = faults()
        .into_iter()
        .filter(|f| *f != Fault::RateLimited)
        .collect();
    sandbox.linkedin().set_fault_rate(
        cfg.fault_rate,
        fault_seed ^ 0x11_7ed,
        no_rate_limits.clone(),
        LinkedInEndpoint::ALL.to_vec(),
    );
    sandbox.youtube().set_fault_rate(
        cfg.fault_rate,
        fault_seed ^ 0x70_7b,
        no_rate_limits,
        YouTubeEndpoint::ALL.to_vec(),
    );

    let began = Instant::now();
    let mut workers = Workers::start(cfg.workers, env, dir.clone(), cfg.clock_skew)?;
    let mut db_chaos = dbfaults::start(location, &app, cfg.db_faults, rng.u64(..)).await?;
    let mut operator = Operator::default();
    // Kill when these fractions of the jobs have settled: random moments spread over the drain.
    let mut thresholds: Vec<f64> = (0..cfg.kills).map(|_| 0.03 + 0.8 * rng.f64()).collect();
    thresholds.sort_by(f64::total_cmp);
    thresholds.reverse();
    let deadline = began + cfg.timeout;
    let mut last_progress = Instant::now();
    let mut quiet_rounds = 0;
    let n = world.posts.len();
    let seconds = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        workers.restart_exited()?;
        let active = active_jobs(db, &world).await?;
        operator.tend(&active, db, &sandbox).await?;
        let unsettled = active.iter().filter(|j| !operator.settled(j)).count();
        let settled = n - unsettled.min(n);
        #[allow(clippy::cast_precision_loss)]
        let fraction = settled as f64 / n.max(1) as f64;
        if let Some(&next) = thresholds.last()
            && fraction >= next
            && unsettled > 0
        {
            thresholds.pop();
            tokio::time::sleep(Duration::from_millis(rng.u64(..400))).await;
            let slot = rng.usize(..workers.len());
            let killed = workers.kill_and_restart(slot)?;
            eprintln!(
                "chaos: {:>6.1} s  SIGKILL {killed} at {settled}/{n} settled; restarted",
                began.elapsed().as_secs_f64()
            );
        }
        if last_progress.elapsed() >= Duration::from_secs(5) {
            last_progress = Instant::now();
            eprintln!(
                "chaos: {:>6.1} s  settled {settled}/{n}  {}",
                began.elapsed().as_secs_f64(),
                summarize(&active)
            );
        }
        if unsettled == 0 {
            // Twice in a row, so that an outcome being written as we looked is not missed.
            quiet_rounds += 1;
            if quiet_rounds >= 2 {
                break began.elapsed().as_secs_f64();
            }
        } else {
            quiet_rounds = 0;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "chaos: timed out after {} s with {unsettled} jobs not settled",
                cfg.timeout.as_secs()
            );
            break began.elapsed().as_secs_f64();
        }
    };
    let db_strikes = db_chaos
        .take()
        .map_or(0, |c| c.strikes.load(std::sync::atomic::Ordering::Relaxed));
    if let (Some(r), Some(mode)) = (&receiver, cfg.notifier) {
        // Every post is terminal (or parked for a person): the receiver answers from now on,
        // and the workers stay up, delivering, until the outbox is empty.
        r.release();
        let waited = Instant::now();
        let mut empty_rounds = 0;
        loop {
            workers.restart_exited()?;
            match db.jobs.undelivered().await {
                Ok(0) => empty_rounds += 1,
                Ok(_) => empty_rounds = 0,
                Err(e) => eprintln!("chaos: counting undelivered notifications failed: {e}"),
            }
            if empty_rounds >= 2 {
                eprintln!(
                    "chaos: outbox drained {:.1} s after the last post settled",
                    waited.elapsed().as_secs_f64()
                );
                break;
            }
            if waited.elapsed() >= drain_timeout(mode) {
                eprintln!(
                    "chaos: the outbox did not drain within {} s: {:?} notifications wait",
                    drain_timeout(mode).as_secs(),
                    db.jobs.undelivered().await
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    workers.stop();
    meta.clear_faults();
    tiktok.clear_faults();
    sandbox.bluesky().clear_faults();
    if !thresholds.is_empty() {
        eprintln!(
            "chaos: every job settled before {} of the {} kills",
            thresholds.len(),
            cfg.kills
        );
    }
    let report = reconcile(db, &world, &sandbox, &operator).await?;
    eprintln!(
        "chaos: kills {} worker crashes {} reconnected accounts {} (jobs run again {}) unknowns re-checked {} tiktok refreshes {} bluesky refreshes {} instagram publish calls on published containers {}",
        workers.kills,
        workers.crashes.len(),
        operator.reauths,
        operator.reauth_retries,
        operator.recheck_count,
        tiktok.refresh_count(),
        sandbox.bluesky().refresh_count(),
        meta.duplicate_publish_attempts()
    );
    for c in &workers.crashes {
        eprintln!("chaos: worker crash: {c}");
    }
    for r in &operator.reauth_reasons {
        eprintln!("chaos: reconnected {r}");
    }
    let jobs = all_jobs(db, &world).await?;
    let early = early_publishes(&due, &first_starts(&dir));
    let (notified, notify_lost) = match &receiver {
        Some(r) => {
            let record = r.record();
            eprintln!(
                "chaos: webhook receiver: {} requests, {} refused, {} notifications acknowledged; undelivered in the outbox: {:?}",
                record.requests,
                record.refused,
                record.notified(),
                db.jobs.undelivered().await
            );
            notifications(&jobs, &record)
        }
        None => (0, 0),
    };
    eprintln!(
        "chaos: db faults: {db_strikes} {}; early publishes {early}",
        match location.kind {
            StoreKind::Postgres => "worker connections terminated",
            StoreKind::Sqlite => "write locks held by the parent",
        }
    );
    Ok(Outcome {
        report,
        seconds,
        notified,
        notify_lost,
        early,
    })
}

/// The jobs that are not finished, across tenants.
async fn active_jobs(db: &Db, world: &World) -> Result<Vec<Job>> {
    let limit = u32::try_from(world.posts.len() + 10).unwrap_or(u32::MAX);
    let mut filter = JobFilter::all().with_limit(limit);
    filter.states = JobState::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .collect();
    let mut jobs = Vec::new();
    for tenant in &world.tenants {
        jobs.extend(db.jobs.list(tenant, &filter).await?);
    }
    Ok(jobs)
}

fn summarize(active: &[Job]) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for j in active {
        let name = match j.state {
            JobState::UnknownOutcome if j.run_at.is_none() => "unknown_parked".to_owned(),
            JobState::RetryScheduled => format!(
                "retry({} {})",
                j.target.platform(),
                j.last_error.as_ref().map_or("snooze", |e| e.kind.as_str())
            ),
            other => other.as_str().to_owned(),
        };
        *counts.entry(name).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
