//! `WebhookNotifier`: notifications as JSON POSTs signed in the [Standard Webhooks] format, and
//! [`verify_webhook`] for the endpoint that receives them.
//!
//! A receiver may use any Standard Webhooks library instead: the content signed is
//! `"{webhook-id}.{webhook-timestamp}.{body}"`, the signature is the base64 HMAC-SHA256 of it
//! under the key that the `whsec_…` secret encodes, sent as `v1,<base64>`.
//!
//! [Standard Webhooks]: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cmis_core::url::Url;
use cmis_core::{
    Clock, Error, ExposeSecret, Notification, Notifier, Result, RetryPolicy, SecretString,
    SystemClock,
};
use cmis_http::reqwest;
use cmis_http::{Call, build_error, classify, client_builder, retry_after};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::SecretSlice;
use sha2::Sha256;
use time::OffsetDateTime;

/// The header holding the delivery's id: the same for every attempt to deliver one
/// notification, so that a receiver drops repeats by it.
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// The header holding the Unix time (seconds) of the attempt; receivers refuse old ones.
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header holding the signatures, space-separated, each `v1,` and a base64 HMAC-SHA256
/// (more than one while a secret is being rotated).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// The prefix of a serialized secret.
const SECRET_PREFIX: &str = "whsec_";
/// The shortest key the notifier signs with: the specification's 24 bytes (192 bits).
const MIN_KEY_BYTES: usize = 24;
/// The longest delivery id accepted from a notification.
const MAX_ID_BYTES: usize = 256;
/// How much of a receiver's answer is read (and ignored) before the connection is let go.
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Secrets are decoded as the reference libraries decode them: padded or not, and with any
/// trailing bits (Python's and Go's decoders accept both).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A Standard Webhooks signing secret: `whsec_` followed by the base64 of the key (the bare
/// base64 is accepted too). Its `Debug` shows nothing of the key.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// use cmis::SecretString;
/// use cmis::scheduler::WebhookSecret;
/// // The specification's reference libraries' test vector.
/// let secret = WebhookSecret::new(SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))?;
/// let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
/// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    key: SecretSlice<u8>,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSecret").finish_non_exhaustive()
    }
}

impl WebhookSecret {
    /// Decodes `secret`. An empty key or one that is not base64 is
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput); the error never shows the secret.
    pub fn new(secret: SecretString) -> Result<Self> {
        let text = secret.expose_secret();
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = LENIENT.decode(encoded).map_err(|_| {
            Error::invalid_input("a webhook secret must be `whsec_` followed by base64")
        })?;
        if key.is_empty() {
            return Err(Error::invalid_input("the webhook secret is empty"));
        }
        Ok(Self {
            key: SecretSlice::from(key),
        })
    }

    /// The signature of `body` sent as `id` at `timestamp` (Unix seconds): `v1,` and the base64
    /// HMAC-SHA256 of `"{id}.{timestamp}.{body}"`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(id, timestamp.to_string().as_bytes(), body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The HMAC-SHA256 state over `"{id}.{timestamp}.{body}"`.
    fn mac(&self, id: &str, timestamp: &[u8], body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp);
        mac.update(b".");
        mac.update(body);
        mac
    }

    fn len(&self) -> usize {
        self.key.expose_secret().len()
    }
}

/// A [`Notifier`] that POSTs each [`Notification`] as JSON to a URL, signed in the Standard
/// Webhooks format ([`WEBHOOK_ID_HEADER`], [`WEBHOOK_TIMESTAMP_HEADER`],
/// [`WEBHOOK_SIGNATURE_HEADER`]).
///
/// The `webhook-id` is the notification's [`id`](Notification::id) (a durable outbox sets it,
/// the same for every attempt), or a fresh `msg_…` id per call when it has none. Each `notify`
/// makes one attempt unless a [`retry_policy`](WebhookNotifierBuilder::retry_policy) is set:
/// retries belong to the caller's outbox. A `2xx` answer is a delivery; anything else is an
/// error whose [`platform_code`](Error::platform_code) is the receiver's HTTP status, and a
/// receiver that does not answer in time is a [`Transient`](cmis_core::ErrorKind::Transient)
/// error saying so.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// # fn f() -> cmis::Result<()> {
/// use cmis::SecretString;
/// use cmis::scheduler::WebhookNotifier;
/// let notifier = WebhookNotifier::builder(
///     "https://app.example.com/hooks/cmis".parse().unwrap(),
///     SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
/// )
/// .build()?;
/// # let _ = notifier; Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: Url,
    secrets: Arc<[WebhookSecret]>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("host", &self.url.host_str())
            .field("secrets", &self.secrets.len())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`WebhookNotifier`].
