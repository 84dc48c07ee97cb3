//! The cluster's call events as this gateway serves them: a follower reads the store's
//! durable log (every node's events under one `gseq`, see `patchbay_store::EventLog`) every
//! `events_poll_ms`, keeps the recent ones in memory and wakes the readers waiting on them.
//! Tenant feeds, the Ozeki/CTI feed and per-call event reads all come from here, so they are
//! the same on every gateway, whichever node a call is on, and resume after any restart
//! within the store's retention.

use patchbay_api::{CallId, Event};
use patchbay_store::{Store, StoreError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Events kept in memory (older reads go to the store).
const RING: usize = 50_000;
/// Most events one read returns.
const PAGE: usize = 1_000;
/// How far back the follower starts: what a restarted gateway's feeds still see in memory.
const START_BACK_MS: u64 = 600_000;

#[derive(Default)]
struct Ring {
    /// Contiguous in `gseq` (every event the store numbered, in order).
    events: VecDeque<(Arc<str>, Event)>,
    /// Each call's events in the ring, in `seq` order.
    by_call: HashMap<CallId, VecDeque<Event>>,
    /// The last `gseq` taken (the ring is complete up to it).
    last: u64,
}

pub(crate) struct Events {
    store: Arc<dyn Store>,
    ring: Mutex<Ring>,
    tick: watch::Sender<u64>,
    /// Set once the follower has read up to the end of the log it found at start.
    ready: watch::Sender<bool>,
    poll: Duration,
}

impl Events {
    pub(crate) fn new(store: Arc<dyn Store>, poll: Duration) -> Self {
        Self {
            store,
            ring: Mutex::default(),
            tick: watch::channel(0).0,
            ready: watch::channel(false).0,
            poll,
        }
    }

    /// Follow the store until the process stops: first the last ten minutes of events, then
    /// whatever was appended since each look.
    pub(crate) async fn follow(self: Arc<Self>) {
        let start = loop {
            let since = crate::auth::now_ms().saturating_sub(START_BACK_MS);
            let r = match self.store.first_event_since(since).await {
                Ok(Some(g)) => Ok(g - 1),
                Ok(None) => self.store.last_event_gseq().await,
                Err(e) => Err(e),
            };
            match r {
                Ok(g) => break g,
                Err(e) => {
                    tracing::warn!(error = %e, "event log unreadable");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        if let Ok(mut r) = self.ring.lock() {
            r.last = start;
        }
        let mut last = start;
        let mut purged = crate::auth::now_ms();
        loop {
            // Call claims past their day (`Gateway::claim_call`), every ten minutes.
            let now = crate::auth::now_ms();
            if now.saturating_sub(purged) >= 600_000 {
                purged = now;
                if let Err(e) = self.store.purge_claims(now).await {
                    tracing::warn!(error = %e, "call claims not purged");
                }
            }
            match self.store.events_after(last, None, 5_000).await {
                Ok(batch) => {
                    let full = batch.len() == 5_000;
                    if let Some((_, e)) = batch.last() {
                        last = e.gseq;
                    }
                    self.take(batch);
                    if full {
                        continue;
                    }
                    self.ready.send_replace(true);
                }
                Err(e) => tracing::warn!(error = %e, "event log unreadable"),
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    fn take(&self, batch: Vec<(String, Event)>) {
        let Some(last) = batch.last().map(|(_, e)| e.gseq) else {
            return;
        };
        let Ok(mut r) = self.ring.lock() else { return };
        for (tenant, e) in batch {
            r.by_call
                .entry(e.call.clone())
                .or_default()
                .push_back(e.clone());
            r.events.push_back((Arc::from(tenant), e));
        }
        while r.events.len() > RING {
            if let Some((_, old)) = r.events.pop_front()
                && let Some(v) = r.by_call.get_mut(&old.call)
            {
                v.pop_front();
                if v.is_empty() {
                    r.by_call.remove(&old.call);
                }
            }
        }
        r.last = last;
        drop(r);
        self.tick.send_replace(last);
    }

    /// Events with `gseq > after` (the tenant's, when given), waiting up to `wait` for one.
    pub(crate) async fn after(
        &self,
        after: u64,
        tenant: Option<&str>,
        wait: Duration,
    ) -> Result<Vec<Event>, StoreError> {
        self.wait_for(wait, || async {
            // A snapshot (no wait) reads the store itself: what is stored now, not what the
            // follower took at its last look.
            if !wait.is_zero()
                && let Some(v) = self.ring_after(after, tenant)
            {
                return Ok(v);
            }
            Ok(self
                .store
                .events_after(after, tenant, PAGE as u32)
                .await?
                .into_iter()
                .map(|(_, e)| e)
                .collect())
        })
        .await
    }

    /// Call `call`'s events with `seq > after`, waiting up to `wait` for one.
    pub(crate) async fn call(
        &self,
        call: &CallId,
        after: u64,
        wait: Duration,
    ) -> Result<Vec<Event>, StoreError> {
        self.wait_for(wait, || async {
            if !wait.is_zero()
                && let Some(v) = self.ring_call(call, after)
            {
                return Ok(v);
            }
            self.store.call_events(call, after).await
        })
        .await
    }

    /// The events in memory once the follower has caught up with the log (the feed's
    /// backlog at start), and the last `gseq` among them.
    pub(crate) async fn recent(&self) -> (Vec<Event>, u64) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
        self.ring.lock().map_or((Vec::new(), 0), |r| {
            (r.events.iter().map(|(_, e)| e.clone()).collect(), r.last)
        })
    }

    /// Run `read` until it finds something or `wait` is over, waking on each new event.
    async fn wait_for<F, Fut>(&self, wait: Duration, read: F) -> Result<Vec<Event>, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Event>, StoreError>>,
    {
        let deadline = Instant::now() + wait;
        let mut tick = self.tick.subscribe();
        loop {
            tick.borrow_and_update();
            let v = read().await?;
            let left = deadline.saturating_duration_since(Instant::now());
            if !v.is_empty() || left.is_zero() {
                return Ok(v);
            }
            if tokio::time::timeout(left, tick.changed()).await.is_err() {
                return read().await;
            }
        }
    }

    /// From memory, when the ring covers `after` (else `None`: ask the store).
    fn ring_after(&self, after: u64, tenant: Option<&str>) -> Option<Vec<Event>> {
        let r = self.ring.lock().ok()?;
        if after >= r.last {
            return Some(Vec::new());
        }
        let first = r.events.front().map_or(r.last + 1, |(_, e)| e.gseq);
        if after + 1 < first {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).unwrap_or(usize::MAX);
        Some(
            r.events
                .iter()
                .skip(skip)
                .filter(|(t, _)| tenant.is_none_or(|x| x == &**t))
                .take(PAGE)
                .map(|(_, e)| e.clone())
                .collect(),
        )
    }

    /// From memory, when the ring holds the call from its first event.
    fn ring_call(&self, call: &CallId, after: u64) -> Option<Vec<Event>> {
        let r = self.ring.lock().ok()?;
        let v = r.by_call.get(call)?;
        if v.front().is_none_or(|e| e.seq > after + 1) {
            return None;
        }
        Some(v.iter().filter(|e| e.seq > after).cloned().collect())
    }
}
