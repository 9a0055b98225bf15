//! Drains N jobs due now through the full scheduler path (batched claim with lease and fencing
//! token, start record, a no-op publisher, batched fenced completion with its audit record) and
//! prints `jobs=N seconds=S jobs_per_sec=R`.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin queue-drain -- \
//!     --store sqlite|postgres --url URL --jobs N --workers W [--batch B] [--schedulers L]
//! ```
//! SQLite: `--url` is a path to a new file. PostgreSQL: a fresh schema is created in the
//! database and dropped afterwards.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cmis_benches::{BenchStore, NoTokens, run_bench};
use cmis_core::{
    AccountRef, Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostId, PublishContext,
    Publisher, Receipt, Result, Surface, Target, TenantId,
};
use cmis_scheduler::{JobFilter, JobState, NewPost, ScheduleStore, Scheduler};

struct Args {
    store: String,
    url: String,
    jobs: u64,
    workers: usize,
    batch: usize,
    schedulers: usize,
}

fn parse() -> std::result::Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args {
        store: "sqlite".into(),
        url: String::new(),
        jobs: 100_000,
        workers: 256,
        batch: 512,
        schedulers: 1,
    };
    let mut p = lexopt::Parser::from_env();
    while let Some(arg) = p.next()? {
        match arg {
            Long("store") => args.store = p.value()?.string()?,
            Long("url") => args.url = p.value()?.string()?,
            Long("jobs") => args.jobs = p.value()?.parse()?,
            Long("workers") => args.workers = p.value()?.parse()?,
            Long("batch") => args.batch = p.value()?.parse()?,
            Long("schedulers") => args.schedulers = p.value()?.parse()?,
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(args)
}

/// Publishes nothing and answers at once, counting calls.
#[derive(Debug, Default)]
struct Noop {
    calls: AtomicU64,
}

#[async_trait]
impl Publisher for Noop {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 10, true)
    }
    async fn validate(&self, _: &Target, _: &Post) -> Result<()> {
        Ok(())
    }
    async fn publish(&self, target: &Target, _: &Post, _: &PublishContext) -> Result<Outcome> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(Outcome::Published(Receipt::new(
            Platform::Facebook,
            target.account.account.clone(),
            PostId::new(format!("noop-{n}")),
        )))
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        Err(Error::unsupported(
            "the no-op publisher never leaves a job pending",
        ))
    }
}

async fn drain(args: &Args, store: Arc<dyn ScheduleStore>) -> Result<f64> {
    let tenant = TenantId::new("bench");
    let target = Target::feed(AccountRef::new("bench", Platform::Facebook, "page"));
    let now = time::OffsetDateTime::now_utc();
    let mut next = 0u64;
    while next < args.jobs {
        let end = (next + 10_000).min(args.jobs);
        let posts: Vec<_> = (next..end)
            .map(|i| {
                NewPost::new(
                    PostId::new(format!("p{i}")),
                    Post::new().with_text("bench"),
                    vec![target.clone()],
                    now,
                )
            })
            .collect();
        store.schedule_many(&tenant, &posts).await?;
        next = end;
    }
    eprintln!("enqueued {} jobs", args.jobs);

    let noop = Arc::new(Noop::default());
    // `--schedulers` scheduler loops share the workers, so claims and completions of one loop
    // overlap another's round trips (every loop is a worker of its own, as separate processes
    // would be).
    let loops = args.schedulers.max(1);
    let mut schedulers = Vec::with_capacity(loops);
    for _ in 0..loops {
        schedulers.push(
            Scheduler::builder(Arc::clone(&store))
                .publisher(noop.clone())
                .tokens(Arc::new(NoTokens))
                .concurrency((args.workers / loops).max(1))
                .batch_size(args.batch)
                .poll_interval(Duration::from_millis(50))
                .maintenance(false)
                .build()?,
        );
    }
    let jobs = args.jobs;
    let started = Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for scheduler in schedulers {
        let watched = Arc::clone(&noop);
        runs.spawn(async move {
            scheduler
                .run(async move {
                    // Stop once every job was handed to the publisher; `run` then writes every
                    // outstanding completion before it returns, so the clock covers all of them.
                    while watched.calls.load(Ordering::Relaxed) < jobs {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                })
                .await
        });
    }
    while let Some(result) = runs.join_next().await {
        result.map_err(|e| Error::internal(format!("a scheduler task failed: {e}")))??;
    }
    let seconds = started.elapsed().as_secs_f64();

    let limit = u32::try_from(jobs + 1).unwrap_or(u32::MAX);
    let published = store
        .list(
            &tenant,
            &JobFilter::state(JobState::Published).with_limit(limit),
        )
        .await?
        .len() as u64;
    let calls = noop.calls.load(Ordering::Relaxed);
    if published != jobs || calls != jobs {
        return Err(Error::internal(format!(
            "{published} jobs published and {calls} publisher calls for {jobs} jobs"
        )));
    }
    Ok(seconds)
}

async fn main_async(args: Args) -> Result<String> {
    let bench = BenchStore::open(&args.store, &args.url, 8).await?;
    let result = drain(&args, Arc::clone(&bench.store)).await;
    bench.close().await;
    let seconds = result?;
    let jobs = args.jobs;
    let rate = jobs as f64 / seconds;
    Ok(format!(
        "jobs={jobs} seconds={seconds:.3} jobs_per_sec={rate:.0}"
    ))
}

fn main() -> ExitCode {
    run_bench(
        "queue-drain",
        "queue-drain --store sqlite|postgres --url URL --jobs N --workers W [--batch B] [--schedulers L]",
        parse,
        main_async,
    )
}
