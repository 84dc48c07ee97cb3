//! Forwarding of inbound calls to users: unconditional forwarding is decided before the call
//! enters the core (see `routing`; here it is only announced), forwarding on busy and on no
//! answer when the rung user's legs fail. Each forward is used at most once per call, so no
//! failure sends a call round in circles.

use super::Calls;
use crate::call::{LegState, Role, state_name};
use crate::routing::Divert;
use crate::{CallError, LegAction, Ms, Output, Target};
use patchbay_api::{CallId, CallState, EventKind, Side};

/// What a failure status means for forwarding.
fn divert_of(status: u16) -> Option<Divert> {
    match status {
        486 | 600 | 603 => Some(Divert::Busy),
        408 | 480 => Some(Divert::NoAnswer),
        _ => None,
    }
}

// === impl Calls ===

impl Calls {
    /// An inbound call to a user that was forwarded unconditionally says so.
    pub(super) fn emit_unconditional(&mut self, now: Ms, id: &CallId) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        if let Some(from) = call.forwards.diverted_from.clone() {
            let to = call.forwards.ring.clone();
            let reason = Divert::Unconditional.reason().to_string();
            self.emit(now, id, EventKind::Forwarded { from, to, reason });
        }
    }

    /// Side B of call `id` (inbound, or an API call to one user) failed with `status` (or could not ring at all): ring its
    /// busy or no-answer forward if it has one with a registered phone. Whether it did.
    /// The API forwards a call that still rings its callee: the ringing phones stop and
    /// `targets` ring instead (RFC 5806 reason `deflection`).
    pub(super) fn handle_deflect(
        &mut self,
        now: Ms,
        id: &CallId,
        to: String,
        targets: Vec<Target>,
    ) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let ringing = call.ringing_legs(Side::B, Role::Party, None);
        let refused = |state| CallError::InvalidState {
            action: "forward",
            state,
        };
        if call.app || call.transfer.is_some() || call.queue.is_some() {
            return Err(refused("not a call ringing a party"));
        }
        if !matches!(call.state, CallState::Ringing | CallState::Connecting)
            || call.b.is_some()
            || ringing.is_empty()
        {
            return Err(refused(state_name(call.state)));
        }
        if targets.is_empty() {
            return Err(CallError::NoCallee);
        }
        for leg in ringing {
            if let Some(l) = call.leg_mut(leg) {
                l.state = LegState::Cancelling;
                l.deadline = None;
            }
            self.out.push_back(Output::Leg(LegAction::Cancel { leg }));
        }
        let mut from = std::mem::replace(&mut call.forwards.ring, to.clone());
        if from.is_empty() {
            from = call.to.first().cloned().unwrap_or_default();
        }
        call.diversion = Some((from.clone(), "deflection"));
        call.last_status = None;
        let reason = "deflection".to_string();
        self.emit(now, id, EventKind::Forwarded { from, to, reason });
        self.invite_all(now, id, Side::B, targets, Role::Party);
        Ok(())
    }

    pub(super) fn forward_on_failure(&mut self, now: Ms, id: &CallId, status: u16) -> bool {
        let Some(call) = self.calls.get_mut(id) else {
            return false;
        };
        let Some(divert) = divert_of(status) else {
            return false;
        };
        // A call sequence goes on before any forward (steps without a registered phone are
        // passed over).
        if divert == Divert::NoAnswer || call.forwards.hunt {
            while let Some((targets, ring_ms)) = call.forwards.sequence.pop_front() {
                if targets.is_empty() {
                    continue;
                }
                let from = call.forwards.ring.clone();
                let to = targets[0].party.clone();
                call.ring_timeout_ms = ring_ms;
                call.diversion = Some((from.clone(), Divert::FollowMe.reason()));
                call.last_status = None;
                let reason = Divert::FollowMe.reason().to_string();
                self.emit(now, id, EventKind::Forwarded { from, to, reason });
                self.invite_all(now, id, Side::B, targets, Role::Party);
                return true;
            }
        }
        let forward = match divert {
            Divert::Busy => call.forwards.busy.take(),
            _ => call.forwards.no_answer.take(),
        };
        let Some((to, targets)) = forward.filter(|(_, t)| !t.is_empty()) else {
            // No one else to ring: the mailbox, if the user has one (and the caller is on the
            // line: an API call's caller answered).
            if call.a.is_none() {
                return false;
            }
            return match call.forwards.voicemail.take() {
                Some(vm) => {
                    self.start_voicemail(now, id, vm, divert);
                    true
                }
                None => false,
            };
        };
        let from = std::mem::replace(&mut call.forwards.ring, to.clone());
        call.diversion = Some((from.clone(), divert.reason()));
        call.last_status = None;
        let reason = divert.reason().to_string();
        self.emit(now, id, EventKind::Forwarded { from, to, reason });
        self.invite_all(now, id, Side::B, targets, Role::Party);
        true
    }
}
