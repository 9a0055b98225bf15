//! The SQLite schema, as numbered migrations the store applies itself.

/// Migrations in order; the index + 1 is the version.
pub(super) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    post_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    surface TEXT NOT NULL,
    post TEXT NOT NULL,
    state TEXT NOT NULL,
    scheduled_for INTEGER NOT NULL,
    run_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error_kind TEXT,
    last_error TEXT,
    checkpoint TEXT,
    receipt TEXT,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    fencing_token INTEGER NOT NULL DEFAULT 0,
    phase TEXT,
    started_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    claimed_from TEXT
);
-- One active job per (post, target).
CREATE UNIQUE INDEX jobs_active_target ON jobs (tenant, post_id, platform, account, surface)
    WHERE state NOT IN ('published', 'failed', 'missed', 'cancelled');
-- The claim scan: only due-able rows are indexed.
CREATE INDEX jobs_due ON jobs (run_at, id)
    WHERE state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome');
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'publishing';
CREATE INDEX jobs_tenant ON jobs (tenant, id);
CREATE INDEX jobs_finished ON jobs (updated_at)
    WHERE state IN ('published', 'failed', 'missed', 'cancelled');

CREATE TABLE jobs_history (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    post_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    surface TEXT NOT NULL,
    post TEXT NOT NULL,
    state TEXT NOT NULL,
    scheduled_for INTEGER NOT NULL,
    run_at INTEGER,
    attempts INTEGER NOT NULL,
    last_error_kind TEXT,
    last_error TEXT,
    checkpoint TEXT,
    receipt TEXT,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    fencing_token INTEGER NOT NULL,
    phase TEXT,
    started_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    claimed_from TEXT
);
CREATE INDEX jobs_history_tenant ON jobs_history (tenant, id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    platform TEXT,
    account TEXT,
    subject TEXT,
    detail TEXT
);
CREATE INDEX audit_tenant ON audit (tenant, subject);

CREATE TABLE leaders (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE credentials (
    tenant TEXT NOT NULL,
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    version INTEGER NOT NULL,
    access_expires_at INTEGER,
    sealed BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, platform, account)
);
CREATE INDEX credentials_expiry ON credentials (access_expires_at);
",
    r"
-- 2: the AI generator's persistent cache (cmis-ai's CacheStore). The key is a SHA-256 over the
-- normalised request, tenant included; times are microseconds since the Unix epoch.
CREATE TABLE ai_cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX ai_cache_expiry ON ai_cache (expires_at);
",
    r"
-- 3: the audit trail is hash-chained per tenant (see audit_chain.rs) and append-only.
ALTER TABLE audit ADD COLUMN seq INTEGER;
ALTER TABLE audit ADD COLUMN hash BLOB;
CREATE TABLE audit_heads (
    tenant TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
",
    r"
-- 4: nothing to do: SQLite compares text byte by byte already (on PostgreSQL, the identifier
-- columns take the C collation). Kept so both backends number their migrations alike.
",
    r"
-- 5: nothing to do: on PostgreSQL a claim keeps the stored state (SQLite stores 'publishing').
-- Kept so both backends number their migrations alike.
",
    r"
-- 6: a claimed job whose row this version cannot decode (a newer cmis wrote it, or it was
-- edited by hand) is put back with a growing delay, and quarantined as failed after a few
-- claims; this counts them.
ALTER TABLE jobs ADD COLUMN decode_failures INTEGER NOT NULL DEFAULT 0;

-- The notification outbox: written in the same transaction as the outcome it tells of, and
-- delivered by its own loop, at least once, with a delivery id stable across attempts.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    delivered_at INTEGER,
    dead_at INTEGER
);
CREATE INDEX outbox_due ON outbox (run_at, id) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
",
    r"
-- 7: processes register here (id, versions, heartbeat), so that a migration that changes how
-- jobs are claimed can refuse to run beside processes that claim the old way.
CREATE TABLE processes (
    id TEXT PRIMARY KEY,
    cmis_version TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
",
    r"
-- The admin API (issue 17): history's counts, kept by the cleanup that moves jobs there
-- (history rows never change), so an overview never counts history row by row. The active
-- table gets no index by state: SQLite writes every index holding the state at each claim and
-- completion, and an embedded store's tenant is counted fast enough through jobs_tenant.
CREATE INDEX jobs_history_admin ON jobs_history (tenant, state, id);
-- What needs a person (jobs waiting for re-authorisation, holds), per account, by index alone;
-- only rows in these rare states are in it, so publishing pays nothing for it.
CREATE INDEX jobs_attention ON jobs (tenant, platform, account, state, run_at, last_error_kind)
    WHERE state IN ('awaiting_reauth', 'retry_scheduled');
-- History finished in a time range (history holds older jobs: usually none in a recent range).
CREATE INDEX jobs_history_finished ON jobs_history (tenant, updated_at);
CREATE TABLE jobs_history_counts (
    tenant TEXT NOT NULL,
    platform TEXT NOT NULL,
    state TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (tenant, platform, state)
);
INSERT INTO jobs_history_counts (tenant, platform, state, n)
    SELECT tenant, platform, state, COUNT(*) FROM jobs_history GROUP BY tenant, platform, state;
",
];
