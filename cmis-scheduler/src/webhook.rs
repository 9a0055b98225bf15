//! `WebhookNotifier`: notifications as signed JSON POSTs to the embedding program's endpoint.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::url::Url;
use cmis_core::{
    Clock, Error, ExposeSecret, Notification, Notifier, Result, RetryPolicy, SecretString,
    SystemClock,
};
use cmis_http::reqwest;
use cmis_http::{Call, build_error, client_builder, retry_after, send};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

/// The header holding the signature: `sha256=` and the hex HMAC-SHA256 of
/// `"{timestamp}.{body}"` under the shared secret.
pub const SIGNATURE_HEADER: &str = "x-cmis-signature";
/// The header holding the Unix timestamp (seconds) the signature covers; receivers should
/// refuse old ones (replays).
pub const TIMESTAMP_HEADER: &str = "x-cmis-timestamp";
/// The header holding a delivery id, the same across retries of one notification, so that a
/// receiver can drop a repeated delivery.
pub const DELIVERY_HEADER: &str = "x-cmis-delivery";

/// A [`Notifier`] that POSTs each [`Notification`] as JSON to a URL, signed with HMAC-SHA256,
/// retrying transient failures (a notification may arrive twice; use [`DELIVERY_HEADER`]).
///
/// ```no_run
/// # fn f() -> cmis_core::Result<()> {
/// use cmis_core::SecretString;
/// use cmis_scheduler::WebhookNotifier;
/// let notifier = WebhookNotifier::builder(
///     "https://app.example.com/hooks/cmis".parse().unwrap(),
///     SecretString::from("whsec-from-your-config"),
/// )
/// .build()?;
/// # let _ = notifier; Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: Url,
    secret: SecretString,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("host", &self.url.host_str())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`WebhookNotifier`].
#[must_use]
pub struct WebhookNotifierBuilder {
    url: Url,
    secret: SecretString,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl fmt::Debug for WebhookNotifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifierBuilder")
            .field("host", &self.url.host_str())
            .finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// A builder posting to `url`, signing with `secret`.
    pub fn builder(url: Url, secret: SecretString) -> WebhookNotifierBuilder {
        WebhookNotifierBuilder {
            url,
            secret,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            timeout: Duration::from_secs(10),
        }
    }

    /// The signature of `body` sent at `timestamp` (hex HMAC-SHA256 of `"{timestamp}.{body}"`).
    /// Receivers check it with [`verify_webhook`], which compares in constant time.
    pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
        hex::encode(
            signed(secret, timestamp.to_string().as_bytes(), body)
                .finalize()
                .into_bytes(),
        )
    }

    async fn deliver_once(&self, body: &[u8], delivery: &str) -> Result<()> {
        let ts = self.clock.now().unix_timestamp();
        let sig = Self::signature(self.secret.expose_secret().as_bytes(), ts, body);
        let request = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, format!("sha256={sig}"))
            .header(DELIVERY_HEADER, delivery)
            .body(body.to_vec());
        // A repeated notification is harmless (the delivery id dedupes it), so a request whose
        // fate is unknown is retried like a read.
        let response = send(request, Call::Read).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let message = format!("the webhook answered HTTP {}", status.as_u16());
        Err(match status.as_u16() {
            429 => {
                let e = Error::rate_limited(message);
                match retry_after(response.headers()) {
                    Some(d) => e.with_retry_after(d),
                    None => e,
                }
            }
            408 | 500..=599 => Error::transient(message),
            _ => Error::rejected(message),
        })
    }
}

