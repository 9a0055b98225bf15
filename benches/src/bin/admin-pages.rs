//! The dashboard on a large store (issue 17): fills a fresh PostgreSQL schema with N jobs (half
//! of them one big tenant's, the rest spread over 99 tenants; 60 % published, 20 % scheduled,
//! 1 % failed, the rest in the other states; finished jobs older than a week in history), then
//! asks the cmis-admin router over HTTP, as the big tenant, for the jobs page filtered by state
//! and for the overview, and prints
//! `jobs=N failed_p95_ms=.. published_p95_ms=.. next_page_p95_ms=.. overview_p95_ms=..`.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin admin-pages -- --url URL [--jobs N] [--requests R] \
//!     [--keep]
//! ```
//! `--keep` leaves the schema in place for `EXPLAIN (ANALYZE, BUFFERS)`.
//! Targets: the filtered jobs page under 100 ms and the overview under 200 ms at p95 with
//! 1 000 000 jobs.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cmis_admin::{AdminRouter, Principal};
use cmis_core::{Error, Post, Result, TenantId};
use cmis_scheduler::PgStore;
use cmis_scheduler::admin::Admin;
use sqlx::Connection;

struct Args {
    url: String,
    jobs: u64,
    requests: usize,
    keep: bool,
}

fn parse() -> std::result::Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args {
        url: String::new(),
        jobs: 1_000_000,
        requests: 40,
        keep: false,
    };
    let mut p = lexopt::Parser::from_env();
    while let Some(arg) = p.next()? {
        match arg {
            Long("url") => args.url = p.value()?.string()?,
            Long("jobs") => args.jobs = p.value()?.parse()?,
            Long("requests") => args.requests = p.value()?.parse()?,
            Long("keep") => args.keep = true,
            _ => return Err(arg.unexpected()),
        }
    }
    if args.url.is_empty() {
        return Err("--url must name a PostgreSQL database".into());
    }
    Ok(args)
}

fn db(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("database: {e}"))
}

/// Fills the schema with `n` jobs in one statement per table.
async fn fill(url: &str, schema: &str, n: u64) -> Result<()> {
    let post = serde_json::to_string(&Post::new().with_text("A post from the benchmark"))
        .map_err(|e| Error::internal(e.to_string()))?;
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(db)?;
    sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO {schema}")))
        .execute(&mut conn)
        .await
        .map_err(db)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
    // Row i: tenant, platform, account, state and times derived from i; 90 days of history.
    let rows = "SELECT CASE WHEN i % 2 = 0 THEN 'big' ELSE 't' || (i % 99) END AS tenant, \
         'p' || i AS post_id, \
         (ARRAY['facebook','instagram','tiktok','linkedin'])[1 + i % 4] AS platform, \
         'acct' || (i % 50) AS account, 'feed' AS surface, $1::text AS post, \
         CASE WHEN i % 100 < 60 THEN 'published' WHEN i % 100 < 80 THEN 'scheduled' \
              WHEN i % 100 = 80 THEN 'failed' WHEN i % 100 < 85 THEN 'retry_scheduled' \
              WHEN i % 100 < 90 THEN 'cancelled' WHEN i % 100 < 92 THEN 'unknown_outcome' \
              WHEN i % 100 < 94 THEN 'awaiting_reauth' ELSE 'missed' END AS state, \
         $2::bigint - (i::bigint * 7776000000000 / $3::bigint) AS t \
         FROM generate_series(1, $3::bigint) AS i";
    let finished = "state IN ('published', 'failed', 'missed', 'cancelled')";
    let week = 7 * 86_400 * 1_000_000_i64;
    for (table, which) in [
        (
            "jobs_history",
            format!("{finished} AND t < $2::bigint - {week}"),
        ),
        (
            "jobs",
            format!("NOT ({finished} AND t < $2::bigint - {week})"),
        ),
    ] {
        let sql = format!(
            "INSERT INTO {table} (id, tenant, post_id, platform, account, surface, post, state, \
             scheduled_for, run_at, attempts, last_error_kind, last_error, created_at, updated_at) \
             OVERRIDING SYSTEM VALUE \
             SELECT row_number() OVER (ORDER BY t) + {offset}, tenant, post_id, platform, account, surface, \
             post, state, t, CASE WHEN state IN ('scheduled', 'retry_scheduled', 'unknown_outcome') \
             THEN $2::bigint + 86400000000 END, 1, \
             CASE WHEN state IN ('failed', 'retry_scheduled', 'unknown_outcome', 'awaiting_reauth', \
             'missed') THEN 'transient' END, \
             CASE WHEN state = 'failed' THEN 'timed out: ' || post_id END, t, t \
             FROM ({rows}) AS r WHERE {which}",
            offset = if table == "jobs" { n } else { 0 },
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&post)
            .bind(now)
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .execute(&mut conn)
            .await
            .map_err(db)?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT setval(pg_get_serial_sequence('{schema}.jobs', 'id'), {})",
        2 * n + 1
    )))
    .execute(&mut conn)
    .await
    .map_err(db)?;
    // What the cleanup keeps when it moves jobs to history (this fill writes history itself).
    sqlx::query(
        "INSERT INTO jobs_history_counts (tenant, platform, state, n) \
         SELECT tenant, platform, state, COUNT(*) FROM jobs_history GROUP BY tenant, platform, state",
    )
    .execute(&mut conn)
    .await
    .map_err(db)?;
    sqlx::query("VACUUM ANALYZE")
        .execute(&mut conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// The p95 of `requests` GETs of `url`, in milliseconds.
async fn p95(client: &reqwest::Client, url: &str, requests: usize) -> Result<f64> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..=requests {
        let start = Instant::now();
        let r = client
            .get(url)
            .send()
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        if !r.status().is_success() {
            return Err(Error::internal(format!("{url}: {}", r.status())));
        }
        let _ = r.bytes().await;
        if i > 0 {
            // The first request warms the connection and the caches.
            times.push(start.elapsed());
        }
    }
    times.sort();
    let at = (times.len() * 95).div_ceil(100).saturating_sub(1);
    Ok(times
        .get(at)
        .copied()
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
        * 1000.0)
}

