//! The quickstart: what cmis does today, offline, in one command.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It composes a post, stores an account's credential, asks the refreshing token provider for a
//! token, then plays what happens when the platform rejects that token and no refresh is possible:
//! the provider refuses to hand out a dead token, asks for re-authorisation through the notifier,
//! and writes an audit record. Finally it shows the retry policy refusing to repeat a publish whose
//! outcome is unknown. Every line it prints is JSON. Nothing leaves the machine, and no token or id
//! is invented: the connectors and the sandbox platforms (later issues) make the real calls.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cmis_core::time::{OffsetDateTime, format_description::well_known::Rfc3339};
use cmis_core::{
    AccountRef, Credential, CredentialStore, Error, ErrorKind, MemoryAuditSink,
    MemoryCredentialStore, MemoryNotifier, Platform, Post, PrivacyLevel, RefreshingTokenProvider,
    RetryPolicy, SecretString, Target, TikTokOptions, TokenProvider,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Compose once.
    let post = Post::new()
        .with_text("Autumn menu is here 🍂 #food #autumn")
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));
    println!(
        "{}",
        serde_json::json!({ "step": "compose", "post": serde_json::to_value(&post)? })
    );

    // 2. Store a credential for a TikTok account.
    let store = Arc::new(MemoryCredentialStore::new());
    let account = AccountRef::new("demo-tenant", Platform::TikTok, "open-id-demo");
    store
        .put(
            Credential::new(
                account.clone(),
                SecretString::from("token-from-your-oauth-flow"),
            )
            .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(86_400))
            .with_scopes(["video.publish"]),
        )
        .await?;

    // 3. A connector asks for a token before each call.
    let notifier = Arc::new(MemoryNotifier::new());
    let audit = Arc::new(MemoryAuditSink::new());
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .notifier(notifier.clone())
        .audit(audit.clone())
        .build();
    let token = tokens.access_token(&account).await?;
    println!(
        "{}",
        serde_json::json!({
            "step": "token",
            "account": account.to_string(),
            "version": token.version,
            "expires_at": token.expires_at.map(|t| t.format(&Rfc3339)).transpose()?,
            "scopes": token.scopes,
        })
    );

    // The platform answers 401: the connector invalidates the token. With no refresher registered
    // for TikTok here, the provider cannot refresh, so it asks for re-authorisation instead of
    // handing the dead token out again.
    tokens.invalidate(&account, &token).await;
    let err = tokens
        .access_token(&account)
        .await
        .expect_err("a rejected token without a refresher is never reused");
    println!(
        "{}",
        serde_json::json!({
            "step": "rejected_token",
            "error_kind": err.kind().as_str(),
            "notifications": notifier.notifications().iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
            "audit": audit.records().iter().map(|r| r.action.clone()).collect::<Vec<_>>(),
        })
    );

    // 4. Retry only what is safe: a transient failure is retried, an unknown outcome is not.
    let policy = RetryPolicy::default().with_base(Duration::from_millis(10));
    let attempts = AtomicU32::new(0);
    let result: Result<(), Error> = policy
        .run(|_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async {
                Err(Error::unknown_outcome(
                    "timed out after the request was sent",
                ))
            }
        })
        .await;
    let kind = result.err().map(|e| e.kind());
    println!(
        "{}",
        serde_json::json!({
            "step": "retry",
            "target": Target::feed(account).to_string(),
            "attempts": attempts.load(Ordering::SeqCst),
            "error_kind": kind.map(ErrorKind::as_str),
        })
    );
    Ok(())
}
