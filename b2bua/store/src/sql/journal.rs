//! [`Journal`] on SQL: `live_calls` (written by `EventLog::append_log`), `node_runs`.

use super::SqlStore;
use super::events::{insert_event, take_numbers};
use super::{int as i, ms as u};
use crate::StoreError;
use crate::journal::{Journal, LiveCall, Orphan};
use patchbay_api::{CallId, Cdr, Event};
use sqlx::Row;

#[async_trait::async_trait]
impl Journal for SqlStore {
    async fn node_alive(&self, node: u8, start: u64, now_ms: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO node_runs (node, start, alive_ms) VALUES ($1, $2, $3)
             ON CONFLICT (node, start) DO UPDATE SET alive_ms = excluded.alive_ms",
        )
        .bind(i64::from(node))
        .bind(i(start))
        .bind(i(now_ms))
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM node_runs WHERE node = $1 AND start < $2 AND NOT EXISTS
                 (SELECT 1 FROM live_calls l WHERE l.node = node_runs.node
                  AND l.start = node_runs.start)",
        )
        .bind(i64::from(node))
        .bind(i(start))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn orphaned_calls(
        &self,
        silent_before_ms: u64,
        limit: u32,
    ) -> Result<Vec<Orphan>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.call_id AS call_id, l.node AS node, l.start AS start, l.tenant AS tenant,
                 l.body AS body, COALESCE(r.alive_ms, 0) AS alive_ms
             FROM live_calls l
             JOIN node_starts s ON s.node = l.node
             LEFT JOIN node_runs r ON r.node = l.node AND r.start = l.start
             WHERE s.last_start <> l.start OR COALESCE(r.alive_ms, 0) < $1
             ORDER BY l.node, l.start, l.call_id LIMIT $2",
        )
        .bind(i(silent_before_ms))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Orphan {
                    node: u8::try_from(r.try_get::<i64, _>("node")?).unwrap_or(0),
                    live: LiveCall {
                        call: CallId(r.try_get("call_id")?),
                        tenant: r.try_get("tenant")?,
                        start: u(r.try_get("start")?),
                        body: r.try_get("body")?,
                    },
                    alive_ms: u(r.try_get("alive_ms")?),
                })
            })
            .collect()
    }

    async fn end_orphan(
        &self,
        node: u8,
        orphan: &Orphan,
        cdr: &Cdr,
        ended: Option<(String, Event)>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // First: the event counter's row, as every append takes it (one lock order).
        let gseq = take_numbers(&mut tx, "event_counter", usize::from(ended.is_some())).await?;
        let gone = sqlx::query("DELETE FROM live_calls WHERE call_id = $1 AND start = $2")
            .bind(&orphan.live.call.0)
            .bind(i(orphan.live.start))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        super::records::insert_cdr(cdr).execute(&mut *tx).await?;
        if let Some((tenant, event)) = &ended {
            insert_event(&mut tx, gseq, node, tenant, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
