//! Patchbay's shared store: tenants, users (SIP credentials as per-realm HA1, web PIN), API keys,
//! IP allow-lists, JWT keys, phonebooks, CDRs and the recordings index.
//!
//! One trait, [`Store`], and one SQL implementation over sqlx's `Any` driver, so the same code
//! and the same tests serve SQLite (embedded default, a file in the data dir) and PostgreSQL
//! (hosted mode, `postgres://` URL). Migrations run in [`SqlStore::connect`].
//! Queries use `$n` placeholders, which both databases accept.

mod accounts;
pub mod demo;
mod events;
mod journal;
mod nodes;
mod outbox;
mod request_keys;
mod secrets;
mod sql;

pub use accounts::{
    ApiKey, AppNumber, CdrQuery, JwtKey, PhonebookEntry, Recording, UserSettings,
    VOICEMAIL_FOLDERS, VOICEMAIL_GREETINGS, VoicemailRow, WebCredentials,
};
pub use events::EventLog;
pub use journal::{Journal, LiveCall, LogEntry, Orphan};
pub use nodes::{BindingChange, Nodes, StoredBinding};
pub use outbox::{Attempt, NewWebhook, Outbox, Webhook};
pub use request_keys::RequestKeys;
pub use secrets::{hash_secret, url_key_digest, verify_secret};
pub use sql::SqlStore;

