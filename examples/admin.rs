//! The admin dashboard (`cmis-admin`) over a scheduler that has really published, offline.
//!
//! ```text
//! cargo run --example admin [-- --port PORT] [--db PATH] [--exit-after-seed]
//! ```
//!
//! It starts the sandbox (local fakes of Facebook, Instagram and TikTok), opens an SQLite file
//! (in a temporary directory, or a new file at `--db PATH`, kept afterwards) with credentials
//! encrypted at rest, and runs a real [`Scheduler`] with the real connectors pointed at the
//! sandbox. The scheduler publishes a Facebook post on two Pages, an Instagram photo and a
//! TikTok video (with receipts the sandbox issued); then, one at a time, the sandbox is told to
//! fail the next call the way the platforms fail, so the scheduler itself records an Instagram
//! container that failed processing (failed), a Facebook post whose answer was lost (unknown
//! outcome), a Page token the platform stopped accepting (awaiting re-authorisation) and a
//! business use case rate limit (throttled, retried in three hours). A post due four hours ago
//! is missed (beyond the staleness deadline), a post is scheduled for tomorrow, and another is
//! scheduled and then cancelled. Once every job has settled the scheduler stops, so the
//! dashboard shows a still picture.
//!
//! Two things are seeded rather than produced, because no scheduler run makes them quickly:
//! the Instagram credential's data access ends in 3 days (Meta's `data_access_expires_at`,
//! 90 days after the person last used the app), and the second Page's last token refresh was
//! refused (a `token.refresh_failed` audit record with error kind `auth`, written through the
//! store's `AuditSink`).
//!
//! Then it serves the dashboard under `/admin` on 127.0.0.1 (`--port`, by default any free
//! port) to requests from the loopback interface only, as the operator of the demo tenant,
//! prints one line `admin_url=http://127.0.0.1:PORT/admin` on stdout (everything else goes to
//! stderr) and serves until Ctrl-C (or SIGTERM); with `--exit-after-seed` it exits right after
//! printing the line. Nothing leaves 127.0.0.1 and no token is printed. Exit codes: 0 done,
//! 2 bad arguments, 1 anything else.

#![allow(clippy::print_stdout)]

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use cmis::meta::{FacebookPagePublisher, InstagramPublisher, MetaClient};
use cmis::sandbox::{
    Creator, Fault, InstagramLogin, MetaConfig, MetaEndpoint, MetaThrottle, Sandbox, TikTokConfig,
};
use cmis::scheduler::admin::Admin;
use cmis::scheduler::{Change, Job, JobState, NewPost, Scheduler, SqliteStore, TokenKey};
use cmis::tiktok::{TikTokClient, TikTokPublisher, default_poll};
use cmis::time::OffsetDateTime;
use cmis::{
    AccountRef, AuditRecord, AuditSink, Credential, CredentialStore, Error, ErrorKind, Media,
    Platform, PollPolicy, Post, PostKey, PrivacyLevel, RefreshingTokenProvider, Result, Surface,
    Target, TenantId, TikTokOptions,
};
use cmis_admin::{AdminRouter, Principal};
use cmis_examples::cli::usage_error;

const USAGE: &str = "usage: admin [--port PORT] [--db PATH] [--exit-after-seed]
  --port PORT        serve the dashboard on 127.0.0.1:PORT (0, the default: any free port)
  --db PATH          a new SQLite file to create and keep (default: a temporary one)
  --exit-after-seed  print the dashboard's URL and exit instead of serving";

const TENANT: &str = "demo-tenant";
/// The Page that publishes, loses an answer and is throttled.
const PAGE: &str = "100000000000001";
/// The Page whose token stops working.
const OTHER_PAGE: &str = "100000000000002";
const INSTAGRAM: &str = "17841400000000001";
const CREATOR: &str = "demo-creator";
const TIKTOK_SCOPES: [&str; 3] = ["user.info.basic", "video.publish", "video.upload"];
const CDN: &str = "https://cdn.example.com/";
/// How long the scheduler may take to settle each round of jobs.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Args {
    port: u16,
    db: Option<PathBuf>,
    exit_after_seed: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(err) => return cmis_examples::cli::fail(&err),
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => cmis_examples::cli::fail(&err),
    }
}

