//! The scheduler driven from a shell, on SQLite or PostgreSQL, publishing to the real platforms
//! or to any server that speaks their protocols (such as `cargo run -p cmis-sandbox`).
//!
//! ```text
//! schedule account --db URL --tenant T --platform facebook|instagram|threads|tiktok|bluesky|linkedin|youtube --account ID \
//!     --access-token TOKEN [--refresh-token TOKEN] [--expires-in SECONDS]
//! schedule add --db URL --tenant T --platform P --account ID [--text TEXT] \
//!     [--media PATH_OR_URL]... [--kind K] [--privacy LEVEL] --at RFC3339|+SECONDS
//! schedule run --db URL [--workers N] [--until-idle]
//! schedule list --db URL --tenant T
//! schedule cancel --db URL --tenant T --job ID
//! ```
//!
//! `--db` takes `sqlite://PATH` or `postgres://...`; credentials are encrypted with the key in
//! `CMIS_SECRET_KEY` (64 hex characters). Base URLs and app credentials come from the same
//! variables as `publish`; Bluesky accounts are served by `CMIS_BLUESKY_PDS_URL` (by default
//! `https://bsky.social`, which serves the accounts Bluesky hosts), and their `--account` is the
//! DID. `account` prints nothing; `add` prints `{"job_id": "..."}`; `list`
//! prints one JSON line per job; `run --until-idle` exits 0 once no job is due or retrying within
//! the next 60 s. Several `run` processes may share one database and any may be killed at any
//! moment. Exit codes as for `publish` (2 for bad input).

#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cmis::meta::{FacebookPagePublisher, InstagramPublisher};
use cmis::scheduler::{Change, JobFilter, JobId, ScheduleStore, Scheduler};
use cmis::tiktok::{TikTokPublisher, TikTokRefresher};
use cmis::time::OffsetDateTime;
use cmis::{
    AccountRef, Credential, Error, Platform, Post, PostKey, Publisher, RefreshingTokenProvider,
    Result, SecretString, Target, TenantId, TikTokOptions,
};
use cmis_examples::cli::fail;
use cmis_examples::connectors::{
    bluesky_client, linkedin_client, meta_client, threads_client, tiktok_client, youtube_client,
};
use cmis_examples::db::open;
use cmis_examples::schedule_args::{Command, ScheduleArgs};

/// How far ahead `run --until-idle` looks for work.
const IDLE_HORIZON: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

async fn run() -> Result<()> {
    let args = ScheduleArgs::parse(std::env::args_os().skip(1))?;
    match args.command {
        Command::Account {
            tenant,
            platform,
            account,
            access_token,
            refresh_token,
            expires_in,
        } => {
            let db = open(&args.db).await?;
            let mut credential = Credential::new(
                AccountRef::new(TenantId::new(tenant.as_str()), platform, account.as_str()),
                SecretString::from(access_token),
            )
            .with_issued_at(OffsetDateTime::now_utc());
            if let Some(rt) = refresh_token {
                credential = credential.with_refresh_token(SecretString::from(rt));
            }
            if let Some(secs) = expires_in {
                credential = credential
                    .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(secs));
            }
            db.credentials.put_credential(credential).await?;
            Ok(())
        }
        Command::Add {
            tenant,
            platform,
            account,
            text,
            media,
            surface,
            privacy,
            at,
        } => {
            let mut post = Post::new();
            if let Some(text) = text {
                post = post.with_text(text);
            }
            for m in media {
                post = post.with_media(m);
            }
            match (platform, privacy) {
                (_, None) => {}
                (Platform::YouTube, Some(level)) => {
                    let privacy: cmis::YouTubePrivacy = level.as_str().parse()?;
                    if let cmis::YouTubePrivacy::Other(other) = &privacy {
                        return Err(Error::invalid_input(format!(
                            "--privacy for YouTube is public, unlisted or private, not {other:?}"
                        )));
                    }
                    post = post.with_youtube(cmis::YouTubeOptions::new().with_privacy(privacy));
                }
                (_, Some(level)) => {
                    post = post.with_tiktok(TikTokOptions::new().with_privacy_level(level));
                }
            }
            let target = Target::new(
                AccountRef::new(TenantId::new(tenant.as_str()), platform, account.as_str()),
                surface,
            );
            // Every rule the platform would enforce, before the post is stored.
            publisher(platform)?.validate(&target, &post).await?;
            let db = open(&args.db).await?;
            let now = OffsetDateTime::now_utc();
            let post_id = PostKey::new(format!(
                "cli-{}-{:08x}",
                now.unix_timestamp_nanos(),
                fastrand::u32(..)
            ));
            let jobs = db
                .jobs
                .schedule(
                    &TenantId::new(tenant),
                    &post_id,
                    &post,
                    &[target],
                    at.resolve(now),
                )
                .await?;
            for job in jobs {
                println!("{}", serde_json::json!({ "job_id": job.id.to_string() }));
            }
            Ok(())
        }
        Command::Run {
            workers,
            until_idle,
        } => run_scheduler(&args.db, workers, until_idle).await,
        Command::List { tenant } => {
            let db = open(&args.db).await?;
            for job in db
                .jobs
                .list(&TenantId::new(tenant), &JobFilter::all())
                .await?
            {
                let line = serde_json::json!({
                    "job_id": job.id.to_string(),
                    "state": job.state.as_str(),
                    "platform": job.target.platform().as_str(),
                    "account": job.target.account.account.as_str(),
                    "post_id": job.receipt.as_ref().map(|r| r.post_id.to_string()),
                    "attempts": job.attempts,
                    "last_error": job.last_error.as_ref().map(|e| format!("{}: {}", e.kind, e.message)),
                });
                println!("{line}");
            }
            Ok(())
        }
        Command::Cancel { tenant, job } => {
            let db = open(&args.db).await?;
            match db
                .jobs
                .cancel(&TenantId::new(tenant), JobId::new(job))
                .await?
            {
                Change::Applied(_) => Ok(()),
                Change::Refused(job) => Err(Error::invalid_input(format!(
                    "job {} is {} and cannot be cancelled",
                    job.id,
                    job.state.as_str()
                ))),
                _ => Err(Error::internal("unexpected answer from the store")),
            }
        }
        _ => Err(Error::invalid_input("unknown command")),
    }
}

