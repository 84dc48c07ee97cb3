//! Queues in the driver: their settings and agents' states as the store keeps them (the
//! tenant's `queue` objects, one `queue-agent` object per agent state, named
//! `<queue>/<ext>`), read when a caller enters; the core's offers of agents answered on the
//! loop (an agent rings when it has a registered phone and no live call); the agents' feature
//! codes (log in, log out).

use super::{Driver, now_ms};
use crate::shared::Shared;
use patchbay_api::{AgentState, CallId, Queue, QueueAgent};
use patchbay_proto::{Input, QueueEntry, Target};
use patchbay_store::StoreError;
use std::collections::HashMap;

pub(crate) const KIND: &str = "queue";
pub(crate) const AGENT_KIND: &str = "queue-agent";

/// The tenant's queues.
pub(crate) async fn queues(sh: &Shared, tenant: &str) -> Result<Vec<Queue>, StoreError> {
    Ok(sh
        .store
        .configs(tenant, KIND)
        .await?
        .into_iter()
        .filter_map(|(name, body)| match serde_json::from_str(&body) {
            Ok(q) => Some(q),
            Err(e) => {
                tracing::warn!(tenant, name, error = %e, "queue unreadable");
                None
            }
        })
        .collect())
}

/// The states stored for `queue`'s agents (an agent with none is logged out).
pub(crate) async fn agent_states(
    sh: &Shared,
    tenant: &str,
    queue: &str,
) -> Result<HashMap<String, AgentState>, StoreError> {
    let prefix = format!("{queue}/");
    Ok(sh
        .store
        .configs(tenant, AGENT_KIND)
        .await?
        .into_iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .filter_map(|(_, body)| serde_json::from_str::<QueueAgent>(&body).ok())
        .map(|a| (a.agent, a.state))
        .collect())
}

/// `queue` with its agents' states, as a caller enters it.
pub(crate) async fn entry(
    sh: &Shared,
    tenant: &str,
    queue: Queue,
) -> Result<QueueEntry, StoreError> {
    let states = agent_states(sh, tenant, &queue.name).await?;
    Ok(QueueEntry {
        tenant: tenant.to_string(),
        queue,
        states,
    })
}

/// The queue whose number is `number`, entered.
pub(crate) async fn entry_for(
    sh: &Shared,
    tenant: &str,
    number: &str,
) -> Result<Option<QueueEntry>, StoreError> {
    match queues(sh, tenant)
        .await?
        .into_iter()
        .find(|q| q.number == number)
    {
        Some(q) => Ok(Some(entry(sh, tenant, q).await?)),
        None => Ok(None),
    }
}

/// Store `agent`'s state in `queue`.
pub(crate) async fn set_agent(
    sh: &Shared,
    tenant: &str,
    queue: &str,
    agent: &str,
    state: AgentState,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(&QueueAgent {
        agent: agent.to_string(),
        state,
    })
    .unwrap_or_default();
    let name = format!("{queue}/{agent}");
    sh.store.put_config(tenant, AGENT_KIND, &name, &body).await
}

/// A feature code dialled by `agent`: its new `state` in every queue it is an agent of. The
/// queues changed, and what the agent hears.
pub(crate) async fn agent_code(
    sh: &Shared,
    tenant: &str,
    agent: &str,
    state: AgentState,
) -> Result<(Vec<String>, String), StoreError> {
    let mut changed = Vec::new();
    for q in queues(sh, tenant).await? {
        if q.agents.iter().any(|a| a == agent) {
            set_agent(sh, tenant, &q.name, agent, state).await?;
            changed.push(q.name);
        }
    }
    let text = match (changed.is_empty(), state) {
        (true, _) => "You are not an agent of any queue.".to_string(),
        (false, AgentState::Available) => {
            format!("You are logged in to {}.", spoken_list(&changed))
        }
        (false, AgentState::Paused) => format!("You are paused in {}.", spoken_list(&changed)),
        (false, AgentState::LoggedOut) => {
            format!("You are logged out of {}.", spoken_list(&changed))
        }
    };
    sh.metrics
        .queue_agent_changes
        .with_label_values(&[state.as_str(), "phone"])
        .inc_by(changed.len() as u64);
    Ok((changed, text))
}

fn spoken_list(queues: &[String]) -> String {
    let names = queues.join(", ");
    if queues.len() == 1 {
        format!("queue {names}")
    } else {
        format!("queues {names}")
    }
}

impl Driver {
    /// The core offers `agents` for `call`: keep those with a phone and no live call, and
    /// answer at once.
    pub(super) fn queue_offer(&mut self, call: CallId, tenant: &str, agents: Vec<String>) {
        let keep: Vec<(String, Vec<Target>)> = agents
            .into_iter()
            .filter(|a| !self.in_a_call(tenant, a))
            .filter_map(|a| {
                let t = self.targets(tenant, &a);
                (!t.is_empty()).then_some((a, t))
            })
            .collect();
        let _ = self
            .calls
            .handle_input(now_ms(), Input::QueueTargets { call, agents: keep });
    }

    /// Whether `user` has a live leg (calling, ringing or talking).
    fn in_a_call(&self, tenant: &str, user: &str) -> bool {
        let name = super::channels::channel_name(user, None);
        self.channel_index.legs(tenant, &name).iter().any(|l| {
            self.calls.leg(*l).is_some_and(|l| {
                !matches!(
                    l.state,
                    patchbay_proto::LegState::Cancelling | patchbay_proto::LegState::Ended
                )
            })
        })
    }
}