async fn run(args: Args) -> Result<String> {
    let schema = format!("cmis_admin_bench_{}", std::process::id());
    let store = Arc::new(
        PgStore::builder(&args.url)
            .schema(&schema)
            .max_connections(8)
            .build()
            .await?,
    );
    let result = measure(&args, &schema, &store).await;
    if args.keep {
        eprintln!("kept schema {schema} (drop it with DROP SCHEMA {schema} CASCADE)");
    } else if let Err(e) = store.drop_schema().await {
        eprintln!("could not drop schema {schema}: {e}");
    }
    result
}

async fn measure(args: &Args, schema: &str, store: &Arc<PgStore>) -> Result<String> {
    let started = Instant::now();
    fill(&args.url, schema, args.jobs).await?;
    eprintln!(
        "filled {} jobs in {:.1} s",
        args.jobs,
        started.elapsed().as_secs_f64()
    );
    let admin = Admin::new(store.clone()).with_credentials(store.clone());
    // Where an overview's time goes, call by call (on standard error).
    let scope = cmis_scheduler::admin::Scope::tenant(TenantId::new("big"));
    let now = time::OffsetDateTime::now_utc();
    let day = cmis_scheduler::admin::JobQuery::new()
        .state(cmis_scheduler::JobState::Published)
        .finished(cmis_scheduler::admin::TimeRange::since(
            now - time::Duration::days(1),
        ))
        .with_limit(cmis_scheduler::admin::JobQuery::MAX_LIMIT);
    for _ in 0..8 {
        let t = Instant::now();
        admin.counts(&scope).await?;
        let counts = t.elapsed();
        let t = Instant::now();
        admin.accounts_at_risk(&scope, now).await?;
        let risk = t.elapsed();
        let t = Instant::now();
        admin.jobs(&scope, &day).await?;
        eprintln!(
            "overview parts: counts {counts:?}, accounts at risk {risk:?}, last day {:?}",
            t.elapsed()
        );
    }
    let router = AdminRouter::builder(admin)
        .authorizer(|_: &axum::http::request::Parts| {
            Some(Principal::tenant("bench", TenantId::new("big")))
        })
        .build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(e.to_string()))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let client = cmis_http::client_builder()?
        .build()
        .map_err(|e| Error::internal(e.to_string()))?;
    let base = format!("http://{addr}");
    let n = args.requests;
    let failed = p95(&client, &format!("{base}/jobs?state=failed"), n).await?;
    let published = p95(&client, &format!("{base}/jobs?state=published"), n).await?;
    let middle = args.jobs / 2 * 2;
    let next = p95(
        &client,
        &format!("{base}/jobs?state=failed&before={middle}"),
        n,
    )
    .await?;
    let overview = p95(&client, &format!("{base}/"), n).await?;
    if args.keep {
        eprintln!("serving {base}/ until interrupted (--keep)");
        tokio::time::sleep(Duration::from_secs(300)).await;
    }
    Ok(format!(
        "jobs={} failed_p95_ms={failed:.1} published_p95_ms={published:.1} \
         next_page_p95_ms={next:.1} overview_p95_ms={overview:.1}",
        args.jobs
    ))
}

fn main() -> ExitCode {
    cmis_benches::run_bench(
        "admin-pages",
        "admin-pages --url URL [--jobs N] [--requests R] [--keep]",
        parse,
        run,
    )
}