#[must_use]
pub struct WebhookNotifierBuilder {
    url: Url,
    secrets: Vec<SecretString>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl fmt::Debug for WebhookNotifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifierBuilder")
            .field("host", &self.url.host_str())
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// A builder posting to `url`, signing with `secret` (`whsec_` and the base64 of at least
    /// 24 random bytes, as the specification asks).
    pub fn builder(url: Url, secret: SecretString) -> WebhookNotifierBuilder {
        WebhookNotifierBuilder {
            url,
            secrets: vec![secret],
            retry: RetryPolicy::no_retry(),
            clock: Arc::new(SystemClock),
            timeout: Duration::from_secs(15),
        }
    }

    async fn deliver_once(&self, body: &[u8], id: &str) -> Result<()> {
        let ts = self.clock.now().unix_timestamp();
        let signatures = self
            .secrets
            .iter()
            .map(|s| s.sign(id, ts, body))
            .collect::<Vec<_>>()
            .join(" ");
        let request = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header(WEBHOOK_ID_HEADER, id)
            .header(WEBHOOK_TIMESTAMP_HEADER, ts.to_string())
            .header(WEBHOOK_SIGNATURE_HEADER, signatures)
            .body(body.to_vec());
        // A repeated delivery is harmless (receivers drop it by its id), so a request whose fate
        // is unknown is classified like a read: transient.
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() && !e.is_connect() {
                Error::transient(format!(
                    "the webhook receiver did not answer within {:?} (timed out)",
                    self.timeout
                ))
                .with_source(e.without_url())
            } else {
                classify(e, Call::Read)
            }
        })?;
        let status = response.status();
        let wait = retry_after(response.headers());
        drain(response).await;
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        let message = format!("the webhook receiver answered HTTP {code}");
        let err = match code {
            429 => Error::rate_limited(message),
            408 | 500..=599 => Error::transient(message),
            300..=399 => Error::rejected(format!(
                "{message}, a redirect, which is not followed: update the webhook URL"
            )),
            410 => Error::rejected(format!(
                "{message} (Gone): the receiver asks to be sent no more webhooks"
            )),
            _ => Error::rejected(message),
        }
        .with_platform_code(code.to_string());
        Err(match wait {
            Some(d) if err.is_retryable() => err.with_retry_after(d),
            _ => err,
        })
    }
}

/// Reads at most [`MAX_ANSWER_BYTES`] of an answer, which nothing uses, so that a short one
/// leaves the connection reusable and a long one costs no more than that.
async fn drain(mut response: reqwest::Response) {
    let mut left = MAX_ANSWER_BYTES;
    while left > 0 {
        match response.chunk().await {
            Ok(Some(chunk)) => left = left.saturating_sub(chunk.len()),
            Ok(None) | Err(_) => break,
        }
    }
}

/// Whether `id` may be sent as a `webhook-id`: printable ASCII without spaces, and without `.`,
/// which the specification forbids because it separates the signed parts.
fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_BYTES).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic() && b != b'.')
}

