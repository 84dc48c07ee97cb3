//! Queues in the call core. A caller is answered by the B2BUA and waits in order hearing hold
//! music (looped; an application call's primitives); free agents are offered to the driver
//! ([`Output::QueueOffer`]), which keeps those who can ring now (at a phone, in no call); they
//! ring per the strategy as the application call's connect (the caller stays with the engine
//! until one answers, then is bridged to it). An agent who does not answer is not rung again
//! for that caller until every other agent was; a round over, the caller waits
//! [`RETRY_MS`] before the next. After the max wait, or when the queue is full, the caller goes
//! to the overflow destination (resolved like an attendant's, [`Output::Route`]).

use super::Calls;
use super::prompts::say;
use crate::call::{PendingTransfer, Role};
use crate::queue::{QueueState, RETRY_MS};
use crate::{LegAction, LegId, Ms, Output, QueueEntry, RouteOutcome, Target};
use patchbay_api::{
    CallId, Cause, EndedBy, EventKind, MediaOp, PlayRequest, QueueCall, QueueCallStatus,
    QueueStrategy, Side, ToneName, ToneRequest, TransferMethod,
};

/// A queue: (tenant, name).
pub(crate) type Key = (String, String);

/// What wakes the queue logic up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A caller's max wait or next announcement.
    Call(CallId),
    /// An agent's rest, or a caller's pause between rounds, ended: offer agents again.
    Queue(Key),
}

/// A caller's time in a queue.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    key: Key,
    entered: Ms,
    status: Status,
    /// Agents that did not answer this caller in this round.
    tried: Vec<String>,
    /// Not offered agents before (the pause between rounds).
    retry_at: Ms,
    /// The hold music's command.
    music: Option<u64>,
    next_announce: Option<Ms>,
    deadline: Option<Ms>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Waiting,
    /// Offered to the driver (its answer is due at once).
    Offered(Vec<String>),
    Ringing(Vec<String>),
    Connected {
        agent: String,
        at: Ms,
    },
    /// Gone to the overflow destination.
    Overflow,
    /// Saying goodbye (nowhere to overflow to).
    Goodbye(u64),
}

impl Session {
    /// Whether agents ring for it (so an answer connects it to one).
    pub(crate) fn ringing(&self) -> bool {
        matches!(self.status, Status::Ringing(_))
    }

    fn waiting(&self) -> bool {
        matches!(
            self.status,
            Status::Waiting | Status::Offered(_) | Status::Ringing(_)
        )
    }
}

// === impl Calls ===

