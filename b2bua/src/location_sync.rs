//! The location service shared through the store: every REGISTER a node takes is written
//! there first (`registrar`, through `writer`: group commit), and every node reads the rows
//! the others wrote since the last one it saw (rows are numbered in commit order), so a phone
//! registered through one node is reachable from all; at start a node reads every row (its
//! own too), so its restart keeps its phones' registrations. Expired rows stay a minute so
//! that every replica sees a removal, then are purged.

use crate::location::Binding;
use crate::shared::{Shared, now_ms};
use patchbay_store::{BindingChange, Store, StoredBinding};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A change for the writer, and where its outcome goes.
pub(crate) type Write = (BindingChange, oneshot::Sender<bool>);

/// Largest batch in one transaction.
const BATCH: usize = 500;
/// How long a batch waits for more after its first change (a REGISTER's 200 waits up to this
/// long more; a node taking hundreds a second commits a few dozen times a second).
const LINGER: Duration = Duration::from_millis(10);

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
        seq: 0,
        node: 0,
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

/// The location writer: REGISTERs' changes that come within `LINGER` of each other,
/// committed together (group commit); each REGISTER's task waits for its own outcome.
pub(crate) async fn writer(
    store: Arc<dyn Store>,
    node: u8,
    mut rx: mpsc::UnboundedReceiver<Write>,
) {
    while let Some(first) = rx.recv().await {
        // Those that come within LINGER of the first share its transaction.
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(w)) => batch.push(w),
                _ => break,
            }
        }
        let (changes, replies): (Vec<BindingChange>, Vec<oneshot::Sender<bool>>) =
            batch.into_iter().unzip();
        let ok = match store.save_bindings(node, &changes).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, n = changes.len(), "registrations not stored");
                false
            }
        };
        for r in replies {
            let _ = r.send(ok);
        }
    }
}

/// Apply the rows written after `seq` (another node's only, with `except`); the last seq
/// read.
pub(crate) async fn pull(
    sh: &Shared,
    seq: u64,
    except: Option<u8>,
) -> Result<u64, patchbay_store::StoreError> {
    let rows = sh.store.bindings_after(seq, except).await?;
    let last = rows.last().map_or(seq, |r| r.seq.max(seq));
    if rows.is_empty() {
        return Ok(last);
    }
    let now = now_ms();
    if let Ok(mut loc) = sh.location.lock() {
        for r in rows {
            let (tenant, user) = (r.tenant.clone(), r.user.clone());
            loc.merge(&tenant, &user, binding(r), now);
        }
        sh.metrics.registrations.set(loc.count() as i64);
    }
    Ok(last)
}

/// Follow the other nodes' location rows every `location_sync_ms` (from `last`, where the
/// read at start-up ended); purge old removals once a minute.
pub(crate) async fn follow(sh: Arc<Shared>, mut last: u64) {
    let mut tick = tokio::time::interval(Duration::from_millis(sh.cfg.location_sync_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut purged = now_ms();
    loop {
        tick.tick().await;
        match pull(&sh, last, Some(sh.cfg.node)).await {
            Ok(seq) => last = seq,
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
