//! The control API server (see `patchbay_api` for the endpoints), `/metrics` and `/health`.

use crate::driver::{Cmd, CmdError, Shared, now_ms};
use crate::policy;

mod app_numbers;
mod attendants;
mod calls;
mod groups;
mod media;
mod numbers;
mod queues;
pub(crate) mod recordings;
mod request_key;
mod rooms;
mod trunks;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use patchbay_api::{ApiErrorBody, ApiErrorKind, CallId, OriginateRequest};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) cmd: mpsc::Sender<Cmd>,
    pub(crate) sh: Arc<Shared>,
}

/// The one place control-API errors become HTTP responses.
pub(super) fn render_error(e: CmdError) -> Response {
    let status =
        StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(ApiErrorBody {
            error: e.kind,
            message: e.message,
        }),
    )
        .into_response()
}

/// An error of `kind` as the control API renders it.
pub(super) fn api_error(kind: ApiErrorKind, message: impl Into<String>) -> Response {
    render_error(CmdError {
        kind,
        message: message.into(),
    })
}

/// A store error as the control API renders it (an unknown tenant is not found).
pub(super) fn store_error(e: patchbay_store::StoreError) -> Response {
    match e {
        patchbay_store::StoreError::UnknownTenant(t) => {
            api_error(ApiErrorKind::NotFound, format!("no tenant {t}"))
        }
        e => api_error(ApiErrorKind::Unavailable, e.to_string()),
    }
}

pub(super) async fn ask<T>(
    st: &AppState,
    make: impl FnOnce(oneshot::Sender<Result<T, CmdError>>) -> Cmd,
) -> Result<T, CmdError> {
    let (tx, rx) = oneshot::channel();
    let unavailable = || CmdError {
        kind: ApiErrorKind::Unavailable,
        message: "b2bua is shutting down".into(),
    };
    // A full queue means the loop is saturated: shed instead of queueing.
    st.cmd.try_send(make(tx)).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => CmdError {
            kind: ApiErrorKind::Overloaded,
            message: "command queue full".into(),
        },
        mpsc::error::TrySendError::Closed(_) => unavailable(),
    })?;
    rx.await.map_err(|_| unavailable())?
}

/// Every route but `/health` (and `/metrics` when `metrics_open`) needs
/// `Authorization: Bearer <control_token>`; else 401, counted by reason.
async fn require_token(
    State(st): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    if path == "/health" || (path == "/metrics" && st.sh.cfg.metrics_open) {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let refused = match given {
        None => Some("missing"),
        Some(t) if !same_secret(t.trim().as_bytes(), st.sh.cfg.control_token.as_bytes()) => {
            Some("wrong")
        }
        Some(_) => None,
    };
    match refused {
        None => next.run(req).await,
        Some(reason) => {
            st.sh
                .metrics
                .control_unauthorized
                .with_label_values(&[reason])
                .inc();
            let mut r = render_error(CmdError {
                kind: ApiErrorKind::Unauthorized,
                message: format!("bearer token {reason}"),
            });
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"patchbay-b2bua\""),
            );
            r
        }
    }
}

