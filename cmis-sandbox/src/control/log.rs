//! The requests the fakes received, each with the objects that appeared while it ran.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::{Value, json};

use super::published::ids;
use super::{Platform, Shared};

/// How many requests the log keeps.
const CAPACITY: usize = 10_000;

/// One request to a fake.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    pub(crate) platform: Platform,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    /// The answer's status, `None` when the client left first.
    pub(crate) status: Option<u16>,
    pub(crate) started_ms: i64,
    pub(crate) duration_ms: i64,
    /// Ids of the objects that appeared while it ran.
    pub(crate) created: Vec<String>,
}

impl Entry {
    /// Whether this request created `id` or names it in its path.
    pub(crate) fn concerns(&self, id: &str) -> bool {
        self.created.iter().any(|c| c == id) || self.path.split('/').any(|s| s == id)
    }

    pub(crate) fn to_json(&self) -> Value {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.started_ms) * 1_000_000,
        )
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        json!({
            "seq": self.seq,
            "platform": self.platform.name(),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "at": at,
            "at_ms": self.started_ms,
            "duration_ms": self.duration_ms,
            "created": self.created,
        })
    }
}

/// The last [`CAPACITY`] requests, oldest first.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    entries: VecDeque<Entry>,
    next_seq: u64,
}

impl RequestLog {
    fn push(&self, mut entry: Entry) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        if inner.entries.len() >= CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// The recorded requests to `platform` (every platform's when `None`), oldest first.
    pub(crate) fn entries(&self, platform: Option<Platform>) -> Vec<Entry> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .entries
            .iter()
            .filter(|e| platform.is_none_or(|p| e.platform == p))
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.clear();
    }
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `router` with every request recorded in `shared`'s log.
pub(crate) fn observe(
    router: axum::Router,
    platform: Platform,
    shared: Arc<Shared>,
) -> axum::Router {
    router.layer(middleware::from_fn_with_state((platform, shared), record))
}

/// A request in flight: recorded when dropped, so that a request whose client left (a
/// timeout) is recorded too.
struct InFlight {
    platform: Platform,
    shared: Arc<Shared>,
    entry: Option<Entry>,
    /// The objects before the request, for requests that may create some.
    before: Option<HashSet<String>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.duration_ms = unix_ms().saturating_sub(entry.started_ms);
        if let (Some(before), Some(fakes)) = (&self.before, self.shared.fakes.get()) {
            entry.created = ids(fakes, self.platform)
                .into_iter()
                .filter(|id| !before.contains(id))
                .collect();
        }
        self.shared.log.push(entry);
    }
}

async fn record(
    State((platform, shared)): State<(Platform, Arc<Shared>)>,
    request: Request,
    next: Next,
) -> Response {
    let creates = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let before: Option<HashSet<String>> = creates
        .then(|| {
            shared
                .fakes
                .get()
                .map(|f| ids(f, platform).into_iter().collect())
        })
        .flatten();
    let mut in_flight = InFlight {
        platform,
        entry: Some(Entry {
            seq: 0,
            platform,
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            query: request.uri().query().map(str::to_owned),
            status: None,
            started_ms: unix_ms(),
            duration_ms: 0,
            created: Vec::new(),
        }),
        shared,
        before,
    };
    let response = next.run(request).await;
    if let Some(entry) = in_flight.entry.as_mut() {
        entry.status = Some(response.status().as_u16());
    }
    drop(in_flight);
    response
}
