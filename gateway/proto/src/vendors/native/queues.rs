//! `/api/v1/tenants/{tenant}/queues`: a tenant's call queues, their agents' states and their
//! live calls. Parsing and validation; the B2BUA checks agents and numbers against its state.

use super::settings::{SettingOp, json};
use crate::Failure;
use patchbay_api::{Queue, QueueAgent, room_name_ok};

/// A queue operation of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOp {
    List,
    Get(String),
    Put(Box<Queue>),
    Delete(String),
    Agents(String),
    SetAgent {
        queue: String,
        agent: QueueAgent,
    },
    /// The live calls (a wallboard's poll).
    Calls(String),
}

impl QueueOp {
    /// Whether it writes a queue (which can carry a CTI URL).
    pub fn changes_cti_urls(&self) -> bool {
        matches!(self, QueueOp::Put(_) | QueueOp::Delete(_))
    }
}

pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let name_ok = |n: &str| {
        if room_name_ok(n) {
            Ok(n.to_string())
        } else {
            Err(Failure::bad(
                "name",
                "1-64 of letters, digits, '.', '_', '-'",
            ))
        }
    };
    let op = match (method, segs) {
        ("GET", ["queues"]) => QueueOp::List,
        ("GET", ["queues", name]) => QueueOp::Get(name_ok(name)?),
        ("PUT", ["queues", name]) => {
            let mut q: Queue = json(body)?;
            let name = name_ok(name)?;
            if !q.name.is_empty() && q.name != name {
                return Err(Failure::bad("name", "the body's name is the path's"));
            }
            q.name = name;
            q.check().map_err(|why| Failure::bad("queue", why))?;
            QueueOp::Put(Box::new(q))
        }
        ("DELETE", ["queues", name]) => QueueOp::Delete(name_ok(name)?),
        ("GET", ["queues", name, "agents"]) => QueueOp::Agents(name_ok(name)?),
        ("PUT", ["queues", name, "agents", agent]) => {
            let mut a: QueueAgent = json(body)?;
            if !a.agent.is_empty() && a.agent != *agent {
                return Err(Failure::bad("agent", "the body's agent is the path's"));
            }
            if agent.is_empty() || agent.len() > 32 {
                return Err(Failure::bad("agent", "an extension"));
            }
            a.agent = agent.to_string();
            QueueOp::SetAgent {
                queue: name_ok(name)?,
                agent: a,
            }
        }
        ("GET", ["queues", name, "calls"]) => QueueOp::Calls(name_ok(name)?),
        (_, ["queues", ..]) => return Err(Failure::MethodNotAllowed),
        _ => return super::webhooks::parse(method, segs, body),
    };
    Ok(Some(SettingOp::Queues(op)))
}
