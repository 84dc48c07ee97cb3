//! The durable log's writer: the events the driver publishes, the live-call journal's entries
//! and the CDRs, appended to the store in batches (whatever queued while the previous append
//! ran), in order, each batch one transaction. A store that fails is retried with back-off,
//! the batch kept; at stop, what is queued is written before the process goes (bounded by
//! the caller's timeout).

use crate::metrics::Metrics;
use patchbay_store::{LogEntry, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Largest batch in one transaction.
const BATCH: usize = 500;

pub(crate) async fn writer(
    store: Arc<dyn Store>,
    node: u8,
    metrics: Metrics,
    mut rx: mpsc::UnboundedReceiver<LogEntry>,
    mut flush: watch::Receiver<bool>,
) {
    let mut batch: Vec<LogEntry> = Vec::new();
    loop {
        let stopping = *flush.borrow();
        if batch.is_empty() {
            if stopping {
                match rx.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(_) => return,
                }
            } else {
                tokio::select! {
                    got = rx.recv() => match got {
                        Some(e) => batch.push(e),
                        None => return,
                    },
                    _ = flush.changed() => continue,
                }
            }
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        coalesce(&mut batch);
        metrics.events_pending.set((batch.len() + rx.len()) as i64);
        let (events, cdrs) = batch.iter().fold((0, 0), |(e, c), x| match x {
            LogEntry::Event { .. } => (e + 1, c),
            LogEntry::Cdr(_) => (e, c + 1),
            LogEntry::Live(_) => (e, c),
        });
        let mut delay = Duration::from_millis(100);
        loop {
            match store.append_log(node, &batch).await {
                Ok(()) => {
                    metrics.events_stored.inc_by(events);
                    batch.clear();
                    break;
                }
                Err(e) => {
                    metrics.event_store_errors.inc();
                    metrics.cdr_write_errors.inc_by(cdrs);
                    tracing::warn!(error = %e, entries = batch.len(), "log not stored; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
        metrics.events_pending.set(rx.len() as i64);
    }
}

/// Drop each journal entry a later one of the batch replaces: a later entry of its call, or
/// the call's CDR (which removes it).
fn coalesce(batch: &mut Vec<LogEntry>) {
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (k, e) in batch.iter().enumerate() {
        match e {
            LogEntry::Live(l) => last.insert(l.call.0.as_str(), k),
            LogEntry::Cdr(c) => last.insert(c.call.0.as_str(), k),
            LogEntry::Event { .. } => None,
        };
    }
    let keep: Vec<bool> = batch
        .iter()
        .enumerate()
        .map(|(k, e)| match e {
            LogEntry::Live(l) => last.get(l.call.0.as_str()) == Some(&k),
            _ => true,
        })
        .collect();
    let mut k = 0;
    batch.retain(|_| {
        k += 1;
        keep[k - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_api::{CallId, Cause, Cdr, EndedBy};
    use patchbay_store::LiveCall;

    fn live(call: &str, body: &str) -> LogEntry {
        LogEntry::Live(LiveCall {
            call: CallId(call.into()),
            tenant: "t".into(),
            start: 1,
            body: body.into(),
        })
    }

    fn cdr(call: &str) -> LogEntry {
        LogEntry::Cdr(Cdr {
            call: CallId(call.into()),
            tenant: "t".into(),
            from: String::new(),
            to: String::new(),
            direction: "inbound".into(),
            created_ms: 0,
            ringing_ms: None,
            answered_ms: None,
            ended_ms: 0,
            duration_s: 0,
            billsec: 0,
            cause: Cause::Normal,
            ended_by: EndedBy::A,
            status: None,
            transferred_to: None,
            queue: None,
            account_codes: Default::default(),
        })
    }

    #[test]
    fn a_journal_entry_replaced_in_its_batch_is_not_written() {
        let mut batch = vec![
            live("a", "1"),
            live("b", "1"),
            live("a", "2"),
            live("c", "1"),
            cdr("c"),
        ];
        coalesce(&mut batch);
        assert_eq!(batch, vec![live("b", "1"), live("a", "2"), cdr("c")]);
    }
}
