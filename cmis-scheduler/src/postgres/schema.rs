//! The PostgreSQL schema, as numbered migrations the store applies itself.

/// Migrations in order; the index + 1 is the version.
pub(super) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    post_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    surface TEXT NOT NULL,
    post TEXT NOT NULL,
    state TEXT NOT NULL,
    scheduled_for BIGINT NOT NULL,
    run_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error_kind TEXT,
    last_error TEXT,
    checkpoint TEXT,
    receipt TEXT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    fencing_token BIGINT NOT NULL DEFAULT 0,
    phase TEXT,
    started_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    claimed_from TEXT
);
-- A queue table: vacuum early so dead tuples do not slow the claim scan.
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02,
                      fillfactor = 80);
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

CREATE TABLE jobs_history (LIKE jobs INCLUDING DEFAULTS);
ALTER TABLE jobs_history ALTER COLUMN id DROP IDENTITY IF EXISTS;
ALTER TABLE jobs_history ADD PRIMARY KEY (id);
CREATE INDEX jobs_history_tenant ON jobs_history (tenant, id);

CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    platform TEXT,
    account TEXT,
    subject TEXT,
    detail TEXT
);
CREATE INDEX audit_tenant ON audit (tenant, subject);

CREATE UNLOGGED TABLE leaders (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE credentials (
    tenant TEXT NOT NULL,
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    version BIGINT NOT NULL,
    access_expires_at BIGINT,
    sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
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
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ai_cache_expiry ON ai_cache (expires_at);
",
    r"
-- 3: the audit trail is hash-chained per tenant (see audit_chain.rs) and append-only.
ALTER TABLE audit ADD COLUMN seq BIGINT, ADD COLUMN hash BYTEA;
CREATE TABLE audit_heads (
    tenant TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
CREATE FUNCTION cmis_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END
$f$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION cmis_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION cmis_audit_append_only();
",
    r#"
-- 4: identifiers compare byte by byte (memcmp), not by the database's locale: faster index
-- inserts on the hot tables, and the same order as Rust's (heads are locked in this order).
ALTER TABLE jobs ALTER COLUMN tenant TYPE text COLLATE "C",
    ALTER COLUMN post_id TYPE text COLLATE "C", ALTER COLUMN platform TYPE text COLLATE "C",
    ALTER COLUMN account TYPE text COLLATE "C", ALTER COLUMN surface TYPE text COLLATE "C",
    ALTER COLUMN state TYPE text COLLATE "C";
ALTER TABLE jobs_history ALTER COLUMN tenant TYPE text COLLATE "C",
    ALTER COLUMN post_id TYPE text COLLATE "C", ALTER COLUMN platform TYPE text COLLATE "C",
    ALTER COLUMN account TYPE text COLLATE "C", ALTER COLUMN surface TYPE text COLLATE "C",
    ALTER COLUMN state TYPE text COLLATE "C";
ALTER TABLE audit ALTER COLUMN tenant TYPE text COLLATE "C",
    ALTER COLUMN subject TYPE text COLLATE "C";
ALTER TABLE audit_heads ALTER COLUMN tenant TYPE text COLLATE "C";
ALTER TABLE credentials ALTER COLUMN tenant TYPE text COLLATE "C",
    ALTER COLUMN platform TYPE text COLLATE "C", ALTER COLUMN account TYPE text COLLATE "C";
"#,
    r"
-- 5: a claim rewrites the row in place. It changes no indexed column (nor any column of an index
-- predicate): the stored state stays what it was and a job holding a lease (lease_owner set) is
-- the model's 'publishing'. So PostgreSQL can update it on its own page (HOT) without an entry
-- in any index, the claim's largest cost before. The rescuer finds expired leases through
-- jobs_due (a leased job is due: it was claimed because it was), so jobs_leases goes; and the
-- claim time is its own column, since updated_at is indexed. Pages keep room for the claim's
-- new row version on the same page.
UPDATE jobs SET state = COALESCE(claimed_from, 'scheduled') WHERE state = 'publishing';
DROP INDEX jobs_leases;
ALTER TABLE jobs ADD COLUMN claimed_at BIGINT;
ALTER TABLE jobs_history ADD COLUMN claimed_at BIGINT;
ALTER TABLE jobs SET (fillfactor = 50);
",
    r#"
-- 6: a claimed job whose row this version cannot decode (a newer cmis wrote it, or it was
-- edited by hand) is put back with a growing delay, and quarantined as failed after a few
-- claims; this counts them. A constant default: no table rewrite.
ALTER TABLE jobs ADD COLUMN decode_failures BIGINT NOT NULL DEFAULT 0;

-- The notification outbox: written in the same transaction as the outcome it tells of, and
-- delivered by its own loop, at least once, with a delivery id stable across attempts.
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    tenant TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    delivered_at BIGINT,
    dead_at BIGINT
);
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.01, fillfactor = 80);
CREATE INDEX outbox_due ON outbox (run_at, id) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
"#,
    r#"
-- 7: processes register here (id, versions, heartbeat), so that a migration that changes how
-- jobs are claimed can refuse to run beside processes that claim the old way. Rows an older
-- binary leased after migration 5 have the stored state 'publishing', which the due index
-- does not hold: this index lets the rescuer find them.
CREATE TABLE processes (
    id TEXT COLLATE "C" PRIMARY KEY,
    cmis_version TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
CREATE INDEX jobs_legacy_publishing ON jobs (lease_expires_at) WHERE state = 'publishing';
"#,
    r"
-- 8: a completion batch's notifications are written as one row, in the completion's
-- transaction (the claim-and-complete path pays for one row, not one per job). The delivery
-- loop splits a batch into outbox rows, in one statement, when it runs short of due rows.
CREATE TABLE outbox_batches (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at BIGINT NOT NULL,
    n BIGINT NOT NULL,
    rows TEXT NOT NULL
);
-- A batch is ~1 MB of JSON: lz4 compresses it at a fraction of the default pglz's cost, where
-- the server has it (PostgreSQL 14+ built with lz4); elsewhere the default stays.
DO $$ BEGIN
    EXECUTE 'ALTER TABLE outbox_batches ALTER COLUMN rows SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
",
    r#"
-- 9: the admin API (issue 17). A tenant's jobs are counted by state and platform from the
-- tenant index alone: it carries both columns. A completion changes the state, so it writes a
-- new entry in this index already; a claim changes neither, so it stays a HOT update. (A
-- separate (tenant, state, platform) index cost queue-drain about 10 %.) History's counts are
-- kept by the cleanup that moves jobs there (history rows never change), so an overview never
-- counts history row by row.
DROP INDEX jobs_tenant;
CREATE INDEX jobs_tenant ON jobs (tenant, id) INCLUDE (state, platform);
CREATE INDEX jobs_history_admin ON jobs_history (tenant, state, id);
-- What needs a person (jobs waiting for re-authorisation, holds), per account, by index alone;
-- only rows in these rare states are in it, so publishing pays nothing for it.
CREATE INDEX jobs_attention ON jobs (tenant, platform, account, state, run_at, last_error_kind)
    WHERE state IN ('awaiting_reauth', 'retry_scheduled');
-- History finished in a time range (history holds older jobs: usually none in a recent range).
CREATE INDEX jobs_history_finished ON jobs_history (tenant, updated_at);
CREATE TABLE jobs_history_counts (
    tenant TEXT COLLATE "C" NOT NULL,
    platform TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant, platform, state)
);
INSERT INTO jobs_history_counts (tenant, platform, state, n)
    SELECT tenant, platform, state, COUNT(*) FROM jobs_history GROUP BY tenant, platform, state;
"#,
];
