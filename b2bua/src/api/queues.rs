//! A tenant's queues: `GET /v1/tenants/{t}/queues`, `GET|PUT|DELETE .../queues/{name}`
//! ([`Queue`]), `GET .../queues/{name}/agents` and `PUT .../queues/{name}/agents/{ext}`
//! ([`QueueAgent`]), `GET .../queues/{name}/calls` (live, [`patchbay_api::QueueCall`]).
//! Stored as the tenant's `queue` and `queue-agent` objects; a change reaches the callers
//! waiting at once (the core is told), and every next caller reads them again.

use super::{AppState, api_error as error, ask, render_error, store_error};
use crate::driver::Cmd;
use crate::driver::queues::{self, AGENT_KIND, KIND};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, Queue, QueueAgent};
use patchbay_proto::Input;

pub(super) async fn list(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    match queues::queues(&st.sh, &tenant).await {
        Ok(all) => Json(all).into_response(),
        Err(e) => store_error(e),
    }
}

async fn find(st: &AppState, tenant: &str, name: &str) -> Result<Queue, Response> {
    match queues::queues(&st.sh, tenant).await {
        Ok(all) => all
            .into_iter()
            .find(|q| q.name == name)
            .ok_or_else(|| error(ApiErrorKind::NotFound, format!("no queue {name}"))),
        Err(e) => Err(store_error(e)),
    }
}

pub(super) async fn get_one(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    match find(&st, &tenant, &name).await {
        Ok(q) => Json(q).into_response(),
        Err(r) => r,
    }
}

/// Tell the core (callers waiting now go on with it).
async fn tell(st: &AppState, input: Input) -> Result<(), Response> {
    ask(st, |tx| Cmd::Core(Box::new(input), tx))
        .await
        .map_err(render_error)
}

pub(super) async fn put(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let mut q: Queue = match serde_json::from_slice(&body) {
        Ok(q) => q,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    q.name = name;
    if let Err(why) = q.check() {
        return error(ApiErrorKind::BadRequest, why);
    }
    match super::numbers::owner(&st.sh, &tenant, &q.number).await {
        Ok(None) => {}
        Ok(Some(super::numbers::Owner::Queue(n))) if n == q.name => {}
        Ok(Some(o)) => {
            return error(
                ApiErrorKind::InvalidState,
                format!("{} is already {}", q.number, o.describe()),
            );
        }
        Err(e) => return store_error(e),
    }
    for a in &q.agents {
        match st.sh.store.user(&tenant, a).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return error(
                    ApiErrorKind::BadRequest,
                    format!("agents: {a} is not a user of the tenant"),
                );
            }
            Err(e) => return store_error(e),
        }
    }
    let body = serde_json::to_string(&q).unwrap_or_default();
    if let Err(e) = st.sh.store.put_config(&tenant, KIND, &q.name, &body).await {
        return store_error(e);
    }
    let (name, entry) = match queues::entry(&st.sh, &tenant, q).await {
        Ok(e) => (e.queue.name.clone(), e),
        Err(e) => return store_error(e),
    };
    let changed = Input::QueueChanged {
        tenant,
        name,
        entry: Some(Box::new(entry)),
    };
    match tell(&st, changed).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    match st.sh.store.delete_config(&tenant, KIND, &name).await {
        Ok(true) => {}
        Ok(false) => return error(ApiErrorKind::NotFound, format!("no queue {name}")),
        Err(e) => return store_error(e),
    }
    // Its agents' states go with it.
    let states = match queues::agent_states(&st.sh, &tenant, &name).await {
        Ok(s) => s,
        Err(e) => return store_error(e),
    };
    for agent in states.keys() {
        let key = format!("{name}/{agent}");
        if let Err(e) = st.sh.store.delete_config(&tenant, AGENT_KIND, &key).await {
            return store_error(e);
        }
    }
    let changed = Input::QueueChanged {
        tenant,
        name,
        entry: None,
    };
    match tell(&st, changed).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

pub(super) async fn agents(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    let q = match find(&st, &tenant, &name).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    let states = match queues::agent_states(&st.sh, &tenant, &name).await {
        Ok(s) => s,
        Err(e) => return store_error(e),
    };
    let list: Vec<QueueAgent> = q
        .agents
        .into_iter()
        .map(|agent| QueueAgent {
            state: states.get(&agent).copied().unwrap_or_default(),
            agent,
        })
        .collect();
    Json(list).into_response()
}

pub(super) async fn set_agent(
    State(st): State<AppState>,
    Path((tenant, name, agent)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let a: QueueAgent = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    let q = match find(&st, &tenant, &name).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    if !q.agents.contains(&agent) {
        return error(
            ApiErrorKind::NotFound,
            format!("{agent} is no agent of queue {name}"),
        );
    }
    if let Err(e) = queues::set_agent(&st.sh, &tenant, &name, &agent, a.state).await {
        return store_error(e);
    }
    st.sh
        .metrics
        .queue_agent_changes
        .with_label_values(&[a.state.as_str(), "api"])
        .inc();
    let changed = Input::QueueAgent {
        tenant,
        queue: name,
        agent,
        state: a.state,
    };
    match tell(&st, changed).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

/// The live calls: from the core when it knows the queue (no store read: a wallboard polls
/// this), else none if the queue exists.
pub(super) async fn calls(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    let (t, n) = (tenant.clone(), name.clone());
    match ask(&st, |tx| Cmd::QueueCalls(t, n, tx)).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => match find(&st, &tenant, &name).await {
            Ok(_) => Json(Vec::<patchbay_api::QueueCall>::new()).into_response(),
            Err(r) => r,
        },
        Err(e) => render_error(e),
    }
}

/// A call-centre call (`queue` on an originate) comes from one of the queue's agents.
pub(super) async fn check_call(
    st: &AppState,
    tenant: &str,
    req: &patchbay_api::OriginateRequest,
) -> Result<(), Response> {
    let Some(q) = &req.queue else {
        return Ok(());
    };
    let all = queues::queues(&st.sh, tenant).await.map_err(store_error)?;
    let agent = all
        .iter()
        .any(|x| x.name == *q && x.agents.contains(&req.from));
    if req.app || !agent {
        return Err(error(
            ApiErrorKind::BadRequest,
            format!("queue: {} is no agent of queue {q}", req.from),
        ));
    }
    Ok(())
}
