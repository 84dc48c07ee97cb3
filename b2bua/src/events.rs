//! Event log: every call's events in order, kept for a while after the call ended, plus a
//! bounded global feed (`gseq`) for consumers that follow all calls. Readers long-poll.
//! Each event is also handed, in order, to the durable log's writer (`crate::event_store`),
//! which appends it to the store: the cluster-wide feed the gateways serve. The live-call
//! journal's entries and the CDRs go to the same writer, in their place among the events.

use patchbay_api::{CallId, CallInfo, Event};
use patchbay_store::LogEntry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const GLOBAL_CAP: usize = 50_000;

#[derive(Debug, Default)]
struct CallLog {
    events: Vec<Event>,
    /// Last known summary; kept after the call left the core.
    info: Option<CallInfo>,
    ended_ms: Option<u64>,
}

#[derive(Debug, Default)]
struct Inner {
    calls: HashMap<CallId, CallLog>,
    /// Every call's events in global order, with the call's tenant (tenant feeds filter on it).
    global: VecDeque<(Arc<str>, Event)>,
    gseq: u64,
}

/// Shared between the driver (writer) and the control API (readers).
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Mutex<Inner>>,
    tick: Arc<watch::Sender<u64>>,
    /// The durable log's writer (events with their tenant, journal entries, CDRs, in order).
    sink: Option<tokio::sync::mpsc::UnboundedSender<LogEntry>>,
}

impl Default for EventLog {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            tick: Arc::new(watch::channel(0).0),
            sink: None,
        }
    }
}

impl EventLog {
    /// A log whose events also go, in order, to `sink`.
    pub fn with_sink(sink: tokio::sync::mpsc::UnboundedSender<LogEntry>) -> Self {
        Self {
            sink: Some(sink),
            ..Self::default()
        }
    }

    /// Append an event (assigning its global sequence) and wake readers.
    pub fn push(&self, mut ev: Event, info: Option<CallInfo>) {
        let gseq = {
            let Ok(mut g) = self.inner.lock() else { return };
            g.gseq += 1;
            ev.gseq = g.gseq;
            let gseq = g.gseq;
            let log = g.calls.entry(ev.call.clone()).or_default();
            let tenant: Arc<str> = info
                .as_ref()
                .or(log.info.as_ref())
                .map_or_else(|| Arc::from(""), |i| Arc::from(i.tenant.as_str()));
            if let patchbay_api::EventKind::Ended { .. } = ev.kind {
                log.ended_ms = Some(ev.at_ms);
                if let Some(i) = log.info.as_mut() {
                    i.state = patchbay_api::CallState::Ended;
                    i.ended_ms = Some(ev.at_ms);
                }
            } else if info.is_some() {
                log.info = info;
            }
            log.events.push(ev.clone());
            if let Some(sink) = &self.sink {
                // Under the lock: the writer gets them in gseq order.
                let _ = sink.send(LogEntry::Event {
                    tenant: tenant.to_string(),
                    event: ev.clone(),
                });
            }
            g.global.push_back((tenant, ev));
            if g.global.len() > GLOBAL_CAP {
                g.global.pop_front();
            }
            gseq
        };
        self.tick.send_replace(gseq);
    }

    /// Hand `entry` (a journal entry, a CDR) to the durable log's writer, after every event
    /// pushed before it.
    pub fn write(&self, entry: LogEntry) {
        if let Some(sink) = &self.sink {
            let _ = sink.send(entry);
        }
    }

    /// Summary of a call that may have ended already.
    pub fn info(&self, call: &CallId) -> Option<CallInfo> {
        self.inner.lock().ok()?.calls.get(call)?.info.clone()
    }

    pub fn knows(&self, call: &CallId) -> bool {
        self.inner
            .lock()
            .map(|g| g.calls.contains_key(call))
            .unwrap_or(false)
    }

    fn call_after(&self, call: &CallId, after: u64) -> Option<Vec<Event>> {
        let g = self.inner.lock().ok()?;
        let log = g.calls.get(call)?;
        Some(
            log.events
                .iter()
                .filter(|e| e.seq > after)
                .cloned()
                .collect(),
        )
    }

    fn global_after(&self, after: u64, tenant: Option<&str>) -> Vec<Event> {
        let Ok(g) = self.inner.lock() else {
            return vec![];
        };
        let first = g.global.front().map_or(0, |(_, e)| e.gseq);
        let skip = after.saturating_sub(first.saturating_sub(1)) as usize;
        g.global
            .iter()
            .skip(skip)
            .filter(|(t, e)| e.gseq > after && tenant.is_none_or(|want| **t == *want))
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Events of `call` with `seq > after`, waiting up to `wait` for at least one.
    /// `None`: unknown call.
    pub async fn wait_call(&self, call: &CallId, after: u64, wait: Duration) -> Option<Vec<Event>> {
        let mut rx = self.tick.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let v = self.call_after(call, after)?;
            if !v.is_empty() || tokio::time::Instant::now() >= deadline {
                return Some(v);
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return self.call_after(call, after);
            }
        }
    }

    /// Every call's events (of one tenant if given) with `gseq > after`, waiting up to `wait`
    /// for at least one. Resumable within the last [`GLOBAL_CAP`] events.
    pub async fn wait_global(
        &self,
        after: u64,
        wait: Duration,
        tenant: Option<&str>,
    ) -> Vec<Event> {
        let mut rx = self.tick.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let v = self.global_after(after, tenant);
            if !v.is_empty() || tokio::time::Instant::now() >= deadline {
                return v;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return self.global_after(after, tenant);
            }
        }
    }

    /// Forget calls that ended before `cutoff_ms`.
    pub fn prune(&self, cutoff_ms: u64) {
        if let Ok(mut g) = self.inner.lock() {
            g.calls
                .retain(|_, l| l.ended_ms.is_none_or(|e| e >= cutoff_ms));
        }
    }
}
