//! What legs report: ringing, answer, failure, hangup; bridging the answered sides.

use super::Calls;
use crate::call::{Direction, LegState, Role, cause_of_status, ended_by, other, side_index};
use crate::{LegAction, LegEvent, LegId, Ms, Output};
use patchbay_api::{CallId, CallState, Cause, EventKind, Side};

// === impl Calls ===

impl Calls {
    pub(super) fn handle_leg(&mut self, now: Ms, leg: LegId, event: LegEvent) {
        let Some(id) = self.leg_index.get(&leg).cloned() else {
            // A leg of a call that already ended: a 200 that raced our CANCEL must be hung up.
            if event == LegEvent::Answered {
                self.out.push_back(Output::Leg(LegAction::Bye { leg }));
            }
            return;
        };
        match event {
            LegEvent::Ringing => self.leg_ringing(now, &id, leg),
            LegEvent::Answered => self.leg_answered(now, &id, leg),
            LegEvent::Failed { status } => {
                let status = if status == 0 { 503 } else { status };
                let Some(l) = self.calls.get_mut(&id).and_then(|c| c.leg_mut(leg)) else {
                    return;
                };
                let was = l.state;
                l.state = LegState::Ended;
                l.deadline = None;
                if was.is_unanswered() {
                    self.leg_failed(now, &id, leg, status);
                }
            }
            LegEvent::Ended => self.leg_ended(now, &id, leg),
            LegEvent::ReferResult { ok, status } => self.refer_result(now, &id, leg, ok, status),
        }
    }

    pub(super) fn leg_ringing(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(l) = call.leg_mut(leg) else { return };
        if l.state != LegState::Inviting {
            return;
        }
        l.state = LegState::Ringing;
        let (side, party, role) = (l.side, l.party.clone(), l.role);
        if role != Role::Party || call.ringing_sent[side_index(side)] {
            return;
        }
        call.ringing_sent[side_index(side)] = true;
        call.ringing_ms.get_or_insert(now);
        if call.state == CallState::Created {
            call.state = CallState::Ringing;
        }
        // An inbound caller hears ringback when the callee rings.
        if call.direction == Direction::Inbound
            && side == Side::B
            && let Some(a) = call.a
        {
            self.out.push_back(Output::Leg(LegAction::Ring { leg: a }));
            if let Some(al) = call.leg_mut(a) {
                al.state = LegState::Ringing;
            }
        }
        self.emit(
            now,
            id,
            EventKind::Ringing {
                side,
                party,
                popup_url: None,
            },
        );
    }

    pub(super) fn leg_answered(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(l) = call.leg_mut(leg) else { return };
        if !l.state.is_unanswered() {
            if l.state == LegState::Cancelling {
                // 200 crossed our CANCEL: the dialog exists now and must be closed.
                l.state = LegState::Ended;
                self.out.push_back(Output::Leg(LegAction::Bye { leg }));
            }
            return;
        }
        l.state = LegState::Answered;
        l.deadline = None;
        let (side, party, role) = (l.side, l.party.clone(), l.role);
        // Other forks of this side lose.
        for loser in call.ringing_legs(side, role, Some(leg)) {
            if let Some(ll) = call.leg_mut(loser) {
                ll.state = LegState::Cancelling;
                ll.deadline = None;
            }
            self.out
                .push_back(Output::Leg(LegAction::Cancel { leg: loser }));
        }
        if role == Role::TransferTarget {
            self.transfer_answered(now, id, leg, side, party);
            return;
        }
        call.set_winner(side, leg);
        let app = call.app;
        self.emit(now, id, EventKind::Answered { side, party });
        if app {
            self.app_answered(now, id, leg);
            return;
        }
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        match (call.direction, side) {
            (Direction::Inbound, Side::B) => {
                if let Some(a) = call.a {
                    if let Some(al) = call.leg_mut(a) {
                        al.state = LegState::Answered;
                    }
                    self.out
                        .push_back(Output::Leg(LegAction::Answer { leg: a, peer: leg }));
                    self.bridge(now, id, a, leg);
                }
            }
            (Direction::Originate, _) => {
                let peer = call.winner(other(side));
                match peer {
                    Some(peer) => {
                        let (a, b) = if side == Side::A {
                            (leg, peer)
                        } else {
                            (peer, leg)
                        };
                        self.bridge(now, id, a, b);
                    }
                    None => {
                        call.state = CallState::Connecting;
                        if !call.legs.iter().any(|l| l.side == Side::B) {
                            let pending = std::mem::take(&mut call.pending_b);
                            self.ring_b(now, id, pending);
                        }
                    }
                }
            }
            (Direction::Inbound, Side::A) => {}
        }
    }

    pub(super) fn bridge(&mut self, now: Ms, id: &CallId, a: LegId, b: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.state != CallState::Bridged {
            self.bridged += 1;
        }
        call.state = CallState::Bridged;
        call.answered_ms = Some(now);
        self.out.push_back(Output::Leg(LegAction::Bridge { a, b }));
        self.emit(now, id, EventKind::Bridged);
        self.record_at_answer(id);
    }

    /// The last unanswered leg of a side failed with `status`: the side failed.
    pub(super) fn leg_failed(&mut self, now: Ms, id: &CallId, leg: LegId, status: u16) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(l) = call.leg(leg) else { return };
        let (side, role) = (l.side, l.role);
        call.last_status = Some(status);
        if !call.ringing_legs(side, role, None).is_empty() {
            return; // other forks still ring
        }
        if role == Role::TransferTarget {
            if let Some(t) = call.transfer.take() {
                let target = t.target;
                self.emit(now, id, EventKind::TransferFailed { target, status });
            }
            self.attendant_connect_failed(id);
            self.queue_ring_failed(now, id);
            return;
        }
        if call.winner(side).is_some() {
            return;
        }
        if matches!(call.direction, Direction::Inbound | Direction::Originate)
            && side == Side::B
            && self.forward_on_failure(now, id, status)
        {
            return;
        }
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let cause = cause_of_status(status);
        // 408 from our own timer is "no answer", decided by us.
        let by = ended_by(side);
        if call.direction == Direction::Inbound
            && let Some(a) = call.a
        {
            let reply = match status {
                408 => 480,
                s if (400..700).contains(&s) => s,
                _ => 503,
            };
            if let Some(al) = call.leg_mut(a) {
                al.state = LegState::Ended;
            }
            self.out.push_back(Output::Leg(LegAction::Reject {
                leg: a,
                status: reply,
            }));
        }
        self.end_call(now, id, cause, by, Some(status));
    }

    pub(super) fn leg_ended(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(l) = call.leg_mut(leg) else { return };
        let was = l.state;
        l.state = LegState::Ended;
        l.deadline = None;
        let (side, role) = (l.side, l.role);
        if was == LegState::Ended || was == LegState::Cancelling {
            return;
        }
        if role == Role::TransferTarget {
            // A target that hung up before answering (an early dialog's BYE) failed.
            if was.is_unanswered() {
                self.leg_failed(now, id, leg, 487);
            }
            return;
        }
        if call.winner(side).is_some_and(|w| w != leg) {
            return; // a losing fork
        }
        let cause = if call.state == CallState::Bridged {
            Cause::Normal
        } else if side == Side::A && was.is_unanswered() {
            Cause::Cancelled
        } else if was.is_unanswered() {
            // An outbound fork that "ended" before answer behaves like a failure.
            self.leg_failed(now, id, leg, 487);
            return;
        } else {
            Cause::Cancelled
        };
        self.end_call(now, id, cause, ended_by(side), None);
    }
}
