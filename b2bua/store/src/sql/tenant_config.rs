//! A tenant's settings the operator manages through the native admin API: allowed outside SIP
//! domains, Host names, JWT keys (the `Store` methods of the same names delegate here).

use super::SqlStore;
use crate::{JwtKey, StoreError};
use sqlx::Row;

// === impl SqlStore ===

impl SqlStore {
    pub(super) async fn put_allowed_sip_domains(
        &self,
        tenant: &str,
        domains: &[String],
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sip_domains WHERE tenant = $1")
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        for d in domains {
            sqlx::query(
                "INSERT INTO sip_domains (tenant, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(d.to_ascii_lowercase())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn get_allowed_sip_domains(
        &self,
        tenant: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT domain FROM sip_domains WHERE tenant = $1 ORDER BY domain")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| Ok(r.try_get("domain")?)).collect()
    }

    pub(super) async fn get_tenant_hosts(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT host FROM tenant_hosts WHERE tenant = $1 ORDER BY host")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| Ok(r.try_get("host")?)).collect()
    }

    pub(super) async fn remove_tenant_host(
        &self,
        tenant: &str,
        host: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM tenant_hosts WHERE tenant = $1 AND host = $2")
            .bind(tenant)
            .bind(host.to_ascii_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_jwt_keys(&self, tenant: &str) -> Result<Vec<JwtKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, tenant, alg, key_material FROM jwt_keys WHERE tenant = $1 ORDER BY kid",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(JwtKey {
                    kid: r.try_get("kid")?,
                    tenant: r.try_get("tenant")?,
                    alg: r.try_get("alg")?,
                    key_material: r.try_get("key_material")?,
                })
            })
            .collect()
    }

    pub(super) async fn remove_jwt_key(&self, tenant: &str, kid: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM jwt_keys WHERE tenant = $1 AND kid = $2")
            .bind(tenant)
            .bind(kid)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}
