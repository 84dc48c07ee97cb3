//! The live-call journal from the driver's side: after each event that changes what ending a
//! call needs (created, the caller answered, bridged, transferred, queued), the call's CDR as it stands
//! and its answered legs' dialogs go to the durable log's writer (the CDR at the end removes
//! the entry); and the BYEs for a dead node's calls that `crate::orphans` ended.

use super::Driver;
use crate::orphans::Journalled;
use patchbay_api::{Event, EventKind, Side};
use patchbay_sip::dialog::SavedDialog;

impl Driver {
    /// Journal `ev`'s call again if `ev` changed what its end needs.
    pub(super) fn journal(&mut self, ev: &Event) {
        // (A callee's answer is followed at once by `bridged`, which journals both dialogs.)
        let changes = matches!(
            ev.kind,
            EventKind::Created { .. }
                | EventKind::Incoming { .. }
                | EventKind::Answered { side: Side::A, .. }
                | EventKind::Bridged
                | EventKind::Transferred { .. }
                | EventKind::QueueEntered { .. }
        );
        if !changes {
            return;
        }
        let Some(mut cdr) = self.calls.cdr_draft(&ev.call, ev.at_ms) else {
            return;
        };
        if let Some(h) = self.hooked.get(&ev.call) {
            cdr.account_codes = h.account_codes.clone();
        }
        let legs = self.call_legs.get(&ev.call).map_or(&[][..], Vec::as_slice);
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
