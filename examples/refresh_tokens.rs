//! The token-refresh sweep, once: refreshes every stored credential that expires within the
//! window (7 days by default), storing rotated refresh tokens before use, and reports each
//! account as one JSON line.
//!
//! ```text
//! cargo run -q --example refresh-tokens -- --db sqlite://PATH|postgres://... [--window-days N]
//! ```
//!
//! Reads `CMIS_SECRET_KEY` and the same base-URL and app-credential variables as `publish`
//! (`CMIS_INSTAGRAM_LOGIN=instagram` for Instagram-Login tokens). Each line has `tenant`,
//! `platform`, `account`, `status` (`refreshed`, `unchanged` or `failed`), `expires_at` and
//! `error`. A refresh that fails while the old token is still valid is reported as `failed` (the
//! old token keeps working until it expires). Exit codes: 0 when no refresh failed, else the code of the first failure as for
//! `publish` (3: an account must be re-authorised).

#![allow(clippy::print_stdout)]

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cmis::meta::{FacebookTokenRefresher, InstagramLoginRefresher};
use cmis::tiktok::TikTokRefresher;
use cmis::time::OffsetDateTime;
use cmis::time::format_description::well_known::Rfc3339;
use cmis::{Error, MemoryNotifier, Platform, RefreshingTokenProvider, Result};
use cmis_examples::cli::{env, exit_code, fail, usage_error};
use cmis_examples::connectors::{meta_client, tiktok_client};
use cmis_examples::db::open;

const USAGE: &str = "usage: refresh-tokens --db sqlite://PATH|postgres://... [--window-days N]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => ExitCode::from(code),
        Err(err) => fail(&err),
    }
}

fn parse() -> Result<(String, u64)> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let (mut db, mut days) = (None, 7u64);
    let bad = |e| usage_error(e, USAGE);
    while let Some(arg) = parser.next().map_err(bad)? {
        match arg {
            Long("db") => db = Some(text(parser.value().map_err(bad)?)?),
            Long("window-days") => {
                let v = text(parser.value().map_err(bad)?)?;
                days = v.parse().map_err(|_| {
                    Error::invalid_input(format!("--window-days takes a number, not {v:?}"))
                })?;
            }
            Long("help") | Short('h') => return Err(Error::invalid_input(USAGE)),
            other => return Err(bad(other.unexpected())),
        }
    }
    let db = db.ok_or_else(|| Error::invalid_input(format!("--db is required\n{USAGE}")))?;
    Ok((db, days))
}

fn text(v: OsString) -> Result<String> {
    v.into_string()
        .map_err(|v| Error::invalid_input(format!("argument {v:?} is not valid UTF-8")))
}

async fn run() -> Result<u8> {
    let (db, days) = parse()?;
    let store = open(&db).await?.credentials;
    let meta = meta_client()?;
    let (tiktok, can_refresh) = tiktok_client()?;
    let instagram: Arc<dyn cmis::TokenRefresher> = match env("CMIS_INSTAGRAM_LOGIN").as_deref() {
        Some("instagram") => Arc::new(InstagramLoginRefresher::new(meta.clone())),
        _ => Arc::new(FacebookTokenRefresher::new(meta.clone()).for_platform(Platform::Instagram)),
    };
    let mut builder = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(FacebookTokenRefresher::new(meta)))
        .refresher(instagram)
        .notifier(Arc::new(MemoryNotifier::new()));
    if can_refresh {
        builder = builder.refresher(Arc::new(TikTokRefresher::new(tiktok)));
    }
    let provider = builder.build();

    let window = Duration::from_secs(days.saturating_mul(86_400));
    let accounts = store
        .expiring_before(OffsetDateTime::now_utc() + window)
        .await?;
    let mut code = 0u8;
    for account in accounts {
        let before = store.credential(&account).await?.map(|c| c.version);
        let result = provider.refresh_if_expiring_within(&account, window).await;
        let (status, expires_at, error) = match &result {
            Ok(token) if Some(token.version) != before => ("refreshed", token.expires_at, None),
            Ok(token) => ("unchanged", token.expires_at, None),
            Err(err) => {
                if code == 0 {
                    code = exit_code(err.kind());
                }
                ("failed", None, Some(format!("{}: {err}", err.kind())))
            }
        };
        println!(
            "{}",
            serde_json::json!({
                "tenant": account.tenant.as_str(),
                "platform": account.platform.as_str(),
                "account": account.account.as_str(),
                "status": status,
                "expires_at": expires_at.and_then(|t| t.format(&Rfc3339).ok()),
                "error": error,
            })
        );
    }
    Ok(code)
}
