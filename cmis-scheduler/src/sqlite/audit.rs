//! The hash-chained audit trail on SQLite. Appends run inside the store's write transactions
//! (`BEGIN IMMEDIATE`), which SQLite serialises, so reading and moving the heads needs no lock.

use std::collections::BTreeMap;

use cmis_core::Result;
use serde_json::json;
use sqlx::{Row, SqliteConnection};

use crate::audit_chain::{self, AuditRow, Hash};
use crate::rows::head_from_row;
use crate::stored::db_err;

const HEADS: &str = "SELECT tenant, seq, hash FROM audit_heads \
     WHERE tenant IN (SELECT value FROM json_each(?1))";

const INSERT: &str = "INSERT INTO audit (tenant, at, action, platform, account, subject, detail, \
     seq, hash) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
        json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), \
        json_extract(value, '$[5]'), json_extract(value, '$[6]'), json_extract(value, '$[7]'), \
        unhex(json_extract(value, '$[8]')) \
     FROM json_each(?1) ORDER BY key";

const MOVE_HEADS: &str = "INSERT INTO audit_heads (tenant, seq, hash) \
     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
        unhex(json_extract(value, '$[2]')) FROM json_each(?1) WHERE true \
     ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

/// Appends `rows` to their tenants' chains. Must run inside a write transaction.
pub(crate) async fn append(conn: &mut SqliteConnection, rows: Vec<AuditRow>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tenants: Vec<&str> = rows
        .iter()
        .map(|r| r.tenant.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut heads: BTreeMap<String, (i64, Hash)> = sqlx::query(HEADS)
        .bind(json!(tenants).to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("tenant").map_err(db_err)?,
                head_from_row(r)?,
            ))
        })
        .collect::<Result<_>>()?;
    let chained = audit_chain::extend(&mut heads, rows);
    let records: Vec<_> = chained
        .into_iter()
        .map(|c| {
            json!([
                c.row.tenant,
                c.row.at,
                c.row.action,
                c.row.platform,
                c.row.account,
                c.row.subject,
                c.row.detail,
                c.seq,
                hex::encode(c.hash)
            ])
        })
        .collect();
    sqlx::query(INSERT)
        .bind(serde_json::Value::from(records).to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let moved: Vec<_> = heads
        .into_iter()
        .map(|(t, (seq, hash))| json!([t, seq, hex::encode(hash)]))
        .collect();
    sqlx::query(MOVE_HEADS)
        .bind(serde_json::Value::from(moved).to_string())
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}
