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

    /// The signature of `body` sent at `timestamp` (hex HMAC-SHA256 of `"{timestamp}.{body}"`),
    /// for receivers to compare (in constant time) with the header's value after `sha256=`.
    pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
        // HMAC accepts keys of any length, so this never fails.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
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
