//! Queues in the call core. A caller is answered by the B2BUA and waits in order hearing hold
//! music (looped; an application call's primitives); free agents are offered to the driver
//! ([`Output::QueueOffer`]), which keeps those who can ring now (at a phone, in no call); they
//! ring per the strategy as the application call's connect (the caller stays with the engine
//! until one answers, then is bridged to it). An agent who does not answer is not rung again
//! for that caller until every other agent was; a round over, the caller waits
//! [`RETRY_MS`] before the next. After the max wait, or when the queue is full, the caller goes
//! to the overflow destination (resolved like an attendant's, [`Output::Route`]; see
//! `queue_wait`). Admin changes and the live state: `queue_state`.

use super::Calls;
use crate::call::{PendingTransfer, Role};
use crate::queue::{QueueState, RETRY_MS};
use crate::{LegAction, LegId, Ms, Output, QueueEntry, Target};
use patchbay_api::{
    CallId, EventKind, MediaOp, PlayRequest, QueueStrategy, Side, ToneName, ToneRequest,
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
    pub(super) key: Key,
    pub(super) entered: Ms,
    pub(super) status: Status,
    /// Agents that did not answer this caller in this round.
    pub(super) tried: Vec<String>,
    /// Not offered agents before (the pause between rounds).
    pub(super) retry_at: Ms,
    /// The hold music's command.
    pub(super) music: Option<u64>,
    pub(super) next_announce: Option<Ms>,
    pub(super) deadline: Option<Ms>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
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

    pub(super) fn waiting(&self) -> bool {
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

    pub(super) fn queue_music(&mut self, id: &CallId) {
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

    pub(super) fn queue_spec(&self, id: &CallId) -> Option<patchbay_api::Queue> {
        let key = &self.calls.get(id)?.queue.as_ref()?.key;
        self.queues.get(key).map(|q| q.spec.clone())
    }

    pub(super) fn session_mut(&mut self, id: &CallId) -> Option<&mut Session> {
        self.calls.get_mut(id)?.queue.as_mut()
    }

    /// Wake the caller at its next announcement or its max wait.
    pub(super) fn queue_arm(&mut self, id: &CallId) {
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
}