/// The HMAC-SHA256 state over `"{timestamp}.{body}"`.
fn signed(secret: &[u8], timestamp: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks a delivery from a [`WebhookNotifier`], as the receiving endpoint must before it acts
/// on one: `timestamp` and `signature` are the values of [`TIMESTAMP_HEADER`] and
/// [`SIGNATURE_HEADER`], `body` the raw request body (before any JSON parsing), `secret` the
/// notifier's secret. The signature is compared in constant time, and a timestamp further than
/// `tolerance` from `now` is refused so that a captured delivery cannot be replayed later
/// (five minutes is the usual choice; drop repeats within it by [`DELIVERY_HEADER`]).
///
/// Errors: [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for an empty secret
/// or a malformed header, [`ErrorKind::Auth`](cmis_core::ErrorKind::Auth) for a wrong signature
/// or a stale timestamp. The messages never contain the secret or the expected signature.
///
/// ```
/// use std::time::Duration;
/// use cmis_scheduler::{WebhookNotifier, verify_webhook};
///
/// let secret = b"whsec-0123456789abcdef";
/// let body = br#"{"kind":"publish_failed"}"#;
/// let now = time::OffsetDateTime::now_utc();
/// // What the notifier sent:
/// let timestamp = now.unix_timestamp().to_string();
/// let signature = format!("sha256={}", WebhookNotifier::signature(secret, now.unix_timestamp(), body));
///
/// let tolerance = Duration::from_secs(300);
/// verify_webhook(secret, &timestamp, &signature, body, now, tolerance)?;
/// let forged = verify_webhook(secret, &timestamp, &signature, b"{}", now, tolerance);
/// assert_eq!(forged.unwrap_err().kind(), cmis_core::ErrorKind::Auth);
/// # Ok::<(), cmis_core::Error>(())
/// ```
pub fn verify_webhook(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<()> {
    if secret.is_empty() {
        return Err(Error::invalid_input("the webhook secret is empty"));
    }
    // Only the form the notifier writes: the MAC covers the header's exact bytes, so a second
    // spelling of the same instant must not verify as a different string.
    let sent = timestamp
        .parse::<i64>()
        .ok()
        .filter(|t| t.to_string() == timestamp)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "the {TIMESTAMP_HEADER} header is not a Unix timestamp in seconds"
            ))
        })?;
    let claimed = signature
        .strip_prefix("sha256=")
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "the {SIGNATURE_HEADER} header is not `sha256=` followed by hex"
            ))
        })?;
    signed(secret, timestamp.as_bytes(), body)
        .verify_slice(&claimed)
        .map_err(|_| Error::auth("the webhook signature does not match the body and timestamp"))?;
    let age = i128::from(now.unix_timestamp()) - i128::from(sent);
    if age.unsigned_abs() > u128::from(tolerance.as_secs()) {
        return Err(Error::auth(format!(
            "the webhook timestamp is {age} s from now, beyond the {} s tolerance (a replay?)",
            tolerance.as_secs()
        )));
    }
    Ok(())
}

/// The fuzz entry point for [`verify_webhook`] (`fuzz/fuzz_targets/webhook_verify.rs` and the
/// corpus replay test). Not part of the API.
///
/// The input is `secret \0 timestamp \0 signature \0 body`. Whatever it holds, verification
/// must not panic and must accept only the genuine signature; and the genuine signature of the
/// same secret, timestamp and body must verify, and stop verifying once the body changes.
#[doc(hidden)]
pub fn fuzz_verify(data: &[u8]) {
    let mut parts = data.splitn(4, |b| *b == 0);
    let mut next = || parts.next().unwrap_or_default();
    let (secret, timestamp, signature, body) = (next(), next(), next(), next());
    let timestamp = String::from_utf8_lossy(timestamp);
    let signature = String::from_utf8_lossy(signature);
    let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let tolerance = Duration::from_secs(300);
    let verdict = verify_webhook(secret, &timestamp, &signature, body, now, tolerance);
    let genuine = timestamp
        .parse::<i64>()
        .ok()
        .map(|t| format!("sha256={}", WebhookNotifier::signature(secret, t, body)));
    if verdict.is_ok() {
        assert_eq!(
            Some(signature.to_ascii_lowercase()),
            genuine,
            "a signature that is not the genuine one verified"
        );
    }
    let Some(t) = timestamp.parse::<i64>().ok().filter(|_| !secret.is_empty()) else {
        return;
    };
    let Ok(sent_at) = OffsetDateTime::from_unix_timestamp(t) else {
        return;
    };
    let good = format!("sha256={}", WebhookNotifier::signature(secret, t, body));
    let header = t.to_string();
    if let Err(e) = verify_webhook(secret, &header, &good, body, sent_at, tolerance) {
        panic!("the genuine signature was refused: {e}");
    }
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert!(verify_webhook(secret, &header, &good, &tampered, sent_at, tolerance).is_err());
}

