use crate::{SipCredentials, Store, StoreError, Tenant, User, ha1};
use patchbay_api::{CallId, Cdr};
use sqlx::Row;
use sqlx::any::{AnyPoolOptions, AnyRow};

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
}
