//! The webhook receiver the parent runs for `--notifier`: it verifies every delivery as an
//! embedder's endpoint must (`verify_webhook`), records it by its delivery id, and answers as
//! the mode says. At the end its own record says which terminal outcomes were told.
//!
//! - `ok`: answers 200 at once.
//! - `slow`: answers 200 after [`SLOW_ANSWER`].
//! - `hang`: records each request and answers nothing, holding the connection, until
//!   [`Receiver::release`] (every post is terminal); from then on it answers 200. A request
//!   held across the release is answered 503 (its sender gave up on it long before), so only
//!   deliveries whose sender saw the 200 count as acknowledged.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use cmis_core::time::OffsetDateTime;
use cmis_core::url::Url;
use cmis_core::{Error, Result, SecretString};
use cmis_scheduler::{
    WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WebhookSecret,
    verify_webhook,
};
use tokio::sync::watch;

/// How long the `slow` receiver takes to answer.
pub(crate) const SLOW_ANSWER: Duration = Duration::from_secs(30);

/// The longest a `hang` receiver holds one request (a bound on open connections).
const HOLD_AT_MOST: Duration = Duration::from_secs(120);

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Ok,
    Slow,
    Hang,
}

impl Mode {
    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "ok" => Ok(Self::Ok),
            "slow" => Ok(Self::Slow),
            "hang" => Ok(Self::Hang),
            other => Err(Error::invalid_input(format!(
                "--notifier must be ok, slow or hang, not {other:?}"
            ))),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Slow => "slow",
            Self::Hang => "hang",
        }
    }
}

/// One notification as the receiver heard it, by delivery id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Heard {
    pub(crate) kind: String,
    /// The job id.
    pub(crate) subject: Option<String>,
    /// The platform's post id, for `published`.
    pub(crate) receipt: Option<String>,
    /// Requests that carried this delivery id.
    pub(crate) attempts: u32,
    /// Whether the receiver answered 200 to one of them.
    pub(crate) acked: bool,
}

/// The receiver's record.
#[derive(Debug, Clone, Default)]
pub(crate) struct Record {
    pub(crate) by_id: HashMap<String, Heard>,
    /// Requests received (every attempt).
    pub(crate) requests: u64,
    /// Requests refused: a signature or timestamp that did not verify, or a body not JSON.
    pub(crate) refused: u64,
}

impl Record {
    /// Records a verified request for delivery `id` with the notification `body`.
    pub(crate) fn heard(&mut self, id: &str, body: &serde_json::Value) {
        self.requests += 1;
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        let entry = self.by_id.entry(id.to_owned()).or_insert_with(|| Heard {
            kind: text(body.get("kind")).unwrap_or_default(),
            subject: text(body.get("subject")),
            receipt: text(body.pointer("/receipt/post_id")),
            ..Heard::default()
        });
        entry.attempts += 1;
    }

    /// Records that the receiver answered 200 to a request for delivery `id`.
    pub(crate) fn ack(&mut self, id: &str) {
        if let Some(h) = self.by_id.get_mut(id) {
            h.acked = true;
        }
    }

    /// Notifications acknowledged, each delivery id once.
    pub(crate) fn notified(&self) -> usize {
        self.by_id.values().filter(|h| h.acked).count()
    }
}

/// A terminal outcome, and the kind of notification that tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    /// The job id (the notification's subject).
    pub(crate) job: String,
    /// `published`, `publish_failed` or `publish_missed`.
    pub(crate) kind: &'static str,
    /// What to print when it is missing.
    pub(crate) label: String,
}

/// The terminal outcomes of which the receiver acknowledged no notification of the right kind
/// about the right job.
pub(crate) fn lost_notifications<'a>(
    expected: &'a [Expected],
    record: &Record,
) -> Vec<&'a Expected> {
    let told: std::collections::HashSet<(&str, &str)> = record
        .by_id
        .values()
        .filter(|h| h.acked)
        .filter_map(|h| Some((h.subject.as_deref()?, h.kind.as_str())))
        .collect();
    expected
        .iter()
        .filter(|e| !told.contains(&(e.job.as_str(), e.kind)))
        .collect()
}

struct Hub {
    secret: WebhookSecret,
    mode: Mode,
    released: watch::Sender<bool>,
    record: Mutex<Record>,
}

impl Hub {
    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running receiver.
pub(crate) struct Receiver {
    pub(crate) url: Url,
    /// The `whsec_` secret the workers sign with.
    pub(crate) secret: String,
    hub: Arc<Hub>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("url", &self.url.as_str())
            .field("mode", &self.hub.mode)
            .finish_non_exhaustive()
    }
}

