//! The durable event log: every node appends its calls' events; the store numbers them with
//! one sequence for the whole cluster (`gseq`), in commit order, so a reader that has seen
//! `gseq` N has seen everything below it and resumes from any N (after a node's or a
//! gateway's restart too).

use crate::{LogEntry, StoreError};
use patchbay_api::{CallId, Event};

#[async_trait::async_trait]
pub trait EventLog: Send + Sync {
    /// Write `entries` in order in one transaction: each event gets the next `gseq`, each
    /// journal entry replaces its call's, each CDR is stored and its call's journal entry
    /// removed. Appends are serialised: one whose numbers are lower commits first.
    async fn append_log(&self, node: u8, entries: &[LogEntry]) -> Result<(), StoreError>;

    /// Append `events` (each with its tenant) in order: [`EventLog::append_log`] of events.
    async fn append_events(&self, node: u8, events: &[(String, Event)]) -> Result<(), StoreError> {
        let entries: Vec<LogEntry> = events
            .iter()
            .map(|(tenant, event)| LogEntry::Event {
                tenant: tenant.clone(),
                event: event.clone(),
            })
            .collect();
        self.append_log(node, &entries).await
    }

    /// Up to `limit` events with `gseq > after` (the tenant's only, when given), in order,
    /// each with its tenant.
    async fn events_after(
        &self,
        after: u64,
        tenant: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, Event)>, StoreError>;

    /// A call's events with `seq > after`, in order.
    async fn call_events(&self, call: &CallId, after: u64) -> Result<Vec<Event>, StoreError>;

    /// The highest `gseq` given so far (0: none).
    async fn last_event_gseq(&self) -> Result<u64, StoreError>;

    /// The `gseq` of the first event at or after `at_ms` (`None`: none since).
    async fn first_event_since(&self, at_ms: u64) -> Result<Option<u64>, StoreError>;

    /// Forget events older than `before_ms`; how many.
    async fn purge_events(&self, before_ms: u64) -> Result<u64, StoreError>;
}
