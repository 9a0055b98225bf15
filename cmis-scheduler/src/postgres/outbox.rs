//! The notification outbox on PostgreSQL.

use std::time::Duration;

use cmis_core::Result;
use sqlx::PgConnection;

use super::PgStore;
use crate::outbox::{Delivered, Delivery, OutboxRow};
use crate::stored::db_err;
use crate::stored::{duration_micros, micros};

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

/// A completion batch's notifications as one row (migration 8).
const INSERT_BATCH: &str = "INSERT INTO outbox_batches (created_at, n, rows) VALUES ($1, $2, $3)";

/// Splits the oldest batch into outbox rows, in the batch's order, in one statement: a batch is
/// either still whole or all in the outbox.
const SPLIT: &str = "WITH b AS (DELETE FROM outbox_batches WHERE id = (SELECT id FROM \
        outbox_batches ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING created_at, rows) \
     INSERT INTO outbox (delivery_id, tenant, kind, subject, payload, created_at, run_at) \
     SELECT e.x->>0, e.x->>1, e.x->>2, e.x->>3, (e.x->4)::text, b.created_at, b.created_at \
     FROM b, json_array_elements(b.rows::json) WITH ORDINALITY AS e(x, i) ORDER BY e.i";

/// Batches smaller than this go straight into the outbox: one row each costs little, and they
/// are due without a split.
const BATCH_FROM: usize = 32;

/// Writes a completion batch's notifications: as one batch row when there are many (see
/// [`SPLIT`]), else straight into the outbox. Runs inside the caller's transaction.
pub(super) async fn insert_completed(
    conn: &mut PgConnection,
    rows: &[OutboxRow],
    now: i64,
) -> Result<()> {
    if rows.len() < BATCH_FROM {
        return insert(conn, rows, now).await;
    }
    sqlx::query(INSERT_BATCH)
        .bind(now)
        .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
        .bind(batch_document(rows)?)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// `[[delivery_id, tenant, kind, subject, payload], ...]`, the payloads (JSON already) as they
/// are.
fn batch_document(rows: &[OutboxRow]) -> Result<String> {
    let text = |s: &str| {
        serde_json::to_string(s).map_err(|e| {
            cmis_core::Error::internal(format!("a notification cannot be encoded: {e}"))
        })
    };
    let size: usize = rows.iter().map(|r| r.payload.len() + 96).sum();
    let mut out = String::with_capacity(size + 2);
    out.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        out.push_str(&text(&r.delivery_id)?);
        out.push(',');
        out.push_str(&text(&r.tenant)?);
        out.push(',');
        out.push_str(&text(r.kind)?);
        out.push(',');
        match &r.subject {
            Some(s) => out.push_str(&text(s)?),
            None => out.push_str("null"),
        }
        out.push(',');
        out.push_str(&r.payload);
        out.push(']');
    }
    out.push(']');
    Ok(out)
}

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
        let mut rows = self.claim_rows(owner, limit, lease).await?;
        // Short of due rows: split a batch, if one waits, and claim from it.
        if rows.len() < limit {
            let split = sqlx::query(SPLIT)
                .execute(self.pool())
                .await
                .map_err(db_err)?
                .rows_affected();
            if split > 0 {
                rows.extend(self.claim_rows(owner, limit - rows.len(), lease).await?);
            }
        }
        crate::outbox::deliveries_from_rows(&rows)
    }

    async fn claim_rows(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<sqlx::postgres::PgRow>> {
        let now = micros(self.now());
        sqlx::query(CLAIM)
            .bind(owner)
            .bind(now.saturating_add(duration_micros(lease)))
            .bind(now)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)
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
            "SELECT (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) \
             + (SELECT COALESCE(SUM(n), 0)::bigint FROM outbox_batches)",
        )
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
