//! [`AdminStore`](super::AdminStore) on both SQL stores: statements built from the query's
//! filters (every value a bound argument), over the active and the history table alike.

use std::collections::BTreeMap;

use cmis_core::{AccountRef, Platform, Result, TenantId};
use time::OffsetDateTime;

use super::memory::refresh_of;
use super::{AccountActivity, Hold, JobCounts, JobPage, JobQuery, Scope};
use crate::job::{Job, JobId, JobState, parse_kind};
use crate::sql::{Arg, Dialect, Engine};
use crate::stored::{from_micros, micros};

/// The conditions of a statement and their arguments, numbered in order.
#[derive(Default)]
struct Conditions<'a> {
    sql: Vec<String>,
    args: Vec<Arg<'a>>,
}

impl<'a> Conditions<'a> {
    /// A new placeholder bound to `arg`.
    fn bind(&mut self, arg: impl Into<Arg<'a>>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// `column IN (..)` over `values`; nothing when there are none.
    fn any_of(&mut self, column: &str, values: impl IntoIterator<Item = &'a str>) {
        let marks: Vec<String> = values.into_iter().map(|v| self.bind(v)).collect();
        if !marks.is_empty() {
            self.sql.push(format!("{column} IN ({})", marks.join(", ")));
        }
    }

    /// `column` in the range.
    fn range(&mut self, column: &str, range: &super::TimeRange) {
        if let Some(from) = range.from {
            let m = self.bind(micros(from));
            self.sql.push(format!("{column} >= {m}"));
        }
        if let Some(to) = range.to {
            let m = self.bind(micros(to));
            self.sql.push(format!("{column} < {m}"));
        }
    }

    fn scope(&mut self, scope: &'a Scope) {
        if let Scope::Tenant(t) = scope {
            let m = self.bind(t.as_str());
            self.sql.push(format!("tenant = {m}"));
        }
    }

    /// The states, as stored: on a store whose leased rows keep their state, `publishing` is
    /// a held lease and every other state is one without.
    fn states(&mut self, states: &[JobState], lease_keeps_state: bool) {
        if states.is_empty() {
            return;
        }
        if !lease_keeps_state {
            self.any_of("state", states.iter().map(|s| s.as_str()));
            return;
        }
        let others: Vec<&'static str> = states
            .iter()
            .filter(|s| **s != JobState::Publishing)
            .map(|s| s.as_str())
            .collect();
        let mut parts = Vec::new();
        if states.contains(&JobState::Publishing) {
            parts.push("lease_owner IS NOT NULL".to_owned());
        }
        if !others.is_empty() {
            let marks: Vec<String> = others.into_iter().map(|v| self.bind(v)).collect();
            parts.push(format!(
                "(state IN ({}) AND lease_owner IS NULL)",
                marks.join(", ")
            ));
        }
        self.sql.push(format!("({})", parts.join(" OR ")));
    }

    fn clause(&self) -> String {
        if self.sql.is_empty() {
            "1 = 1".to_owned()
        } else {
            self.sql.join(" AND ")
        }
    }
}

/// `%text%` for `LIKE .. ESCAPE '\'`, lowercased, with `%`, `_` and `\` taken literally.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// [`AdminStore::find_jobs`](super::AdminStore::find_jobs).
pub(crate) async fn find_jobs<D: Dialect>(
    store: &D,
    scope: &Scope,
    query: &JobQuery,
) -> Result<JobPage> {
    query.check()?;
    let size = query.page_size();
    let pattern = query.error_text.as_deref().map(like_pattern);
    let platforms: Vec<&str> = query.platforms.iter().map(|p| p.as_str()).collect();
    let mut c = Conditions::default();
    c.scope(scope);
    c.states(&query.states, D::SQL.lease_keeps_state);
    c.any_of("platform", platforms.iter().copied());
    c.any_of("account", query.accounts.iter().map(String::as_str));
    if let Some(p) = &query.post_key {
        let m = c.bind(p.as_str());
        c.sql.push(format!("post_id = {m}"));
    }
    c.range("scheduled_for", &query.scheduled);
    c.range("created_at", &query.created);
    if !query.finished.is_open() {
        c.any_of(
            "state",
            JobState::ALL
                .iter()
                .filter(|s| s.is_finished())
                .map(|s| s.as_str()),
        );
        c.range("updated_at", &query.finished);
    }
    if let Some(k) = query.error_kind {
        let m = c.bind(k.as_str());
        c.sql.push(format!("last_error_kind = {m}"));
    }
    if let Some(p) = pattern.as_deref() {
        let m = c.bind(p);
        c.sql
            .push(format!("LOWER(last_error) LIKE {m} ESCAPE '\\'"));
    }
    if let Some(b) = query.before {
        let m = c.bind(b.get());
        c.sql.push(format!("id < {m}"));
    }
    let limit = c.bind(i64::from(size) + 1);
    let (cols, cond) = (D::SQL.job_columns, c.clause());
    let sql = format!(
        "SELECT * FROM (SELECT * FROM (SELECT {cols} FROM jobs WHERE {cond} ORDER BY id DESC \
         LIMIT {limit}) AS a UNION ALL SELECT * FROM (SELECT {cols} FROM jobs_history \
         WHERE {cond} ORDER BY id DESC LIMIT {limit}) AS h) AS u ORDER BY id DESC LIMIT {limit}"
    );
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all_built(&mut conn, sql, c.args).await?;
    Ok(JobPage::cut(D::Db::jobs(&rows), size))
}

/// [`AdminStore::find_job`](super::AdminStore::find_job).
pub(crate) async fn find_job<D: Dialect>(
    store: &D,
    scope: &Scope,
    id: JobId,
) -> Result<Option<Job>> {
    let mut c = Conditions::default();
    c.scope(scope);
    let m = c.bind(id.get());
    c.sql.push(format!("id = {m}"));
    let (cols, cond) = (D::SQL.job_columns, c.clause());
    let sql = format!(
        "SELECT {cols} FROM jobs WHERE {cond} UNION ALL SELECT {cols} FROM jobs_history \
         WHERE {cond}"
    );
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all_built(&mut conn, sql, c.args).await?;
    rows.first().map(D::Db::job).transpose()
}

/// [`AdminStore::count_jobs`](super::AdminStore::count_jobs): the active table by its
/// `(tenant, state, platform)` index alone, history from the counts the cleanup keeps. On a store
/// whose leased rows keep their stored state, the leased rows (all due: a claim takes only due
/// jobs and leaves `run_at` as it was) are found through the due index and counted as
/// `publishing` instead.
pub(crate) async fn count_jobs<D: Dialect>(store: &D, scope: &Scope) -> Result<JobCounts> {
    let mut c = Conditions::default();
    c.scope(scope);
    let cond = c.clause();
    let mut sql = format!(
        "SELECT platform, state AS st, COUNT(*) AS n FROM jobs WHERE {cond} GROUP BY platform, state \
         UNION ALL SELECT platform, state AS st, CAST(SUM(n) AS BIGINT) AS n FROM jobs_history_counts WHERE {cond} \
         GROUP BY platform, state"
    );
    if D::SQL.lease_keeps_state {
        let now = c.bind(micros(store.now()));
        sql.push_str(&format!(
            " UNION ALL SELECT platform, state AS st, -COUNT(*) AS n FROM jobs WHERE {cond} \
             AND state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
             AND run_at <= {now} AND lease_owner IS NOT NULL GROUP BY platform, state \
             UNION ALL SELECT platform, 'publishing' AS st, COUNT(*) AS n FROM jobs WHERE {cond} \
             AND state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
             AND run_at <= {now} AND lease_owner IS NOT NULL GROUP BY platform"
        ));
    }
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all_built(&mut conn, sql, c.args).await?;
    let mut totals: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &rows {
        let key = (D::Db::text(r, "platform")?, D::Db::text(r, "st")?);
        *totals.entry(key).or_default() += D::Db::int(r, "n")?;
    }
    let mut counts = JobCounts::default();
    for ((platform, state), n) in totals {
        // A state a newer version wrote is left out of the counts, as its jobs are of lists.
        let Ok(state) = state.parse::<JobState>() else {
            continue;
        };
        let n = u64::try_from(n).unwrap_or(0);
        if n > 0 {
            counts.add(platform.parse().unwrap_or(Platform::Unknown), state, n);
        }
    }
    Ok(counts)
}

/// [`AdminStore::account_activity`](super::AdminStore::account_activity).
pub(crate) async fn account_activity<D: Dialect>(
    store: &D,
    scope: &Scope,
    since: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Vec<AccountActivity>> {
    let mut c = Conditions::default();
    c.scope(scope);
    if since.is_none() {
        // Only what needs a person: the jobs waiting for one, and holds (through the
        // `(tenant, state)` index, never the tenant's whole history).
        c.sql
            .push("state IN ('awaiting_reauth', 'retry_scheduled')".to_owned());
    }
    let cond = c.clause();
    let history = if since.is_some() {
        format!(" UNION ALL SELECT {{cols}} FROM jobs_history WHERE {cond}")
    } else {
        String::new()
    };
    let s = c.bind(since.map_or(i64::MAX, micros));
    let n = c.bind(micros(now));
    // A job held until after now is not leased (a claim takes due jobs only, and leaves run_at).
    let held = format!(
        "state = 'retry_scheduled' AND last_error_kind IN ('rate_limited', 'quota') \
         AND run_at > {n}"
    );
    // Without a window the columns are those of the attention index (read by index alone).
    let cols = if since.is_some() {
        "tenant, platform, account, state, updated_at, last_error_kind, run_at"
    } else {
        "tenant, platform, account, state, CAST(NULL AS BIGINT) AS updated_at, last_error_kind, \
         run_at"
    };
    let sql = format!(
        "SELECT tenant, platform, account, \
         MAX(CASE WHEN state = 'published' THEN updated_at END) AS last_published, \
         SUM(CASE WHEN state = 'published' AND updated_at >= {s} THEN 1 ELSE 0 END) AS published, \
         SUM(CASE WHEN state IN ('failed', 'missed') AND updated_at >= {s} THEN 1 ELSE 0 END) \
         AS failed, \
         SUM(CASE WHEN state = 'awaiting_reauth' THEN 1 ELSE 0 END) AS reauth, \
         MAX(CASE WHEN {held} THEN run_at END) AS hold_until, \
         MAX(CASE WHEN {held} THEN last_error_kind END) AS hold_kind \
         FROM (SELECT {cols} FROM jobs WHERE {cond}{history}) AS u \
         GROUP BY tenant, platform, account",
        history = history.replace("{cols}", cols),
    );
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all_built(&mut conn, sql, c.args).await?;
    let mut by: BTreeMap<AccountRef, AccountActivity> = BTreeMap::new();
    for r in &rows {
        let account = account_of::<D>(r)?;
        let hold = match (
            D::Db::opt_int(r, "hold_until")?,
            D::Db::opt_text(r, "hold_kind")?,
        ) {
            (Some(until), Some(kind)) => Some(Hold {
                kind: parse_kind(&kind),
                until: from_micros(until)?,
            }),
            _ => None,
        };
        let count = |col| D::Db::int(r, col).map(|n| u64::try_from(n).unwrap_or(0));
        let a = AccountActivity {
            account: account.clone(),
            last_published_at: D::Db::opt_int(r, "last_published")?
                .map(from_micros)
                .transpose()?,
            published: count("published")?,
            failed: count("failed")?,
            awaiting_reauth: count("reauth")?,
            hold,
            last_refresh: None,
        };
        by.insert(account, a);
    }
    let mut c = Conditions::default();
    c.scope(scope);
    let sql = format!(
        "SELECT tenant, at, action, platform, account, subject, detail FROM audit \
         WHERE {} AND subject IS NULL AND action IN ('token.refreshed', 'token.refresh_failed') \
         ORDER BY id DESC LIMIT 10000",
        c.clause()
    );
    for r in &D::Db::fetch_all_built(&mut conn, sql, c.args).await? {
        let record = D::Db::audit(r)?;
        let (Some(account), Some(refresh)) = (&record.account, refresh_of(&record)) else {
            continue;
        };
        let a = by
            .entry(account.clone())
            .or_insert_with(|| AccountActivity::none(account.clone()));
        if a.last_refresh.is_none() {
            a.last_refresh = Some(refresh);
        }
    }
    Ok(by.into_values().collect())
}

fn account_of<D: Dialect>(r: &<D::Db as sqlx::Database>::Row) -> Result<AccountRef> {
    Ok(AccountRef::new(
        TenantId::new(D::Db::text(r, "tenant")?),
        D::Db::text(r, "platform")?
            .parse()
            .unwrap_or(Platform::Unknown),
        D::Db::text(r, "account")?,
    ))
}

/// [`AdminStore::tenants`](super::AdminStore::tenants).
pub(crate) async fn tenants<D: Dialect>(store: &D) -> Result<Vec<TenantId>> {
    let sql = "SELECT tenant FROM jobs UNION SELECT tenant FROM jobs_history \
               UNION SELECT tenant FROM credentials";
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all_built(&mut conn, sql.to_owned(), Vec::new()).await?;
    let mut out = rows
        .iter()
        .map(|r| D::Db::text(r, "tenant").map(TenantId::new))
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

/// `AdminStore` for a store with a [`Dialect`], by the flows above.
macro_rules! admin_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl crate::admin::AdminStore for $store {
            async fn find_jobs(
                &self,
                scope: &crate::admin::Scope,
                query: &crate::admin::JobQuery,
            ) -> cmis_core::Result<crate::admin::JobPage> {
                crate::admin::sql::find_jobs(self, scope, query).await
            }

            async fn find_job(
                &self,
                scope: &crate::admin::Scope,
                id: crate::job::JobId,
            ) -> cmis_core::Result<Option<crate::job::Job>> {
                crate::admin::sql::find_job(self, scope, id).await
            }

            async fn count_jobs(
                &self,
                scope: &crate::admin::Scope,
            ) -> cmis_core::Result<crate::admin::JobCounts> {
                crate::admin::sql::count_jobs(self, scope).await
            }

            async fn account_activity(
                &self,
                scope: &crate::admin::Scope,
                since: Option<time::OffsetDateTime>,
                now: time::OffsetDateTime,
            ) -> cmis_core::Result<Vec<crate::admin::AccountActivity>> {
                crate::admin::sql::account_activity(self, scope, since, now).await
            }

            async fn tenants(&self) -> cmis_core::Result<Vec<cmis_core::TenantId>> {
                crate::admin::sql::tenants(self).await
            }

            async fn record_admin(&self, record: &cmis_core::AuditRecord) -> cmis_core::Result<()> {
                crate::sql::credentials::record(self, record).await
            }
        }
    };
}
pub(crate) use admin_store;