impl WebhookNotifierBuilder {
    /// Retries of transient failures (4 attempts with full-jitter backoff by default).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock the timestamp header is read from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The timeout of one delivery attempt (10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the URL and secret and builds the HTTP client (rustls, no redirects).
    pub fn build(self) -> Result<WebhookNotifier> {
        if !matches!(self.url.scheme(), "https" | "http") {
            return Err(Error::invalid_input("a webhook URL must be http or https"));
        }
        if self.secret.expose_secret().len() < 16 {
            return Err(Error::invalid_input(
                "a webhook secret must be at least 16 bytes long",
            ));
        }
        let client = client_builder()?
            .timeout(self.timeout)
            .build()
            .map_err(build_error)?;
        Ok(WebhookNotifier {
            client,
            url: self.url,
            secret: self.secret,
            retry: self.retry,
            clock: self.clock,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn notify(&self, notification: &Notification) -> Result<()> {
        let body = serde_json::to_vec(notification)
            .map_err(|e| Error::internal(format!("a notification cannot be encoded: {e}")))?;
        let delivery = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        self.retry
            .run(|_| self.deliver_once(&body, &delivery))
            .await
    }
}

#[cfg(test)]
mod tests {
    use cmis_core::ErrorKind;

    use super::*;

    const SECRET: &[u8] = b"whsec-0123456789abcdef";
    const BODY: &[u8] = br#"{"kind":"publish_failed","message":"post p-1 failed"}"#;
    const TOLERANCE: Duration = Duration::from_secs(300);

    fn at(t: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(t).unwrap()
    }

    fn sign(t: i64, body: &[u8]) -> String {
        format!("sha256={}", WebhookNotifier::signature(SECRET, t, body))
    }

    fn kind(r: Result<()>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn the_genuine_signature_verifies_within_the_tolerance() {
        let t = 1_780_000_000;
        let sig = sign(t, BODY);
        for now in [t, t + 300, t - 300] {
            verify_webhook(SECRET, &t.to_string(), &sig, BODY, at(now), TOLERANCE).unwrap();
        }
        // Hex digits in either case.
        let upper = format!("sha256={}", sig["sha256=".len()..].to_ascii_uppercase());
        verify_webhook(SECRET, &t.to_string(), &upper, BODY, at(t), TOLERANCE).unwrap();
    }

    #[test]
    fn a_changed_body_timestamp_or_secret_is_refused() {
        let t = 1_780_000_000;
        let sig = sign(t, BODY);
        let ts = t.to_string();
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        assert_eq!(
            kind(verify_webhook(SECRET, &ts, &sig, &body, at(t), TOLERANCE)),
            ErrorKind::Auth
        );
        let other = (t + 1).to_string();
        assert_eq!(
            kind(verify_webhook(SECRET, &other, &sig, BODY, at(t), TOLERANCE)),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(verify_webhook(
                b"whsec-another-secret",
                &ts,
                &sig,
                BODY,
                at(t),
                TOLERANCE
            )),
            ErrorKind::Auth
        );
        // A truncated signature is a wrong one, not a shorter comparison.
        let short = &sig[..sig.len() - 2];
        assert_eq!(
            kind(verify_webhook(SECRET, &ts, short, BODY, at(t), TOLERANCE)),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(verify_webhook(
                SECRET,
                &ts,
                "sha256=",
                BODY,
                at(t),
                TOLERANCE
            )),
            ErrorKind::Auth
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let t = 1_780_000_000;
        let sig = sign(t, BODY);
        let ts = t.to_string();
        for now in [t + 301, t - 301, t + 86_400] {
            let err = verify_webhook(SECRET, &ts, &sig, BODY, at(now), TOLERANCE).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Auth);
            assert!(err.message().contains("tolerance"), "{err}");
        }
        // The extremes of i64 neither overflow nor verify.
        for t in [i64::MIN, i64::MAX] {
            let sig = sign(t, BODY);
            let err = verify_webhook(SECRET, &t.to_string(), &sig, BODY, at(0), TOLERANCE);
            assert_eq!(kind(err), ErrorKind::Auth);
        }
    }

    #[test]
    fn malformed_headers_and_an_empty_secret_are_invalid_input() {
        let t = 1_780_000_000;
        let sig = sign(t, BODY);
        for ts in [
            "",
            "abc",
            "+1780000000",
            " 1780000000",
            "01780000000",
            "1780000000.0",
        ] {
            assert_eq!(
                kind(verify_webhook(SECRET, ts, &sig, BODY, at(t), TOLERANCE)),
                ErrorKind::InvalidInput,
                "{ts:?}"
            );
        }
        let hex = &sig["sha256=".len()..];
        for bad in [
            hex.to_owned(),
            format!("sha1={hex}"),
            "sha256=xyz".to_owned(),
        ] {
            assert_eq!(
                kind(verify_webhook(
                    SECRET,
                    &t.to_string(),
                    &bad,
                    BODY,
                    at(t),
                    TOLERANCE
                )),
                ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
        assert_eq!(
            kind(verify_webhook(
                b"",
                &t.to_string(),
                &sig,
                BODY,
                at(t),
                TOLERANCE
            )),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn errors_hold_neither_the_secret_nor_the_expected_signature() {
        let t = 1_780_000_000;
        let expected = WebhookNotifier::signature(SECRET, t, BODY);
        let err = verify_webhook(SECRET, &t.to_string(), "sha256=00", BODY, at(t), TOLERANCE)
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("whsec-0123456789abcdef"));
        assert!(!shown.contains(&expected));
    }

    #[test]
    fn the_fuzz_entry_point_accepts_the_genuine_signature() {
        let t = 1_780_000_000i64;
        let mut input = SECRET.to_vec();
        input.push(0);
        input.extend_from_slice(t.to_string().as_bytes());
        input.push(0);
        input.extend_from_slice(sign(t, BODY).as_bytes());
        input.push(0);
        input.extend_from_slice(BODY);
        fuzz_verify(&input);
        fuzz_verify(b"");
        fuzz_verify(b"\0\0\0");
    }

    /// Replays the checked-in fuzz corpus (`fuzz/corpus/webhook_verify`), so CI exercises every
    /// input the fuzzer kept without needing cargo-fuzz.
    #[test]
    fn the_fuzz_corpus_replays_cleanly() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/webhook_verify");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            // A packaged crate has no corpus next to it.
            return;
        };
        let mut n = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            fuzz_verify(&std::fs::read(&path).unwrap());
            n += 1;
        }
        assert!(n > 0, "{} is empty", dir.display());
    }
}
