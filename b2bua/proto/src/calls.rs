//! The set of live calls and the state machine driving them.

use crate::call::{
    Call, Direction, Leg, LegState, PendingTransfer, Role, cause_of_status, ended_by, other,
    side_index, state_name,
};
use crate::{CallError, Input, LegAction, LegEvent, LegId, Ms, Output, Target};
use patchbay_api::{
    CallId, CallInfo, CallState, Cause, Cdr, EndedBy, Event, EventKind, OriginateMode, Side,
    TransferMethod,
};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// All live calls of one B2BUA node. See the crate docs for the drive contract.
#[derive(Debug, Default)]
pub struct Calls {
    calls: HashMap<CallId, Call>,
    leg_index: HashMap<LegId, CallId>,
    /// No-answer deadlines. Entries whose leg answered or ended stay until their time comes
    /// and are then dropped: O(log n) per change instead of a scan of every call per event.
    timers: BTreeSet<(Ms, LegId)>,
    /// Start deadlines of held 3PCC calls (stale entries are dropped when due, as above).
    starts: BTreeSet<(Ms, CallId)>,
    /// Calls in state `Bridged` (so set-ups in flight need no scan).
    bridged: usize,
    next_leg: u64,
    out: VecDeque<Output>,
}

// === impl Calls ===

impl Calls {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh leg id (for inbound legs the driver needs one before [`Input::Inbound`]).
    pub fn alloc_leg(&mut self) -> LegId {
        self.next_leg += 1;
        LegId(self.next_leg)
    }

