//! `/api/v1/tenants/{tenant}/queues`, run through the B2BUA's control API (it writes the
//! store and tells the callers waiting at once).

use crate::Gateway;
use patchbay_gateway_proto::vendors::native::{QueueOp, render_json};
use patchbay_gateway_proto::{Failure, Response};
use serde_json::json;

pub(super) async fn run(gw: &Gateway, tenant: &str, op: QueueOp) -> Result<Response, Failure> {
    let b = &gw.b2bua;
    // The B2BUA's 400 (an agent who is no user) names the field like the gateway's checks.
    let bad = |field: &'static str| move |e| gw.b2bua_bad("queues", field, e);
    let fail = |e| gw.b2bua_failure("queues", e);
    Ok(match op {
        QueueOp::List => render_json(200, &b.queues(tenant).await.map_err(fail)?),
        QueueOp::Get(name) => render_json(200, &b.queue(tenant, &name).await.map_err(fail)?),
        QueueOp::Put(q) => {
            b.put_queue(tenant, &q.name, &q)
                .await
                .map_err(bad("queue"))?;
            render_json(200, &q)
        }
        QueueOp::Delete(name) => {
            b.delete_queue(tenant, &name).await.map_err(fail)?;
            render_json(200, &json!({"deleted": name}))
        }
        QueueOp::Agents(name) => {
            render_json(200, &b.queue_agents(tenant, &name).await.map_err(fail)?)
        }
        QueueOp::SetAgent { queue, agent } => {
            b.set_queue_agent(tenant, &queue, &agent.agent, agent.state)
                .await
                .map_err(fail)?;
            render_json(200, &agent)
        }
        QueueOp::Calls(name) => {
            render_json(200, &b.queue_calls(tenant, &name).await.map_err(fail)?)
        }
    })
}
