use crate::{
    ApiKey, JwtKey, PhonebookEntry, Recording, SipCredentials, Store, StoreError, Tenant, User,
    UserSettings, WebCredentials, ha1, hash_secret, url_key_digest,
};
use patchbay_api::{CallId, Cdr};
use sqlx::Row;
use sqlx::any::{AnyPoolOptions, AnyRow};

mod tenant_config;

/// Schema versions, applied in order; each runs once (recorded in `schema_version`).
const MIGRATIONS: &[&[&str]] = &[&[
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
]];

/// [`Store`] over SQLite or PostgreSQL, chosen by the URL scheme.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: sqlx::AnyPool,
}

impl SqlStore {
    /// `sqlite://path/to/file.db?mode=rwc` or `postgres://user@host/db`. Runs migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // SQLite allows one writer at a time; WAL lets a few readers run beside it.
        let max = if url.starts_with("sqlite:") { 4 } else { 8 };
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL + NORMAL: a commit is durable against a process crash without an
                        // fsync per CDR; readers never block the writer.
                        sqlx::query("PRAGMA journal_mode=WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous=NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout=5000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn require_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        self.tenant(name)
            .await?
            .ok_or_else(|| StoreError::UnknownTenant(name.to_string()))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
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

fn to_json_str<T: serde::Serialize>(v: &T) -> String {
    // Unit enum variants serialize to a JSON string: strip the quotes.
    serde_json::to_string(v)
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

fn from_json_str<T: serde::de::DeserializeOwned>(
    column: &'static str,
    s: String,
) -> Result<T, StoreError> {
    serde_json::from_str(&format!("\"{s}\"")).map_err(|_| StoreError::Corrupt { column, value: s })
}

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

fn ms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn cdr_of(row: AnyRow) -> Result<Cdr, StoreError> {
    Ok(Cdr {
        call: CallId(row.try_get("call_id")?),
        tenant: row.try_get("tenant")?,
        from: row.try_get("from_party")?,
        to: row.try_get("to_party")?,
        direction: row.try_get("direction")?,
        created_ms: ms(row.try_get("created_ms")?),
        ringing_ms: row.try_get::<Option<i64>, _>("ringing_ms")?.map(ms),
        answered_ms: row.try_get::<Option<i64>, _>("answered_ms")?.map(ms),
        ended_ms: ms(row.try_get("ended_ms")?),
        duration_s: ms(row.try_get("duration_s")?),
        billsec: ms(row.try_get("billsec")?),
        cause: from_json_str("cause", row.try_get("cause")?)?,
        ended_by: from_json_str("ended_by", row.try_get("ended_by")?)?,
        status: row
            .try_get::<Option<i64>, _>("status")?
            .and_then(|s| u16::try_from(s).ok()),
        transferred_to: row.try_get("transferred_to")?,
    })
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn upsert_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tenants (name, realm) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET realm = excluded.realm",
        )
        .bind(&t.name)
        .bind(&t.realm)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn tenant(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT name, realm FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(Tenant {
                name: r.try_get("name")?,
                realm: r.try_get("realm")?,
            }),
            None => None,
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query("SELECT name, realm FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Tenant {
                    name: r.try_get("name")?,
                    realm: r.try_get("realm")?,
                })
            })
            .collect()
    }

    async fn upsert_user(&self, u: &User, sip_password: &str) -> Result<(), StoreError> {
        let tenant = self
            .tenant(&u.tenant)
            .await?
            .ok_or_else(|| StoreError::UnknownTenant(u.tenant.clone()))?;
        let (md5, sha256) = ha1(&u.ext, &tenant.realm, sip_password);
        sqlx::query(
            "INSERT INTO users (tenant, ext, display_name, ha1_md5, ha1_sha256) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, ext) DO UPDATE SET display_name = excluded.display_name,
                ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256",
        )
        .bind(&u.tenant)
        .bind(&u.ext)
        .bind(&u.display_name)
        .bind(md5)
        .bind(sha256)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_user(&self, tenant: &str, ext: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM users WHERE tenant = $1 AND ext = $2")
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn user(&self, tenant: &str, ext: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT tenant, ext, display_name FROM users WHERE tenant = $1 AND ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(User {
                tenant: r.try_get("tenant")?,
                ext: r.try_get("ext")?,
                display_name: r.try_get("display_name")?,
            }),
            None => None,
        })
    }

    async fn sip_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<SipCredentials>, StoreError> {
        let row = sqlx::query(
            "SELECT t.realm AS realm, u.ha1_md5 AS ha1_md5, u.ha1_sha256 AS ha1_sha256
             FROM users u JOIN tenants t ON t.name = u.tenant WHERE u.tenant = $1 AND u.ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(SipCredentials {
                realm: r.try_get("realm")?,
                ha1_md5: r.try_get("ha1_md5")?,
                ha1_sha256: r.try_get("ha1_sha256")?,
            }),
            None => None,
        })
    }

    async fn insert_cdr(&self, c: &Cdr) -> Result<(), StoreError> {
        let opt = |v: Option<u64>| v.map(|x| x as i64);
        sqlx::query(
            "INSERT INTO cdrs (call_id, tenant, from_party, to_party, direction, created_ms, ringing_ms,
                answered_ms, ended_ms, duration_s, billsec, cause, ended_by, status, transferred_to)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&c.call.0)
        .bind(&c.tenant)
        .bind(&c.from)
        .bind(&c.to)
        .bind(&c.direction)
        .bind(c.created_ms as i64)
        .bind(opt(c.ringing_ms))
        .bind(opt(c.answered_ms))
        .bind(c.ended_ms as i64)
        .bind(c.duration_s as i64)
        .bind(c.billsec as i64)
        .bind(to_json_str(&c.cause))
        .bind(to_json_str(&c.ended_by))
        .bind(c.status.map(i64::from))
        .bind(c.transferred_to.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn cdrs(&self, tenant: &str, limit: u32) -> Result<Vec<Cdr>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM cdrs WHERE tenant = $1 ORDER BY ended_ms DESC LIMIT $2")
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(cdr_of).collect()
    }

    async fn cdr(&self, call: &str) -> Result<Option<Cdr>, StoreError> {
        let row = sqlx::query("SELECT * FROM cdrs WHERE call_id = $1")
            .bind(call)
            .fetch_optional(&self.pool)
            .await?;
        row.map(cdr_of).transpose()
    }
    async fn tenant_by_realm(&self, realm: &str) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT name, realm FROM tenants WHERE realm = $1 ORDER BY name")
            .bind(realm)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Tenant {
                name: r.try_get("name")?,
                realm: r.try_get("realm")?,
            })
        })
        .transpose()
    }

    async fn delete_tenant(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in [
            "users",
            "api_keys",
            "ip_patterns",
            "jwt_keys",
            "phonebook",
            "tenant_hosts",
            "sip_domains",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant = $1"))
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        let r = sqlx::query("DELETE FROM tenants WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_tenant_host(&self, host: &str, tenant: &str) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        // Never moves a name another tenant holds (checked in the statement: no race).
        let r = sqlx::query(
            "INSERT INTO tenant_hosts (host, tenant) VALUES ($1, $2)
             ON CONFLICT (host) DO UPDATE SET tenant = excluded.tenant
             WHERE tenant_hosts.tenant = excluded.tenant",
        )
        .bind(host.to_ascii_lowercase())
        .bind(tenant)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Taken(format!("host {host}")));
        }
        Ok(())
    }

    async fn tenant_for_host(&self, host: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT tenant FROM tenant_hosts WHERE host = $1")
            .bind(host.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("tenant")).transpose()?)
    }

    async fn users(&self, tenant: &str) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, ext, display_name FROM users WHERE tenant = $1 ORDER BY ext",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(User {
                    tenant: r.try_get("tenant")?,
                    ext: r.try_get("ext")?,
                    display_name: r.try_get("display_name")?,
                })
            })
            .collect()
    }

    async fn set_web_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError> {
        let realm = self.require_tenant(tenant).await?.realm;
        let (hash, md5, sha256) = match pin {
            Some(pin) => {
                let (m, s) = ha1(ext, &realm, pin);
                (Some(hash_secret(pin)), Some(m), Some(s))
            }
            None => (None, None, None),
        };
        let r = sqlx::query(
            "UPDATE users SET web_pin_hash = $1, web_ha1_md5 = $2, web_ha1_sha256 = $3
             WHERE tenant = $4 AND ext = $5",
        )
        .bind(hash)
        .bind(md5)
        .bind(sha256)
        .bind(tenant)
        .bind(ext)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn web_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<WebCredentials>, StoreError> {
        let row = sqlx::query(
            "SELECT t.realm AS realm, u.web_pin_hash AS h, u.web_ha1_md5 AS m, u.web_ha1_sha256 AS s
             FROM users u JOIN tenants t ON t.name = u.tenant WHERE u.tenant = $1 AND u.ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let (h, m, s): (Option<String>, Option<String>, Option<String>) =
            (r.try_get("h")?, r.try_get("m")?, r.try_get("s")?);
        Ok(match (h, m, s) {
            (Some(pin_hash), Some(ha1_md5), Some(ha1_sha256)) => Some(WebCredentials {
                realm: r.try_get("realm")?,
                pin_hash,
                ha1_md5,
                ha1_sha256,
            }),
            _ => None,
        })
    }

    async fn set_display_name(
        &self,
        tenant: &str,
        ext: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET display_name = $1 WHERE tenant = $2 AND ext = $3")
            .bind(name)
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_vm_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET vm_pin_hash = $1 WHERE tenant = $2 AND ext = $3")
            .bind(pin.map(hash_secret))
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_url_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET url_key_sha256 = $1 WHERE tenant = $2 AND ext = $3")
            .bind(key.map(url_key_digest))
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn user_by_url_key(&self, key: &str) -> Result<Option<User>, StoreError> {
        let row =
            sqlx::query("SELECT tenant, ext, display_name FROM users WHERE url_key_sha256 = $1")
                .bind(url_key_digest(key))
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(User {
                tenant: r.try_get("tenant")?,
                ext: r.try_get("ext")?,
                display_name: r.try_get("display_name")?,
            })
        })
        .transpose()
    }

    async fn user_settings(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<UserSettings>, StoreError> {
        let row = sqlx::query(
            "SELECT forward_to, forward_on, followme_on, vm_on, ring_secs FROM users
             WHERE tenant = $1 AND ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(UserSettings {
                forward_to: r.try_get("forward_to")?,
                forward_on: r.try_get::<i64, _>("forward_on")? != 0,
                followme_on: r.try_get::<i64, _>("followme_on")? != 0,
                vm_on: r.try_get::<i64, _>("vm_on")? != 0,
                ring_secs: u32::try_from(r.try_get::<i64, _>("ring_secs")?).unwrap_or(30),
            })
        })
        .transpose()
    }

    async fn set_user_settings(
        &self,
        tenant: &str,
        ext: &str,
        st: &UserSettings,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE users SET forward_to = $1, forward_on = $2, followme_on = $3, vm_on = $4,
                ring_secs = $5 WHERE tenant = $6 AND ext = $7",
        )
        .bind(st.forward_to.clone())
        .bind(i64::from(st.forward_on))
        .bind(i64::from(st.followme_on))
        .bind(i64::from(st.vm_on))
        .bind(i64::from(st.ring_secs))
        .bind(tenant)
        .bind(ext)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn create_api_key(&self, key: &ApiKey, secret: &str) -> Result<(), StoreError> {
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

    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>, StoreError> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(api_key_of).transpose()
    }

    async fn api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE tenant = $1 ORDER BY key_id")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(api_key_of).collect()
    }

    async fn delete_api_key(&self, tenant: &str, key_id: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM api_keys WHERE tenant = $1 AND key_id = $2")
            .bind(tenant)
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_ip_patterns(
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

    async fn ip_patterns(&self, tenant: &str, scope: &str) -> Result<Vec<String>, StoreError> {
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

    async fn upsert_jwt_key(&self, k: &JwtKey) -> Result<(), StoreError> {
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

    async fn jwt_key(&self, kid: &str) -> Result<Option<JwtKey>, StoreError> {
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

    async fn upsert_phonebook_entry(&self, e: &PhonebookEntry) -> Result<(), StoreError> {
        self.require_tenant(&e.tenant).await?;
        sqlx::query(
            "INSERT INTO phonebook (tenant, owner, id, name, number) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, id) DO UPDATE SET owner = excluded.owner,
                name = excluded.name, number = excluded.number",
        )
        .bind(&e.tenant)
        .bind(&e.owner)
        .bind(&e.id)
        .bind(&e.name)
        .bind(&e.number)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn phonebook(
        &self,
        tenant: &str,
        owner: &str,
    ) -> Result<Vec<PhonebookEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, owner, id, name, number FROM phonebook
             WHERE tenant = $1 AND owner = $2 ORDER BY name, id",
        )
        .bind(tenant)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(PhonebookEntry {
                    tenant: r.try_get("tenant")?,
                    owner: r.try_get("owner")?,
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    number: r.try_get("number")?,
                })
            })
            .collect()
    }

    async fn delete_phonebook_entry(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM phonebook WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_recording(&self, rec: &Recording) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO recordings (call_id, leg, tenant, path, started_ms, duration_ms, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&rec.call_id)
        .bind(&rec.leg)
        .bind(&rec.tenant)
        .bind(&rec.path)
        .bind(rec.started_ms as i64)
        .bind(rec.duration_ms as i64)
        .bind(rec.bytes as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn recordings(&self, tenant: &str, limit: u32) -> Result<Vec<Recording>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM recordings WHERE tenant = $1 ORDER BY started_ms DESC LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Recording {
                    call_id: r.try_get("call_id")?,
                    leg: r.try_get("leg")?,
                    tenant: r.try_get("tenant")?,
                    path: r.try_get("path")?,
                    started_ms: ms(r.try_get("started_ms")?),
                    duration_ms: ms(r.try_get("duration_ms")?),
                    bytes: ms(r.try_get("bytes")?),
                })
            })
            .collect()
    }

    async fn set_allowed_sip_domains(
        &self,
        tenant: &str,
        domains: &[String],
    ) -> Result<(), StoreError> {
        self.put_allowed_sip_domains(tenant, domains).await
    }

    async fn allowed_sip_domains(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.get_allowed_sip_domains(tenant).await
    }

    async fn tenant_hosts(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.get_tenant_hosts(tenant).await
    }

    async fn delete_tenant_host(&self, tenant: &str, host: &str) -> Result<bool, StoreError> {
        self.remove_tenant_host(tenant, host).await
    }

    async fn jwt_keys(&self, tenant: &str) -> Result<Vec<JwtKey>, StoreError> {
        self.get_jwt_keys(tenant).await
    }

    async fn delete_jwt_key(&self, tenant: &str, kid: &str) -> Result<bool, StoreError> {
        self.remove_jwt_key(tenant, kid).await
    }
}