/// Equal secrets, in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn router(st: AppState) -> axum::Router {
    axum::Router::new()
        .route("/v1/calls", post(originate).get(calls::list))
        .route("/v1/calls/{id}", get(calls::detail).delete(calls::hangup))
        .route("/v1/calls/{id}/start", post(calls::start))
        .route("/v1/calls/{id}/transfer", post(calls::transfer))
        .route("/v1/calls/{id}/join", post(calls::join))
        .route("/v1/calls/{id}/forward", post(calls::forward))
        .route("/v1/calls/{id}/hold", post(calls::hold))
        .route("/v1/calls/{id}/unhold", post(calls::unhold))
        .route("/v1/calls/{id}/events", get(call_events))
        .route("/v1/calls/{id}/media", get(calls::media))
        .route("/v1/calls/{id}/play", post(media::play))
        .route("/v1/calls/{id}/collect", post(media::collect))
        .route("/v1/calls/{id}/dtmf", post(media::dtmf))
        .route("/v1/calls/{id}/tone", post(media::tone))
        .route("/v1/calls/{id}/stop", post(media::stop))
        .route("/v1/calls/{id}/record", post(media::record))
        .route("/v1/calls/{id}/hold_music", post(media::hold_music))
        .route("/v1/calls/{id}/conference", post(media::conference))
        .route("/v1/calls/{id}/mute", post(media::mute))
        .route("/v1/conferences/{room}", get(media::members))
        .route("/v1/tenants/{tenant}/app-numbers", get(app_numbers::list))
        .route(
            "/v1/tenants/{tenant}/app-numbers/{number}",
            axum::routing::put(app_numbers::put).delete(app_numbers::delete),
        )
        .route("/v1/tenants/{tenant}/trunks", get(trunks::list))
        .route(
            "/v1/tenants/{tenant}/trunks/{name}",
            get(trunks::get_one).put(trunks::put).delete(trunks::delete),
        )
        .route(
            "/v1/tenants/{tenant}/dialplan",
            get(trunks::dialplan).put(trunks::set_dialplan),
        )
        .route("/v1/tenants/{tenant}/dids", get(trunks::dids))
        .route(
            "/v1/tenants/{tenant}/dids/{number}",
            axum::routing::put(trunks::put_did).delete(trunks::delete_did),
        )
        .route(
            "/v1/tenants/{tenant}/auto-attendants",
            get(attendants::list),
        )
        .route(
            "/v1/tenants/{tenant}/auto-attendants/{id}",
            get(attendants::get_one)
                .put(attendants::put)
                .delete(attendants::delete),
        )
        .route(
            "/v1/tenants/{tenant}/auto-attendants-special-mode",
            get(attendants::special_mode).put(attendants::set_special_mode),
        )
        .route("/v1/tenants/{tenant}/conference-rooms", get(rooms::list))
        .route(
            "/v1/tenants/{tenant}/conference-rooms/{name}",
            get(rooms::get_one).put(rooms::put).delete(rooms::delete),
        )
        .route("/v1/tenants/{tenant}/queues", get(queues::list))
        .route(
            "/v1/tenants/{tenant}/queues/{name}",
            get(queues::get_one).put(queues::put).delete(queues::delete),
        )
        .route(
            "/v1/tenants/{tenant}/queues/{name}/agents",
            get(queues::agents),
        )
        .route(
            "/v1/tenants/{tenant}/queues/{name}/agents/{ext}",
            axum::routing::put(queues::set_agent),
        )
        .route(
            "/v1/tenants/{tenant}/queues/{name}/calls",
            get(queues::calls),
        )
        .route("/v1/tenants/{tenant}/groups", get(groups::list))
        .route(
            "/v1/tenants/{tenant}/groups/{number}",
            get(groups::get_one).put(groups::put).delete(groups::delete),
        )
        .route("/v1/recordings", get(recordings::list))
        .route(
            "/v1/recordings/{id}",
            get(recordings::download).delete(recordings::delete),
        )
        .route(
            "/v1/tenants/{tenant}/recording",
            get(recordings::policy).put(recordings::set_policy),
        )
        .route("/v1/events", get(all_events))
        .route("/v1/registrations", get(registrations))
        .route("/v1/cdrs", get(cdrs))
        .route("/v1/sip/messages", post(sip_message))
        .route("/v1/trunk-registrations", get(trunk_registrations))
        .route("/v1/channels", get(channels))
        .route("/metrics", get(metrics))
        .route("/health", get(|| async { "ok\n" }))
        .fallback(|| async {
            render_error(CmdError {
                kind: ApiErrorKind::NotFound,
                message: "no such endpoint".into(),
            })
        })
        .layer(axum::middleware::from_fn_with_state(
            st.clone(),
            require_token,
        ))
        .with_state(st)
}

