//! Call queues without calls: a queue's agents as the core sees them (state, ringing,
//! talking, resting) and who rings next per strategy.

use crate::{Ms, QueueEntry};
use patchbay_api::{AgentState, CallId, Queue, QueueStrategy};
use std::collections::HashMap;

/// How long an agent that could not ring (no phone, in another call) is left out before it
/// is offered again, and how long a caller that every agent left unanswered waits before the
/// next round.
pub(crate) const RETRY_MS: Ms = 3_000;

/// One agent of a queue, at run time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Agent {
    pub(crate) state: AgentState,
    /// When its last queue call ended (longest idle).
    pub(crate) last_end: Option<Ms>,
    /// Wrap-up after a queue call, or left out after it could not ring.
    pub(crate) rest_until: Ms,
    /// The queue call it talks to.
    pub(crate) busy: Option<CallId>,
    /// The caller it is offered to or rings for.
    pub(crate) offered: Option<CallId>,
}

impl Agent {
    fn free(&self, now: Ms) -> bool {
        self.state == AgentState::Available
            && self.busy.is_none()
            && self.offered.is_none()
            && self.rest_until <= now
    }
}

/// One queue of a tenant, at run time.
#[derive(Debug, Clone)]
pub(crate) struct QueueState {
    pub(crate) spec: Queue,
    pub(crate) agents: HashMap<String, Agent>,
    /// Callers waiting, in the order they came.
    pub(crate) waiting: Vec<CallId>,
    /// Callers talking to an agent, in the order they were answered.
    pub(crate) connected: Vec<CallId>,
    /// The agent rung last (round robin goes on after it).
    pub(crate) rr_last: Option<String>,
    /// Deleted in the admin API: forgotten once its last caller left.
    pub(crate) deleted: bool,
}

impl QueueState {
    pub(crate) fn new(entry: &QueueEntry) -> Self {
        let mut q = Self {
            spec: entry.queue.clone(),
            agents: HashMap::new(),
            waiting: Vec::new(),
            connected: Vec::new(),
            rr_last: None,
            deleted: false,
        };
        q.update(entry);
        q
    }

    /// New settings and states from the store; what agents are doing is kept.
    pub(crate) fn update(&mut self, entry: &QueueEntry) {
        self.spec = entry.queue.clone();
        self.deleted = false;
        let mut agents = HashMap::with_capacity(self.spec.agents.len());
        for name in &self.spec.agents {
            let mut a = self.agents.remove(name).unwrap_or_default();
            a.state = entry.states.get(name).copied().unwrap_or_default();
            agents.insert(name.clone(), a);
        }
        // An agent taken off the queue keeps its call until it ends (then it is gone).
        for (name, a) in self.agents.drain() {
            if a.busy.is_some() || a.offered.is_some() {
                let a = Agent {
                    state: AgentState::LoggedOut,
                    ..a
                };
                agents.insert(name, a);
            }
        }
        self.agents = agents;
    }

    /// The agents free to ring now, other than `tried`, in the strategy's order.
    pub(crate) fn candidates(&self, now: Ms, tried: &[String]) -> Vec<String> {
        let free = |name: &&String| {
            !tried.contains(name) && self.agents.get(*name).is_some_and(|a| a.free(now))
        };
        let list = &self.spec.agents;
        match self.spec.strategy {
            QueueStrategy::Ringall | QueueStrategy::Linear => {
                list.iter().filter(free).cloned().collect()
            }
            QueueStrategy::Roundrobin => {
                let start = self
                    .rr_last
                    .as_ref()
                    .and_then(|l| list.iter().position(|a| a == l))
                    .map_or(0, |i| i + 1);
                list.iter()
                    .cycle()
                    .skip(start)
                    .take(list.len())
                    .filter(free)
                    .cloned()
                    .collect()
            }
            QueueStrategy::LongestIdle => {
                let mut v: Vec<(Option<Ms>, usize, &String)> = list
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| free(n))
                    .map(|(i, n)| (self.agents[n].last_end, i, n))
                    .collect();
                // Never called (None) sorts first, then the oldest end; ties in list order.
                v.sort();
                v.into_iter().map(|(_, _, n)| n.clone()).collect()
            }
        }
    }

    /// Whether any agent is free to ring now (for anyone).
    pub(crate) fn any_free(&self, now: Ms) -> bool {
        self.agents.values().any(|a| a.free(now))
    }

    /// Whether the queue can be forgotten.
    pub(crate) fn idle_deleted(&self) -> bool {
        self.deleted && self.waiting.is_empty() && self.connected.is_empty()
    }

    /// `agent`'s run-time record, if it is one of the queue's.
    pub(crate) fn agent_mut(&mut self, agent: &str) -> Option<&mut Agent> {
        self.agents.get_mut(agent)
    }

    /// Let go of every agent offered to or ringing for `call`.
    pub(crate) fn release_offers(&mut self, call: &CallId) {
        for a in self.agents.values_mut() {
            if a.offered.as_ref() == Some(call) {
                a.offered = None;
            }
        }
    }
}