fn publisher(platform: Platform) -> Result<Arc<dyn Publisher>> {
    Ok(match platform {
        Platform::Facebook => Arc::new(FacebookPagePublisher::new(meta_client()?)),
        Platform::Instagram => Arc::new(InstagramPublisher::new(meta_client()?)),
        Platform::TikTok => Arc::new(TikTokPublisher::new(tiktok_client()?.0)),
        Platform::Bluesky => Arc::new(cmis::bluesky::BlueskyPublisher::new(bluesky_client()?)),
        Platform::Threads => Arc::new(cmis::meta::ThreadsPublisher::new(threads_client()?)),
        Platform::LinkedIn => {
            Arc::new(cmis::linkedin::LinkedInPublisher::new(linkedin_client()?.0))
        }
        Platform::YouTube => Arc::new(cmis::youtube::YouTubePublisher::new(youtube_client()?.0)),
        other => {
            return Err(Error::invalid_input(format!(
                "platform {other} is not supported"
            )));
        }
    })
}

async fn run_scheduler(url: &str, workers: usize, until_idle: bool) -> Result<()> {
    let db = open(url).await?;
    let (tiktok, can_refresh) = tiktok_client()?;
    let mut tokens = RefreshingTokenProvider::builder(db.credentials.clone());
    if can_refresh {
        tokens = tokens.refresher(Arc::new(TikTokRefresher::new(tiktok.clone())));
    }
    let bluesky = bluesky_client()?;
    tokens = tokens.refresher(Arc::new(cmis::bluesky::BlueskyRefresher::new(
        bluesky.clone(),
    )));
    let threads = threads_client()?;
    tokens = tokens.refresher(Arc::new(cmis::meta::ThreadsTokenRefresher::new(
        threads.clone(),
    )));
    let (linkedin, linkedin_refresh) = linkedin_client()?;
    if linkedin_refresh {
        tokens = tokens.refresher(Arc::new(cmis::linkedin::LinkedInRefresher::new(
            linkedin.clone(),
        )));
    }
    let (youtube, youtube_refresh) = youtube_client()?;
    if youtube_refresh {
        tokens = tokens.refresher(Arc::new(cmis::youtube::GoogleTokenRefresher::new(
            youtube.clone(),
        )));
    }
    let meta = meta_client()?;
    let scheduler = Scheduler::builder(db.jobs.clone())
        .publisher(Arc::new(FacebookPagePublisher::new(meta.clone())))
        .publisher(Arc::new(InstagramPublisher::new(meta)))
        .publisher(Arc::new(TikTokPublisher::new(tiktok)))
        .publisher(Arc::new(cmis::bluesky::BlueskyPublisher::new(bluesky)))
        .publisher(Arc::new(cmis::meta::ThreadsPublisher::new(threads)))
        .publisher(Arc::new(cmis::linkedin::LinkedInPublisher::new(linkedin)))
        .publisher(Arc::new(cmis::youtube::YouTubePublisher::new(youtube)))
        .refreshing_tokens(tokens.build())
        .concurrency(workers)
        .poll_interval(Duration::from_millis(500))
        .build()?;
    let jobs = db.jobs.clone();
    let stop = async move {
        if until_idle {
            idle(&*jobs).await;
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    scheduler.run(stop).await
}

/// Returns once no job is due, running or retrying within the next minute (checked twice in a
/// row, so a job this process is still finishing is not missed).
async fn idle(jobs: &dyn ScheduleStore) {
    let mut quiet = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let horizon = OffsetDateTime::now_utc() + IDLE_HORIZON;
        match jobs.next_due().await {
            Ok(next) if next.is_none_or(|t| t > horizon) => quiet += 1,
            Ok(_) => quiet = 0,
            Err(err) => {
                eprintln!("warning [{}]: cannot read the queue: {err}", err.kind());
                quiet = 0;
            }
        }
        if quiet >= 2 {
            return;
        }
    }
}