async fn originate(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    let req: OriginateRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return render_error(CmdError {
                kind: ApiErrorKind::BadRequest,
                message: e.to_string(),
            });
        }
    };
    let mut req = req;
    let tenant = req.tenant.clone();
    if req.app && !media::caller_id_ok(&req.from) {
        return render_error(CmdError {
            kind: ApiErrorKind::BadRequest,
            message:
                "from of an application call is a caller id: up to 32 of 0-9 A-Z a-z + * # . _ -"
                    .into(),
        });
    }
    if let Err(r) = queues::check_call(&st, &tenant, &req).await {
        return r;
    }
    let from = (!req.app).then_some(&mut req.from);
    let mut trunked = Vec::new();
    for party in from.into_iter().chain(req.to.iter_mut()) {
        match check_party(&st, &tenant, party).await {
            Ok(Some(t)) => trunked.push(t),
            Ok(None) => {}
            Err(e) => return render_error(e),
        }
    }
    // Calls out through a trunk carry the caller's own outbound caller ID if it has one.
    if !trunked.is_empty()
        && req.caller_id.is_none()
        && !req.app
        && let Ok(Some(s)) = st.sh.store.user_settings(&tenant, &req.from).await
    {
        req.caller_id = s.caller_id;
    }
    // One user called: its routing applies (forwarding, call sequence, mailbox).
    let plan = match req.to.as_slice() {
        [one] if !req.app && trunked.is_empty() && !one.starts_with("sip") => {
            match crate::routing::plan_for(&st.sh, &tenant, one).await {
                Ok(p) => p,
                Err(e) => {
                    return render_error(CmdError {
                        kind: ApiErrorKind::Unavailable,
                        message: e.to_string(),
                    });
                }
            }
        }
        _ => None,
    };
    // The caller's own forwarding, when asked for (a user's, not a trunk's party).
    let caller_plan =
        if req.caller_forwarding && !req.app && trunked.iter().all(|t| t.party != req.from) {
            match crate::routing::plan_for(&st.sh, &tenant, &req.from).await {
                Ok(p) => p,
                Err(e) => {
                    return render_error(CmdError {
                        kind: ApiErrorKind::Unavailable,
                        message: e.to_string(),
                    });
                }
            }
        } else {
            None
        };
    let named = [vec![req.from.clone()], req.to.clone()].concat();
    req.record |= st.sh.recording_policy(&tenant).await.record_calls;
    let key = req.request_key.clone();
    let id = match &key {
        Some(key) => match request_key::claim(&st.sh, &tenant, key).await {
            Ok(request_key::Keyed::New(id)) => Some(id),
            Ok(request_key::Keyed::Made(info)) => {
                return (StatusCode::CREATED, Json(info)).into_response();
            }
            Err(e) => return render_error(e),
        },
        None => None,
    };
    let claimed = id.clone();
    match ask(&st, |tx| {
        Cmd::Originate(
            Box::new(req),
            id,
            trunked,
            plan.map(Box::new),
            caller_plan.map(Box::new),
            tx,
        )
    })
    .await
    {
        Ok(info) => (StatusCode::CREATED, Json(info)).into_response(),
        Err(e) => {
            if e.kind == ApiErrorKind::NotFound {
                count_unrouted(&st, &tenant, &named).await;
            }
            // No call made: the key is free for a repeat.
            if let (Some(key), Some(id)) = (&key, &claimed) {
                request_key::release(&st.sh, &tenant, key, id).await;
            }
            render_error(e)
        }
    }
}

/// Who may be called (see [`crate::policy`]): refuse what the tenant may not reach, before any
/// INVITE (counted); a SIP URI naming this PBX becomes an extension, an allowed one the form
/// the SIP stack will dial; a number the dial plan routes becomes the trunk's URI (`Some`:
/// the target to dial it by).
pub(super) async fn check_party(
    st: &AppState,
    tenant: &str,
    party: &mut String,
) -> Result<Option<patchbay_proto::Target>, CmdError> {
    if party.is_empty() {
        return Ok(None);
    }
    let checked =
        match policy::check(st.sh.store.as_ref(), st.sh.cfg.sip_listen, tenant, party).await {
            Ok(policy::Dest::User(u)) => crate::trunks::route_number(&st.sh, tenant, &u)
                .await
                .map(|t| (u, t)),
            Ok(policy::Dest::Uri(u)) => Ok((u, None)),
            Err(r) => Err(r),
        };
    match checked {
        Ok((u, t)) => {
            *party = t.as_ref().map_or(u, |t| t.uri.clone());
            Ok(t)
        }
        Err(r) => {
            if let Some(reason) = r.reason {
                st.sh
                    .metrics
                    .destinations_refused
                    .with_label_values(&["api", reason])
                    .inc();
            }
            Err(CmdError {
                kind: r.kind,
                message: r.message,
            })
        }
    }
}

