//! The notification outbox on SQLite.

use std::time::Duration;

use cmis_core::Result;
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::outbox::{Delivered, Delivery, OutboxRow};
use crate::sql::Dialect as _;
use crate::stored::db_err;
use crate::stored::{duration_micros, micros};

const INSERT: &str = "INSERT INTO outbox (delivery_id, tenant, kind, subject, payload, \
        created_at, run_at) \
     SELECT json_extract(value, '$.d'), json_extract(value, '$.t'), json_extract(value, '$.k'), \
        json_extract(value, '$.s'), json_extract(value, '$.p'), ?2, ?2 FROM json_each(?1)";

const CLAIM: &str = "UPDATE outbox SET lease_owner = ?1, lease_expires_at = ?2, \
        attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox \
        WHERE delivered_at IS NULL AND dead_at IS NULL AND run_at <= ?3 \
        AND (lease_owner IS NULL OR lease_expires_at < ?3) ORDER BY run_at, id LIMIT ?4) \
     RETURNING id, delivery_id, attempts, created_at, payload";

/// Settles attempts: delivered rows for good (whoever holds them now: delivered is
/// delivered), failed ones only while `?1` still holds them.
const SETTLE: &str = "UPDATE outbox SET \
        delivered_at = CASE WHEN v.ok = 1 THEN ?2 ELSE outbox.delivered_at END, \
        dead_at = CASE WHEN v.dead = 1 THEN ?2 ELSE outbox.dead_at END, \
        run_at = COALESCE(v.retry_at, outbox.run_at), \
        last_error = COALESCE(v.err, outbox.last_error), \
        lease_owner = NULL, lease_expires_at = NULL \
     FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.ok') AS ok, \
        json_extract(value, '$.dead') AS dead, json_extract(value, '$.retry_at') AS retry_at, \
        json_extract(value, '$.err') AS err FROM json_each(?3)) AS v \
     WHERE outbox.id = v.id AND outbox.delivered_at IS NULL \
        AND (v.ok = 1 OR outbox.lease_owner = ?1)";

/// Writes `rows` into the outbox. Runs inside the caller's write transaction.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    rows: &[OutboxRow],
    now: i64,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::Value::from(
        rows.iter()
            .map(|r| {
                serde_json::json!({"d": r.delivery_id, "t": r.tenant, "k": r.kind,
                    "s": r.subject, "p": r.payload})
            })
            .collect::<Vec<_>>(),
    )
    .to_string();
    sqlx::query(INSERT)
        .bind(json)
        .bind(now)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl SqliteStore {
    pub(super) async fn claim_outbox(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = micros(self.now());
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(CLAIM)
            .bind(owner)
            .bind(now.saturating_add(duration_micros(lease)))
            .bind(now)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        crate::outbox::deliveries_from_rows(&rows)
    }

    pub(super) async fn settle_outbox(
        &self,
        owner: &str,
        results: &[(i64, Delivered)],
    ) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let now = micros(self.now());
        let json = serde_json::Value::from(
            results
                .iter()
                .map(|(seq, r)| {
                    let (ok, dead, retry_at, err) = match r {
                        Delivered::Yes => (1, 0, None, None),
                        Delivered::RetryAt { at, error } => {
                            (0, 0, Some(micros(*at)), Some(error.as_str()))
                        }
                        Delivered::GaveUp { error } => (0, 1, None, Some(error.as_str())),
                    };
                    serde_json::json!({"id": seq, "ok": ok, "dead": dead,
                        "retry_at": retry_at, "err": err})
                })
                .collect::<Vec<_>>(),
        )
        .to_string();
        let mut tx = self.write_tx().await?;
        sqlx::query(SETTLE)
            .bind(owner)
            .bind(now)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn outbox_waiting(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
        )
        .fetch_one(&self.inner.reader)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
