//! [`EventLog`] on SQL. Numbers come from a one-row counter bumped first in each append's
//! transaction: on PostgreSQL its row lock, on SQLite the write lock the UPDATE takes, makes
//! a second append wait until the first commits, so `gseq` order is commit order.

use super::SqlStore;
use super::int as i;
use crate::LogEntry;
use crate::StoreError;
use crate::events::EventLog;
use patchbay_api::{CallId, Event};
use sqlx::Row;

/// Bump the one-row counter `table` by `n` (first in a transaction: its lock orders the
/// transactions that number rows) and return the first of the `n` numbers taken.
pub(super) async fn take_numbers(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &'static str,
    n: usize,
) -> Result<i64, StoreError> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query(&format!(
        "UPDATE {table} SET last = last + $1 WHERE id = 1 RETURNING last"
    ))
    .bind(n)
    .fetch_one(&mut **tx)
    .await?
    .try_get("last")?;
    Ok(last - n + 1)
}

/// One event row, numbered `gseq`.
pub(super) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    gseq: i64,
    node: u8,
    tenant: &str,
    e: &Event,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(e).map_err(|_| StoreError::Corrupt {
        column: "events.body",
        value: e.call.0.clone(),
    })?;
    sqlx::query(
        "INSERT INTO events (gseq, node, call_id, seq, tenant, at_ms, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(gseq)
    .bind(i64::from(node))
    .bind(&e.call.0)
    .bind(i(e.seq))
    .bind(tenant)
    .bind(i(e.at_ms))
    .bind(body)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn rows_to_events(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Event>, StoreError> {
    Ok(with_tenants(rows)?.into_iter().map(|(_, e)| e).collect())
}

fn with_tenants(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(String, Event)>, StoreError> {
    rows.iter()
        .map(|r| {
            let body: String = r.try_get("body")?;
            let gseq: i64 = r.try_get("gseq")?;
            let mut e: Event = serde_json::from_str(&body).map_err(|_| StoreError::Corrupt {
                column: "events.body",
                value: body.chars().take(80).collect(),
            })?;
            e.gseq = u64::try_from(gseq).unwrap_or(0);
            Ok((r.try_get("tenant")?, e))
        })
        .collect()
}

#[async_trait::async_trait]
impl EventLog for SqlStore {
    async fn append_log(&self, node: u8, entries: &[LogEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let events = entries
            .iter()
            .filter(|e| matches!(e, LogEntry::Event { .. }))
            .count();
        // First: the counter's row (its lock orders the appends), even with no event in the
        // batch: journal entries and CDRs keep the order of the events around them.
        let mut next = take_numbers(&mut tx, "event_counter", events).await?;
        for entry in entries {
            match entry {
                LogEntry::Event { tenant, event } => {
                    insert_event(&mut tx, next, node, tenant, event).await?;
                    next += 1;
                }
                LogEntry::Live(live) => {
                    sqlx::query(
                        "INSERT INTO live_calls (call_id, node, start, tenant, body)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (call_id) DO UPDATE SET node = excluded.node,
                             start = excluded.start, tenant = excluded.tenant,
                             body = excluded.body",
                    )
                    .bind(&live.call.0)
                    .bind(i64::from(node))
                    .bind(i(live.start))
                    .bind(&live.tenant)
                    .bind(&live.body)
                    .execute(&mut *tx)
                    .await?;
                }
                LogEntry::Cdr(cdr) => {
                    super::records::insert_cdr(cdr).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM live_calls WHERE call_id = $1")
                        .bind(&cdr.call.0)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn events_after(
        &self,
        after: u64,
        tenant: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, Event)>, StoreError> {
        let rows =
            match tenant {
                Some(t) => {
                    sqlx::query(
                        "SELECT gseq, tenant, body FROM events WHERE tenant = $1 AND gseq > $2
                     ORDER BY gseq LIMIT $3",
                    )
                    .bind(t)
                    .bind(i(after))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
                }
                None => sqlx::query(
                    "SELECT gseq, tenant, body FROM events WHERE gseq > $1 ORDER BY gseq LIMIT $2",
                )
                .bind(i(after))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
            };
        with_tenants(&rows)
    }

    async fn call_events(&self, call: &CallId, after: u64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT gseq, tenant, body FROM events WHERE call_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(&call.0)
        .bind(i(after))
        .fetch_all(&self.pool)
        .await?;
        rows_to_events(&rows)
    }

    async fn last_event_gseq(&self) -> Result<u64, StoreError> {
        let last: i64 = sqlx::query("SELECT last FROM event_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("last")?;
        Ok(u64::try_from(last).unwrap_or(0))
    }

    async fn first_event_since(&self, at_ms: u64) -> Result<Option<u64>, StoreError> {
        let g: Option<i64> = sqlx::query("SELECT MIN(gseq) AS g FROM events WHERE at_ms >= $1")
            .bind(i(at_ms))
            .fetch_one(&self.pool)
            .await?
            .try_get("g")?;
        Ok(g.and_then(|g| u64::try_from(g).ok()))
    }

    async fn purge_events(&self, before_ms: u64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM events WHERE at_ms < $1")
            .bind(i(before_ms))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
