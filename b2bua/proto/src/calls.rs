//! The set of live calls and the state machine driving them: the dispatch of inputs, timers
//! and shutdown, ending calls and emitting events here; each kind of input in `calls/`.

pub(crate) mod app;
pub(crate) mod attendant;
mod conference;
mod control;
mod forward;
mod inbound;
mod join;
mod legs;
mod notice;
mod originate;
mod prompts;
pub(crate) mod queue;
mod queue_state;
mod queue_wait;
mod recording;
pub(crate) mod room_entry;
mod transfer;
pub(crate) mod voicemail;
pub(crate) mod voicemail_access;

use crate::call::{Call, Direction, Leg, LegState};
use crate::queue::QueueState;
use crate::{CallError, Input, LegAction, LegId, Ms, Output, routing};
use patchbay_api::{CallId, CallInfo, CallState, Cause, Cdr, EndedBy, Event, EventKind};
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
    next_command: u64,
    /// Ended calls whose recordings are still closing: their `ended` event and CDR wait.
    closing: HashMap<CallId, recording::Closing>,
    /// Deadlines of closing calls (after which they end without their recordings).
    closing_deadlines: BTreeSet<(Ms, CallId)>,
    /// Queues with callers, or that had some (their agents' turns are kept).
    queues: HashMap<queue::Key, QueueState>,
    /// Queue callers' announcements and max waits, agents' rests (stale ones are dropped).
    queue_timers: BTreeSet<(Ms, queue::Timer)>,
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

    /// A live call's CDR as it stands at `now` (cause `system`): what the journal keeps so
    /// that the call still gets one if its node dies (see [`crate::orphan`]).
    pub fn cdr_draft(&self, call: &CallId, now: Ms) -> Option<Cdr> {
        self.calls
            .get(call)
            .map(|c| c.cdr(now, Cause::System, EndedBy::System, None))
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

    /// The leg `leg` talks to: the other side's answered leg.
    pub fn partner(&self, leg: LegId) -> Option<LegId> {
        let call = self.calls.get(self.leg_index.get(&leg)?)?;
        let side = call.leg(leg)?.side;
        call.winner(crate::call::other(side))
    }

    /// The answered leg of `side` of `call`.
    pub fn answered_leg(&self, call: &CallId, side: patchbay_api::Side) -> Option<LegId> {
        self.calls.get(call)?.winner(side)
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
        let closing = self.closing_deadlines.first().map(|(d, _)| *d);
        let queue = self.queue_timers.first().map(|(d, _)| *d);
        [leg, start, closing, queue].into_iter().flatten().min()
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
                record,
                app,
                forwards,
                service,
            } => {
                let mut call = new_call(call, tenant, from, vec![to], Direction::Inbound, now);
                call.record = record;
                call.app = app;
                call.diversion = forwards
                    .diverted_from
                    .clone()
                    .map(|f| (f, routing::Divert::Unconditional.reason()));
                call.forwards = forwards;
                let service = match service {
                    Some(crate::Service::VoicemailAccess(m)) => {
                        call.access = Some(voicemail_access::Access::new(m));
                        None
                    }
                    Some(crate::Service::Room(r)) => {
                        call.entry = Some(room_entry::Entry::new(*r));
                        None
                    }
                    Some(crate::Service::Attendant(a)) => {
                        call.attendant = Some(attendant::Session::new(*a));
                        None
                    }
                    other => other,
                };
                call.app |= service.is_some();
                let ring = (targets, no_target_status, ring_timeout_ms);
                self.handle_inbound(now, call, leg, ring, service)
            }
            Input::Originate {
                call,
                req,
                a,
                b,
                ring_timeout_ms,
                forwards,
                no_target_status,
            } => {
                if req.to.is_empty() {
                    return Err(CallError::NoCallee);
                }
                let routing = (forwards, no_target_status);
                self.handle_originate(now, call, req, (a, b), ring_timeout_ms, routing)
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
            Input::Deflect { call, to, targets } => self.handle_deflect(now, &call, to, targets),
            Input::Join {
                call,
                leg,
                other,
                replaced,
            } => self.handle_join(now, &call, leg, &other, replaced),
            Input::Routed { call, outcome } => self.handle_routed(now, &call, outcome),
            Input::Hold { call, on } => self.handle_hold(now, &call, on),
            Input::Leg { leg, event } => {
                self.handle_leg(now, leg, event);
                Ok(())
            }
            Input::Media { call, command, op } => self.handle_media(now, &call, command, op),
            Input::ConferenceMute { call, side, muted } => {
                self.handle_conference_mute(&call, side, muted)
            }
            Input::MediaStop { call, command } => self.handle_media_stop(&call, command),
            Input::MediaEvent { leg, event } => {
                self.handle_media_event(now, leg, event);
                Ok(())
            }
            Input::VoicemailLogin { call, ok, messages } => {
                self.handle_voicemail_login(now, &call, ok, messages);
                Ok(())
            }
            Input::QueueTargets { call, agents } => {
                self.handle_queue_targets(now, &call, agents);
                Ok(())
            }
            Input::QueueAgent {
                tenant,
                queue,
                agent,
                state,
            } => {
                self.handle_queue_agent(now, (tenant, queue), &agent, state);
                Ok(())
            }
            Input::QueueChanged {
                tenant,
                name,
                entry,
            } => {
                self.handle_queue_changed(now, (tenant, name), entry.map(|e| *e));
                Ok(())
            }
            Input::RecordingDone {
                call,
                command,
                done,
            } => {
                self.handle_recording_done(now, &call, command, done);
                Ok(())
            }
        }
    }

    /// End every call (the node is stopping): BYE / CANCEL / 487 as for a hangup, but ended by
    /// `system`.
    pub fn handle_shutdown(&mut self, now: Ms) {
        let ids: Vec<CallId> = self.calls.keys().cloned().collect();
        for id in ids {
            self.end_call(now, &id, Cause::System, EndedBy::System, None);
        }
    }

    /// Start every held call whose start deadline passed, and cancel every unanswered leg whose
    /// no-answer deadline is at or before `now`.
    pub fn handle_timeout(&mut self, now: Ms) {
        self.closing_overdue(now);
        self.queue_timeout(now);
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

    /// End a call once: tear down every leg still up, emit the terminal event and the CDR.
    pub(super) fn end_call(
        &mut self,
        now: Ms,
        id: &CallId,
        cause: Cause,
        by: EndedBy,
        status: Option<u16>,
    ) {
        self.queue_hangup(now, id);
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
        let hangups = app::hangup_all(&mut call, now);
        self.out.extend(hangups);
        for l in &call.legs {
            self.leg_index.remove(&l.id);
        }
        if let Some(session) = call.queue.take() {
            self.queue_left(now, id, session);
        }
        call.state = CallState::Ended;
        if call.media.is_empty() {
            self.finish_call(call, now, cause, by, status);
        } else {
            // Recordings are closing: they report first, then `ended` and the CDR.
            self.close_later(call, now, cause, by, status);
        }
    }

    /// The end of an ended call: its terminal event, its CDR (ended at `ended_ms`), and the
    /// release of what the driver holds for it.
    pub(super) fn finish_call(
        &mut self,
        mut call: Call,
        ended_ms: Ms,
        cause: Cause,
        by: EndedBy,
        status: Option<u16>,
    ) {
        let id = call.id.clone();
        let now = ended_ms;
        call.seq += 1;
        self.out.push_back(Output::Event(Event {
            call: id.clone(),
            seq: call.seq,
            gseq: 0,
            at_ms: now,
            kind: EventKind::Ended { cause, by, status },
        }));
        self.out
            .push_back(Output::Cdr(call.cdr(now, cause, by, status)));
        self.out
            .push_back(Output::Leg(LegAction::Release { call: id }));
    }

    pub(super) fn emit_created(&mut self, now: Ms, id: &CallId) {
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

    pub(super) fn emit(&mut self, now: Ms, id: &CallId, kind: EventKind) {
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
        app: false,
        record: false,
        forwards: crate::Forwards::default(),
        no_target_status: 480,
        diversion: None,
        voicemail: None,
        access: None,
        entry: None,
        join_room: None,
        attendant: None,
        queue: None,
        queue_tag: None,
        notice: None,
        media: Vec::new(),
    }
}
