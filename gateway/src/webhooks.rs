//! Outbound webhooks (Ozeki notifications, Taridium's post-call CTI), on the store's outbox:
//! [`Webhooks::enqueue`] writes a notification to the outbox before anything is sent (a
//! restart or crash loses none); the deliverer (a pingora background service, one per
//! gateway) leases due notifications, each the earliest pending one of its key (a call), so
//! a call's notifications arrive in order; it posts them through checked destinations
//! (`patchbay_api::client::outbound`: public addresses only unless the tenant's policy allows
//! private ones, redirects re-checked, the body capped), a few at a time per destination,
//! and records each attempt: delivered (gone), retried later (exponential backoff with
//! jitter), or a dead letter (refused destination, too many attempts, too old) an operator
//! can list and replay. Several gateways share the outbox: a lease keeps a notification with
//! one of them; a lease that runs out (a gateway died) lets another deliver it again (at
//! least once).
//!
//! Requests whose reply the call waits for (OzML) go through [`Webhooks::request`]: the same
//! checks, a bounded time, no outbox.

mod deliver;

pub use deliver::Deliverer;

use crate::config::WebhookConfig;
use patchbay_api::client::outbound::{self, Answer, FetchError, Outbound};
use patchbay_store::{NewWebhook, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::Duration;

/// The `tenant_configs` kind and name of a tenant's webhook policy.
pub const POLICY_KIND: &str = "webhooks";
pub const POLICY_NAME: &str = "policy";

/// A tenant's webhook policy (`PUT /api/v1/tenants/{t}/webhooks/policy`, operators only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPolicy {
    /// Let the tenant's webhooks reach loopback and private addresses (a PBX on one machine
    /// or a LAN); off: public addresses only.
    #[serde(default)]
    pub allow_private_webhooks: bool,
}

/// A notification with a content type is a POST of its body; one without (and no body) is a
/// GET of its URL (Taridium's CTI).
pub(crate) fn method_and_headers(content_type: &str) -> (reqwest::Method, Vec<(String, String)>) {
    if content_type.is_empty() {
        (reqwest::Method::GET, Vec::new())
    } else {
        (
            reqwest::Method::POST,
            vec![("Content-Type".to_string(), content_type.to_string())],
        )
    }
}

/// A notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub tenant: String,
    pub vendor: &'static str,
    /// Its name (`CallChanged` ...): a bounded metric label.
    pub kind: &'static str,
    /// Delivered in order per key (a call id).
    pub key: String,
    pub url: String,
    /// Empty: a GET of `url` (no body).
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A delivered notification's reply body (Ozeki runs the OzML in it).
#[derive(Debug, Clone)]
pub struct Reply {
    pub tenant: String,
    pub vendor: String,
    pub kind: String,
    pub key: String,
    pub body: Vec<u8>,
}

pub struct Webhooks {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) cfg: WebhookConfig,
    pub metrics: crate::metrics::Metrics,
    /// This gateway's name as a lease owner.
    pub(crate) owner: String,
    pub(crate) wake: tokio::sync::Notify,
    /// The last `seq` given (increasing, whatever the clock does).
    seq: AtomicI64,
    policies: moka::sync::Cache<String, bool>,
    /// Where delivered notifications' non-empty replies go, once someone listens.
    replies: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Reply>>>,
}

impl Webhooks {
    pub fn new(
        store: Arc<dyn Store>,
        cfg: WebhookConfig,
        metrics: crate::metrics::Metrics,
    ) -> Self {
        Self {
            store,
            cfg,
            metrics,
            owner: format!("gw-{}", crate::handlers::random_hex(8)),
            wake: tokio::sync::Notify::new(),
            seq: AtomicI64::new(0),
            policies: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
            replies: std::sync::Mutex::new(None),
        }
    }

    /// Send delivered notifications' non-empty replies to `tx` from now on.
    pub fn on_replies(&self, tx: tokio::sync::mpsc::UnboundedSender<Reply>) {
        if let Ok(mut r) = self.replies.lock() {
            *r = Some(tx);
        }
    }

    pub(crate) fn replied(&self, n: &patchbay_store::NewWebhook, body: Vec<u8>) {
        if body.trim_ascii().is_empty() {
            return;
        }
        if let Ok(r) = self.replies.lock()
            && let Some(tx) = r.as_ref()
        {
            let _ = tx.send(Reply {
                tenant: n.tenant.clone(),
                vendor: n.vendor.clone(),
                kind: n.kind.clone(),
                key: n.key.clone(),
                body,
            });
        }
    }

    /// Queue `n`: in the store when this returns; the deliverer is woken.
    pub async fn enqueue(&self, n: Notification) -> Result<(), StoreError> {
        let now = crate::auth::now_ms();
        // Increasing in this process (a call's notifications come from one), near the clock
        // (x1000) so that several gateways' rows interleave by time.
        let floor = (now as i64).saturating_mul(1_000);
        let prev = self
            .seq
            .fetch_update(Relaxed, Relaxed, |last| Some((last + 1).max(floor)))
            .unwrap_or(floor);
        let seq = (prev + 1).max(floor);
        let row = NewWebhook {
            id: format!("wh-{}", crate::handlers::random_hex(12)),
            seq,
            tenant: n.tenant,
            vendor: n.vendor.to_string(),
            kind: n.kind.to_string(),
            key: n.key,
            url: n.url,
            content_type: n.content_type,
            headers: n.headers,
            body: n.body,
            created_ms: now,
        };
        self.store.enqueue_webhook(&row).await?;
        self.metrics
            .webhook_queued
            .with_label_values(&[n.vendor])
            .inc();
        self.wake.notify_one();
        Ok(())
    }

    /// Whether `tenant`'s webhooks may reach private addresses (read again within 10 s of a
    /// change made through another gateway). A store error is no answer (not cached).
    pub async fn allow_private(&self, tenant: &str) -> Result<bool, StoreError> {
        if let Some(a) = self.policies.get(tenant) {
            return Ok(a);
        }
        let allow = self
            .store
            .configs(tenant, POLICY_KIND)
            .await?
            .into_iter()
            .find(|(name, _)| name == POLICY_NAME)
            .and_then(|(_, body)| serde_json::from_str::<WebhookPolicy>(&body).ok())
            .unwrap_or_default()
            .allow_private_webhooks;
        self.policies.insert(tenant.to_string(), allow);
        Ok(allow)
    }

    /// Deliver now (a notification was queued or replayed elsewhere than through
    /// [`Webhooks::enqueue`]).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Forget the cached policy of `tenant` (it was just changed here).
    pub fn policy_changed(&self, tenant: &str) {
        self.policies.invalidate(tenant);
    }

    /// A request whose answer the call waits for (OzML): checked like notifications, within
    /// `timeout`, the answer's body capped.
    pub async fn request(
        &self,
        tenant: &str,
        url: &str,
        content_type: &str,
        headers: &[(String, String)],
        body: String,
        timeout: Duration,
    ) -> Result<Answer, FetchError> {
        let (method, mut all) = method_and_headers(content_type);
        all.extend(headers.iter().cloned());
        let allow_private = self
            .allow_private(tenant)
            .await
            .map_err(|e| FetchError::Http(format!("the tenant's webhook policy: {e}")))?;
        outbound::send(Outbound {
            method,
            url: url.to_string(),
            headers: all,
            body: body.into_bytes(),
            timeout,
            max_body: self.cfg.max_response_bytes,
            allow_private,
        })
        .await
    }
}
