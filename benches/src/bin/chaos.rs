//! The chaos soak: N posts to Facebook, Instagram and TikTok accounts of several tenants,
//! published by several scheduler processes through the real connectors against the sandbox,
//! which injects a fraction of faults into every call (5xx before and after the platform
//! accepted, rate limits with usage headers, timeouts before and after acceptance, expired
//! tokens, slow processing, dropped connections before and after acceptance); workers are
//! killed with SIGKILL K times at random moments and restarted. Once every job has settled,
//! the sandbox's own record of what was published is reconciled with the store, and one line is
//! printed:
//!
//! ```text
//! posts=N published=P failed=F unknown=U missed=M lost=L duplicated=D seconds=S notified=T notify_lost=X
//! ```
//!
//! - `lost`: jobs that never settled, or that the store calls published although the platform
//!   has no such post.
//! - `duplicated`: posts that reached a platform more than once (each post's text carries a
//!   marker with its id, read back from the sandbox's record).
//! - `unknown`: jobs parked in `unknown_outcome` (the platform cannot tell, such as a Facebook
//!   post whose response was lost); each is listed on stderr with its reason and what the
//!   sandbox's record shows.
//!
//! - `notified`: notifications the webhook receiver acknowledged (each delivery id once);
//!   `notify_lost`: published, failed and missed posts of which the receiver acknowledged no
//!   notification once the outbox drained (each listed on stderr as `NOTIFY_LOST`). Both are 0
//!   without `--notifier`.
//!
//! A post whose publish call started before its scheduled time (on the true clock, whatever a
//! worker's skewed clock said) is listed on stderr as `EARLY`.
//!
//! The exit code is 1 when anything was lost, duplicated, published early or left untold
//! (`notify_lost`), 2 on bad arguments or setup errors.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin chaos -- --store sqlite|postgres [--url URL] \
//!     --posts N --fault-rate F --kills K [--workers W] [--seed S] [--timeout SECS] [--keep] \
//!     [--db-faults RATE] [--notifier ok|slow|hang] [--clock-skew SECONDS]
//! ```
//!
//! - `--db-faults RATE` (default 0): inside each worker, RATE of the store's calls fail, half
//!   before reaching the database and half after it (the write happened, the answer was lost);
//!   SQLite answers `database is locked`/`database table is locked`, PostgreSQL a terminated
//!   or reset connection. From outside, every second, each of the workers' PostgreSQL
//!   connections is terminated with probability RATE (`pg_terminate_backend`); on SQLite the
//!   parent holds the write lock (`BEGIN IMMEDIATE`) for 0.1 to 1 s with probability 4 × RATE.
//! - `--notifier MODE`: workers deliver notifications through the durable outbox to a Standard
//!   Webhooks receiver the parent runs on 127.0.0.1, which verifies every request and answers
//!   at once (`ok`), after 30 s (`slow`), or not at all until every post is terminal (`hang`).
//!   Attempts time out after 5 s (40 s for `slow`); retries back off to at most 5 s. Once every
//!   post is terminal the workers keep delivering until the outbox is empty (at most 150 s;
//!   300 s for `slow`).
//! - `--clock-skew S` (default 0): the clocks of the workers' schedulers and stores are off by
//!   +S, -S, +S, ... seconds; the connectors keep the true clock, as their reconcile windows
//!   are compared with the platform's.
//!
//! SQLite: `--url` is a path (a new file in a temporary directory by default). PostgreSQL:
//! `--url` (or `CMIS_TEST_POSTGRES_URL`); the soak runs in a schema of its own, dropped
//! afterwards. What a person would do is done by an operator loop: reconnect an account whose
//! token was refused for good, and check again an unknown outcome whose check failed (never
//! publish it again).

#[path = "../chaos/mod.rs"]
mod chaos;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chaos::db::StoreKind;
use chaos::receiver::Mode;
use chaos::run::{Config, run};
use cmis_core::{Error, Result};

fn parse() -> Result<Option<Config>> {
    use lexopt::prelude::*;
    let bad = |e: lexopt::Error| Error::invalid_input(e.to_string());
    let mut store = None;
    let mut cfg = Config {
        store: StoreKind::Sqlite,
        url: None,
        posts: 1000,
        fault_rate: 0.2,
        kills: 3,
        workers: 3,
        seed: fastrand::u64(..),
        timeout: Duration::from_secs(1800),
        keep: false,
        db_faults: 0.0,
        notifier: None,
        clock_skew: 0,
    };
    let mut p = lexopt::Parser::from_env();
    while let Some(arg) = p.next().map_err(bad)? {
        match arg {
            Long("worker") => return Ok(None),
            Long("store") => {
                store = Some(StoreKind::parse(
                    &p.value().map_err(bad)?.string().map_err(bad)?,
                )?);
            }
            Long("url") => cfg.url = Some(p.value().map_err(bad)?.string().map_err(bad)?),
            Long("posts") => cfg.posts = p.value().map_err(bad)?.parse().map_err(bad)?,
            Long("fault-rate") => cfg.fault_rate = p.value().map_err(bad)?.parse().map_err(bad)?,
            Long("kills") => cfg.kills = p.value().map_err(bad)?.parse().map_err(bad)?,
            Long("workers") => cfg.workers = p.value().map_err(bad)?.parse().map_err(bad)?,
            Long("seed") => cfg.seed = p.value().map_err(bad)?.parse().map_err(bad)?,
            Long("timeout") => {
                cfg.timeout = Duration::from_secs(p.value().map_err(bad)?.parse().map_err(bad)?);
            }
            Long("keep") => cfg.keep = true,
            Long("db-faults") => cfg.db_faults = p.value().map_err(bad)?.parse().map_err(bad)?,
            Long("notifier") => {
                cfg.notifier = Some(Mode::parse(
                    &p.value().map_err(bad)?.string().map_err(bad)?,
                )?);
            }
            Long("clock-skew") => cfg.clock_skew = p.value().map_err(bad)?.parse().map_err(bad)?,
            _ => return Err(bad(arg.unexpected())),
        }
    }
    cfg.store = store.ok_or_else(|| Error::invalid_input("--store sqlite|postgres is required"))?;
    if !(0.0..=1.0).contains(&cfg.fault_rate) {
        return Err(Error::invalid_input("--fault-rate must be between 0 and 1"));
    }
    if !(0.0..=1.0).contains(&cfg.db_faults) {
        return Err(Error::invalid_input("--db-faults must be between 0 and 1"));
    }
    if cfg.posts == 0 || cfg.workers == 0 {
        return Err(Error::invalid_input(
            "--posts and --workers must be at least 1",
        ));
    }
    Ok(Some(cfg))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))
}

fn main() -> ExitCode {
    let cfg = match parse() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("chaos: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(cfg) = cfg else {
        // Worker mode: logs (warnings and errors) go to stderr, which the parent files.
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(std::io::stderr)
            .init();
        return match rt.block_on(chaos::worker::run()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chaos worker: {e}");
                ExitCode::from(2)
            }
        };
    };
    match rt.block_on(run(cfg)) {
        Ok(outcome) => {
            let r = &outcome.report;
            let line = format!(
                "posts={} published={} failed={} unknown={} missed={} lost={} duplicated={} seconds={:.1} notified={} notify_lost={}",
                r.posts,
                r.published,
                r.failed,
                r.unknown,
                r.missed,
                r.lost,
                r.duplicated,
                outcome.seconds,
                outcome.notified,
                outcome.notify_lost
            );
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
            if outcome.failed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("chaos: {e}");
            ExitCode::from(2)
        }
    }
}
