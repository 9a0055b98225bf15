//! The outbox's delivery loop: claims due notifications, hands each to the notifier with a
//! timeout, and records the result (delivered, or tried again later with backoff). It runs
//! beside the publishing loop and never holds back a claim or a completion.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{Error, Notification, Notifier, Result};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use super::Shared;
use crate::outbox::{Delivered, Delivery};
use crate::store::ScheduleStore;

/// How long a stopping scheduler waits for deliveries in flight before it leaves them to be
/// delivered again (their leases expire; delivery is at least once).
const STOP_GRACE: Duration = Duration::from_secs(5);

pub(super) async fn run(shared: Arc<Shared>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let policy = shared.cfg.delivery;
    let owner = shared.worker_id.as_str();
    let lease = policy.timeout.saturating_mul(2) + Duration::from_secs(5);
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, Delivered)>();
    let mut flying = JoinSet::new();
    let mut stop_at: Option<tokio::time::Instant> = None;
    loop {
        let mut results = Vec::new();
        while let Ok(r) = rx.try_recv() {
            results.push(r);
        }
        settle(&*shared.store, owner, &results).await;
        while flying.try_join_next().is_some() {}
        if let Some(at) = stop_at
            && (flying.is_empty() || tokio::time::Instant::now() >= at)
        {
            flying.abort_all();
            break;
        }
        let free = policy.concurrency.saturating_sub(flying.len());
        let mut full = false;
        if stop_at.is_none() && free > 0 {
            match shared.store.claim_deliveries(owner, free, lease).await {
                Ok(batch) => {
                    full = batch.len() == free;
                    for d in batch {
                        let shared = Arc::clone(&shared);
                        let tx = tx.clone();
                        flying.spawn(async move {
                            let r = deliver(&shared, &d).await;
                            let _ = tx.send((d.seq, r));
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming notifications to deliver failed"),
            }
        }
        let sleep = match stop_at {
            Some(at) => at.saturating_duration_since(tokio::time::Instant::now()),
            None if full => Duration::ZERO,
            None => shared.cfg.poll_interval,
        };
        tokio::select! {
            _ = stop.changed(), if stop_at.is_none() => {
                stop_at = Some(tokio::time::Instant::now() + STOP_GRACE.min(policy.timeout));
            }
            () = wake.notified(), if stop_at.is_none() => {}
            Some(r) = rx.recv() => settle(&*shared.store, owner, &[r]).await,
            () = tokio::time::sleep(sleep) => {}
        }
    }
    let mut results = Vec::new();
    while let Ok(r) = rx.try_recv() {
        results.push(r);
    }
    settle(&*shared.store, owner, &results).await;
}

/// One attempt, bounded by the policy's timeout.
async fn deliver(shared: &Shared, d: &Delivery) -> Delivered {
    let policy = shared.cfg.delivery;
    let sent = tokio::time::timeout(policy.timeout, shared.notifier.notify(&d.notification)).await;
    let error = match sent {
        Ok(Ok(())) => return Delivered::Yes,
        Ok(Err(e)) => e,
        Err(_) => Error::transient(format!(
            "the receiver did not answer within {} s",
            policy.timeout.as_secs_f64()
        )),
    };
    let next = policy.after_failure(d, &error, shared.now());
    match &next {
        Delivered::GaveUp { .. } => {
            tracing::error!(delivery = ?d.notification.id, attempts = d.attempts, error = %error, "gave up delivering a notification");
        }
        _ => {
            tracing::warn!(delivery = ?d.notification.id, attempts = d.attempts, error = %error, "delivering a notification failed; trying again later")
        }
    }
    next
}

/// Records results, retrying a failed write a few times: a result not recorded only means the
/// notification is delivered again when its lease ends.
async fn settle(store: &dyn ScheduleStore, owner: &str, results: &[(i64, Delivered)]) {
    if results.is_empty() {
        return;
    }
    let mut wait = Duration::from_millis(50);
    for _ in 0..5 {
        match store.settle_deliveries(owner, results).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "recording deliveries failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
    tracing::warn!(
        deliveries = results.len(),
        "recording deliveries failed; they are delivered again later"
    );
}

/// A [`Notifier`] that writes into the store's outbox, for notifications raised outside a
/// job's completion: give it to the [`RefreshingTokenProvider`](cmis_core::RefreshingTokenProvider)
/// so that failed refreshes and re-authorisation requests are delivered by the scheduler's
/// outbox too, durably and at least once, never on the refresh's path.
#[derive(Debug, Clone)]
pub struct OutboxNotifier {
    store: Arc<dyn ScheduleStore>,
}

impl OutboxNotifier {
    /// A notifier writing into `store`'s outbox.
    pub fn new(store: Arc<dyn ScheduleStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Notifier for OutboxNotifier {
    async fn notify(&self, notification: &Notification) -> Result<()> {
        self.store.enqueue(std::slice::from_ref(notification)).await
    }
}
