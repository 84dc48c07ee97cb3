//! The schema, as migrations.

use super::SqlStore;
use crate::StoreError;
use sqlx::Row;

/// Schema versions, applied in order; each runs once (recorded in `schema_version`).
pub(super) const MIGRATIONS: &[&[&str]] = &[&[
    "CREATE TABLE tenants (name TEXT PRIMARY KEY, realm TEXT NOT NULL)",
    "CREATE TABLE users (tenant TEXT NOT NULL, ext TEXT NOT NULL, display_name TEXT NOT NULL,
        ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, PRIMARY KEY (tenant, ext))",
    "CREATE TABLE cdrs (call_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, from_party TEXT NOT NULL,
        to_party TEXT NOT NULL, direction TEXT NOT NULL, created_ms BIGINT NOT NULL,
        ringing_ms BIGINT, answered_ms BIGINT, ended_ms BIGINT NOT NULL,
        duration_s BIGINT NOT NULL, billsec BIGINT NOT NULL, cause TEXT NOT NULL,
        ended_by TEXT NOT NULL, status BIGINT, transferred_to TEXT)",
    "CREATE INDEX cdrs_tenant_ended ON cdrs (tenant, ended_ms)",
], &[
    // v2: what the gateway needs. Booleans are BIGINT 0/1 (one type for both databases).
    "ALTER TABLE users ADD COLUMN web_pin_hash TEXT",
    "ALTER TABLE users ADD COLUMN web_ha1_md5 TEXT",
    "ALTER TABLE users ADD COLUMN web_ha1_sha256 TEXT",
    "ALTER TABLE users ADD COLUMN vm_pin_hash TEXT",
    "ALTER TABLE users ADD COLUMN url_key_sha256 TEXT",
    "ALTER TABLE users ADD COLUMN forward_to TEXT",
    "ALTER TABLE users ADD COLUMN forward_on BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE users ADD COLUMN followme_on BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE users ADD COLUMN vm_on BIGINT NOT NULL DEFAULT 1",
    "ALTER TABLE users ADD COLUMN ring_secs BIGINT NOT NULL DEFAULT 30",
    "CREATE UNIQUE INDEX users_url_key ON users (url_key_sha256)",
    "CREATE TABLE tenant_hosts (host TEXT PRIMARY KEY, tenant TEXT NOT NULL)",
    "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, secret_hash TEXT NOT NULL,
        roles TEXT NOT NULL, label TEXT NOT NULL, created_ms BIGINT NOT NULL)",
    "CREATE INDEX api_keys_tenant ON api_keys (tenant)",
    "CREATE TABLE ip_patterns (tenant TEXT NOT NULL, scope TEXT NOT NULL, pattern TEXT NOT NULL,
        PRIMARY KEY (tenant, scope, pattern))",
    "CREATE TABLE jwt_keys (kid TEXT PRIMARY KEY, tenant TEXT NOT NULL, alg TEXT NOT NULL,
        key_material TEXT NOT NULL)",
    "CREATE TABLE phonebook (tenant TEXT NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL,
        name TEXT NOT NULL, number TEXT NOT NULL, PRIMARY KEY (tenant, id))",
    "CREATE TABLE recordings (call_id TEXT NOT NULL, leg TEXT NOT NULL, tenant TEXT NOT NULL,
        path TEXT NOT NULL, started_ms BIGINT NOT NULL, duration_ms BIGINT NOT NULL,
        bytes BIGINT NOT NULL, PRIMARY KEY (call_id, leg))",
    "CREATE INDEX recordings_tenant ON recordings (tenant, started_ms)",
], &[
    // v3: outside SIP domains a tenant's calls may reach (empty: none).
    "CREATE TABLE sip_domains (tenant TEXT NOT NULL, domain TEXT NOT NULL,
        PRIMARY KEY (tenant, domain))",
], &[
    // v4: recordings by id (the v2 table was never written outside tests), and a tenant's
    // recording policy.
    "DROP TABLE recordings",
    "CREATE TABLE recordings (id TEXT PRIMARY KEY, call_id TEXT NOT NULL, tenant TEXT NOT NULL,
        side TEXT NOT NULL, layout TEXT NOT NULL, path TEXT NOT NULL, started_ms BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL, bytes BIGINT NOT NULL)",
    "CREATE INDEX recordings_tenant ON recordings (tenant, started_ms)",
    "CREATE INDEX recordings_call ON recordings (tenant, call_id)",
    "CREATE TABLE recording_policy (tenant TEXT PRIMARY KEY, record_calls BIGINT NOT NULL,
        retention_days BIGINT NOT NULL)",
], &[
    // v5: numbers the B2BUA answers itself (application calls driven through the API).
    "CREATE TABLE app_numbers (tenant TEXT NOT NULL, number TEXT NOT NULL, label TEXT NOT NULL,
        PRIMARY KEY (tenant, number))",
], &[
    // v6: forwarding on busy and on no answer, do-not-disturb.
    "ALTER TABLE users ADD COLUMN forward_busy TEXT",
    "ALTER TABLE users ADD COLUMN forward_no_answer TEXT",
    "ALTER TABLE users ADD COLUMN dnd BIGINT NOT NULL DEFAULT 0",
], &[
    // v7: voicemail messages (the audio is a recording).
    "CREATE TABLE voicemail (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, mailbox TEXT NOT NULL,
        folder TEXT NOT NULL, caller TEXT NOT NULL, created_ms BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL, recording TEXT NOT NULL)",
    "CREATE INDEX voicemail_mailbox ON voicemail (tenant, mailbox, folder, created_ms)",
], &[
    // v8: a user's call sequence (follow-me), as JSON.
    "ALTER TABLE users ADD COLUMN call_sequence TEXT",
], &[
    // v9: trunks to carriers, the dial plan (its ordered rules as JSON), inbound numbers; a
    // user's outbound caller ID and active voicemail greeting.
    "ALTER TABLE users ADD COLUMN caller_id TEXT",
    "ALTER TABLE users ADD COLUMN vm_greeting TEXT NOT NULL DEFAULT 'standard'",
    "CREATE TABLE trunks (tenant TEXT NOT NULL, name TEXT NOT NULL, host TEXT NOT NULL,
        port BIGINT NOT NULL, transport TEXT NOT NULL, username TEXT, password TEXT,
        register BIGINT NOT NULL, caller_id TEXT, max_channels BIGINT NOT NULL,
        PRIMARY KEY (tenant, name))",
    "CREATE TABLE dialplans (tenant TEXT PRIMARY KEY, rules TEXT NOT NULL)",
    "CREATE TABLE dids (tenant TEXT NOT NULL, number TEXT NOT NULL, destination TEXT NOT NULL,
        PRIMARY KEY (tenant, number))",
], &[
    // v10: ring groups (the group as JSON).
    "CREATE TABLE ring_groups (tenant TEXT NOT NULL, number TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (tenant, number))",
], &[
    // v11: call-centre objects a tenant configures (conference rooms; later auto-attendants
    // and queues): one JSON document per kind and name.
    "CREATE TABLE tenant_configs (tenant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (tenant, kind, name))",
], &[
    // v12: the queue a call went through.
    "ALTER TABLE cdrs ADD COLUMN queue TEXT",
], &[
    // v13: the webhook outbox (see `Outbox`).
    "CREATE TABLE webhook_outbox (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, tenant TEXT NOT NULL,
        vendor TEXT NOT NULL, kind TEXT NOT NULL, okey TEXT NOT NULL, url TEXT NOT NULL,
        content_type TEXT NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL,
        created_ms BIGINT NOT NULL, next_ms BIGINT NOT NULL, attempts BIGINT NOT NULL,
        state TEXT NOT NULL, lease_owner TEXT, lease_until BIGINT NOT NULL, last_error TEXT)",
    "CREATE INDEX webhook_due ON webhook_outbox (state, next_ms)",
    "CREATE INDEX webhook_key ON webhook_outbox (okey, seq)",
    "CREATE INDEX webhook_lease ON webhook_outbox (lease_owner, lease_until)",
], &[
    // v14: what sipX keeps of a user (roles, contact information, the private key of its
    // `/private/{key}/` URLs) and phonebooks as sipX has them (private and named shared books;
    // entries with first and last name and contact information). The old phonebook table was
    // never written by any API.
    "ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE users ADD COLUMN profile TEXT",
    "ALTER TABLE users ADD COLUMN private_key_sha256 TEXT",
    "CREATE UNIQUE INDEX users_private_key ON users (private_key_sha256)",
    "DROP TABLE phonebook",
    "CREATE TABLE phonebook (tenant TEXT NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL,
        book TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
        number TEXT NOT NULL, contact TEXT NOT NULL, created_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, id))",
    "CREATE INDEX phonebook_book ON phonebook (tenant, owner, book)",
], &[
    // v15: CDR search by the call's start (billing periods, promptCall's cdrapi).
    "CREATE INDEX cdrs_tenant_created ON cdrs (tenant, created_ms)",
], &[
    // v16: Taridium CTI: account codes its control sets on a call's CDR; a DID's own CTI URL.
    "ALTER TABLE cdrs ADD COLUMN accountcode TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE cdrs ADD COLUMN acc_code2 TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE cdrs ADD COLUMN acc_code3 TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE dids ADD COLUMN cti_url TEXT",
], &[
    // v17: each B2BUA node's last start (the base of its call ids).
    "CREATE TABLE node_starts (node BIGINT PRIMARY KEY, last_start BIGINT NOT NULL)",
], &[
    // v18: the location service, shared by the B2BUA nodes (see `Nodes`); removed contacts
    // stay a minute as rows expired, so that every node's replica sees them go.
    "CREATE TABLE locations (tenant TEXT NOT NULL, username TEXT NOT NULL, contact TEXT NOT NULL,
        source TEXT NOT NULL, transport TEXT NOT NULL, path TEXT NOT NULL,
        registered_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, username, contact))",
    "CREATE INDEX locations_updated ON locations (updated_ms)",
], &[
    // v19: the durable event log (see `EventLog`): one sequence for every node's events.
    "CREATE TABLE event_counter (id BIGINT PRIMARY KEY, last BIGINT NOT NULL)",
    "INSERT INTO event_counter (id, last) VALUES (1, 0)",
    "CREATE TABLE events (gseq BIGINT PRIMARY KEY, node BIGINT NOT NULL, call_id TEXT NOT NULL,
        seq BIGINT NOT NULL, tenant TEXT NOT NULL, at_ms BIGINT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX events_call ON events (call_id, seq)",
    "CREATE INDEX events_tenant ON events (tenant, gseq)",
    "CREATE INDEX events_at ON events (at_ms)",
], &[
    // v20: location rows in the order they were written (replicas read past the last seen,
    // not a time window), and the node that wrote them.
    "CREATE TABLE location_counter (id BIGINT PRIMARY KEY, last BIGINT NOT NULL)",
    "INSERT INTO location_counter (id, last) VALUES (1, 0)",
    "ALTER TABLE locations ADD COLUMN seq BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE locations ADD COLUMN node BIGINT NOT NULL DEFAULT 0",
    "CREATE INDEX locations_seq ON locations (seq)",
], &[
    // v21: which gateway does a call's follow-up work (webhooks, OzML sessions), for how long.
    "CREATE TABLE call_claims (call_id TEXT PRIMARY KEY, owner TEXT NOT NULL,
        until_ms BIGINT NOT NULL)",
    "CREATE INDEX call_claims_until ON call_claims (until_ms)",
], &[
    // v22: the live-call journal (see `Journal`): each live call's entry, each node run's
    // last sign of life.
    "CREATE TABLE live_calls (call_id TEXT PRIMARY KEY, node BIGINT NOT NULL,
        start BIGINT NOT NULL, tenant TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX live_calls_run ON live_calls (node, start)",
    "CREATE TABLE node_runs (node BIGINT NOT NULL, start BIGINT NOT NULL,
        alive_ms BIGINT NOT NULL, PRIMARY KEY (node, start))",
], &[
    // v23: idempotency keys of call requests (see `RequestKeys`).
    "CREATE TABLE request_keys (tenant TEXT NOT NULL, request_key TEXT NOT NULL,
        call_id TEXT NOT NULL, at_ms BIGINT NOT NULL, PRIMARY KEY (tenant, request_key))",
    "CREATE INDEX request_keys_at ON request_keys (at_ms)",
]];

impl SqlStore {
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT MAX(version) AS v FROM schema_version")
            .fetch_one(&self.pool)
            .await?;
        let current: i64 = row.try_get::<Option<i64>, _>("v")?.unwrap_or(0);
        for (i, steps) in MIGRATIONS.iter().enumerate() {
            let version = i as i64 + 1;
            if version <= current {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            for step in *steps {
                sqlx::query(step).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
