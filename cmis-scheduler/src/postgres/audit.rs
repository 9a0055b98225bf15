//! The hash-chained audit trail on PostgreSQL: appends lock the tenants' heads (in tenant order,
//! so concurrent appends cannot deadlock), link the rows and write them with one statement.

use std::collections::BTreeMap;

use cmis_core::Result;
use sqlx::{PgConnection, Row};

use crate::audit_chain::{self, AuditRow, GENESIS, Hash};
use crate::rows::head_from_row;
use crate::stored::db_err;

const LOCK_HEADS: &str = "SELECT tenant, seq, hash FROM audit_heads WHERE tenant = ANY($1) \
     ORDER BY tenant FOR UPDATE";

const NEW_HEADS: &str = "INSERT INTO audit_heads (tenant, seq, hash) \
     SELECT t, 0, $2 FROM UNNEST($1::text[]) AS t ON CONFLICT (tenant) DO NOTHING";

/// Inserts the linked records and moves the heads in one statement (one round trip).
const INSERT_AND_MOVE: &str = "WITH ins AS (INSERT INTO audit (tenant, at, action, platform, \
        account, subject, detail, seq, hash) SELECT * FROM UNNEST($1::text[], $2::bigint[], \
        $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bytea[])) \
     UPDATE audit_heads AS h SET seq = v.seq, hash = v.hash \
     FROM UNNEST($10::text[], $11::bigint[], $12::bytea[]) AS v(tenant, seq, hash) \
     WHERE h.tenant = v.tenant";

async fn lock_heads(
    conn: &mut PgConnection,
    tenants: &[String],
) -> Result<BTreeMap<String, (i64, Hash)>> {
    let rows = sqlx::query(LOCK_HEADS)
        .bind(tenants)
        .fetch_all(conn)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("tenant").map_err(db_err)?,
                head_from_row(r)?,
            ))
        })
        .collect()
}

/// Appends `rows` to their tenants' chains. Must run inside a transaction.
pub(super) async fn append(conn: &mut PgConnection, rows: Vec<AuditRow>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tenants: Vec<String> = rows
        .iter()
        .map(|r| r.tenant.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut heads = lock_heads(conn, &tenants).await?;
    if heads.len() < tenants.len() {
        let missing: Vec<&String> = tenants.iter().filter(|t| !heads.contains_key(*t)).collect();
        sqlx::query(NEW_HEADS)
            .bind(missing)
            .bind(&GENESIS[..])
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        heads = lock_heads(conn, &tenants).await?;
    }
    let chained = audit_chain::extend(&mut heads, rows);
    let n = chained.len();
    let (mut tenant, mut at, mut action, mut platform, mut account, mut subject, mut detail) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut seq, mut hash) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for c in chained {
        tenant.push(c.row.tenant);
        at.push(c.row.at);
        action.push(c.row.action);
        platform.push(c.row.platform);
        account.push(c.row.account);
        subject.push(c.row.subject);
        detail.push(c.row.detail);
        seq.push(c.seq);
        hash.push(c.hash.to_vec());
    }
    let (mut t, mut s, mut h) = (Vec::new(), Vec::new(), Vec::new());
    for (tenant, (seq, hash)) in heads {
        t.push(tenant);
        s.push(seq);
        h.push(hash.to_vec());
    }
    sqlx::query(INSERT_AND_MOVE)
        .bind(tenant)
        .bind(at)
        .bind(action)
        .bind(platform)
        .bind(account)
        .bind(subject)
        .bind(detail)
        .bind(seq)
        .bind(hash)
        .bind(t)
        .bind(s)
        .bind(h)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}
