//! The location service shared through the store: every REGISTER a node takes is written
//! there first (`registrar`), and every node reads the rows written since it last looked
//! (its own included: applying a row twice changes nothing), so a phone registered through
//! one node is reachable from all, and a node's restart keeps its phones' registrations.
//! Expired rows stay a minute so that every replica sees a removal, then are purged.

use crate::location::Binding;
use crate::shared::{Shared, now_ms};
use patchbay_store::StoredBinding;
use std::sync::Arc;
use std::time::Duration;

/// How far back each read reaches past the previous one: rows committed late (a write that
/// started before the previous read and finished after it) or stamped by a node whose clock
/// is a little behind are still seen.
const OVERLAP_MS: u64 = 5_000;
/// Removed and expired rows are kept this long, then purged.
const TOMBSTONE_MS: u64 = 60_000;

/// The store's row for `b`.
pub(crate) fn stored(tenant: &str, user: &str, b: &Binding) -> StoredBinding {
    StoredBinding {
        tenant: tenant.to_string(),
        user: user.to_string(),
        contact: b.contact.clone(),
        source: b.source.clone(),
        transport: b.transport.clone(),
        path: b.path.clone(),
        registered_ms: b.registered_ms,
        expires_ms: b.expires_at_ms,
        updated_ms: b.updated_ms,
    }
}

fn binding(r: StoredBinding) -> Binding {
    Binding {
        contact: r.contact,
        source: r.source,
        transport: r.transport,
        flow: None,
        path: r.path,
        expires_at_ms: r.expires_ms,
        registered_ms: r.registered_ms,
        updated_ms: r.updated_ms,
    }
}

/// Apply the rows written at or after `since`; the time this read started.
pub(crate) async fn pull(sh: &Shared, since: u64) -> Result<u64, patchbay_store::StoreError> {
    let started = now_ms();
    let rows = sh.store.bindings_since(since).await?;
    let now = now_ms();
    if let Ok(mut loc) = sh.location.lock() {
        for r in rows {
            let (tenant, user) = (r.tenant.clone(), r.user.clone());
            loc.merge(&tenant, &user, binding(r), now);
        }
        sh.metrics.registrations.set(loc.count() as i64);
    }
    Ok(started)
}

/// Follow the store's location rows every `location_sync_ms` (the first read, at start-up,
/// takes them all); purge old removals once a minute.
pub(crate) async fn follow(sh: Arc<Shared>, mut last: u64) {
    let mut tick = tokio::time::interval(Duration::from_millis(sh.cfg.location_sync_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut purged = now_ms();
    loop {
        tick.tick().await;
        match pull(&sh, last.saturating_sub(OVERLAP_MS)).await {
            Ok(started) => last = started,
            Err(e) => tracing::warn!(error = %e, "location rows unreadable"),
        }
        let now = now_ms();
        if now.saturating_sub(purged) >= TOMBSTONE_MS {
            purged = now;
            if let Err(e) = sh
                .store
                .purge_bindings(now.saturating_sub(TOMBSTONE_MS))
                .await
            {
                tracing::warn!(error = %e, "location rows not purged");
            }
        }
    }
}