/// Checks a delivery signed in the Standard Webhooks format, as the receiving endpoint must
/// before it acts on one: `id`, `timestamp` and `signature` are the values of
/// [`WEBHOOK_ID_HEADER`], [`WEBHOOK_TIMESTAMP_HEADER`] and [`WEBHOOK_SIGNATURE_HEADER`], `body`
/// the raw request body (before any JSON parsing). The delivery verifies when any `v1,`
/// signature in the header matches (several are sent during a secret rotation; other versions
/// are skipped); each is compared in constant time. A timestamp further than `tolerance` from
/// `now`, either way, is refused so that a captured delivery cannot be replayed later (five
/// minutes is the usual choice; drop repeats within it by the id).
///
/// Errors: [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for an empty id, a
/// timestamp that is not Unix seconds, or a header without any `v1,` signature;
/// [`ErrorKind::Auth`](cmis_core::ErrorKind::Auth) when no signature matches or the timestamp is
/// out of tolerance. The messages never contain the secret or the expected signature.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// use std::time::Duration;
/// use cmis::SecretString;
/// use cmis::scheduler::{WebhookSecret, verify_webhook};
///
/// let secret = WebhookSecret::new(SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))?;
/// let (id, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", br#"{"test": 2432232314}"#);
/// let now = time::OffsetDateTime::now_utc();
/// // What the notifier sent:
/// let timestamp = now.unix_timestamp().to_string();
/// let signature = secret.sign(id, now.unix_timestamp(), body);
///
/// let tolerance = Duration::from_secs(300);
/// verify_webhook(&secret, id, &timestamp, &signature, body, now, tolerance)?;
/// let forged = verify_webhook(&secret, id, &timestamp, &signature, b"{}", now, tolerance);
/// assert_eq!(forged.unwrap_err().kind(), cmis::ErrorKind::Auth);
/// # Ok::<(), cmis::Error>(())
/// ```
pub fn verify_webhook(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid_input(format!(
            "the {WEBHOOK_ID_HEADER} header is empty"
        )));
    }
    // Only the form the notifier writes: the MAC covers the header's exact bytes, so a second
    // spelling of the same instant must not verify as a different string.
    let sent = timestamp
        .parse::<i64>()
        .ok()
        .filter(|t| t.to_string() == timestamp)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "the {WEBHOOK_TIMESTAMP_HEADER} header is not a Unix timestamp in seconds"
            ))
        })?;
    let mut claimed = signature
        .split_ascii_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .peekable();
    if claimed.peek().is_none() {
        return Err(Error::invalid_input(format!(
            "the {WEBHOOK_SIGNATURE_HEADER} header holds no `v1,` signature"
        )));
    }
    let mac = secret.mac(id, timestamp.as_bytes(), body);
    // Strict base64: one spelling per signature. What does not decode matches nothing.
    let matched = claimed.any(|sig| {
        STANDARD
            .decode(sig)
            .is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
    });
    if !matched {
        return Err(Error::auth(
            "no webhook signature matches the body, id and timestamp",
        ));
    }
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
/// The input is `secret \0 id \0 timestamp \0 signature \0 body`; a secret that does not parse
/// as one stands for the raw key bytes. Whatever it holds, verification must not panic and must
/// accept only the genuine signature; and the genuine signature of the same secret, id,
/// timestamp and body must verify, among others too, and stop verifying once the body or the
/// id changes.
#[doc(hidden)]
pub fn fuzz_verify(data: &[u8]) {
    let mut parts = data.splitn(5, |b| *b == 0);
    let mut next = || parts.next().unwrap_or_default();
    let (raw, id, timestamp, signature, body) = (next(), next(), next(), next(), next());
    let written = String::from_utf8_lossy(raw).into_owned();
    let secret = match WebhookSecret::new(SecretString::from(written)) {
        Ok(secret) => secret,
        Err(e) => {
            assert_eq!(e.kind(), cmis_core::ErrorKind::InvalidInput);
            if raw.is_empty() {
                return;
            }
            let encoded = format!("{SECRET_PREFIX}{}", STANDARD.encode(raw));
            WebhookSecret::new(SecretString::from(encoded))
                .unwrap_or_else(|e| panic!("a base64 key was refused: {e}"))
        }
    };
    let id = String::from_utf8_lossy(id);
    let timestamp = String::from_utf8_lossy(timestamp);
    let signature = String::from_utf8_lossy(signature);
    let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let tolerance = Duration::from_secs(300);
    let verdict = verify_webhook(&secret, &id, &timestamp, &signature, body, now, tolerance);
    let parsed = timestamp.parse::<i64>().ok();
    if verdict.is_ok() {
        let genuine = parsed.map(|t| secret.sign(&id, t, body));
        assert!(
            signature
                .split_ascii_whitespace()
                .any(|s| Some(s) == genuine.as_deref()),
            "a signature that is not the genuine one verified"
        );
    }
    let Some(t) = parsed.filter(|_| !id.is_empty()) else {
        return;
    };
    let Ok(sent_at) = OffsetDateTime::from_unix_timestamp(t) else {
        return;
    };
    let good = secret.sign(&id, t, body);
    let header = t.to_string();
    let check = |id: &str, signature: &str, body: &[u8]| {
        verify_webhook(&secret, id, &header, signature, body, sent_at, tolerance)
    };
    if let Err(e) = check(&id, &good, body) {
        panic!("the genuine signature was refused: {e}");
    }
    let rotated = format!("v1a,{} v1,{} {good}", &good[3..], &good[..good.len() - 2]);
    if let Err(e) = check(&id, &rotated, body) {
        panic!("the genuine signature among others was refused: {e}");
    }
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert!(check(&id, &good, &tampered).is_err());
    assert!(check(&format!("{id}x"), &good, body).is_err());
}

