//! Patchbay's shared store: tenants, users (SIP credentials as per-realm HA1), CDRs.
//!
//! One trait, [`Store`], and one SQL implementation over sqlx's `Any` driver, so the same code
//! and the same tests serve SQLite (embedded default, a file in the data dir) and PostgreSQL
//! (hosted mode, `postgres://` URL). Migrations run in [`SqlStore::connect`].
//! Queries use `$n` placeholders, which both databases accept.

mod sql;

pub use sql::SqlStore;

use patchbay_api::Cdr;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("unknown tenant {0}")]
    UnknownTenant(String),
    #[error("bad value in column {column}: {value}")]
    Corrupt { column: &'static str, value: String },
}

/// The digest secrets of one SIP user: HA1 = H(user:realm:password) for each algorithm, so the
/// plain password is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipCredentials {
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub name: String,
    /// SIP digest realm (also the SIP domain the tenant's phones use).
    pub realm: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub tenant: String,
    pub ext: String,
    pub display_name: String,
}

/// HA1 for MD5 and SHA-256 (RFC 7616 / RFC 8760).
pub fn ha1(user: &str, realm: &str, password: &str) -> (String, String) {
    use md5::Digest as _;
    let input = format!("{user}:{realm}:{password}");
    let m = md5::Md5::digest(input.as_bytes());
    let s = sha2::Sha256::digest(input.as_bytes());
    (hex::encode(m), hex::encode(s))
}

#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    async fn upsert_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    async fn tenant(&self, name: &str) -> Result<Option<Tenant>, StoreError>;
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Create or replace a user; the SIP password is kept only as HA1s of the tenant's realm.
    async fn upsert_user(&self, user: &User, sip_password: &str) -> Result<(), StoreError>;
    async fn delete_user(&self, tenant: &str, ext: &str) -> Result<bool, StoreError>;
    async fn user(&self, tenant: &str, ext: &str) -> Result<Option<User>, StoreError>;
    async fn sip_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<SipCredentials>, StoreError>;
    async fn insert_cdr(&self, cdr: &Cdr) -> Result<(), StoreError>;
    /// Newest first.
    async fn cdrs(&self, tenant: &str, limit: u32) -> Result<Vec<Cdr>, StoreError>;
    async fn cdr(&self, call: &str) -> Result<Option<Cdr>, StoreError>;
}