    /// Calls not yet bridged: the set-ups in flight that overload protection bounds.
    pub fn setups_in_flight(&self) -> usize {
        self.calls.len() - self.bridged
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn info(&self, call: &CallId) -> Option<CallInfo> {
        self.calls.get(call).map(Call::info)
    }

    pub fn list(&self) -> Vec<CallInfo> {
        let mut v: Vec<CallInfo> = self.calls.values().map(Call::info).collect();
        v.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
        v
    }

    /// The call a leg belongs to, while the call lives.
    pub fn call_of(&self, leg: LegId) -> Option<&CallId> {
        self.leg_index.get(&leg)
    }

    pub fn leg(&self, leg: LegId) -> Option<&Leg> {
        let call = self.leg_index.get(&leg)?;
        self.calls.get(call)?.leg(leg)
    }

    /// The earliest no-answer deadline, if any (it may be stale: [`Calls::handle_timeout`]
    /// then just drops it).
    pub fn poll_timeout(&self) -> Option<Ms> {
        let leg = self.timers.first().map(|(d, _)| *d);
        let start = self.starts.first().map(|(d, _)| *d);
        match (leg, start) {
            (Some(l), Some(s)) => Some(l.min(s)),
            (l, s) => l.or(s),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    pub fn handle_input(&mut self, now: Ms, input: Input) -> Result<(), CallError> {
        match input {
            Input::Inbound {
                call,
                leg,
                tenant,
                from,
                to,
                targets,
                no_target_status,
                ring_timeout_ms,
            } => {
                let call = new_call(call, tenant, from, vec![to], Direction::Inbound, now);
                self.handle_inbound(now, call, leg, targets, no_target_status, ring_timeout_ms)
            }
            Input::Originate {
                call,
                req,
                a,
                b,
                ring_timeout_ms,
            } => {
                if req.to.is_empty() {
                    return Err(CallError::NoCallee);
                }
                self.handle_originate(now, call, req, a, b, ring_timeout_ms)
            }
            Input::Start { call } => self.handle_start(now, &call),
            Input::Hangup { call } => self.handle_hangup(now, &call),
            Input::Transfer {
                call,
                target,
                targets,
                keep,
                method,
            } => self.handle_transfer(now, &call, target, targets, keep, method),
            Input::Hold { call, on } => self.handle_hold(now, &call, on),
            Input::Leg { leg, event } => {
                self.handle_leg(now, leg, event);
                Ok(())
            }
        }
    }

    /// End every call (the node is stopping): BYE / CANCEL / 487 as for a hangup, but ended by
    /// `system`.
    pub fn handle_shutdown(&mut self, now: Ms) {
        let ids: Vec<CallId> = self.calls.keys().cloned().collect();
        for id in ids {
            let bridged = self
                .calls
                .get(&id)
                .is_some_and(|c| c.state == CallState::Bridged);
            let cause = if bridged {
                Cause::Normal
            } else {
                Cause::Cancelled
            };
            self.end_call(now, &id, cause, EndedBy::System, None);
        }
    }

    /// Start every held call whose start deadline passed, and cancel every unanswered leg whose
    /// no-answer deadline is at or before `now`.
    pub fn handle_timeout(&mut self, now: Ms) {
        while let Some((due, _)) = self.starts.first() {
            if *due > now {
                break;
            }
            if let Some((_, call)) = self.starts.pop_first() {
                self.start_held(now, &call);
            }
        }
        while let Some(&(due, leg)) = self.timers.first() {
            if due > now {
                break;
            }
            self.timers.pop_first();
            let Some(call_id) = self.leg_index.get(&leg).cloned() else {
                continue;
            };
            let Some(call) = self.calls.get_mut(&call_id) else {
                continue;
            };
            let Some(l) = call.leg_mut(leg) else { continue };
            if l.deadline != Some(due) || !l.state.is_unanswered() || l.inbound {
                continue; // answered, ended or re-armed since
            }
            l.deadline = None;
            l.state = LegState::Cancelling;
            self.out.push_back(Output::Leg(LegAction::Cancel { leg }));
            self.leg_failed(now, &call_id, leg, 408);
        }
    }

    // --- inputs ---

    fn handle_inbound(
        &mut self,
        now: Ms,
        mut call: Call,
        leg: LegId,
        targets: Vec<Target>,
        no_target_status: u16,
        ring_timeout_ms: Ms,
    ) -> Result<(), CallError> {
        let id = call.id.clone();
        if self.calls.contains_key(&id) {
            return Err(CallError::DuplicateCall(id));
        }
        let from = call.from.clone();
        call.ring_timeout_ms = ring_timeout_ms;
        call.legs.push(Leg {
            id: leg,
            side: Side::A,
            party: from,
            inbound: true,
            state: LegState::Inviting,
            role: Role::Party,
            deadline: None,
        });
        call.a = Some(leg);
        self.leg_index.insert(leg, id.clone());
        self.calls.insert(id.clone(), call);
        self.emit_created(now, &id);
        if targets.is_empty() {
            let status = no_target_status;
            self.out
                .push_back(Output::Leg(LegAction::Reject { leg, status }));
            if let Some(l) = self.calls.get_mut(&id).and_then(|c| c.leg_mut(leg)) {
                l.state = LegState::Ended;
            }
            self.end_call(
                now,
                &id,
                cause_of_status(status),
                EndedBy::System,
                Some(status),
            );
            return Ok(());
        }
        self.invite_all(now, &id, Side::B, targets, Role::Party);
        Ok(())
    }

    fn handle_originate(
        &mut self,
        now: Ms,
        id: CallId,
        req: patchbay_api::OriginateRequest,
        a: Vec<Target>,
        b: Vec<Target>,
        ring_timeout_ms: Ms,
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
        self.calls.insert(id.clone(), call);
        self.emit_created(now, &id);
        if a.is_empty() || b.is_empty() {
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

    fn handle_start(&mut self, now: Ms, id: &CallId) -> Result<(), CallError> {
        if !self.calls.contains_key(id) {
            return Err(CallError::UnknownCall(id.clone()));
        }
        self.start_held(now, id);
        Ok(())
    }

    /// Ring a held 3PCC call (A; and B too when simultaneous). No-op once started or ended.
    fn start_held(&mut self, now: Ms, id: &CallId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(a) = call.held_a.take() else {
            return;
        };
        let b = if call.caller_first {
            Vec::new()
        } else {
            std::mem::take(&mut call.pending_b)
        };
        self.invite_all(now, id, Side::A, a, Role::Party);
        if !b.is_empty() && self.calls.contains_key(id) {
            self.invite_all(now, id, Side::B, b, Role::Party);
        }
    }

    fn handle_hangup(&mut self, now: Ms, id: &CallId) -> Result<(), CallError> {
        let call = self
            .calls
            .get(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let cause = if call.state == CallState::Bridged {
            Cause::Normal
        } else {
            Cause::Cancelled
        };
        self.end_call(now, id, cause, EndedBy::Api, None);
        Ok(())
    }

    fn handle_transfer(
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
        if call.state != CallState::Bridged || call.transfer.is_some() {
            let state = if call.transfer.is_some() {
                "transferring"
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

    fn handle_hold(&mut self, now: Ms, id: &CallId, on: bool) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        if call.state != CallState::Bridged {
            let action = if on { "hold" } else { "unhold" };
            return Err(CallError::InvalidState {
                action,
                state: state_name(call.state),
            });
        }
        if call.held == on {
            return Ok(());
        }
        call.held = on;
        for leg in [call.a, call.b].into_iter().flatten() {
            self.out.push_back(Output::Leg(LegAction::Hold { leg, on }));
        }
        self.emit(
            now,
            id,
            if on {
                EventKind::Held
            } else {
                EventKind::Resumed
            },
        );
        Ok(())
    }

    fn handle_leg(&mut self, now: Ms, leg: LegId, event: LegEvent) {
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

    // --- leg events ---

    fn leg_ringing(&mut self, now: Ms, id: &CallId, leg: LegId) {
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
        self.emit(now, id, EventKind::Ringing { side, party });
    }

    fn leg_answered(&mut self, now: Ms, id: &CallId, leg: LegId) {
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
        self.emit(now, id, EventKind::Answered { side, party });
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
                        let pending = std::mem::take(&mut call.pending_b);
                        if !pending.is_empty() {
                            self.invite_all(now, id, Side::B, pending, Role::Party);
                        }
                    }
                }
            }
            (Direction::Inbound, Side::A) => {}
        }
    }

    fn bridge(&mut self, now: Ms, id: &CallId, a: LegId, b: LegId) {
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
    }

    /// The last unanswered leg of a side failed with `status`: the side failed.
    fn leg_failed(&mut self, now: Ms, id: &CallId, leg: LegId, status: u16) {
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
            let target = call.transfer.take().map(|t| t.target).unwrap_or_default();
            self.emit(now, id, EventKind::TransferFailed { target, status });
            return;
        }
        if call.winner(side).is_some() {
            return;
        }
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

    fn leg_ended(&mut self, now: Ms, id: &CallId, leg: LegId) {
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

    fn transfer_answered(&mut self, now: Ms, id: &CallId, leg: LegId, side: Side, party: String) {
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
        let old = call.winner(side);
        let kept = call.winner(t.keep);
        call.set_winner(side, leg);
        call.transferred_to = Some(t.target.clone());
        if let Some(old) = old {
            if let Some(ol) = call.leg_mut(old) {
                ol.state = LegState::Ended;
            }
            self.out.push_back(Output::Leg(LegAction::Bye { leg: old }));
        }
        self.emit(now, id, EventKind::Answered { side, party });
        if let Some(kept) = kept {
            let (a, b) = if t.keep == Side::A {
                (kept, leg)
            } else {
                (leg, kept)
            };
            self.out.push_back(Output::Leg(LegAction::Bridge { a, b }));
        }
        self.emit(now, id, EventKind::Transferred { target: t.target });
    }

    fn refer_result(&mut self, now: Ms, id: &CallId, leg: LegId, ok: bool, status: u16) {
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

    // --- helpers ---

    fn invite_all(&mut self, now: Ms, id: &CallId, side: Side, targets: Vec<Target>, role: Role) {
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
            }));
        }
        if role == Role::Party {
            for party in announced {
                self.emit(now, id, EventKind::Dialing { side, party });
            }
        }
    }

    /// End a call once: tear down every leg still up, emit the terminal event and the CDR.
    fn end_call(&mut self, now: Ms, id: &CallId, cause: Cause, by: EndedBy, status: Option<u16>) {
        let Some(mut call) = self.calls.remove(id) else {
            return;
        };
        if call.state == CallState::Bridged {
            self.bridged -= 1;
        }
        for l in call.legs.iter_mut() {
            let action = match (l.state, l.inbound) {
                (LegState::Answered, _) => Some(LegAction::Bye { leg: l.id }),
                (LegState::Inviting | LegState::Ringing, false) => {
                    Some(LegAction::Cancel { leg: l.id })
                }
                (LegState::Inviting | LegState::Ringing, true) => {
                    // Caller cancelled: the SIP stack already answered 487; else we do.
                    (by != EndedBy::A).then_some(LegAction::Reject {
                        leg: l.id,
                        status: 487,
                    })
                }
                (LegState::Cancelling | LegState::Ended, _) => None,
            };
            l.state = LegState::Ended;
            l.deadline = None;
            if let Some(a) = action {
                self.out.push_back(Output::Leg(a));
            }
        }
        call.state = CallState::Ended;
        call.seq += 1;
        self.out.push_back(Output::Event(Event {
            call: id.clone(),
            seq: call.seq,
            gseq: 0,
            at_ms: now,
            kind: EventKind::Ended { cause, by, status },
        }));
        let answered_party = call.b.and_then(|b| call.leg(b)).map(|l| l.party.clone());
        let billsec = call.answered_ms.map_or(0, |a| now.saturating_sub(a) / 1000);
        self.out.push_back(Output::Cdr(Cdr {
            call: id.clone(),
            tenant: call.tenant.clone(),
            from: call.from.clone(),
            to: answered_party.unwrap_or_else(|| call.to.first().cloned().unwrap_or_default()),
            direction: call.direction.as_str().to_string(),
            created_ms: call.created_ms,
            ringing_ms: call.ringing_ms,
            answered_ms: call.answered_ms,
            ended_ms: now,
            duration_s: now.saturating_sub(call.created_ms) / 1000,
            billsec,
            cause,
            ended_by: by,
            status,
            transferred_to: call.transferred_to.clone(),
        }));
        self.out
            .push_back(Output::Leg(LegAction::Release { call: id.clone() }));
        // Keep the leg index for legs still waiting for a final answer to a CANCEL? No: once
        // the call is gone a late 200 on any of its legs gets a BYE (see handle_leg).
        for l in &call.legs {
            self.leg_index.remove(&l.id);
        }
    }

    fn emit_created(&mut self, now: Ms, id: &CallId) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let kind = EventKind::Created {
            tenant: call.tenant.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
        };
        self.emit(now, id, kind);
    }

    fn emit(&mut self, now: Ms, id: &CallId, kind: EventKind) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.seq += 1;
        self.out.push_back(Output::Event(Event {
            call: id.clone(),
            seq: call.seq,
            gseq: 0,
            at_ms: now,
            kind,
        }));
    }
}

fn new_call(
    id: CallId,
    tenant: String,
    from: String,
    to: Vec<String>,
    direction: Direction,
    now: Ms,
) -> Call {
    Call {
        id,
        tenant,
        from,
        to,
        direction,
        caller_first: true,
        state: CallState::Created,
        legs: Vec::new(),
        a: None,
        b: None,
        pending_b: Vec::new(),
        held_a: None,
        ring_timeout_ms: 30_000,
        created_ms: now,
        ringing_ms: None,
        answered_ms: None,
        seq: 0,
        ringing_sent: [false; 2],
        transfer: None,
        transferred_to: None,
        held: false,
        last_status: None,
        headers: Vec::new(),
        auto_answer: false,
    }
}
