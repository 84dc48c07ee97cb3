//! The live-call journal: what a node must leave behind so that its calls still end properly
//! (one CDR each, an `ended` event, a BYE to every phone it can reach) when it dies. Each
//! node writes a call's entry with its events (in the same transactions, through
//! [`crate::EventLog::append_log`]) and removes it with the call's CDR; each node says it is
//! alive every second. Any node ends the calls whose run is gone: a newer start of their node
//! (a restart) or silence longer than the dead-node timeout (a crash, `kill -9`).

use crate::StoreError;
use patchbay_api::{CallId, Cdr, Event};

/// A call's journal entry as a node writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
    pub call: CallId,
    pub tenant: String,
    /// The run of the node that owns it (its start, see `Nodes::claim_node_start`).
    pub start: u64,
    /// What ending it needs (the B2BUA's JSON: direction, saved dialogs).
    pub body: String,
}

/// One write of a node's log, in the order the node made them.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEntry {
    /// A call event with its tenant: numbered with the next `gseq`.
    Event { tenant: String, event: Event },
    /// A call's journal entry (replacing its earlier one).
    Live(LiveCall),
    /// A call's CDR: stored (once per call) and its journal entry removed.
    Cdr(Cdr),
}

/// A live call whose node's run is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub node: u8,
    pub live: LiveCall,
    /// The run's last sign of life (Unix ms; 0: none recorded): when the call ended, as far
    /// as anyone can tell.
    pub alive_ms: u64,
}

#[async_trait::async_trait]
pub trait Journal: Send + Sync {
    /// Run `start` of `node` is alive at `now_ms`. (Also forgets the node's earlier runs that
    /// left no call behind.)
    async fn node_alive(&self, node: u8, start: u64, now_ms: u64) -> Result<(), StoreError>;

    /// Up to `limit` live calls of runs that are gone: replaced by a newer start of their
    /// node, or silent since before `silent_before_ms`.
    async fn orphaned_calls(
        &self,
        silent_before_ms: u64,
        limit: u32,
    ) -> Result<Vec<Orphan>, StoreError>;

    /// End an orphan in one transaction: its journal entry removed, `cdr` stored (unless the
    /// call has one), `ended` (its tenant and terminal event) appended to the event log with
    /// the next `gseq` (by `node`, the node ending it). False (nothing written): another node
    /// ended it first.
    async fn end_orphan(
        &self,
        node: u8,
        orphan: &Orphan,
        cdr: &Cdr,
        ended: Option<(String, Event)>,
    ) -> Result<bool, StoreError>;
}
