//! The notification outbox on PostgreSQL.

use std::time::Duration;

use cmis_core::Result;
use sqlx::PgConnection;

use super::PgStore;
use crate::outbox::{Delivered, Delivery, OutboxRow};
use crate::plan::{duration_micros, micros};
use crate::rows::db_err;

const INSERT: &str = "INSERT INTO outbox (delivery_id, tenant, kind, subject, payload, \
        created_at, run_at) \
     SELECT d, t, k, s, p, $6, $6 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
        $5::text[]) AS v(d, t, k, s, p)";

const CLAIM: &str = "WITH due AS (SELECT id FROM outbox \
        WHERE delivered_at IS NULL AND dead_at IS NULL AND run_at <= $3 \
        AND (lease_owner IS NULL OR lease_expires_at < $3) \
        ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
     UPDATE outbox AS o SET lease_owner = $1, lease_expires_at = $2, attempts = o.attempts + 1 \
     FROM due WHERE o.id = due.id \
     RETURNING o.id, o.delivery_id, o.attempts, o.created_at, o.payload";

/// Settles attempts: delivered rows for good (whoever holds them now: delivered is
/// delivered), failed ones only while `$1` still holds them.
const SETTLE: &str = "UPDATE outbox AS o SET \
        delivered_at = CASE WHEN v.ok THEN $2 ELSE o.delivered_at END, \
        dead_at = CASE WHEN v.dead THEN $2 ELSE o.dead_at END, \
        run_at = COALESCE(v.retry_at, o.run_at), last_error = COALESCE(v.err, o.last_error), \
        lease_owner = NULL, lease_expires_at = NULL \
     FROM UNNEST($3::bigint[], $4::bool[], $5::bool[], $6::bigint[], $7::text[]) \
        AS v(id, ok, dead, retry_at, err) \
     WHERE o.id = v.id AND o.delivered_at IS NULL AND (v.ok OR o.lease_owner = $1)";

/// Writes `rows` into the outbox. Runs inside the caller's transaction.
pub(super) async fn insert(conn: &mut PgConnection, rows: &[OutboxRow], now: i64) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(INSERT)
        .bind(
            rows.iter()
                .map(|r| r.delivery_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.tenant.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.subject.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>())
        .bind(now)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl PgStore {
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
        let rows = sqlx::query(CLAIM)
            .bind(owner)
            .bind(now.saturating_add(duration_micros(lease)))
            .bind(now)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
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
        let (mut ids, mut ok, mut dead, mut retry, mut err) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (seq, r) in results {
            ids.push(*seq);
            ok.push(matches!(r, Delivered::Yes));
            dead.push(matches!(r, Delivered::GaveUp { .. }));
            retry.push(match r {
                Delivered::RetryAt { at, .. } => Some(micros(*at)),
                _ => None,
            });
            err.push(match r {
                Delivered::RetryAt { error, .. } | Delivered::GaveUp { error } => {
                    Some(error.as_str())
                }
                _ => None,
            });
        }
        sqlx::query(SETTLE)
            .bind(owner)
            .bind(now)
            .bind(ids)
            .bind(ok)
            .bind(dead)
            .bind(retry)
            .bind(err)
            .execute(self.pool())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn outbox_waiting(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
        )
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
