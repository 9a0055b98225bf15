//! The durable notification outbox: a job's notifications are written in the same transaction
//! as its outcome, and delivered by their own loop (see [`Scheduler`](crate::Scheduler)), at
//! least once, each with a delivery id that stays the same across its attempts.

use std::time::Duration;

use cmis_core::{Error, Notification, Result};
use time::OffsetDateTime;

/// A notification claimed from the outbox for delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The outbox row.
    pub seq: i64,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// When it was first written.
    pub created_at: OffsetDateTime,
    /// What to deliver; its [`id`](Notification::id) is the delivery id.
    pub notification: Notification,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivered {
    /// The receiver acknowledged it; it is never sent again.
    Yes,
    /// It failed; it is tried again at `at`.
    RetryAt {
        /// When.
        at: OffsetDateTime,
        /// Why the attempt failed (never a secret).
        error: String,
    },
    /// It failed for longer than the outbox keeps trying: it stays in the outbox, marked dead,
    /// for a person to look at.
    GaveUp {
        /// The last failure.
        error: String,
    },
}

/// When and how often a failed delivery is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// The wait after the first failure; it doubles with each failure.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub cap: Duration,
    /// How long after it was written a notification is still tried.
    pub give_up_after: Duration,
    /// How long one receiver may take to answer one attempt.
    pub timeout: Duration,
    /// Deliveries in flight at most, per scheduler.
    pub concurrency: usize,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(10 * 60),
            give_up_after: Duration::from_secs(3 * 24 * 3600),
            timeout: Duration::from_secs(30),
            concurrency: 16,
        }
    }
}

impl DeliveryPolicy {
    /// The wait after `attempts` failed attempts: `base` doubling, at most `cap`, with up to a
    /// quarter of jitter taken off (so receivers that come back are not hit all at once).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let wait = self.base.saturating_mul(1u32 << exp).min(self.cap);
        let jitter = wait.mul_f64(fastrand::f64() * 0.25);
        wait.saturating_sub(jitter)
    }

    /// What to record after attempt `delivery.attempts` failed with `error` at `now`.
    pub(crate) fn after_failure(
        &self,
        delivery: &Delivery,
        error: &Error,
        now: OffsetDateTime,
    ) -> Delivered {
        let mut error = error.to_string();
        crate::stored::clip(&mut error, 1_000);
        let error = crate::stored::storable(&error, 1_000);
        if now > cmis_core::after(delivery.created_at, self.give_up_after) {
            return Delivered::GaveUp { error };
        }
        Delivered::RetryAt {
            at: cmis_core::after(now, self.backoff(delivery.attempts)),
            error,
        }
    }
}

/// The stored form of a notification.
pub(crate) fn encode(n: &Notification) -> Result<String> {
    serde_json::to_string(n)
        .map_err(|e| Error::internal(format!("a notification cannot be encoded: {e}")))
}

/// A stored notification, with its delivery id.
pub(crate) fn decode(payload: &str, delivery_id: &str) -> Result<Notification> {
    let n: Notification = serde_json::from_str(payload)
        .map_err(|e| Error::internal(format!("a stored notification cannot be decoded: {e}")))?;
    Ok(n.with_id(delivery_id))
}

/// The claimed deliveries of `rows` (`id, delivery_id, attempts, created_at, payload`), in
/// order; a notification this process cannot decode stays leased and is tried again when its
/// lease ends, by a process that may read it.
pub(crate) fn deliveries_from_rows<'r, R>(rows: &'r [R]) -> Result<Vec<Delivery>>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let db = crate::stored::db_err;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let seq: i64 = r.try_get("id").map_err(db)?;
        let payload: String = r.try_get("payload").map_err(db)?;
        let id: String = r.try_get("delivery_id").map_err(db)?;
        match decode(&payload, &id) {
            Ok(notification) => out.push(Delivery {
                seq,
                attempts: u32::try_from(r.try_get::<i64, _>("attempts").map_err(db)?)
                    .unwrap_or(u32::MAX),
                created_at: crate::stored::from_micros(r.try_get("created_at").map_err(db)?)?,
                notification,
            }),
            Err(e) => {
                tracing::warn!(seq, error = %e, "skipping a notification this process cannot decode")
            }
        }
    }
    out.sort_by_key(|d| d.seq);
    Ok(out)
}

/// A new delivery id: 128 random bits, as the Standard Webhooks `msg_` ids are.
pub(crate) fn new_delivery_id() -> String {
    format!("msg_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// One row to insert into the outbox.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    pub(crate) delivery_id: String,
    pub(crate) tenant: String,
    pub(crate) kind: &'static str,
    pub(crate) subject: Option<String>,
    pub(crate) payload: String,
}

impl OutboxRow {
    /// The row of `n`. A notification whose receipt cannot be encoded (a third-party
    /// connector's date out of range, say) goes without it, saying so, rather than failing
    /// the whole completion batch it is written with.
    pub(crate) fn new(n: &Notification) -> Result<Self> {
        let payload = match encode(n) {
            Ok(p) => p,
            Err(e) => {
                let mut plain = n.clone();
                plain.receipt = None;
                plain.at = plain.at.to_offset(time::UtcOffset::UTC);
                plain.message = format!("{} (its receipt could not be encoded: {e})", n.message);
                encode(&plain)?
            }
        };
        Ok(Self {
            delivery_id: n.id.clone().unwrap_or_else(new_delivery_id),
            tenant: n.tenant.as_str().to_owned(),
            kind: n.kind.as_str(),
            subject: n.subject.clone(),
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review N18 with a notifier: a receipt that cannot be encoded must not fail the batch.
    #[test]
    fn a_notification_whose_receipt_cannot_be_encoded_goes_without_it() {
        let odd = time::UtcOffset::from_hms(1, 2, 3).unwrap();
        let receipt = cmis_core::Receipt::new(
            cmis_core::Platform::Facebook,
            cmis_core::AccountId::new("page"),
            cmis_core::PostId::new("1_2"),
        )
        .with_published_at(time::OffsetDateTime::now_utc().to_offset(odd));
        let n = Notification::for_account(
            &cmis_core::AccountRef::new(
                cmis_core::TenantId::new("t"),
                cmis_core::Platform::Facebook,
                "page",
            ),
            cmis_core::NotificationKind::Published,
            "published",
        )
        .with_receipt(receipt);
        assert!(encode(&n).is_err());
        let row = OutboxRow::new(&n).unwrap();
        let back = decode(&row.payload, &row.delivery_id).unwrap();
        assert!(back.receipt.is_none());
        assert!(
            back.message.contains("could not be encoded"),
            "{}",
            back.message
        );
        assert_eq!(back.kind, cmis_core::NotificationKind::Published);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = DeliveryPolicy {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
            ..DeliveryPolicy::default()
        };
        for (attempts, full) in [(1, 2), (2, 4), (3, 8), (6, 60), (40, 60)] {
            let w = p.backoff(attempts);
            let full = Duration::from_secs(full);
            assert!(w <= full && w >= full.mul_f64(0.75), "{attempts}: {w:?}");
        }
    }
}
