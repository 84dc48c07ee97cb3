//! [`Nodes`] on SQL: one row per node, its last claimed start.

use super::SqlStore;
use crate::StoreError;
use crate::nodes::Nodes;
use sqlx::Row;

#[async_trait::async_trait]
impl Nodes for SqlStore {
    async fn claim_node_start(&self, node: u8, now_secs: u64) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let last: Option<i64> = sqlx::query("SELECT last_start FROM node_starts WHERE node = $1")
            .bind(i64::from(node))
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("last_start"))
            .transpose()?;
        let now = i64::try_from(now_secs).unwrap_or(i64::MAX);
        let start = match last {
            Some(l) if l >= now => l + 1,
            _ => now,
        };
        sqlx::query(
            "INSERT INTO node_starts (node, last_start) VALUES ($1, $2)
             ON CONFLICT (node) DO UPDATE SET last_start = excluded.last_start",
        )
        .bind(i64::from(node))
        .bind(start)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(u64::try_from(start).unwrap_or(0))
    }
}
