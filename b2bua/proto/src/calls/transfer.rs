//! Transfers: `bridge` (we call the target) and `refer` (the phone does).

use super::Calls;
use crate::call::{LegState, PendingTransfer, Role, ended_by, other, state_name};
use crate::{CallError, LegAction, LegId, Ms, Output, Target};
use patchbay_api::{CallId, CallState, Cause, EventKind, Side, TransferMethod};

// === impl Calls ===

impl Calls {
    pub(super) fn handle_transfer(
        &mut self,
        now: Ms,
        id: &CallId,
        target: String,
        targets: Vec<Target>,
        keep: Side,
        method: TransferMethod,
    ) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        // An application call connects its party (side A) to someone: only by calling them,
        // and not while the B2BUA itself takes a message or serves a mailbox.
        let app_refused = call.app
            && (keep != Side::A
                || method != TransferMethod::Bridge
                || call.voicemail.is_some()
                || call.access.is_some());
        if call.state != CallState::Bridged || call.transfer.is_some() || app_refused {
            let state = if call.transfer.is_some() {
                "transferring"
            } else if app_refused {
                "an application call (it connects its party by calling the target)"
            } else {
                state_name(call.state)
            };
            return Err(CallError::InvalidState {
                action: "transfer",
                state,
            });
        }
        if targets.is_empty() {
            return Err(CallError::NoCallee);
        }
        let kept = call.winner(keep).ok_or(CallError::InvalidState {
            action: "transfer",
            state: state_name(call.state),
        })?;
        match method {
            TransferMethod::Bridge => {
                call.transfer = Some(PendingTransfer {
                    target: target.clone(),
                    keep,
                    refer_leg: None,
                });
                self.emit(now, id, EventKind::TransferStarted { target });
                self.invite_all(now, id, other(keep), targets, Role::TransferTarget);
            }
            TransferMethod::Refer => {
                call.transfer = Some(PendingTransfer {
                    target: target.clone(),
                    keep,
                    refer_leg: Some(kept),
                });
                let uri = targets[0].uri.clone();
                self.out
                    .push_back(Output::Leg(LegAction::Refer { leg: kept, uri }));
                self.emit(now, id, EventKind::TransferStarted { target });
            }
        }
        Ok(())
    }

    pub(super) fn transfer_answered(
        &mut self,
        now: Ms,
        id: &CallId,
        leg: LegId,
        side: Side,
        party: String,
    ) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(t) = call.transfer.take() else {
            self.out.push_back(Output::Leg(LegAction::Bye { leg }));
            return;
        };
        if let Some(l) = call.leg_mut(leg) {
            l.role = Role::Party;
        }
        // A queue's agent answering is no transfer: the caller is connected to it.
        let agent = call.queue.as_ref().is_some_and(|s| s.ringing());
        let old = call.winner(side);
        let kept = call.winner(t.keep);
        call.set_winner(side, leg);
        if !agent {
            call.transferred_to = Some(t.target.clone());
        }
        if let Some(old) = old {
            if let Some(ol) = call.leg_mut(old) {
                ol.state = LegState::Ended;
            }
            self.out.push_back(Output::Leg(LegAction::Bye { leg: old }));
        }
        self.emit(
            now,
            id,
            EventKind::Answered {
                side,
                party: party.clone(),
            },
        );
        // An application call's party leaves the engine for the relay: what it was running
        // stops (reported), then the bridge.
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let was_app = std::mem::take(&mut call.app);
        if was_app && let Some(kept) = kept {
            let stopped = super::app::stop_all(call, now);
            self.out.extend(stopped);
            self.out
                .push_back(Output::Leg(LegAction::Detach { leg: kept }));
        }
        if let Some(kept) = kept {
            let (a, b) = if t.keep == Side::A {
                (kept, leg)
            } else {
                (leg, kept)
            };
            self.out.push_back(Output::Leg(LegAction::Bridge { a, b }));
        }
        if agent {
            self.queue_connected(now, id, &party);
        } else {
            self.queue_transferred(now, id);
            self.emit(now, id, EventKind::Transferred { target: t.target });
        }
    }

    pub(super) fn refer_result(&mut self, now: Ms, id: &CallId, leg: LegId, ok: bool, status: u16) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(t) = call.transfer.as_ref() else {
            return;
        };
        if t.refer_leg != Some(leg) {
            return;
        }
        let Some(t) = call.transfer.take() else {
            return;
        };
        if ok {
            call.transferred_to = Some(t.target.clone());
            self.emit(now, id, EventKind::Transferred { target: t.target });
            self.end_call(now, id, Cause::Transferred, ended_by(t.keep), Some(status));
        } else {
            self.emit(
                now,
                id,
                EventKind::TransferFailed {
                    target: t.target,
                    status,
                },
            );
        }
    }
}
