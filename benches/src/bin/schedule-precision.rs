//! How late the scheduler publishes: N jobs spread evenly over the next 60 s, a publisher that
//! notes the moment each call arrives, and the lateness between each job's due time and its
//! publish call. Prints `p50_ms=.. p99_ms=.. max_ms=..`.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin schedule-precision -- \
//!     --store sqlite|postgres --url URL --jobs N [--workers W] [--spread-secs S]
//! ```
//! SQLite: `--url` is a path to a new file. PostgreSQL: a fresh schema is created in the
//! database and dropped afterwards.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_benches::{BenchStore, NoTokens, run_bench};
use cmis_core::{
    AccountRef, Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostKey, PublishContext,
    Publisher, Receipt, Result, Surface, Target, TenantId,
};
use cmis_scheduler::{NewPost, ScheduleStore, Scheduler};
use time::OffsetDateTime;

struct Args {
    store: String,
    url: String,
    jobs: u64,
    workers: usize,
    spread: Duration,
}

fn parse() -> std::result::Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args {
        store: "sqlite".into(),
        url: String::new(),
        jobs: 10_000,
        workers: 64,
        spread: Duration::from_secs(60),
    };
    let mut p = lexopt::Parser::from_env();
    while let Some(arg) = p.next()? {
        match arg {
            Long("store") => args.store = p.value()?.string()?,
            Long("url") => args.url = p.value()?.string()?,
            Long("jobs") => args.jobs = p.value()?.parse()?,
            Long("workers") => args.workers = p.value()?.parse()?,
            Long("spread-secs") => args.spread = Duration::from_secs(p.value()?.parse()?),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(args)
}

/// Notes how late each call arrives; the due time travels in the post's text (Unix µs).
#[derive(Debug, Default)]
struct Stopwatch {
    calls: AtomicU64,
    late_us: Mutex<Vec<i64>>,
}

#[async_trait]
impl Publisher for Stopwatch {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 0, true)
    }
    async fn validate(&self, _: &Target, _: &Post) -> Result<()> {
        Ok(())
    }
    async fn publish(&self, target: &Target, post: &Post, _: &PublishContext) -> Result<Outcome> {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
        let due: i128 = post
            .text
            .as_deref()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| Error::invalid_input("the post's text is not a due time"))?;
        let late = i64::try_from(now - due).unwrap_or(i64::MAX);
        self.late_us
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(late);
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(Outcome::Published(Receipt::new(
            Platform::Facebook,
            target.account.account.clone(),
            cmis_core::PostId::new(format!("stopwatch-{n}")),
        )))
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        Err(Error::unsupported(
            "the stopwatch never leaves a job pending",
        ))
    }
}

/// The lateness percentiles in milliseconds: (p50, p99, max).
fn percentiles(mut late_us: Vec<i64>) -> Option<(f64, f64, f64)> {
    late_us.sort_unstable();
    let n = late_us.len();
    // Nearest rank: the smallest value with at least `per_cent` % of the samples at or below it.
    let at = |per_cent: usize| {
        let rank = (per_cent * n).div_ceil(100).clamp(1, n);
        late_us[rank - 1] as f64 / 1_000.0
    };
    (n > 0).then(|| (at(50), at(99), at(100)))
}

async fn measure(args: &Args, store: Arc<dyn ScheduleStore>) -> Result<(f64, f64, f64)> {
    let tenant = TenantId::new("bench");
    let target = Target::feed(AccountRef::new(
        TenantId::new("bench"),
        Platform::Facebook,
        "page",
    ));
    // Every job is enqueued before the first is due.
    let start = OffsetDateTime::now_utc() + Duration::from_secs(3);
    let step = args.spread.as_secs_f64() / args.jobs.max(1) as f64;
    let mut next = 0u64;
    while next < args.jobs {
        let end = (next + 10_000).min(args.jobs);
        let posts: Vec<_> = (next..end)
            .map(|i| {
                let due = start + Duration::from_secs_f64(step * i as f64);
                let due_us = due.unix_timestamp_nanos() / 1_000;
                // Stored instants have microsecond precision.
                let due = OffsetDateTime::from_unix_timestamp_nanos(due_us * 1_000).unwrap_or(due);
                NewPost::new(
                    PostKey::new(format!("p{i}")),
                    Post::new().with_text(due_us.to_string()),
                    vec![target.clone()],
                    due,
                )
            })
            .collect();
        store.schedule_many(&tenant, &posts).await?;
        next = end;
    }
    if OffsetDateTime::now_utc() > start {
        eprintln!("warning: enqueueing took longer than the 3 s head start");
    }
    eprintln!(
        "enqueued {} jobs over {} s",
        args.jobs,
        args.spread.as_secs()
    );

    let watch = Arc::new(Stopwatch::default());
    let scheduler = Scheduler::builder(Arc::clone(&store))
        .publisher(watch.clone())
        .tokens(Arc::new(NoTokens))
        .concurrency(args.workers)
        .build()?;
    let jobs = args.jobs;
    let watched = Arc::clone(&watch);
    scheduler
        .run(async move {
            while watched.calls.load(Ordering::Relaxed) < jobs {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await?;
    let late = std::mem::take(&mut *watch.late_us.lock().unwrap_or_else(|p| p.into_inner()));
    if late.len() as u64 != jobs {
        return Err(Error::internal(format!(
            "{} publish calls for {jobs} jobs",
            late.len()
        )));
    }
    percentiles(late).ok_or_else(|| Error::invalid_input("--jobs must be at least 1"))
}

async fn main_async(args: Args) -> Result<String> {
    let bench = BenchStore::open(&args.store, &args.url, 8).await?;
    let result = measure(&args, Arc::clone(&bench.store)).await;
    bench.close().await;
    let (p50, p99, max) = result?;
    Ok(format!("p50_ms={p50:.3} p99_ms={p99:.3} max_ms={max:.3}"))
}

fn main() -> ExitCode {
    run_bench(
        "schedule-precision",
        "schedule-precision --store sqlite|postgres --url URL --jobs N [--workers W] [--spread-secs S]",
        parse,
        main_async,
    )
}