fn new_secret() -> Result<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| Error::internal(format!("no randomness for the webhook secret: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 answering as `mode` says.
    pub(crate) async fn start(mode: Mode) -> Result<Self> {
        let secret = new_secret()?;
        let hub = Arc::new(Hub {
            secret: WebhookSecret::new(SecretString::from(secret.clone()))?,
            mode,
            released: watch::Sender::new(false),
            record: Mutex::new(Record::default()),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| Error::internal(format!("cannot bind the webhook receiver: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::internal(format!("no address for the webhook receiver: {e}")))?;
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(hook))
            .with_state(Arc::clone(&hub));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("chaos: the webhook receiver stopped: {e}");
            }
        });
        let url = Url::parse(&format!("http://{addr}/hooks"))
            .map_err(|e| Error::internal(format!("bad receiver URL: {e}")))?;
        Ok(Self {
            url,
            secret,
            hub,
            task,
        })
    }

    /// From now on, a `hang` receiver answers.
    pub(crate) fn release(&self) {
        self.hub.released.send_replace(true);
    }

    /// A copy of the record so far.
    pub(crate) fn record(&self) -> Record {
        self.hub.record().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hook(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let id = header(WEBHOOK_ID_HEADER).to_owned();
    let verified = verify_webhook(
        &hub.secret,
        &id,
        header(WEBHOOK_TIMESTAMP_HEADER),
        header(WEBHOOK_SIGNATURE_HEADER),
        &body,
        OffsetDateTime::now_utc(),
        Duration::from_secs(300),
    );
    let parsed = serde_json::from_slice::<serde_json::Value>(&body);
    let (Ok(()), Ok(value)) = (verified, parsed) else {
        hub.record().refused += 1;
        return StatusCode::UNAUTHORIZED;
    };
    hub.record().heard(&id, &value);
    match hub.mode {
        Mode::Ok => {}
        Mode::Slow => tokio::time::sleep(SLOW_ANSWER).await,
        Mode::Hang => {
            let mut released = hub.released.subscribe();
            if !*released.borrow_and_update() {
                let _ = tokio::time::timeout(HOLD_AT_MOST, released.wait_for(|r| *r)).await;
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        }
    }
    hub.record().ack(&id);
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn expected(job: &str, kind: &'static str) -> Expected {
        Expected {
            job: job.to_owned(),
            kind,
            label: format!("job {job}"),
        }
    }

    fn published(job: &str) -> serde_json::Value {
        json!({"kind": "published", "subject": job, "receipt": {"post_id": format!("fb_{job}")}})
    }

    #[test]
    fn a_delivery_id_heard_and_acknowledged_twice_counts_once() {
        let mut r = Record::default();
        for _ in 0..3 {
            r.heard("msg_a", &published("1"));
            r.ack("msg_a");
        }
        assert_eq!(r.requests, 3);
        assert_eq!(r.notified(), 1);
        assert_eq!(r.by_id["msg_a"].attempts, 3);
        assert_eq!(r.by_id["msg_a"].receipt.as_deref(), Some("fb_1"));
        assert!(lost_notifications(&[expected("1", "published")], &r).is_empty());
    }

    #[test]
    fn a_terminal_outcome_without_an_acknowledged_notification_is_lost() {
        let mut r = Record::default();
        // Job 1: heard but never answered 200 (a hanging receiver).
        r.heard("msg_1", &published("1"));
        // Job 2: told, but of another kind than its outcome.
        r.heard("msg_2", &json!({"kind": "unknown_outcome", "subject": "2"}));
        r.ack("msg_2");
        // Job 3: told twice under two ids (two attempts of a completion), acknowledged once.
        r.heard("msg_3a", &json!({"kind": "publish_failed", "subject": "3"}));
        r.heard("msg_3b", &json!({"kind": "publish_failed", "subject": "3"}));
        r.ack("msg_3b");
        // Job 4: never heard of. An acknowledgement of an id never heard changes nothing.
        r.ack("msg_4");
        let want = [
            expected("1", "published"),
            expected("2", "published"),
            expected("3", "publish_failed"),
            expected("4", "publish_missed"),
        ];
        let lost: Vec<&str> = lost_notifications(&want, &r)
            .iter()
            .map(|e| e.job.as_str())
            .collect();
        assert_eq!(lost, ["1", "2", "4"]);
        assert_eq!(r.notified(), 2);
    }

    /// The receiver verifies what a real notifier sends, and a `hang` receiver acknowledges
    /// nothing until released.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_receiver_verifies_and_hangs_until_released() {
        use cmis_core::{Notification, NotificationKind, Notifier, TenantId};
        use cmis_scheduler::WebhookNotifier;

        let receiver = Receiver::start(Mode::Hang).await.unwrap();
        let notifier = WebhookNotifier::builder(
            receiver.url.clone(),
            SecretString::from(receiver.secret.clone()),
        )
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
        let n = Notification::new(TenantId::new("t"), NotificationKind::PublishFailed, "x")
            .with_subject("7")
            .with_id("msg_7");
        assert!(notifier.notify(&n).await.is_err(), "a hanging receiver");
        assert_eq!(receiver.record().notified(), 0);
        assert_eq!(receiver.record().by_id["msg_7"].attempts, 1);
        receiver.release();
        notifier.notify(&n).await.unwrap();
        let r = receiver.record();
        assert_eq!((r.notified(), r.requests, r.refused), (1, 2, 0));
        assert!(lost_notifications(&[expected("7", "publish_failed")], &r).is_empty());

        let forged = WebhookNotifier::builder(
            receiver.url.clone(),
            SecretString::from(new_secret().unwrap()),
        )
        .build()
        .unwrap();
        assert!(forged.notify(&n).await.is_err());
        assert_eq!(receiver.record().refused, 1);
    }
}
