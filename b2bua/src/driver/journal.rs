//! The live-call journal from the driver's side: after each event that changes what ending a
//! call needs (created, the caller answered, bridged, transferred, queued), the call's CDR as
//! it stands and its answered legs' dialogs go to the durable log's writer (the CDR at the end
//! removes the entry); and the BYEs for a dead node's calls that `crate::orphans` ended.

use super::Driver;
use crate::orphans::Journalled;
use patchbay_api::{CallId, EventKind, Side};
use patchbay_sip::dialog::SavedDialog;

/// Whether an event changes what its call's end needs (the journal is written again).
pub(super) fn changes_end(kind: &EventKind) -> bool {
    // (A callee's answer is followed at once by `bridged`, which journals both dialogs.)
    matches!(
        kind,
        EventKind::Created { .. }
            | EventKind::Incoming { .. }
            | EventKind::Answered { side: Side::A, .. }
            | EventKind::Bridged
            | EventKind::Transferred { .. }
            | EventKind::QueueEntered { .. }
    )
}

impl Driver {
    /// Journal `call` as it stands at `at_ms`.
    pub(super) fn journal(&mut self, call: &CallId, at_ms: u64) {
        let Some(mut cdr) = self.calls.cdr_draft(call, at_ms) else {
            return;
        };
        if let Some(h) = self.hooked.get(call) {
            cdr.account_codes = h.account_codes.clone();
        }
        let legs = self.call_legs.get(call).map_or(&[][..], Vec::as_slice);
        let dialogs = self.ua.saved_dialogs(legs);
        if let Some(entry) = (Journalled { cdr, dialogs }).entry(self.sh.id_base) {
            self.sh.log.write(patchbay_store::LogEntry::Live(entry));
        }
    }

    /// BYE every phone of a dead node's call (ended in the store already).
    pub(super) fn bye_orphan(&mut self, dialogs: &[SavedDialog]) {
        let now = self.mono();
        for d in dialogs {
            if !self.ua.bye_saved(now, d) {
                tracing::debug!(call_id = %d.call_id, "a dead node's dialog could not be BYEd");
            }
        }
        self.step();
    }
}
