use crate::{Store, StoreError, Tenant};
use sqlx::any::AnyPoolOptions;

mod events;
mod journal;
mod nodes;
mod outbox;
mod records;
mod request_keys;
mod routing;
mod schema;
mod store_impl;
mod tenant_config;
mod users;

/// [`Store`] over SQLite or PostgreSQL, chosen by the URL scheme.
#[derive(Clone)]
pub struct SqlStore {
    pool: sqlx::AnyPool,
    /// What it was opened with (kept out of `Debug`: it may hold a password).
    url: std::sync::Arc<str>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish()
    }
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
        let store = Self {
            pool,
            url: url.into(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Another pool on the same database. (A pool's connections belong to the tokio runtime
    /// that opened them and fail once it is gone: a component that runs on a runtime of its
    /// own, and may stop before the others, gets a pool of its own.)
    pub async fn reopen(&self) -> Result<Self, StoreError> {
        Self::connect(&self.url).await
    }

    async fn require_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        self.tenant(name)
            .await?
            .ok_or_else(|| StoreError::UnknownTenant(name.to_string()))
    }
}

pub(super) fn to_json_str<T: serde::Serialize>(v: &T) -> String {
    // Unit enum variants serialize to a JSON string: strip the quotes.
    serde_json::to_string(v)
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

pub(super) fn from_json_str<T: serde::de::DeserializeOwned>(
    column: &'static str,
    s: String,
) -> Result<T, StoreError> {
    serde_json::from_str(&format!("\"{s}\"")).map_err(|_| StoreError::Corrupt { column, value: s })
}

pub(super) fn ms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A `u64` as the database's BIGINT (saturating).
pub(super) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
