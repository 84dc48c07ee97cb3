//! The webhook outbox: notifications written before they are delivered, claimed by the
//! delivering gateways with a lease, delivered at least once and in order per key (one call's
//! notifications), retried on a schedule the deliverer sets, and kept as dead letters when
//! they cannot be delivered (an operator replays them).

use crate::StoreError;

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// Unique (the deliverer makes it).
    pub id: String,
    /// Order within its key: a later notification of the same key has a larger `seq`.
    pub seq: i64,
    pub tenant: String,
    /// `ozeki`, `taridium` ...
    pub vendor: String,
    /// The notification's name (`CallChanged` ...).
    pub kind: String,
    /// Delivered in `seq` order per key (a call id).
    pub key: String,
    pub url: String,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub created_ms: u64,
}

/// A queued notification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub new: NewWebhook,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not tried again before this.
    pub next_ms: u64,
    /// `pending` or `dead`.
    pub state: String,
    pub last_error: Option<String>,
}

/// How a delivery attempt ended, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered: the notification leaves the outbox.
    Delivered,
    /// Try again at `next_ms`.
    Retry { next_ms: u64, error: String },
    /// Give up: a dead letter.
    Dead { error: String },
    /// Not tried (the lease would run out first): back to the queue as it was.
    Release,
}

#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Queue a notification (it is in the store when this returns).
    async fn enqueue_webhook(&self, n: &NewWebhook) -> Result<(), StoreError>;
    /// Lease up to `n` due notifications to `owner` until `lease_until_ms`: each the earliest
    /// pending one of its key (so a key's next waits for its predecessor), in `seq` order.
    async fn claim_webhooks(
        &self,
        owner: &str,
        now_ms: u64,
        lease_until_ms: u64,
        n: u32,
    ) -> Result<Vec<Webhook>, StoreError>;
    /// Record attempts of notifications `owner` holds (a lease lost meanwhile: ignored).
    async fn webhook_attempts(
        &self,
        owner: &str,
        results: &[(String, Attempt)],
    ) -> Result<(), StoreError>;
    /// A tenant's dead letters, newest first.
    async fn dead_webhooks(&self, tenant: &str, limit: u32) -> Result<Vec<Webhook>, StoreError>;
    /// Queue a dead letter of `tenant` again (attempts from zero): whether there was one.
    async fn replay_webhook(&self, tenant: &str, id: &str, now_ms: u64)
    -> Result<bool, StoreError>;
    /// Pending notifications, and the creation time of the oldest.
    async fn webhook_backlog(&self) -> Result<(u64, Option<u64>), StoreError>;
}
