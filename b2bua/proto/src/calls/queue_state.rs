//! Queues from outside the calls: admin changes reaching callers at once, and the live state
//! (a wallboard's poll, the metrics' counts).

use super::Calls;
use super::queue::{Key, Status};
use crate::{Ms, QueueEntry};
use patchbay_api::{CallId, EventKind, QueueCall, QueueCallStatus};

// === impl Calls ===

impl Calls {
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