impl WebhookNotifierBuilder {
    /// Also signs with `secret`, the one being retired, so that receivers still holding it keep
    /// verifying while they move to the new one (the header then carries both signatures).
    pub fn previous_secret(mut self, secret: SecretString) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Retries of transient failures within one `notify` call, with the same `webhook-id` and a
    /// fresh timestamp. None by default: a durable outbox retries with its own backoff.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock the timestamp header is read from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long the receiver has to answer one delivery (15 s, the low end of the
    /// specification's recommended 15 to 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the URL and secrets and builds the HTTP client (rustls, no redirects).
    pub fn build(self) -> Result<WebhookNotifier> {
        if !matches!(self.url.scheme(), "https" | "http") {
            return Err(Error::invalid_input("a webhook URL must be http or https"));
        }
        let secrets = self
            .secrets
            .into_iter()
            .map(WebhookSecret::new)
            .collect::<Result<Vec<_>>>()?;
        if secrets.iter().any(|s| s.len() < MIN_KEY_BYTES) {
            return Err(Error::invalid_input(format!(
                "a webhook secret must encode at least {MIN_KEY_BYTES} bytes"
            )));
        }
        let client = client_builder()?
            .timeout(self.timeout)
            .build()
            .map_err(build_error)?;
        Ok(WebhookNotifier {
            client,
            url: self.url,
            secrets: secrets.into(),
            retry: self.retry,
            clock: self.clock,
            timeout: self.timeout,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn notify(&self, notification: &Notification) -> Result<()> {
        let id = match &notification.id {
            Some(id) if valid_id(id) => id.clone(),
            Some(_) => {
                return Err(Error::invalid_input(format!(
                    "a notification id must be 1 to {MAX_ID_BYTES} printable ASCII characters \
                     without spaces or `.` to be a {WEBHOOK_ID_HEADER}"
                )));
            }
            None => format!("msg_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
        };
        let body = serde_json::to_vec(notification)
            .map_err(|e| Error::internal(format!("a notification cannot be encoded: {e}")))?;
        self.retry.run(|_| self.deliver_once(&body, &id)).await
    }
}

#[cfg(test)]
mod tests {
    use cmis_core::ErrorKind;

    use super::*;

    const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
    const BODY: &[u8] = br#"{"kind":"publish_failed","message":"post p-1 failed"}"#;
    const TOLERANCE: Duration = Duration::from_secs(300);

    fn secret() -> WebhookSecret {
        WebhookSecret::new(SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap()
    }

    fn at(t: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(t).unwrap()
    }

    fn verify(ts: &str, sig: &str, body: &[u8], now: i64) -> Result<()> {
        verify_webhook(&secret(), ID, ts, sig, body, at(now), TOLERANCE)
    }

    fn kind(r: Result<()>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn the_genuine_signature_verifies_within_the_tolerance() {
        let t = 1_780_000_000;
        let sig = secret().sign(ID, t, BODY);
        for now in [t, t + 300, t - 300] {
            verify(&t.to_string(), &sig, BODY, now).unwrap();
        }
        // Separated by any ASCII whitespace, after other versions and undecodable entries.
        let many = format!("v1a,abc\tv1,%%%  v2,{}  {sig}", &sig[3..]);
        verify(&t.to_string(), &many, BODY, t).unwrap();
    }

    #[test]
    fn a_changed_body_id_timestamp_or_secret_is_refused() {
        let t = 1_780_000_000;
        let sig = secret().sign(ID, t, BODY);
        let ts = t.to_string();
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        assert_eq!(kind(verify(&ts, &sig, &body, t)), ErrorKind::Auth);
        assert_eq!(
            kind(verify(&(t + 1).to_string(), &sig, BODY, t)),
            ErrorKind::Auth
        );
        let other_id = verify_webhook(&secret(), "msg_other", &ts, &sig, BODY, at(t), TOLERANCE);
        assert_eq!(kind(other_id), ErrorKind::Auth);
        let other =
            WebhookSecret::new(SecretString::from("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"))
                .unwrap();
        let wrong_key = verify_webhook(&other, ID, &ts, &sig, BODY, at(t), TOLERANCE);
        assert_eq!(kind(wrong_key), ErrorKind::Auth);
        // A truncated signature is a wrong one, not a shorter comparison; so is a bare `v1,`,
        // another version's, or base64 spelled without its padding.
        let unpadded = sig.trim_end_matches('=');
        for bad in [
            &sig[..sig.len() - 4],
            "v1,",
            unpadded,
            &sig.replace("v1,", "v1, "),
        ] {
            assert_eq!(kind(verify(&ts, bad, BODY, t)), ErrorKind::Auth, "{bad:?}");
        }
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let t = 1_780_000_000;
        let sig = secret().sign(ID, t, BODY);
        let ts = t.to_string();
        for now in [t + 301, t - 301, t + 86_400] {
            let err = verify(&ts, &sig, BODY, now).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Auth);
            assert!(err.message().contains("tolerance"), "{err}");
        }
        // The extremes of i64 neither overflow nor verify.
        for t in [i64::MIN, i64::MAX] {
            let sig = secret().sign(ID, t, BODY);
            assert_eq!(kind(verify(&t.to_string(), &sig, BODY, 0)), ErrorKind::Auth);
        }
    }

    #[test]
    fn malformed_headers_are_invalid_input() {
        let t = 1_780_000_000;
        let sig = secret().sign(ID, t, BODY);
        for ts in [
            "",
            "abc",
            "+1780000000",
            " 1780000000",
            "01780000000",
            "1780000000.0",
        ] {
            assert_eq!(
                kind(verify(ts, &sig, BODY, t)),
                ErrorKind::InvalidInput,
                "{ts:?}"
            );
        }
        let b64 = &sig[3..];
        for bad in ["", "   ", b64, &format!("v1a,{b64}"), &format!("V1,{b64}")] {
            let r = verify(&t.to_string(), bad, BODY, t);
            assert_eq!(kind(r), ErrorKind::InvalidInput, "{bad:?}");
        }
        let no_id = verify_webhook(&secret(), "", &t.to_string(), &sig, BODY, at(t), TOLERANCE);
        assert_eq!(kind(no_id), ErrorKind::InvalidInput);
    }

    #[test]
    fn errors_hold_neither_the_secret_nor_the_expected_signature() {
        let t = 1_780_000_000;
        let expected = secret().sign(ID, t, BODY);
        let err = verify(&t.to_string(), "v1,AAAA", BODY, t).unwrap_err();
        let shown = format!("{err} {err:?} {:?}", secret());
        assert!(
            !shown.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "{shown}"
        );
        assert!(!shown.contains(&expected[3..]), "{shown}");
        for bad in ["whsec_MfKQ9r8G!KYqrTw", "", "whsec_", "whsec_===="] {
            let err = WebhookSecret::new(SecretString::from(bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
            let shown = format!("{err} {err:?}");
            assert!(
                bad.is_empty() || bad == "whsec_" || !shown.contains(bad),
                "{shown}"
            );
        }
    }

    #[test]
    fn ids_that_cannot_be_sent_are_refused() {
        for id in ["", "a.b", "a b", "é", &"x".repeat(257)] {
            assert!(!valid_id(id), "{id:?}");
        }
        for id in [
            "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
        ] {
            assert!(valid_id(id), "{id:?}");
        }
    }

    fn fuzz_input(secret: &[u8], id: &str, ts: &str, sig: &str, body: &[u8]) -> Vec<u8> {
        let mut input = secret.to_vec();
        for part in [id.as_bytes(), ts.as_bytes(), sig.as_bytes(), body] {
            input.push(0);
            input.extend_from_slice(part);
        }
        input
    }

    #[test]
    fn the_fuzz_entry_point_accepts_the_genuine_signature() {
        let t = 1_780_000_000i64;
        let sig = secret().sign(ID, t, BODY);
        let key = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        fuzz_verify(&fuzz_input(key, ID, &t.to_string(), &sig, BODY));
        // A secret that is not base64 stands for raw key bytes.
        fuzz_verify(&fuzz_input(b"not base64!", ID, &t.to_string(), &sig, BODY));
        fuzz_verify(b"");
        fuzz_verify(b"\0\0\0\0");
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
