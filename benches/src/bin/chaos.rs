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
//! posts=N published=P failed=F unknown=U missed=M lost=L duplicated=D seconds=S
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
//! The exit code is 1 when anything was lost or duplicated, 2 on bad arguments or setup errors.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin chaos -- --store sqlite|postgres [--url URL] \
//!     --posts N --fault-rate F --kills K [--workers W] [--seed S] [--timeout SECS] [--keep]
//! ```
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
            _ => return Err(bad(arg.unexpected())),
        }
    }
    cfg.store = store.ok_or_else(|| Error::invalid_input("--store sqlite|postgres is required"))?;
    if !(0.0..=1.0).contains(&cfg.fault_rate) {
        return Err(Error::invalid_input("--fault-rate must be between 0 and 1"));
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
                "posts={} published={} failed={} unknown={} missed={} lost={} duplicated={} seconds={:.1}",
                r.posts,
                r.published,
                r.failed,
                r.unknown,
                r.missed,
                r.lost,
                r.duplicated,
                outcome.seconds
            );
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
            if r.lost > 0 || r.duplicated > 0 {
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
