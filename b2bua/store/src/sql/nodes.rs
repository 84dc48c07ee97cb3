//! [`Nodes`] on SQL: one row per node, its last claimed start; one row per registered contact.

use super::SqlStore;
use super::{int as i, ms as u};
use crate::StoreError;
use crate::nodes::{BindingChange, Nodes, StoredBinding};
use sqlx::Row;

#[async_trait::async_trait]
impl Nodes for SqlStore {
    async fn claim_node_start(&self, node: u8, now_secs: u64) -> Result<u64, StoreError> {
        // One statement: it takes the write lock at once. (A read, then a write, in one
        // SQLite transaction fails at once with "database is locked" when another node wrote
        // in between, whatever the busy timeout.)
        let start: i64 = sqlx::query(
            "INSERT INTO node_starts (node, last_start) VALUES ($1, $2)
             ON CONFLICT (node) DO UPDATE SET last_start = CASE
                 WHEN node_starts.last_start >= excluded.last_start
                 THEN node_starts.last_start + 1 ELSE excluded.last_start END
             RETURNING last_start",
        )
        .bind(i64::from(node))
        .bind(i(now_secs))
        .fetch_one(&self.pool)
        .await?
        .try_get("last_start")?;
        Ok(u(start))
    }

    async fn save_bindings(&self, node: u8, changes: &[BindingChange]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // First: the counter's row (its lock orders the batches, see `EventLog`).
        let first = super::events::take_numbers(&mut tx, "location_counter", changes.len()).await?;
        for (k, c) in changes.iter().enumerate() {
            let seq = first + k as i64;
            match c {
                // A contact that was live when refreshed keeps its place among the user's phones.
                BindingChange::Save(b) => {
                    sqlx::query(
                        "INSERT INTO locations (tenant, username, contact, source, transport,
                             path, registered_ms, expires_ms, updated_ms, seq, node)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                         ON CONFLICT (tenant, username, contact) DO UPDATE SET
                             source = excluded.source, transport = excluded.transport,
                             path = excluded.path,
                             registered_ms = CASE WHEN locations.expires_ms > excluded.updated_ms
                                 THEN locations.registered_ms ELSE excluded.registered_ms END,
                             expires_ms = excluded.expires_ms, updated_ms = excluded.updated_ms,
                             seq = excluded.seq, node = excluded.node",
                    )
                    .bind(&b.tenant)
                    .bind(&b.user)
                    .bind(&b.contact)
                    .bind(&b.source)
                    .bind(&b.transport)
                    .bind(b.path.join("\n"))
                    .bind(i(b.registered_ms))
                    .bind(i(b.expires_ms))
                    .bind(i(b.updated_ms))
                    .bind(seq)
                    .bind(i64::from(node))
                    .execute(&mut *tx)
                    .await?;
                }
                BindingChange::Clear {
                    tenant,
                    user,
                    now_ms,
                } => {
                    sqlx::query(
                        "UPDATE locations SET expires_ms = $3, updated_ms = $3, seq = $4, node = $5
                         WHERE tenant = $1 AND username = $2",
                    )
                    .bind(tenant)
                    .bind(user)
                    .bind(i(*now_ms))
                    .bind(seq)
                    .bind(i64::from(node))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn bindings_after(
        &self,
        seq: u64,
        except: Option<u8>,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        // (-1: no node is excepted. From 0: every row, those written before rows had a seq
        // too.)
        let except = except.map_or(-1, i64::from);
        let rows = sqlx::query(
            "SELECT tenant, username, contact, source, transport, path, registered_ms,
                 expires_ms, updated_ms, seq, node
             FROM locations WHERE (seq > $1 OR $1 = 0) AND node <> $2 ORDER BY seq",
        )
        .bind(i(seq))
        .bind(except)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let path: String = r.try_get("path")?;
                Ok(StoredBinding {
                    tenant: r.try_get("tenant")?,
                    user: r.try_get("username")?,
                    contact: r.try_get("contact")?,
                    source: r.try_get("source")?,
                    transport: r.try_get("transport")?,
                    path: path
                        .split('\n')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect(),
                    registered_ms: u(r.try_get("registered_ms")?),
                    expires_ms: u(r.try_get("expires_ms")?),
                    updated_ms: u(r.try_get("updated_ms")?),
                    seq: u(r.try_get("seq")?),
                    node: u8::try_from(r.try_get::<i64, _>("node")?).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn purge_bindings(&self, before_ms: u64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM locations WHERE expires_ms < $1 AND updated_ms < $1")
            .bind(i(before_ms))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    async fn claim_call(
        &self,
        call: &str,
        owner: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO call_claims (call_id, owner, until_ms) VALUES ($1, $2, $3)
             ON CONFLICT (call_id) DO UPDATE SET owner = excluded.owner,
                 until_ms = excluded.until_ms
             WHERE call_claims.owner = excluded.owner OR call_claims.until_ms < $4",
        )
        .bind(call)
        .bind(owner)
        .bind(i(until_ms))
        .bind(i(now_ms))
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn purge_claims(&self, before_ms: u64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM call_claims WHERE until_ms < $1")
            .bind(i(before_ms))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
