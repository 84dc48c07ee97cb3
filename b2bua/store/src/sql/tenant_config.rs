//! A tenant's settings the operator manages through the native admin API: API keys, IP
//! allow-lists, allowed outside SIP domains, Host names, JWT keys (the `Store` methods
//! delegate here).

use super::{SqlStore, ms};
use crate::{ApiKey, AppNumber, JwtKey, StoreError, hash_secret};
use sqlx::Row;
use sqlx::any::AnyRow;

fn api_key_of(r: AnyRow) -> Result<ApiKey, StoreError> {
    let roles: String = r.try_get("roles")?;
    Ok(ApiKey {
        key_id: r.try_get("key_id")?,
        tenant: r.try_get("tenant")?,
        roles: roles
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        label: r.try_get("label")?,
        created_ms: ms(r.try_get("created_ms")?),
        secret_hash: r.try_get("secret_hash")?,
    })
}

// === impl SqlStore ===

impl SqlStore {
    pub(super) async fn put_api_key(&self, key: &ApiKey, secret: &str) -> Result<(), StoreError> {
        self.require_tenant(&key.tenant).await?;
        sqlx::query(
            "INSERT INTO api_keys (key_id, tenant, secret_hash, roles, label, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key_id) DO UPDATE SET tenant = excluded.tenant,
                secret_hash = excluded.secret_hash, roles = excluded.roles,
                label = excluded.label, created_ms = excluded.created_ms",
        )
        .bind(&key.key_id)
        .bind(&key.tenant)
        .bind(hash_secret(secret))
        .bind(key.roles.join(","))
        .bind(&key.label)
        .bind(key.created_ms as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_api_key(&self, key_id: &str) -> Result<Option<ApiKey>, StoreError> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(api_key_of).transpose()
    }

    pub(super) async fn get_api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE tenant = $1 ORDER BY key_id")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(api_key_of).collect()
    }

    pub(super) async fn remove_api_key(
        &self,
        tenant: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM api_keys WHERE tenant = $1 AND key_id = $2")
            .bind(tenant)
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn put_ip_patterns(
        &self,
        tenant: &str,
        scope: &str,
        patterns: &[String],
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM ip_patterns WHERE tenant = $1 AND scope = $2")
            .bind(tenant)
            .bind(scope)
            .execute(&mut *tx)
            .await?;
        for p in patterns {
            sqlx::query(
                "INSERT INTO ip_patterns (tenant, scope, pattern) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(scope)
            .bind(p)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn get_ip_patterns(
        &self,
        tenant: &str,
        scope: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT pattern FROM ip_patterns WHERE tenant = $1 AND scope = $2 ORDER BY pattern",
        )
        .bind(tenant)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok(r.try_get("pattern")?))
            .collect()
    }

    pub(super) async fn put_jwt_key(&self, k: &JwtKey) -> Result<(), StoreError> {
        self.require_tenant(&k.tenant).await?;
        // Never moves a key id another tenant holds.
        let r = sqlx::query(
            "INSERT INTO jwt_keys (kid, tenant, alg, key_material) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg,
                key_material = excluded.key_material
             WHERE jwt_keys.tenant = excluded.tenant",
        )
        .bind(&k.kid)
        .bind(&k.tenant)
        .bind(&k.alg)
        .bind(&k.key_material)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Taken(format!("key id {}", k.kid)));
        }
        Ok(())
    }

    pub(super) async fn get_jwt_key(&self, kid: &str) -> Result<Option<JwtKey>, StoreError> {
        let row = sqlx::query("SELECT kid, tenant, alg, key_material FROM jwt_keys WHERE kid = $1")
            .bind(kid)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(JwtKey {
                kid: r.try_get("kid")?,
                tenant: r.try_get("tenant")?,
                alg: r.try_get("alg")?,
                key_material: r.try_get("key_material")?,
            })
        })
        .transpose()
    }

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

    pub(super) async fn put_app_number_row(&self, n: &AppNumber) -> Result<(), StoreError> {
        self.require_tenant(&n.tenant).await?;
        sqlx::query(
            "INSERT INTO app_numbers (tenant, number, label) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, number) DO UPDATE SET label = excluded.label",
        )
        .bind(&n.tenant)
        .bind(&n.number)
        .bind(&n.label)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_app_numbers(&self, tenant: &str) -> Result<Vec<AppNumber>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, number, label FROM app_numbers WHERE tenant = $1 ORDER BY number",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AppNumber {
                    tenant: r.try_get("tenant")?,
                    number: r.try_get("number")?,
                    label: r.try_get("label")?,
                })
            })
            .collect()
    }

    pub(super) async fn remove_app_number(
        &self,
        tenant: &str,
        number: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM app_numbers WHERE tenant = $1 AND number = $2")
            .bind(tenant)
            .bind(number)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
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
