//! Secrets never appear in `Debug` output, error texts or `tracing` output (captured at TRACE).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccessToken, AccountRef, AuditSink, Credential, CredentialStore, Error, MemoryCredentialStore,
    MemoryNotifier, Platform, RefreshedToken, RefreshingTokenProvider, Result, SecretString,
    TokenProvider, TokenRefresher, TokioClock, TracingAuditSink, TracingNotifier,
};
use time::macros::datetime;
use tracing_subscriber::fmt::MakeWriter;

const OLD_ACCESS: &str = "OLD-ACCESS-7f3a9c";
const OLD_REFRESH: &str = "OLD-REFRESH-51be20";
const NEW_ACCESS: &str = "NEW-ACCESS-c0ffee";
const NEW_REFRESH: &str = "NEW-REFRESH-d00d42";
const ALL: [&str; 4] = [OLD_ACCESS, OLD_REFRESH, NEW_ACCESS, NEW_REFRESH];

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

struct Refresher {
    fail: bool,
}

#[async_trait]
impl TokenRefresher for Refresher {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }
    async fn refresh(&self, _: &Credential) -> Result<RefreshedToken> {
        if self.fail {
            return Err(Error::auth("refresh token is invalid").with_platform_code("invalid_grant"));
        }
        Ok(RefreshedToken::new(SecretString::from(NEW_ACCESS))
            .with_refresh_token(SecretString::from(NEW_REFRESH))
            .with_expires_in(Duration::from_secs(86_400)))
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in ALL {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
}

#[tokio::test(start_paused = true)]
async fn no_secret_in_trace_logs_debug_output_or_errors() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t0 = datetime!(2026-11-25 12:00 UTC);
    let account = AccountRef::new(cmis_core::TenantId::new("t"), Platform::TikTok, "open-1");
    let credential = Credential::new(account.clone(), SecretString::from(OLD_ACCESS))
        .with_refresh_token(SecretString::from(OLD_REFRESH))
        .with_access_expires_at(t0 + Duration::from_secs(30));
    let mut debug_texts = vec![format!("{credential:?}"), format!("{credential:#?}")];

    for fail in [false, true] {
        let store = Arc::new(MemoryCredentialStore::new());
        store.put_credential(credential.clone()).await.unwrap();
        let provider = RefreshingTokenProvider::builder(store.clone())
            .refresher(Arc::new(Refresher { fail }))
            .notifier(Arc::new(TracingNotifier))
            .audit(Arc::new(TracingAuditSink))
            .clock(Arc::new(TokioClock::starting_at(t0)))
            .build();
        debug_texts.push(format!("{provider:?}"));
        match provider.access_token(&account).await {
            Ok(token) => {
                debug_texts.push(format!("{token:?}"));
                provider.invalidate(&account, &token).await;
                let again: AccessToken = provider.access_token(&account).await.unwrap();
                debug_texts.push(format!("{again:#?}"));
            }
            Err(err) => {
                debug_texts.push(format!("{err:?}"));
                debug_texts.push(err.to_string());
            }
        }
        let stored = store.credential(&account).await.unwrap().unwrap();
        debug_texts.push(format!("{stored:?}"));
    }
    let refreshed = RefreshedToken::new(SecretString::from(NEW_ACCESS))
        .with_refresh_token(SecretString::from(NEW_REFRESH));
    debug_texts.push(format!("{refreshed:?}"));
    TracingAuditSink
        .record(&cmis_core::AuditRecord::for_account(
            &account,
            "token.refreshed",
        ))
        .await
        .unwrap();
    cmis_core::Notifier::notify(
        &MemoryNotifier::new(),
        &cmis_core::Notification::for_account(
            &account,
            cmis_core::NotificationKind::ReauthRequired,
            "x",
        ),
    )
    .await
    .unwrap();

    for text in &debug_texts {
        assert_clean("Debug/Display", text);
    }
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // The capture really captured the flows: refresh audits, the reauth notification.
    assert!(logs.contains("token.refreshed"), "{logs}");
    assert!(logs.contains("reauth_required"), "{logs}");
    assert_clean("tracing output", &logs);
}
