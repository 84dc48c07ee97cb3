//! [`RequestKeys`] on SQL: one row per tenant and key.

use super::SqlStore;
use super::int as i;
use crate::StoreError;
use crate::request_keys::RequestKeys;
use patchbay_api::CallId;
use sqlx::Row;

#[async_trait::async_trait]
impl RequestKeys for SqlStore {
    async fn claim_request_key(
        &self,
        tenant: &str,
        key: &str,
        call: &CallId,
        now_ms: u64,
    ) -> Result<Option<(CallId, u64)>, StoreError> {
        let done = sqlx::query(
            "INSERT INTO request_keys (tenant, request_key, call_id, at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, request_key) DO NOTHING",
        )
        .bind(tenant)
        .bind(key)
        .bind(&call.0)
        .bind(i(now_ms))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT call_id, at_ms FROM request_keys WHERE tenant = $1 AND request_key = $2",
        )
        .bind(tenant)
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        let at: i64 = row.try_get("at_ms")?;
        Ok(Some((
            CallId(row.try_get("call_id")?),
            u64::try_from(at).unwrap_or(0),
        )))
    }

    async fn retake_request_key(
        &self,
        tenant: &str,
        key: &str,
        old: &CallId,
        call: &CallId,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE request_keys SET call_id = $4, at_ms = $5
             WHERE tenant = $1 AND request_key = $2 AND call_id = $3",
        )
        .bind(tenant)
        .bind(key)
        .bind(&old.0)
        .bind(&call.0)
        .bind(i(now_ms))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    async fn release_request_key(
        &self,
        tenant: &str,
        key: &str,
        call: &CallId,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM request_keys WHERE tenant = $1 AND request_key = $2 AND call_id = $3",
        )
        .bind(tenant)
        .bind(key)
        .bind(&call.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn purge_request_keys(&self, before_ms: u64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM request_keys WHERE at_ms < $1")
            .bind(i(before_ms))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
