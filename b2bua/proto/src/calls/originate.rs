//! 3PCC from the control API: held calls, their start, and ringing a side's targets.

use super::{Calls, new_call};
use crate::call::{Direction, Leg, LegState, Role, other};
use crate::{CallError, LegAction, LegId, Ms, Output, Target};
use patchbay_api::{CallId, Cause, EndedBy, EventKind, OriginateMode, Side};

// === impl Calls ===

impl Calls {
    pub(super) fn handle_originate(
        &mut self,
        now: Ms,
        id: CallId,
        req: patchbay_api::OriginateRequest,
        (a, b): (Vec<Target>, Vec<Target>),
        ring_timeout_ms: Ms,
        (forwards, no_target_status): (crate::Forwards, u16),
    ) -> Result<(), CallError> {
        if self.calls.contains_key(&id) {
            return Err(CallError::DuplicateCall(id));
        }
        let mut call = new_call(
            id.clone(),
            req.tenant,
            req.from,
            req.to,
            Direction::Originate,
            now,
        );
        call.caller_first = req.mode == OriginateMode::CallerFirst;
        call.ring_timeout_ms = ring_timeout_ms;
        call.headers = req.headers;
        call.auto_answer = req.auto_answer;
        call.app = req.app;
        call.queue_tag = req.queue;
        call.record = req.record;
        call.join_room = req.conference.clone().filter(|_| req.app);
        call.diversion = forwards
            .diverted_from
            .clone()
            .map(|f| (f, crate::routing::Divert::Unconditional.reason()));
        let fallback = forwards.has_fallback();
        call.forwards = forwards;
        call.no_target_status = no_target_status;
        self.calls.insert(id.clone(), call);
        self.emit_created(now, &id);
        self.emit_unconditional(now, &id);
        if a.is_empty() || (b.is_empty() && !req.app && !fallback) {
            self.end_call(now, &id, Cause::NotFound, EndedBy::System, Some(404));
            return Ok(());
        }
        if let Some(call) = self.calls.get_mut(&id) {
            call.pending_b = b;
            call.held_a = Some(a);
        }
        match req.start_within_ms {
            Some(ms) => {
                self.starts.insert((now + Ms::from(ms), id));
            }
            None => self.start_held(now, &id),
        }
        Ok(())
    }

    pub(super) fn handle_start(&mut self, now: Ms, id: &CallId) -> Result<(), CallError> {
        if !self.calls.contains_key(id) {
            return Err(CallError::UnknownCall(id.clone()));
        }
        self.start_held(now, id);
        Ok(())
    }

    /// Ring a held 3PCC call (A; and B too when simultaneous). No-op once started or ended.
    pub(super) fn start_held(&mut self, now: Ms, id: &CallId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(a) = call.held_a.take() else {
            return;
        };
        // A callee none of whose phones rings at once waits for the caller (its forwards
        // or mailbox take the call then).
        let b = if call.caller_first || call.pending_b.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut call.pending_b)
        };
        self.invite_all(now, id, Side::A, a, Role::Party);
        if !b.is_empty() && self.calls.contains_key(id) {
            self.invite_all(now, id, Side::B, b, Role::Party);
        }
    }

    /// Ring side B's callees once the caller answered; none: the callee's forwards or
    /// mailbox, else the call ends.
    pub(super) fn ring_b(&mut self, now: Ms, id: &CallId, targets: Vec<Target>) {
        if !targets.is_empty() {
            return self.invite_all(now, id, Side::B, targets, Role::Party);
        }
        let status = self.calls.get(id).map_or(480, |c| c.no_target_status);
        if !self.forward_on_failure(now, id, status) {
            let cause = crate::call::cause_of_status(status);
            self.end_call(now, id, cause, EndedBy::System, Some(status));
        }
    }

    pub(super) fn invite_all(
        &mut self,
        now: Ms,
        id: &CallId,
        side: Side,
        targets: Vec<Target>,
        role: Role,
    ) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let peer = call.winner(other(side));
        let deadline = now + call.ring_timeout_ms;
        let auto_answer = call.auto_answer && side == Side::A && role == Role::Party;
        let mut announced = Vec::new();
        for target in targets {
            self.next_leg += 1;
            let leg = LegId(self.next_leg);
            call.legs.push(Leg {
                id: leg,
                side,
                party: target.party.clone(),
                inbound: false,
                state: LegState::Inviting,
                role,
                deadline: Some(deadline),
            });
            self.leg_index.insert(leg, id.clone());
            self.timers.insert((deadline, leg));
            if !announced.contains(&target.party) {
                announced.push(target.party.clone());
            }
            self.out.push_back(Output::Leg(LegAction::Invite {
                call: id.clone(),
                leg,
                side,
                target,
                peer,
                headers: call.headers.clone(),
                auto_answer,
                diversion: (side == Side::B).then(|| call.diversion.clone()).flatten(),
            }));
        }
        if role == Role::Party {
            for party in announced {
                self.emit(now, id, EventKind::Dialing { side, party });
            }
        }
    }
}