impl Calls {
    /// Answer a caller of a queue's number and let it in.
    pub(super) fn start_queue(&mut self, now: Ms, id: &CallId, leg: LegId, entry: QueueEntry) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Some(l) = call.leg_mut(leg) {
            l.state = crate::call::LegState::Answered;
        }
        self.out
            .push_back(Output::Leg(LegAction::AnswerApp { leg }));
        self.app_answered(now, id, leg);
        self.queue_enter(now, id, entry);
    }

    /// `id` (answered, its caller served by the engine) enters the queue of `entry`.
    pub(super) fn queue_enter(&mut self, now: Ms, id: &CallId, entry: QueueEntry) {
        let key: Key = (entry.tenant.clone(), entry.queue.name.clone());
        let q = self
            .queues
            .entry(key.clone())
            .and_modify(|q| q.update(&entry))
            .or_insert_with(|| QueueState::new(&entry));
        let spec = q.spec.clone();
        let full = spec.max_callers > 0 && q.waiting.len() >= spec.max_callers as usize;
        if !full {
            q.waiting.push(id.clone());
        }
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.queue_tag = Some(spec.name.clone());
        call.ring_timeout_ms = u64::from(spec.ring_secs) * 1000;
        let ms = |secs: u32| (secs > 0).then(|| now + u64::from(secs) * 1000);
        call.queue = Some(Session {
            key: key.clone(),
            entered: now,
            status: Status::Waiting,
            tried: Vec::new(),
            retry_at: now,
            music: None,
            next_announce: ms(spec.announce_secs),
            deadline: ms(spec.max_wait_secs),
        });
        self.emit(now, id, EventKind::QueueEntered { queue: spec.name });
        if full {
            return self.queue_overflow(now, id, "full");
        }
        self.queue_music(id);
        self.queue_arm(id);
        self.queue_dispatch(now, &key);
    }

    fn queue_music(&mut self, id: &CallId) {
        let Some(spec) = self.queue_spec(id) else {
            return;
        };
        let op = match spec.hold_music {
            Some(m) => MediaOp::Play(PlayRequest {
                side: Side::A,
                file: m.file,
                url: m.url,
                text: m.text,
                recording: None,
                voice: None,
                repeat: true,
                barge_in: false,
            }),
            None => MediaOp::Tone(ToneRequest {
                side: Side::A,
                tone: ToneName::Ringback,
                duration_ms: None,
                barge_in: false,
            }),
        };
        let c = self.run_op(id, op);
        if let Some(s) = self.session_mut(id) {
            s.music = Some(c);
        }
    }

    fn queue_spec(&self, id: &CallId) -> Option<patchbay_api::Queue> {
        let key = &self.calls.get(id)?.queue.as_ref()?.key;
        self.queues.get(key).map(|q| q.spec.clone())
    }

    fn session_mut(&mut self, id: &CallId) -> Option<&mut Session> {
        self.calls.get_mut(id)?.queue.as_mut()
    }

    /// Wake the caller at its next announcement or its max wait.
    fn queue_arm(&mut self, id: &CallId) {
        let Some(s) = self.calls.get(id).and_then(|c| c.queue.as_ref()) else {
            return;
        };
        let next = [s.next_announce, s.deadline].into_iter().flatten().min();
        if let Some(at) = next {
            self.queue_timers.insert((at, Timer::Call(id.clone())));
        }
    }

    /// Offer free agents to waiting callers, in queue order (each caller its own agents:
    /// several ring at once when several agents are free).
    pub(super) fn queue_dispatch(&mut self, now: Ms, key: &Key) {
        let Some(q) = self.queues.get(key) else {
            return;
        };
        if !q.any_free(now) {
            return;
        }
        let waiting = q.waiting.clone();
        // Agents offered, ringing or talking in the tenant's other queues.
        let taken: std::collections::HashSet<String> = self
            .queues
            .iter()
            .filter(|(k, _)| k.0 == key.0 && *k != key)
            .flat_map(|(_, q)| {
                q.agents
                    .iter()
                    .filter(|(_, a)| a.offered.is_some() || a.busy.is_some())
                    .map(|(n, _)| n.clone())
            })
            .collect();
        for cid in waiting {
            let Some(q) = self.queues.get_mut(key) else {
                return;
            };
            if !q.any_free(now) {
                return;
            }
            let Some(s) = self.calls.get_mut(&cid).and_then(|c| c.queue.as_mut()) else {
                continue;
            };
            if s.status != Status::Waiting || s.retry_at > now {
                continue;
            }
            let mut agents = q.candidates(now, &s.tried);
            // An agent of several queues rings for one caller at a time.
            agents.retain(|a| !taken.contains(a));
            if agents.is_empty() {
                if !s.tried.is_empty() {
                    // Everyone free was rung for this caller: the next round after a pause.
                    s.tried.clear();
                    s.retry_at = now + RETRY_MS;
                    self.queue_timers
                        .insert((s.retry_at, Timer::Queue(key.clone())));
                }
                continue;
            }
            for a in &agents {
                if let Some(a) = q.agent_mut(a) {
                    a.offered = Some(cid.clone());
                }
            }
            s.status = Status::Offered(agents.clone());
            self.out.push_back(Output::QueueOffer {
                call: cid,
                tenant: key.0.clone(),
                agents,
            });
        }
    }

    /// The driver kept `agents` of those offered for `id`: ring them (ringall) or the first.
    pub(super) fn handle_queue_targets(
        &mut self,
        now: Ms,
        id: &CallId,
        agents: Vec<(String, Vec<Target>)>,
    ) {
        let Some(s) = self.calls.get_mut(id).and_then(|c| c.queue.as_mut()) else {
            return;
        };
        // Only an offer still open is answered (the caller may have overflowed meanwhile).
        let Status::Offered(offered) = &s.status else {
            return;
        };
        let offered = offered.clone();
        s.status = Status::Waiting;
        let key = s.key.clone();
        let Some(q) = self.queues.get_mut(&key) else {
            return;
        };
        q.release_offers(id);
        let mut left_out = false;
        for name in &offered {
            if !agents.iter().any(|(n, _)| n == name)
                && let Some(a) = q.agent_mut(name)
            {
                a.rest_until = a.rest_until.max(now + RETRY_MS);
                left_out = true;
            }
        }
        if left_out {
            self.queue_timers
                .insert((now + RETRY_MS, Timer::Queue(key.clone())));
        }
        let ring: Vec<(String, Vec<Target>)> = match q.spec.strategy {
            QueueStrategy::Ringall => agents,
            _ => agents.into_iter().take(1).collect(),
        };
        if ring.is_empty() {
            return self.queue_dispatch(now, &key);
        }
        let names: Vec<String> = ring.iter().map(|(n, _)| n.clone()).collect();
        for n in &names {
            if let Some(a) = q.agent_mut(n) {
                a.offered = Some(id.clone());
            }
        }
        q.rr_last = names.last().cloned();
        let targets: Vec<Target> = ring.into_iter().flat_map(|(_, t)| t).collect();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Some(s) = call.queue.as_mut() {
            s.status = Status::Ringing(names.clone());
        }
        call.transfer = Some(PendingTransfer {
            target: names.join(","),
            keep: Side::A,
            refer_leg: None,
        });
        self.invite_all(now, id, Side::B, targets, Role::TransferTarget);
        self.queue_dispatch(now, &key);
    }

    /// An agent answered `id`: the caller is connected to it (the connect bridged them).
    pub(super) fn queue_connected(&mut self, now: Ms, id: &CallId, agent: &str) {
        let Some(s) = self.calls.get_mut(id).and_then(|c| c.queue.as_mut()) else {
            return;
        };
        if !matches!(s.status, Status::Ringing(_)) {
            return; // an overflow destination answered
        }
        s.status = Status::Connected {
            agent: agent.to_string(),
            at: now,
        };
        let (key, waited_ms) = (s.key.clone(), now.saturating_sub(s.entered));
        if let Some(q) = self.queues.get_mut(&key) {
            q.release_offers(id);
            q.waiting.retain(|c| c != id);
            q.connected.push(id.clone());
            if let Some(a) = q.agent_mut(agent) {
                a.busy = Some(id.clone());
            }
        }
        self.emit(
            now,
            id,
            EventKind::QueueLeft {
                queue: key.1.clone(),
                outcome: "connected".into(),
                agent: Some(agent.to_string()),
                waited_ms,
            },
        );
        self.queue_dispatch(now, &key);
    }

    /// A connected queue call was transferred away from its agent (the agent's phone, or the
    /// API): the agent is free (after its wrap-up) and the call leaves the queue's state.
    pub(super) fn queue_transferred(&mut self, now: Ms, id: &CallId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let connected = call
            .queue
            .as_ref()
            .is_some_and(|s| matches!(s.status, Status::Connected { .. }));
        if !connected {
            return;
        }
        if let Some(session) = call.queue.take() {
            self.queue_left(now, id, session);
        }
    }

    /// Nobody rung for `id` answered: the next agents (or, overflowing, goodbye).
    pub(super) fn queue_ring_failed(&mut self, now: Ms, id: &CallId) {
        let Some(s) = self.calls.get_mut(id).and_then(|c| c.queue.as_mut()) else {
            return;
        };
        match std::mem::replace(&mut s.status, Status::Waiting) {
            Status::Ringing(rung) => {
                s.tried.extend(rung);
                let key = s.key.clone();
                if let Some(q) = self.queues.get_mut(&key) {
                    q.release_offers(id);
                }
                self.queue_dispatch(now, &key);
            }
            Status::Overflow => {
                s.status = Status::Overflow;
                self.queue_goodbye(id);
            }
            other => s.status = other,
        }
    }

    /// A caller's timer: its announcement, or its max wait.
    pub(super) fn queue_call_timer(&mut self, now: Ms, id: &CallId) {
        let Some(s) = self.calls.get(id).and_then(|c| c.queue.as_ref()) else {
            return;
        };
        if !s.waiting() {
            return;
        }
        if s.deadline.is_some_and(|d| d <= now) {
            return self.queue_overflow(now, id, "overflow");
        }
        if s.next_announce.is_some_and(|a| a <= now) {
            let key = s.key.clone();
            let music = s.music;
            let Some(q) = self.queues.get(&key) else {
                return;
            };
            let position = q.waiting.iter().position(|c| c == id).unwrap_or(0) + 1;
            let every = u64::from(q.spec.announce_secs) * 1000;
            let (leg, text) = (
                self.calls.get(id).and_then(|c| c.a),
                format!("You are caller number {position}. Please hold."),
            );
            if let (Some(leg), Some(command)) = (leg, music) {
                self.out
                    .push_back(Output::Leg(LegAction::MediaStop { leg, command }));
            }
            self.run_op(id, say(&text, false));
            if let Some(s) = self.session_mut(id) {
                s.next_announce = (every > 0).then_some(now + every);
            }
            self.queue_music(id);
        }
        self.queue_arm(id);
    }

    /// The caller leaves the queue for its overflow destination (`why`: `overflow` after the
    /// max wait, `full`), or hears goodbye when there is none.
    fn queue_overflow(&mut self, now: Ms, id: &CallId, why: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        // Agents still ringing for it stop.
        let ringing = call.ringing_legs(Side::B, Role::TransferTarget, None);
        for leg in ringing {
            if let Some(l) = call.leg_mut(leg) {
                l.state = crate::call::LegState::Cancelling;
                l.deadline = None;
            }
            self.out.push_back(Output::Leg(LegAction::Cancel { leg }));
        }
        call.transfer = None;
        let leg = call.a;
        let Some(s) = call.queue.as_mut() else {
            return;
        };
        s.status = Status::Overflow;
        let (key, music, waited_ms) =
            (s.key.clone(), s.music.take(), now.saturating_sub(s.entered));
        if let (Some(leg), Some(command)) = (leg, music) {
            self.out
                .push_back(Output::Leg(LegAction::MediaStop { leg, command }));
        }
        let overflow = self.queues.get_mut(&key).and_then(|q| {
            q.release_offers(id);
            q.waiting.retain(|c| c != id);
            q.spec.overflow.clone()
        });
        self.emit(
            now,
            id,
            EventKind::QueueLeft {
                queue: key.1.clone(),
                outcome: why.to_string(),
                agent: None,
                waited_ms,
            },
        );
        match overflow {
            Some(destination) => self.out.push_back(Output::Route {
                call: id.clone(),
                destination,
            }),
            None => self.queue_goodbye(id),
        }
        self.queue_dispatch(now, &key);
    }

    fn queue_goodbye(&mut self, id: &CallId) {
        let c = self.run_op(
            id,
            say("Nobody is available to take your call. Goodbye.", false),
        );
        if let Some(s) = self.session_mut(id) {
            s.status = Status::Goodbye(c);
        }
    }

    /// Where an overflowing caller's destination leads.
    pub(super) fn queue_routed(&mut self, now: Ms, id: &CallId, outcome: RouteOutcome) {
        let overflowing = self
            .calls
            .get(id)
            .and_then(|c| c.queue.as_ref())
            .is_some_and(|s| s.status == Status::Overflow);
        if !overflowing {
            return;
        }
        match outcome {
            RouteOutcome::Connect { target, targets } => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.ring_timeout_ms = 30_000;
                }
                let method = TransferMethod::Bridge;
                if self
                    .handle_transfer(now, id, target, targets, Side::A, method)
                    .is_err()
                {
                    self.queue_goodbye(id);
                }
            }
            RouteOutcome::Unavailable => self.queue_goodbye(id),
            other => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.queue = None;
                }
                self.route_elsewhere(now, id, other);
            }
        }
    }

    /// A primitive of a queue caller ended: its goodbye hangs up; hold music that ended by
    /// itself (a file that could not play) becomes ringback.
    pub(super) fn queue_after(&mut self, now: Ms, id: &CallId, command: u64) {
        let Some(s) = self.calls.get(id).and_then(|c| c.queue.as_ref()) else {
            return;
        };
        match s.status {
            Status::Goodbye(c) if c == command => {
                self.end_call(now, id, Cause::Normal, EndedBy::System, None);
            }
            _ if s.music == Some(command) && s.waiting() => {
                let key = s.key.clone();
                if let Some(q) = self.queues.get_mut(&key) {
                    q.spec.hold_music = None;
                }
                self.queue_music(id);
            }
            _ => {}
        }
    }

    /// A queue caller's call ended (`session` taken from it): it leaves its queue; an agent
    /// it talked to rests for the wrap-up time.
    pub(super) fn queue_left(&mut self, now: Ms, id: &CallId, session: Session) {
        let key = session.key.clone();
        let Some(q) = self.queues.get_mut(&key) else {
            return;
        };
        q.release_offers(id);
        q.waiting.retain(|c| c != id);
        q.connected.retain(|c| c != id);
        let wrapup = u64::from(q.spec.wrapup_secs) * 1000;
        let mut left = None;
        if let Status::Connected { agent, .. } = &session.status
            && let Some(a) = q.agent_mut(agent)
        {
            a.busy = None;
            a.last_end = Some(now);
            a.rest_until = now + wrapup;
            if wrapup > 0 {
                left = Some(now + wrapup);
            }
        }
        if q.idle_deleted() {
            self.queues.remove(&key);
            return;
        }
        if let Some(at) = left {
            self.queue_timers.insert((at, Timer::Queue(key.clone())));
        }
        self.queue_dispatch(now, &key);
    }

    /// The queue timers due at `now`.
    pub(super) fn queue_timeout(&mut self, now: Ms) {
        while let Some((due, _)) = self.queue_timers.first() {
            if *due > now {
                break;
            }
            let Some((_, t)) = self.queue_timers.pop_first() else {
                break;
            };
            match t {
                Timer::Call(id) => self.queue_call_timer(now, &id),
                Timer::Queue(key) => self.queue_dispatch(now, &key),
            }
        }
    }

    /// An agent's state changed: a queue with callers takes it at once.
    pub(super) fn handle_queue_agent(
        &mut self,
        now: Ms,
        key: Key,
        agent: &str,
        state: patchbay_api::AgentState,
    ) {
        let Some(a) = self.queues.get_mut(&key).and_then(|q| q.agent_mut(agent)) else {
            return;
        };
        a.state = state;
        if state == patchbay_api::AgentState::Available {
            a.rest_until = a.rest_until.min(now);
        }
        self.queue_dispatch(now, &key);
    }

    /// A queue's settings changed (`None`: deleted).
    pub(super) fn handle_queue_changed(&mut self, now: Ms, key: Key, entry: Option<QueueEntry>) {
        match entry {
            Some(e) => {
                if let Some(q) = self.queues.get_mut(&key) {
                    q.update(&e);
                    self.queue_dispatch(now, &key);
                }
            }
            None => {
                if let Some(q) = self.queues.get_mut(&key) {
                    q.deleted = true;
                    if q.idle_deleted() {
                        self.queues.remove(&key);
                    }
                }
            }
        }
    }

    /// Whether a caller entered this queue here (it has run-time state).
    pub fn knows_queue(&self, tenant: &str, name: &str) -> bool {
        self.queues
            .contains_key(&(tenant.to_string(), name.to_string()))
    }

    /// Callers waiting and callers connected to an agent, in every queue.
    pub fn queue_counts(&self) -> (usize, usize) {
        self.queues.values().fold((0, 0), |(w, c), q| {
            (w + q.waiting.len(), c + q.connected.len())
        })
    }

    /// A caller still waiting is hanging up: say so before its end.
    pub(super) fn queue_hangup(&mut self, now: Ms, id: &CallId) {
        let Some(s) = self.calls.get(id).and_then(|c| c.queue.as_ref()) else {
            return;
        };
        if s.waiting() {
            let (queue, waited_ms) = (s.key.1.clone(), now.saturating_sub(s.entered));
            let kind = EventKind::QueueLeft {
                queue,
                outcome: "hangup".into(),
                agent: None,
                waited_ms,
            };
            self.emit(now, id, kind);
        }
    }

    /// The live calls of a queue: waiting ones in order, then connected ones.
    pub fn queue_calls(&self, now: Ms, tenant: &str, name: &str) -> Vec<QueueCall> {
        let key = (tenant.to_string(), name.to_string());
        let Some(q) = self.queues.get(&key) else {
            return Vec::new();
        };
        let one = |id: &CallId, position: Option<u32>| {
            let call = self.calls.get(id)?;
            let s = call.queue.as_ref()?;
            let (status, agent, until) = match &s.status {
                Status::Connected { agent, at } => {
                    (QueueCallStatus::Connected, Some(agent.clone()), *at)
                }
                _ => (QueueCallStatus::Waiting, None, now),
            };
            Some(QueueCall {
                unique_id: format!("{}.{}", id, call.a.map_or(0, |l| l.0)),
                call: id.clone(),
                caller_id: call.from.clone(),
                entered: s.entered / 1000,
                waited: until.saturating_sub(s.entered) / 1000,
                status,
                agent,
                position,
            })
        };
        let waiting = q
            .waiting
            .iter()
            .enumerate()
            .filter_map(|(i, id)| one(id, Some(i as u32 + 1)));
        let connected = q.connected.iter().filter_map(|id| one(id, None));
        waiting.chain(connected).collect()
    }
}