use patchbay_api::Cdr;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("unknown tenant {0}")]
    UnknownTenant(String),
    /// A global name (Host name, JWT key id) another tenant holds.
    #[error("{0} belongs to another tenant")]
    Taken(String),
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
pub trait Store:
    Outbox + Nodes + EventLog + Journal + RequestKeys + Send + Sync + std::fmt::Debug
{
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
    /// Store a call's CDR; one per call: a second for the same call is ignored.
    async fn insert_cdr(&self, cdr: &Cdr) -> Result<(), StoreError>;
    /// Newest first.
    async fn cdrs(&self, tenant: &str, limit: u32) -> Result<Vec<Cdr>, StoreError>;
    async fn cdr(&self, call: &str) -> Result<Option<Cdr>, StoreError>;
    /// CDRs matching `q`, at most `q.limit`.
    async fn search_cdrs(&self, q: &CdrQuery) -> Result<Vec<Cdr>, StoreError>;

    // --- gateway-side accounts (see `accounts`) ---
    async fn tenant_by_realm(&self, realm: &str) -> Result<Option<Tenant>, StoreError>;
    async fn delete_tenant(&self, name: &str) -> Result<bool, StoreError>;
    /// Map a Host header value (lower case, no port) to a tenant; `Taken` if another tenant
    /// has it.
    async fn set_tenant_host(&self, host: &str, tenant: &str) -> Result<(), StoreError>;
    async fn tenant_for_host(&self, host: &str) -> Result<Option<String>, StoreError>;
    async fn users(&self, tenant: &str) -> Result<Vec<User>, StoreError>;
    /// Web PIN: kept as an argon2 hash (Basic, vendor parameters) and as HA1s of the tenant's
    /// realm (HTTP Digest needs them). `None` clears it.
    async fn set_web_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError>;
    async fn web_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<WebCredentials>, StoreError>;
    /// Rename a user (no other field changes); `false` if there is no such user.
    async fn set_display_name(
        &self,
        tenant: &str,
        ext: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
    async fn set_vm_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// The argon2 hash of the user's voicemail PIN (`None`: no PIN set, or no such user).
    async fn vm_pin_hash(&self, tenant: &str, ext: &str) -> Result<Option<String>, StoreError>;
    /// Taridium-style per-user URL key (kept as a SHA-256 digest: it is looked up, not just
    /// compared). `None` clears it.
    async fn set_url_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError>;
    async fn user_by_url_key(&self, key: &str) -> Result<Option<User>, StoreError>;
    async fn user_settings(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<UserSettings>, StoreError>;
    async fn set_user_settings(
        &self,
        tenant: &str,
        ext: &str,
        settings: &UserSettings,
    ) -> Result<bool, StoreError>;
    /// Stores the key with its secret hashed (argon2).
    async fn create_api_key(&self, key: &ApiKey, secret: &str) -> Result<(), StoreError>;
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>, StoreError>;
    async fn api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError>;
    async fn delete_api_key(&self, tenant: &str, key_id: &str) -> Result<bool, StoreError>;
    /// Replace the allow-list of `scope` (e.g. `brekeke-3pcc`, `ozeki`, `native`).
    async fn set_ip_patterns(
        &self,
        tenant: &str,
        scope: &str,
        patterns: &[String],
    ) -> Result<(), StoreError>;
    async fn ip_patterns(&self, tenant: &str, scope: &str) -> Result<Vec<String>, StoreError>;
    async fn upsert_jwt_key(&self, key: &JwtKey) -> Result<(), StoreError>;
    async fn jwt_key(&self, kid: &str) -> Result<Option<JwtKey>, StoreError>;
    async fn upsert_phonebook_entry(&self, entry: &PhonebookEntry) -> Result<(), StoreError>;
    /// Entries of one book (a user's private book: `owner`, `book` empty; a shared book:
    /// `book`, `owner` empty), oldest first.
    async fn phonebook(
        &self,
        tenant: &str,
        owner: &str,
        book: &str,
    ) -> Result<Vec<PhonebookEntry>, StoreError>;
    async fn phonebook_entry(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<PhonebookEntry>, StoreError>;
    async fn delete_phonebook_entry(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;
    /// Delete a whole book's entries; how many there were.
    async fn delete_phonebook(
        &self,
        tenant: &str,
        owner: &str,
        book: &str,
    ) -> Result<u64, StoreError>;
    /// A user's roles beyond `user` (`admin`).
    async fn user_roles(&self, tenant: &str, ext: &str) -> Result<Vec<String>, StoreError>;
    async fn set_user_roles(
        &self,
        tenant: &str,
        ext: &str,
        roles: &[String],
    ) -> Result<bool, StoreError>;
    /// A user's contact information (JSON object), if it has any.
    async fn user_profile(&self, tenant: &str, ext: &str) -> Result<Option<String>, StoreError>;
    async fn set_user_profile(
        &self,
        tenant: &str,
        ext: &str,
        profile: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// The key of a user's `/private/{key}/` URLs (stored as its SHA-256; `None` removes it).
    async fn set_private_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError>;
    async fn user_by_private_key(&self, key: &str) -> Result<Option<User>, StoreError>;
    async fn insert_recording(&self, rec: &Recording) -> Result<(), StoreError>;
    /// Newest first; of one call if given.
    async fn recordings(
        &self,
        tenant: &str,
        call: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError>;
    async fn recording(&self, tenant: &str, id: &str) -> Result<Option<Recording>, StoreError>;
    /// Remove the index entry; the entry removed (its file is the caller's to delete).
    async fn delete_recording(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Recording>, StoreError>;
    /// Recordings older than their tenant's retention, oldest first.
    async fn expired_recordings(
        &self,
        now_ms: u64,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError>;
    /// The default (record nothing, keep everything) when never set.
    async fn recording_policy(
        &self,
        tenant: &str,
    ) -> Result<patchbay_api::RecordingPolicy, StoreError>;
    async fn set_recording_policy(
        &self,
        tenant: &str,
        policy: &patchbay_api::RecordingPolicy,
    ) -> Result<(), StoreError>;

    // --- a tenant's settings (native admin API) ---
    /// Replace the outside SIP domains the tenant's calls may reach (lower-cased; empty: none).
    async fn set_allowed_sip_domains(
        &self,
        tenant: &str,
        domains: &[String],
    ) -> Result<(), StoreError>;
    async fn allowed_sip_domains(&self, tenant: &str) -> Result<Vec<String>, StoreError>;
    /// Host names mapped to the tenant (see `set_tenant_host`).
    async fn tenant_hosts(&self, tenant: &str) -> Result<Vec<String>, StoreError>;
    async fn delete_tenant_host(&self, tenant: &str, host: &str) -> Result<bool, StoreError>;
    async fn jwt_keys(&self, tenant: &str) -> Result<Vec<JwtKey>, StoreError>;
    async fn insert_voicemail(&self, m: &VoicemailRow) -> Result<(), StoreError>;
    /// A mailbox's messages (of one folder if given), newest first.
    async fn voicemails(
        &self,
        tenant: &str,
        mailbox: &str,
        folder: Option<&str>,
    ) -> Result<Vec<VoicemailRow>, StoreError>;
    async fn voicemail(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<Option<VoicemailRow>, StoreError>;
    async fn set_voicemail_folder(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
        folder: &str,
    ) -> Result<bool, StoreError>;
    /// The row removed (its recording is the caller's to delete).
    async fn delete_voicemail(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<Option<VoicemailRow>, StoreError>;
    /// Create or relabel one of the tenant's application numbers.
    async fn put_app_number(&self, n: &AppNumber) -> Result<(), StoreError>;
    /// By number.
    async fn app_numbers(&self, tenant: &str) -> Result<Vec<AppNumber>, StoreError>;
    async fn delete_app_number(&self, tenant: &str, number: &str) -> Result<bool, StoreError>;
    async fn delete_jwt_key(&self, tenant: &str, kid: &str) -> Result<bool, StoreError>;
    /// A tenant's trunk, added or replaced by name.
    async fn put_trunk(&self, tenant: &str, t: &patchbay_api::Trunk) -> Result<(), StoreError>;
    /// One tenant's trunks or, with `None`, every tenant's: `(tenant, trunk)` by tenant, name.
    async fn trunks(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<(String, patchbay_api::Trunk)>, StoreError>;
    async fn delete_trunk(&self, tenant: &str, name: &str) -> Result<bool, StoreError>;
    /// Replace a tenant's dial plan (its rules in order).
    async fn set_dialplan(
        &self,
        tenant: &str,
        rules: &[patchbay_api::DialRule],
    ) -> Result<(), StoreError>;
    /// A tenant's dial plan (empty when none was set: no outside number can be called).
    async fn dialplan(&self, tenant: &str) -> Result<Vec<patchbay_api::DialRule>, StoreError>;
    async fn put_did(&self, tenant: &str, d: &patchbay_api::Did) -> Result<(), StoreError>;
    /// One inbound number (`Some`) or all of a tenant's.
    async fn dids(
        &self,
        tenant: &str,
        number: Option<&str>,
    ) -> Result<Vec<patchbay_api::Did>, StoreError>;
    async fn delete_did(&self, tenant: &str, number: &str) -> Result<bool, StoreError>;
    /// A tenant's ring group, added or replaced by number.
    async fn put_ring_group(
        &self,
        tenant: &str,
        g: &patchbay_api::RingGroup,
    ) -> Result<(), StoreError>;
    /// A tenant's ring groups, by number.
    async fn ring_groups(&self, tenant: &str) -> Result<Vec<patchbay_api::RingGroup>, StoreError>;
    async fn delete_ring_group(&self, tenant: &str, number: &str) -> Result<bool, StoreError>;
    /// A tenant's configured object of `kind` (`conference`, ...) as a JSON document, added or
    /// replaced by name.
    async fn put_config(
        &self,
        tenant: &str,
        kind: &str,
        name: &str,
        body: &str,
    ) -> Result<(), StoreError>;
    /// The tenant's objects of `kind`: (name, JSON document), by name.
    async fn configs(&self, tenant: &str, kind: &str) -> Result<Vec<(String, String)>, StoreError>;
    async fn delete_config(&self, tenant: &str, kind: &str, name: &str)
    -> Result<bool, StoreError>;
}