/// Parses the arguments; `Ok(None)` means `--help` was shown.
fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Args>> {
    use lexopt::prelude::*;
    let mut parser =
        lexopt::Parser::from_iter(std::iter::once(OsString::from("admin")).chain(args));
    let bad = |e| usage_error(e, USAGE);
    let mut out = Args {
        port: 0,
        db: None,
        exit_after_seed: false,
    };
    while let Some(arg) = parser.next().map_err(bad)? {
        match arg {
            Long("port") => {
                let raw = parser.value().map_err(bad)?.string().map_err(bad)?;
                out.port = raw.trim().parse().map_err(|_| {
                    Error::invalid_input(format!(
                        "--port takes a port number from 0 to 65535, not {raw:?}\n{USAGE}"
                    ))
                })?;
            }
            Long("db") => out.db = Some(PathBuf::from(parser.value().map_err(bad)?)),
            Long("exit-after-seed") => out.exit_after_seed = true,
            Short('h') | Long("help") => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(bad(other.unexpected())),
        }
    }
    Ok(Some(out))
}

async fn run(args: Args) -> Result<()> {
    let (db, temp) = match &args.db {
        // A fresh file: the credentials are encrypted with a key made for this run only.
        Some(path) if path.exists() => {
            return Err(Error::invalid_input(format!(
                "--db {} already exists: give a path for a new database\n{USAGE}",
                path.display()
            )));
        }
        Some(path) => (path.clone(), None),
        None => {
            let dir = std::env::temp_dir().join(format!(
                "cmis-admin-example-{}-{}",
                std::process::id(),
                OffsetDateTime::now_utc().unix_timestamp_nanos()
            ));
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
            (dir.join("admin.db"), Some(dir))
        }
    };
    let result = demo(&args, &db, temp.as_deref()).await;
    if let Some(dir) = temp {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn demo(args: &Args, db: &Path, temp: Option<&Path>) -> Result<()> {
    // Metrics from the start, so the scheduler's run below is counted (served at /metrics).
    let registry = cmis_examples::prometheus::install();
    // 1. The sandbox, on random local ports. A rate limit it is told to answer is one account's
    // business use case limit, lifted in three hours.
    let mut meta_config = MetaConfig::default();
    meta_config.container_processing_time = Duration::from_millis(300);
    meta_config.throttle = MetaThrottle::Account {
        regain_minutes: 180,
    };
    let sandbox = Sandbox::builder()
        .meta(meta_config)
        .tiktok(TikTokConfig::default())
        .start()
        .await?;
    eprintln!(
        "sandbox: meta {}  tiktok {}",
        sandbox.meta().url(),
        sandbox.tiktok().url()
    );

    // 2. The store: jobs, credentials (encrypted with a fresh key) and the audit trail.
    let store = Arc::new(
        SqliteStore::builder()
            .path(db)
            .encryption_key(TokenKey::from_bytes(random_key()?))
            .build()
            .await?,
    );
    eprintln!("store: {}", db.display());

    // 3. The demo tenant's accounts, with the tokens the sandbox issued.
    let now = OffsetDateTime::now_utc();
    let account = |platform, id| AccountRef::new(TenantId::new(TENANT), platform, id);
    let page = account(Platform::Facebook, PAGE);
    let other_page = account(Platform::Facebook, OTHER_PAGE);
    let instagram = account(Platform::Instagram, INSTAGRAM);
    let creator = account(Platform::TikTok, CREATOR);
    let meta = sandbox.meta();
    store
        .put_credential(Credential::new(
            page.clone(),
            meta.add_page(PAGE, "Demo Cafe"),
        ))
        .await?;
    store
        .put_credential(Credential::new(
            other_page.clone(),
            meta.add_page(OTHER_PAGE, "Demo Bakery"),
        ))
        .await?;
    // Seeded: Meta ends an app's data access 90 days after the person last used it; this one
    // ends in 3 days, so the dashboard asks for a re-authorisation soon.
    store
        .put_credential(
            Credential::new(
                instagram.clone(),
                meta.add_instagram_account(INSTAGRAM, InstagramLogin::Facebook),
            )
            .with_data_access_expires_at(
                now + cmis::time::Duration::days(3) + cmis::time::Duration::hours(1),
            ),
        )
        .await?;
    let tiktok = sandbox.tiktok();
    tiktok.add_creator(Creator::public(CREATOR));
    let issued = tiktok.issue_tokens(CREATOR, &TIKTOK_SCOPES);
    store
        .put_credential(
            Credential::new(creator.clone(), issued.access_token)
                .with_refresh_token(issued.refresh_token)
                .with_access_expires_at(now + Duration::from_secs(24 * 3600))
                .with_scopes(issued.scopes),
        )
        .await?;

    // 4. The real scheduler with the real connectors, pointed at the sandbox.
    let meta_client = MetaClient::builder()
        .graph_url(meta.url())
        .app_id(meta.app_id())
        .app_secret(meta.app_secret())
        // The sandbox's containers are ready in 300 ms; Meta's guide says poll every 5 s.
        .poll_policy(
            PollPolicy::default()
                .with_initial(Duration::from_millis(300))
                .with_max_interval(Duration::from_millis(500)),
        )
        .build()?;
    let tiktok_client = TikTokClient::builder()
        .api_base_url(tiktok.url())
        .client_key(tiktok.client_key())
        .client_secret(tiktok.client_secret())
        .build()?;
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(FacebookPagePublisher::new(meta_client.clone())))
        .publisher(Arc::new(InstagramPublisher::new(meta_client)))
        .publisher(Arc::new(TikTokPublisher::new(tiktok_client).with_poll(
            default_poll().with_initial(Duration::from_millis(300)),
        )))
        .refreshing_tokens(RefreshingTokenProvider::builder(store.clone()).build())
        .poll_interval(Duration::from_millis(200))
        .build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = scheduler.clone();
    let running = tokio::spawn(async move {
        runner
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let published = publish_for_real(
        &sandbox,
        &scheduler,
        temp,
        &page,
        &other_page,
        &instagram,
        &creator,
    )
    .await;
    let _ = stop.send(());
    running
        .await
        .map_err(|e| Error::internal(format!("the scheduler task failed: {e}")))??;
    let jobs = published?;
    eprintln!("the scheduler published and settled {} jobs:", jobs.len());
    for job in &jobs {
        let detail = match (&job.receipt, &job.last_error) {
            (Some(receipt), _) => format!("post id {}", receipt.post_id),
            (None, Some(error)) => format!("{}: {}", error.kind, error.message),
            (None, None) => String::new(),
        };
        eprintln!(
            "  {:<10} {:<16} {detail}",
            job.target.platform().as_str(),
            job.state.as_str()
        );
    }

    // Every state above came from the scheduler and the sandbox: check it is what the sandbox
    // was told to do, so a change in either shows here rather than as a quieter dashboard.
    let expected = [
        JobState::Published,
        JobState::Published,
        JobState::Published,
        JobState::Published,
        JobState::Failed,
        JobState::UnknownOutcome,
        JobState::AwaitingReauth,
        JobState::RetryScheduled,
        JobState::Missed,
        JobState::Scheduled,
        JobState::Cancelled,
    ];
    let states: Vec<JobState> = jobs.iter().map(|j| j.state).collect();
    if states != expected {
        return Err(Error::internal(format!(
            "the jobs ended as {states:?}, not as {expected:?}"
        )));
    }

    // Seeded: the second Page's token was refused (its job above waits for re-authorisation)
    // and so was the refresh that followed, as the token provider audits it.
    store
        .record(
            &AuditRecord::for_account(&other_page, "token.refresh_failed")
                .at(OffsetDateTime::now_utc())
                .with_detail("error_kind", ErrorKind::Auth.as_str()),
        )
        .await?;

    // 5. The dashboard, for the demo tenant's operator, to loopback requests only.
    let admin = Admin::new(store.clone()).with_credentials(store);
    let dashboard = AdminRouter::builder(admin.clone())
        .authorizer(loopback_operator)
        .title("cmis demo")
        .build()?;
    // Prometheus scrapes /metrics (the listener is on 127.0.0.1 only); the gauges (jobs by
    // state, accounts to re-authorise, the oldest due job's wait) are read at each scrape.
    let metrics = axum::routing::get(move || {
        let (admin, registry) = (admin.clone(), registry.clone());
        async move {
            if let Err(e) = admin.record_gauges(OffsetDateTime::now_utc()).await {
                eprintln!("gauges not read: {e}");
            }
            registry.map(|r| r.render()).unwrap_or_default()
        }
    });
    let app = axum::Router::new()
        .nest("/admin", dashboard)
        .route("/metrics", metrics);
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .map_err(|e| Error::internal(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("no local address: {e}")))?;
    println!("admin_url=http://{addr}/admin");
    eprintln!("metrics: http://{addr}/metrics (Prometheus text format)");
    if args.exit_after_seed {
        return Ok(());
    }
    eprintln!("open http://{addr}/admin in a browser; Ctrl-C stops");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(interrupted())
    .await
    .map_err(|e| Error::internal(format!("the dashboard's server failed: {e}")))?;
    eprintln!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C (or, on Unix, SIGTERM), so the temporary directory is removed.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The demo tenant's operator, for requests from this machine's loopback interface; anyone
/// else is refused (401). A real app resolves its own signed-in user here.
fn loopback_operator(request: &Parts) -> Option<Principal> {
    let ConnectInfo(peer) = request.extensions.get::<ConnectInfo<SocketAddr>>()?;
    peer.ip()
        .is_loopback()
        .then(|| Principal::tenant("operator@localhost", TenantId::new(TENANT)))
}

/// Has the scheduler publish, one round at a time, and returns every job as it settled.
async fn publish_for_real(
    sandbox: &Sandbox,
    scheduler: &Scheduler,
    temp: Option<&Path>,
    page: &AccountRef,
    other_page: &AccountRef,
    instagram: &AccountRef,
    creator: &AccountRef,
) -> Result<Vec<Job>> {
    let run = OffsetDateTime::now_utc().unix_timestamp();
    let key = |name: &str| PostKey::new(format!("{name}-{run}"));
    let now = OffsetDateTime::now_utc;
    let mut settled = Vec::new();

    // Published: a post on each Page, an Instagram photo and a TikTok video.
    let video_dir = temp.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let video = video_dir.join(format!("cmis-admin-example-{run}.mp4"));
    std::fs::write(&video, cmis::media::sample::mp4(1080, 1920, 4, 30))
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", video.display())))?;
    let mut round = Vec::new();
    round.extend(
        scheduler
            .schedule(NewPost::new(
                key("menu"),
                Post::new().with_text("Our autumn menu is here: pumpkin soup and apple pie."),
                vec![Target::feed(page.clone())],
                now(),
            ))
            .await?,
    );
    round.extend(
        scheduler
            .schedule(NewPost::new(
                key("bread"),
                Post::new().with_text("Fresh sourdough every morning from 7."),
                vec![Target::feed(other_page.clone())],
                now(),
            ))
            .await?,
    );
    round.extend(
        scheduler
            .schedule(NewPost::new(
                key("soup"),
                Post::new()
                    .with_text("Pumpkin soup season #autumn")
                    .with_media(Media::from_path_or_url(&format!("{CDN}soup.jpg"))?),
                vec![Target::feed(instagram.clone())],
                now(),
            ))
            .await?,
    );
    round.extend(
        scheduler
            .schedule(NewPost::new(
                key("kitchen"),
                Post::new()
                    .with_text("Four seconds in our kitchen #baking")
                    .with_media(Media::path(&video))
                    .with_tiktok(
                        TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone),
                    ),
                vec![Target::new(creator.clone(), Surface::Feed)],
                now(),
            ))
            .await?,
    );
    let first = settle(scheduler, &round).await;
    let _ = std::fs::remove_file(&video);
    settled.extend(first?);

    let meta = sandbox.meta();

    // Failed: the next Instagram container fails processing (2207026, a format Instagram does
    // not support), and the publisher reports the platform's refusal.
    meta.fail_next_container(2_207_026);
    let ig = scheduler
        .schedule(NewPost::new(
            key("pie"),
            Post::new()
                .with_text("Apple pie, straight from the oven")
                .with_media(Media::from_path_or_url(&format!("{CDN}pie.jpg"))?),
            vec![Target::feed(instagram.clone())],
            now(),
        ))
        .await?;
    settled.extend(settle(scheduler, &ig).await?);

    // Unknown outcome: the Page post is created, then the answer is an HTTP 500, so the
    // scheduler cannot know whether it is live and parks it for reconciliation.
    meta.inject(MetaEndpoint::Feed, Fault::ServerErrorAfterAccept, 1);
    let lost = scheduler
        .schedule(NewPost::new(
            key("hours"),
            Post::new().with_text("New opening hours from Monday: 7 to 19."),
            vec![Target::feed(page.clone())],
            now(),
        ))
        .await?;
    settled.extend(settle(scheduler, &lost).await?);

    // Awaiting re-authorisation: the second Page's token is expired from now on.
    meta.inject(MetaEndpoint::Feed, Fault::ExpiredToken, 1);
    let refused = scheduler
        .schedule(NewPost::new(
            key("croissant"),
            Post::new().with_text("Croissants are back on Saturday."),
            vec![Target::feed(other_page.clone())],
            now(),
        ))
        .await?;
    settled.extend(settle(scheduler, &refused).await?);

    // Throttled: the Page hit its business use case limit; the job waits three hours without
    // spending an attempt.
    meta.inject(MetaEndpoint::Feed, Fault::RateLimited, 1);
    let held = scheduler
        .schedule(NewPost::new(
            key("quiz"),
            Post::new().with_text("Quiz night on Thursday!"),
            vec![Target::feed(page.clone())],
            now(),
        ))
        .await?;
    settled.extend(settle(scheduler, &held).await?);

    // Missed: a post that was due four hours ago (the scheduler was down, say) is beyond the
    // staleness deadline (three hours), so it is not published late.
    let late = scheduler
        .schedule(NewPost::new(
            key("breakfast"),
            Post::new().with_text("Breakfast is served until 11 today."),
            vec![Target::feed(page.clone())],
            now() - cmis::time::Duration::hours(4),
        ))
        .await?;
    settled.extend(settle(scheduler, &late).await?);

    // Scheduled for tomorrow, and one more scheduled then cancelled by its author.
    let tomorrow = now() + cmis::time::Duration::days(1);
    settled.extend(
        scheduler
            .schedule(NewPost::new(
                key("weekend"),
                Post::new().with_text("This weekend: live music from 8 pm."),
                vec![Target::feed(page.clone())],
                tomorrow,
            ))
            .await?,
    );
    let dropped = scheduler
        .schedule(NewPost::new(
            key("typo"),
            Post::new().with_text("Our new menu is hree"),
            vec![Target::feed(page.clone())],
            tomorrow,
        ))
        .await?;
    for job in dropped {
        match scheduler.store().cancel(&job.tenant, job.id).await? {
            Change::Applied(job) => settled.push(job),
            _ => {
                return Err(Error::internal(
                    "the store refused to cancel a scheduled job",
                ));
            }
        }
    }
    Ok(settled)
}

/// Waits for `jobs` to leave the queue's hands: settled (published, failed, missed, unknown
/// outcome, awaiting re-authorisation, cancelled) or throttled until later.
async fn settle(scheduler: &Scheduler, jobs: &[Job]) -> Result<Vec<Job>> {
    let all = async {
        let mut out = Vec::new();
        for job in jobs {
            loop {
                let now = scheduler
                    .store()
                    .get(&job.tenant, job.id)
                    .await?
                    .ok_or_else(|| Error::internal(format!("job {} vanished", job.id)))?;
                let throttled = now.state == JobState::RetryScheduled
                    && now
                        .last_error
                        .as_ref()
                        .is_some_and(|e| e.kind == ErrorKind::RateLimited);
                if now.state.is_settled() || throttled {
                    out.push(now);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(out)
    };
    tokio::time::timeout(SETTLE_LIMIT, all).await.map_err(|_| {
        Error::internal(format!(
            "the jobs did not settle within {} s",
            SETTLE_LIMIT.as_secs()
        ))
    })?
}

fn random_key() -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| Error::internal(format!("no randomness for the encryption key: {e}")))?;
    Ok(key)
}
