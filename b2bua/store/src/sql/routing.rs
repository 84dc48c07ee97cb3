//! A tenant's trunks, dial plan, inbound numbers (DIDs) and ring groups.

use super::{SqlStore, from_json_str, to_json_str};
use crate::StoreError;
use patchbay_api::{DialRule, Did, RingGroup, Trunk};
use sqlx::Row;

fn trunk_row(r: sqlx::any::AnyRow) -> Result<(String, Trunk), StoreError> {
    let port: i64 = r.try_get("port")?;
    let max: i64 = r.try_get("max_channels")?;
    Ok((
        r.try_get("tenant")?,
        Trunk {
            name: r.try_get("name")?,
            host: r.try_get("host")?,
            port: u16::try_from(port).map_err(|_| StoreError::Corrupt {
                column: "trunks.port",
                value: port.to_string(),
            })?,
            transport: from_json_str("trunks.transport", r.try_get("transport")?)?,
            username: r.try_get("username")?,
            password: r.try_get("password")?,
            register: r.try_get::<i64, _>("register")? != 0,
            caller_id: r.try_get("caller_id")?,
            max_channels: u32::try_from(max).unwrap_or(0),
        },
    ))
}

const TRUNK_COLUMNS: &str = "tenant, name, host, port, transport, username, password, register,
    caller_id, max_channels";

impl SqlStore {
    pub(super) async fn put_trunk_row(&self, tenant: &str, t: &Trunk) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        sqlx::query(&format!(
            "INSERT INTO trunks ({TRUNK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (tenant, name) DO UPDATE SET host = excluded.host,
               port = excluded.port, transport = excluded.transport,
               username = excluded.username, password = excluded.password,
               register = excluded.register, caller_id = excluded.caller_id,
               max_channels = excluded.max_channels"
        ))
        .bind(tenant)
        .bind(&t.name)
        .bind(&t.host)
        .bind(i64::from(t.port))
        .bind(to_json_str(&t.transport))
        .bind(t.username.clone())
        .bind(t.password.clone())
        .bind(i64::from(t.register))
        .bind(t.caller_id.clone())
        .bind(i64::from(t.max_channels))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One tenant's trunks, or every tenant's (`None`), by tenant and name.
    pub(super) async fn get_trunks(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<(String, Trunk)>, StoreError> {
        let rows = match tenant {
            Some(t) => {
                sqlx::query(&format!(
                    "SELECT {TRUNK_COLUMNS} FROM trunks WHERE tenant = $1 ORDER BY name"
                ))
                .bind(t)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {TRUNK_COLUMNS} FROM trunks ORDER BY tenant, name"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(trunk_row).collect()
    }

    pub(super) async fn remove_trunk(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM trunks WHERE tenant = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn put_dialplan(
        &self,
        tenant: &str,
        rules: &[DialRule],
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let json = serde_json::to_string(rules).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO dialplans (tenant, rules) VALUES ($1, $2)
             ON CONFLICT (tenant) DO UPDATE SET rules = excluded.rules",
        )
        .bind(tenant)
        .bind(json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_dialplan(&self, tenant: &str) -> Result<Vec<DialRule>, StoreError> {
        let row = sqlx::query("SELECT rules FROM dialplans WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(Vec::new());
        };
        let json: String = row.try_get("rules")?;
        serde_json::from_str(&json).map_err(|_| StoreError::Corrupt {
            column: "dialplans.rules",
            value: json,
        })
    }

    pub(super) async fn put_did_row(&self, tenant: &str, d: &Did) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        sqlx::query(
            "INSERT INTO dids (tenant, number, destination, cti_url) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, number) DO UPDATE SET destination = excluded.destination,
                cti_url = excluded.cti_url",
        )
        .bind(tenant)
        .bind(&d.number)
        .bind(&d.destination)
        .bind(d.cti_url.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One DID (`Some(number)`) or all of the tenant's.
    pub(super) async fn get_dids(
        &self,
        tenant: &str,
        number: Option<&str>,
    ) -> Result<Vec<Did>, StoreError> {
        let q = match number {
            Some(n) => sqlx::query(
                "SELECT number, destination, cti_url FROM dids WHERE tenant = $1 AND number = $2",
            )
            .bind(tenant)
            .bind(n),
            None => sqlx::query(
                "SELECT number, destination, cti_url FROM dids WHERE tenant = $1 ORDER BY number",
            )
            .bind(tenant),
        };
        q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(Did {
                    number: r.try_get("number")?,
                    destination: r.try_get("destination")?,
                    cti_url: r.try_get("cti_url")?,
                })
            })
            .collect()
    }

    pub(super) async fn remove_did(&self, tenant: &str, number: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM dids WHERE tenant = $1 AND number = $2")
            .bind(tenant)
            .bind(number)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn put_group_row(
        &self,
        tenant: &str,
        g: &RingGroup,
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let body = serde_json::to_string(g).unwrap_or_default();
        sqlx::query(
            "INSERT INTO ring_groups (tenant, number, body) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, number) DO UPDATE SET body = excluded.body",
        )
        .bind(tenant)
        .bind(&g.number)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_groups(&self, tenant: &str) -> Result<Vec<RingGroup>, StoreError> {
        sqlx::query("SELECT body FROM ring_groups WHERE tenant = $1 ORDER BY number")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                serde_json::from_str(&body).map_err(|_| StoreError::Corrupt {
                    column: "ring_groups.body",
                    value: body,
                })
            })
            .collect()
    }

    pub(super) async fn remove_group(
        &self,
        tenant: &str,
        number: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM ring_groups WHERE tenant = $1 AND number = $2")
            .bind(tenant)
            .bind(number)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn put_config_row(
        &self,
        tenant: &str,
        kind: &str,
        name: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        sqlx::query(
            "INSERT INTO tenant_configs (tenant, kind, name, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, kind, name) DO UPDATE SET body = excluded.body",
        )
        .bind(tenant)
        .bind(kind)
        .bind(name)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_configs(
        &self,
        tenant: &str,
        kind: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query(
            "SELECT name, body FROM tenant_configs WHERE tenant = $1 AND kind = $2 ORDER BY name",
        )
        .bind(tenant)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("body")?)))
        .collect()
    }

    pub(super) async fn remove_config(
        &self,
        tenant: &str,
        kind: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let r =
            sqlx::query("DELETE FROM tenant_configs WHERE tenant = $1 AND kind = $2 AND name = $3")
                .bind(tenant)
                .bind(kind)
                .bind(name)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() > 0)
    }
}