/// A call refused as not found: count the parties that are no user of the tenant (numbers no
/// dial plan routes yet). Store reads on this failure path only.
async fn count_unrouted(st: &AppState, tenant: &str, parties: &[String]) {
    for p in parties {
        if p.starts_with("sip:") || p.starts_with("sips:") {
            continue;
        }
        if let Ok(None) = st.sh.store.user(tenant, p).await {
            st.sh
                .metrics
                .destinations_refused
                .with_label_values(&["api", "no_route"])
                .inc();
        }
    }
}

async fn sip_message(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    let req: patchbay_api::SipMessageRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return render_error(CmdError {
                kind: ApiErrorKind::BadRequest,
                message: e.to_string(),
            });
        }
    };
    if let Some(why) = patchbay_api::sip_message_refusal(&req) {
        return render_error(CmdError {
            kind: ApiErrorKind::BadRequest,
            message: why,
        });
    }
    let rx = match ask(&st, |tx| Cmd::SipMessage(req, tx)).await {
        Ok(rx) => rx,
        Err(e) => return render_error(e),
    };
    // The phones' answers come later (up to timer F, 32 s).
    match rx.await {
        Ok(v) => Json(v).into_response(),
        Err(_) => render_error(CmdError {
            kind: ApiErrorKind::Unavailable,
            message: "b2bua is shutting down".into(),
        }),
    }
}

#[derive(serde::Deserialize)]
struct ChannelsQuery {
    tenant: String,
    #[serde(default)]
    names: Option<String>,
}

/// `GET /v1/channels?tenant=T&names=SIP/4003,SIP/4005`: a wallboard's poll.
async fn channels(State(st): State<AppState>, Query(q): Query<ChannelsQuery>) -> Response {
    let names = q.names.map(|n| {
        n.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .take(256)
            .collect()
    });
    match ask(&st, |tx| Cmd::Channels(q.tenant, names, tx)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(e),
    }
}

async fn trunk_registrations(State(st): State<AppState>) -> Response {
    match ask(&st, Cmd::TrunkRegistrations).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(e),
    }
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    wait_ms: u64,
    /// `/v1/events` only: one tenant's calls.
    #[serde(default)]
    tenant: Option<String>,
}

async fn call_events(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let wait = Duration::from_millis(q.wait_ms.min(30_000));
    match st
        .sh
        .log
        .wait_call(&CallId(id.clone()), q.after, wait)
        .await
    {
        Some(v) => Json(v).into_response(),
        None => render_error(CmdError {
            kind: ApiErrorKind::NotFound,
            message: format!("no call {id}"),
        }),
    }
}

async fn all_events(State(st): State<AppState>, Query(q): Query<EventsQuery>) -> Response {
    let wait = Duration::from_millis(q.wait_ms.min(30_000));
    Json(
        st.sh
            .log
            .wait_global(q.after, wait, q.tenant.as_deref())
            .await,
    )
    .into_response()
}

#[derive(serde::Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
    limit: Option<u32>,
}

async fn registrations(State(st): State<AppState>, Query(q): Query<TenantQuery>) -> Response {
    let v = st
        .sh
        .location
        .lock()
        .map(|l| l.list(q.tenant.as_deref(), now_ms()))
        .unwrap_or_default();
    Json(v).into_response()
}

async fn cdrs(State(st): State<AppState>, Query(q): Query<TenantQuery>) -> Response {
    let tenant = q.tenant.unwrap_or_else(|| st.sh.cfg.default_tenant.clone());
    match st
        .sh
        .store
        .cdrs(&tenant, q.limit.unwrap_or(100).min(10_000))
        .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(CmdError {
            kind: ApiErrorKind::Unavailable,
            message: e.to_string(),
        }),
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    (
        [("content-type", "text/plain; version=0.0.4")],
        st.sh.metrics.render(),
    )
        .into_response()
}
