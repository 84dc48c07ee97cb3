//! The end of a call its node left behind (a crash, `kill -9`, a stop that could not finish):
//! from the journal's CDR draft, the call's events the store holds, and when its node was
//! last alive, the one CDR and the `ended` event the call still needs.

use crate::Ms;
use patchbay_api::{Cause, Cdr, EndedBy, Event, EventKind};

/// Set `cdr`'s end to `ended_ms`, its duration and billed seconds with it.
pub fn end_at(cdr: &mut Cdr, ended_ms: Ms) {
    cdr.ended_ms = ended_ms;
    cdr.duration_s = ended_ms.saturating_sub(cdr.created_ms) / 1000;
    cdr.billsec = cdr
        .answered_ms
        .map_or(0, |a| ended_ms.saturating_sub(a) / 1000);
}

/// The CDR of an orphaned call, and its `ended` event unless `events` (the call's, in order)
/// already end with one. Ended when its node was last seen alive (`alive_ms`), or at its last
/// event if later; an `ended` event in the log gives its cause and time instead (the node
/// died between writing it and the CDR).
pub fn end_of_orphan(mut draft: Cdr, events: &[Event], alive_ms: Ms) -> (Cdr, Option<Event>) {
    if let Some(e) = events.iter().rev().find(|e| e.kind.is_terminal()) {
        if let EventKind::Ended { cause, by, status } = &e.kind {
            draft.cause = *cause;
            draft.ended_by = *by;
            draft.status = *status;
        }
        end_at(&mut draft, e.at_ms);
        return (draft, None);
    }
    let last_event = events.last().map_or(0, |e| e.at_ms);
    let ended_ms = alive_ms.max(last_event).max(draft.ended_ms);
    draft.cause = Cause::System;
    draft.ended_by = EndedBy::System;
    draft.status = None;
    end_at(&mut draft, ended_ms);
    let ended = Event {
        call: draft.call.clone(),
        seq: events.last().map_or(1, |e| e.seq + 1),
        gseq: 0,
        at_ms: ended_ms,
        kind: EventKind::Ended {
            cause: Cause::System,
            by: EndedBy::System,
            status: None,
        },
    };
    (draft, Some(ended))
}
