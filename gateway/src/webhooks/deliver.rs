//! The deliverer: lease due notifications, post them (a few at a time per destination), and
//! record each attempt in one transaction per batch.

use super::Webhooks;
use patchbay_api::client::outbound::{self, FetchError, Outbound};
use patchbay_store::{Attempt, Webhook};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How often the backlog gauges are refreshed, and the longest idle wait between claims.
const IDLE: Duration = Duration::from_millis(500);

/// The background service delivering the outbox (one per gateway).
pub struct Deliverer {
    pub(crate) hooks: Arc<Webhooks>,
    /// One semaphore per destination (scheme, host and port).
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Deliverer {
    pub fn new(hooks: Arc<Webhooks>) -> Self {
        Self {
            hooks,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, url: &str) -> Arc<Semaphore> {
        let dest = reqwest::Url::parse(url)
            .map(|u| {
                format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.port_or_known_default().unwrap_or(0)
                )
            })
            .unwrap_or_default();
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(dest)
            .or_insert_with(|| Arc::new(Semaphore::new(self.hooks.cfg.per_destination)))
            .clone()
    }

    /// Deliver until `stop` says so.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let h = &self.hooks;
        let mut gauges_at = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                return;
            }
            if gauges_at.elapsed() >= IDLE {
                self.refresh_gauges().await;
                gauges_at = tokio::time::Instant::now();
            }
            let now = crate::auth::now_ms();
            let lease = now + u64::from(h.cfg.lease_secs) * 1000;
            let batch = match h
                .store
                .claim_webhooks(&h.owner, now, lease, h.cfg.batch)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook outbox: claim failed");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = h.wake.notified() => {}
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let tasks: Vec<_> = batch
                .into_iter()
                .map(|w| {
                    let me = self.clone();
                    tokio::spawn(async move { me.deliver(w, lease).await })
                })
                .collect();
            let mut results = Vec::with_capacity(tasks.len());
            for t in tasks {
                if let Ok(r) = t.await {
                    results.push(r);
                }
            }
            if let Err(e) = h.store.webhook_attempts(&h.owner, &results).await {
                // The leases run out and the notifications are delivered again.
                tracing::warn!(error = %e, "webhook outbox: attempts not recorded");
            }
            // Forget idle destinations (nobody holds their semaphore).
            self.slots
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, s| Arc::strong_count(s) > 1);
        }
    }

    async fn refresh_gauges(&self) {
        if let Ok((n, oldest)) = self.hooks.store.webhook_backlog().await {
            let m = &self.hooks.metrics;
            m.webhook_depth.set(n as i64);
            let age = oldest.map_or(0, |o| crate::auth::now_ms().saturating_sub(o) / 1000);
            m.webhook_oldest.set(age as i64);
        }
    }

    /// One attempt at `w`, leased until `lease_until` (ms).
    async fn deliver(&self, w: Webhook, lease_until: u64) -> (String, Attempt) {
        let h = &self.hooks;
        let n = &w.new;
        let slot = self.slot(&n.url);
        let _permit = slot.acquire().await;
        // Never send once the lease could run out first: another gateway might have it by then
        // (and deliver the next of its call before this one).
        if crate::auth::now_ms() + h.cfg.timeout_ms + 1_000 >= lease_until {
            return (n.id.clone(), Attempt::Release);
        }
        let allow_private = match h.allow_private(&n.tenant).await {
            Ok(a) => a,
            Err(e) => {
                let next_ms = crate::auth::now_ms() + h.cfg.retry_base_ms;
                let error = format!("the tenant's webhook policy: {e}");
                return (n.id.clone(), Attempt::Retry { next_ms, error });
            }
        };
        let (method, mut headers) = super::method_and_headers(&n.content_type);
        headers.extend(n.headers.iter().cloned());
        let sent = outbound::send(Outbound {
            method,
            url: n.url.clone(),
            headers,
            body: n.body.clone().into_bytes(),
            timeout: Duration::from_millis(h.cfg.timeout_ms),
            max_body: h.cfg.max_response_bytes,
            allow_private,
        })
        .await;
        let attempts = w.attempts + 1;
        let m = &h.metrics;
        m.webhook_attempts.with_label_values(&[&n.vendor]).inc();
        let error = match sent {
            Ok(a) if (200..300).contains(&a.status) => {
                m.webhook_deliveries
                    .with_label_values(&[&n.vendor, &n.kind, "delivered"])
                    .inc();
                h.replied(n, a.body);
                return (n.id.clone(), Attempt::Delivered);
            }
            Ok(a) => format!("HTTP status {}", a.status),
            // Nothing will change for these: a dead letter at once.
            Err(e @ (FetchError::Url | FetchError::Refused(_))) => {
                m.webhook_deliveries
                    .with_label_values(&[&n.vendor, &n.kind, "refused"])
                    .inc();
                return (
                    n.id.clone(),
                    Attempt::Dead {
                        error: e.to_string(),
                    },
                );
            }
            Err(e) => e.to_string(),
        };
        let now = crate::auth::now_ms();
        let old = now.saturating_sub(n.created_ms) > u64::from(h.cfg.max_age_secs) * 1000;
        if attempts >= h.cfg.max_attempts || old {
            m.webhook_deliveries
                .with_label_values(&[&n.vendor, &n.kind, "dead"])
                .inc();
            let error = format!("{error} (attempt {attempts}; giving up)");
            return (n.id.clone(), Attempt::Dead { error });
        }
        m.webhook_deliveries
            .with_label_values(&[&n.vendor, &n.kind, "retry"])
            .inc();
        let next_ms = now + backoff(&h.cfg, attempts);
        (n.id.clone(), Attempt::Retry { next_ms, error })
    }
}

/// The wait before attempt `attempts + 1`: base x 2^(attempts - 1), capped, with jitter
/// (between half and all of it), so that receivers coming back are not hit all at once.
fn backoff(cfg: &crate::config::WebhookConfig, attempts: u32) -> u64 {
    let exp = cfg
        .retry_base_ms
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(20))
        .min(cfg.retry_max_ms);
    let half = exp / 2;
    half + rand::random_range(0..=half)
}
