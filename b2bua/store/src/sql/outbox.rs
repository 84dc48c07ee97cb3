//! The webhook outbox in SQL (see [`crate::Outbox`]). Claiming is one conditional UPDATE:
//! of two deliverers that pick the same rows, the second's UPDATE finds them leased (it
//! re-checks the lease under the row lock in PostgreSQL; SQLite has one writer) and skips them.

use super::{SqlStore, ms};
use crate::StoreError;
use crate::outbox::{Attempt, NewWebhook, Outbox, Webhook};
use sqlx::Row;

fn webhook_of(r: sqlx::any::AnyRow) -> Result<Webhook, StoreError> {
    let headers: String = r.try_get("headers")?;
    Ok(Webhook {
        new: NewWebhook {
            id: r.try_get("id")?,
            seq: r.try_get("seq")?,
            tenant: r.try_get("tenant")?,
            vendor: r.try_get("vendor")?,
            kind: r.try_get("kind")?,
            key: r.try_get("okey")?,
            url: r.try_get("url")?,
            content_type: r.try_get("content_type")?,
            headers: serde_json::from_str(&headers).map_err(|_| StoreError::Corrupt {
                column: "webhook_outbox.headers",
                value: headers,
            })?,
            body: r.try_get("body")?,
            created_ms: ms(r.try_get("created_ms")?),
        },
        attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        next_ms: ms(r.try_get("next_ms")?),
        state: r.try_get("state")?,
        last_error: r.try_get("last_error")?,
    })
}

#[async_trait::async_trait]
impl Outbox for SqlStore {
    async fn enqueue_webhook(&self, n: &NewWebhook) -> Result<(), StoreError> {
        let headers = serde_json::to_string(&n.headers).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO webhook_outbox (id, seq, tenant, vendor, kind, okey, url, content_type,
                headers, body, created_ms, next_ms, attempts, state, lease_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, 'pending', 0)",
        )
        .bind(&n.id)
        .bind(n.seq)
        .bind(&n.tenant)
        .bind(&n.vendor)
        .bind(&n.kind)
        .bind(&n.key)
        .bind(&n.url)
        .bind(&n.content_type)
        .bind(headers)
        .bind(&n.body)
        .bind(n.created_ms as i64)
        .bind(n.created_ms as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_webhooks(
        &self,
        owner: &str,
        now_ms: u64,
        lease_until_ms: u64,
        n: u32,
    ) -> Result<Vec<Webhook>, StoreError> {
        let (now, until) = (now_ms as i64, lease_until_ms as i64);
        sqlx::query(
            "UPDATE webhook_outbox SET lease_owner = $1, lease_until = $2
             WHERE lease_until <= $3 AND state = 'pending' AND id IN (
                SELECT o.id FROM webhook_outbox o
                WHERE o.state = 'pending' AND o.next_ms <= $3 AND o.lease_until <= $3
                  AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                                  WHERE p.okey = o.okey AND p.state = 'pending' AND p.seq < o.seq)
                ORDER BY o.seq LIMIT $4)",
        )
        .bind(owner)
        .bind(until)
        .bind(now)
        .bind(i64::from(n))
        .execute(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT * FROM webhook_outbox WHERE lease_owner = $1 AND lease_until = $2
             AND state = 'pending' ORDER BY seq",
        )
        .bind(owner)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(webhook_of).collect()
    }

    async fn webhook_attempts(
        &self,
        owner: &str,
        results: &[(String, Attempt)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // The delivered (nearly all of them) in one statement per 500: one round trip each.
        let delivered: Vec<&String> = results
            .iter()
            .filter(|(_, a)| *a == Attempt::Delivered)
            .map(|(id, _)| id)
            .collect();
        for chunk in delivered.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "DELETE FROM webhook_outbox WHERE lease_owner = $1 AND id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(owner);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        for (id, a) in results {
            let q = match a {
                Attempt::Delivered => continue,
                Attempt::Retry { next_ms, error } => sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, next_ms = $3,
                        last_error = $4, lease_until = 0, lease_owner = NULL
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner)
                .bind(*next_ms as i64)
                .bind(error),
                Attempt::Release => sqlx::query(
                    "UPDATE webhook_outbox SET lease_until = 0, lease_owner = NULL
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner),
                Attempt::Dead { error } => sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, state = 'dead',
                        last_error = $3, lease_until = 0, lease_owner = NULL
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner)
                .bind(error),
            };
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn dead_webhooks(&self, tenant: &str, limit: u32) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM webhook_outbox WHERE tenant = $1 AND state = 'dead'
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(webhook_of).collect()
    }

    async fn replay_webhook(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_ms = $3,
                lease_until = 0, lease_owner = NULL
             WHERE tenant = $1 AND id = $2 AND state = 'dead'",
        )
        .bind(tenant)
        .bind(id)
        .bind(now_ms as i64)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn webhook_backlog(&self) -> Result<(u64, Option<u64>), StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_ms) AS oldest FROM webhook_outbox
             WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = r.try_get("n")?;
        let oldest: Option<i64> = r.try_get("oldest")?;
        Ok((ms(n), oldest.map(ms)))
    }
}
