//! The durable event log's writer: the events the driver publishes, appended to the store in
//! batches (whatever queued while the previous append ran), in order. A store that fails is
//! retried with back-off, the batch kept; at stop, what is queued is written before the
//! process goes (bounded by the caller's timeout).

use crate::metrics::Metrics;
use patchbay_api::Event;
use patchbay_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Largest batch in one transaction.
const BATCH: usize = 500;

pub(crate) async fn writer(
    store: Arc<dyn Store>,
    node: u8,
    metrics: Metrics,
    mut rx: mpsc::UnboundedReceiver<(Arc<str>, Event)>,
    mut flush: watch::Receiver<bool>,
) {
    let mut batch: Vec<(String, Event)> = Vec::new();
    loop {
        let stopping = *flush.borrow();
        if batch.is_empty() {
            if stopping {
                match rx.try_recv() {
                    Ok((t, e)) => batch.push((t.to_string(), e)),
                    Err(_) => return,
                }
            } else {
                tokio::select! {
                    got = rx.recv() => match got {
                        Some((t, e)) => batch.push((t.to_string(), e)),
                        None => return,
                    },
                    _ = flush.changed() => continue,
                }
            }
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok((t, e)) => batch.push((t.to_string(), e)),
                Err(_) => break,
            }
        }
        metrics.events_pending.set((batch.len() + rx.len()) as i64);
        let mut delay = Duration::from_millis(100);
        loop {
            match store.append_events(node, &batch).await {
                Ok(()) => {
                    metrics.events_stored.inc_by(batch.len() as u64);
                    batch.clear();
                    break;
                }
                Err(e) => {
                    metrics.event_store_errors.inc();
                    tracing::warn!(error = %e, events = batch.len(), "events not stored; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
        metrics.events_pending.set(rx.len() as i64);
    }
}
