//! What B2BUA nodes share beyond the accounts: each start's call-id base, and the location
//! service (registered contacts), so that a phone registered through one node is reachable
//! from every node, and a node's restart keeps its phones' registrations.

use crate::StoreError;

/// A registered contact as the store keeps it (one row per tenant, user and contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBinding {
    pub tenant: String,
    pub user: String,
    pub contact: String,
    /// Where the REGISTER came from (the phone's address, through an edge proxy too).
    pub source: String,
    pub transport: String,
    /// The REGISTER's Path header values (RFC 3327), in order: requests to the contact
    /// take them as their Route.
    pub path: Vec<String>,
    /// When the contact first registered (kept by refreshes): a user's phones are numbered
    /// in this order.
    pub registered_ms: u64,
    /// Expiry; at or before `updated_ms` when the contact was removed.
    pub expires_ms: u64,
    /// When this row was last written.
    pub updated_ms: u64,
    /// The write's place in the store's order of location writes (commit order; 0 until
    /// written): replicas read the rows past the last one they saw.
    pub seq: u64,
    /// The node that wrote it.
    pub node: u8,
}

/// One change to the location service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingChange {
    Save(StoredBinding),
    /// Every contact of (tenant, user), at `now_ms`.
    Clear {
        tenant: String,
        user: String,
        now_ms: u64,
    },
}

#[async_trait::async_trait]
pub trait Nodes: Send + Sync {
    /// Node `node`'s base for a start at `now_secs`: `now_secs`, or one more than the last
    /// base it claimed when that is not below it. Recorded before it returns.
    async fn claim_node_start(&self, node: u8, now_secs: u64) -> Result<u64, StoreError>;

    /// Apply `changes` of node `node` in order, in one transaction: add, refresh or remove
    /// (`expires_ms` <= `updated_ms`) a contact (a refresh of a live contact keeps its
    /// `registered_ms`), or remove every contact of a user (`Contact: *`). Each change gets
    /// the next `seq`; a second batch waits for the first to commit.
    async fn save_bindings(&self, node: u8, changes: &[BindingChange]) -> Result<(), StoreError>;

    /// Rows written after `seq` (removals included), in order; another node's only when
    /// `except` names a node.
    async fn bindings_after(
        &self,
        seq: u64,
        except: Option<u8>,
    ) -> Result<Vec<StoredBinding>, StoreError>;

    /// Forget rows expired and unchanged before `before_ms`.
    async fn purge_bindings(&self, before_ms: u64) -> Result<u64, StoreError>;

    /// Claim call `call`'s follow-up work (webhooks, OzML sessions) for gateway `owner` until
    /// `until_ms`: granted (true) when nobody holds it, `owner` already does (a renewal), or
    /// the holder's claim ran out before `now_ms`.
    async fn claim_call(
        &self,
        call: &str,
        owner: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Forget claims that ran out before `before_ms`.
    async fn purge_claims(&self, before_ms: u64) -> Result<u64, StoreError>;
}
