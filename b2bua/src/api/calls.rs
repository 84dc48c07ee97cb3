//! One call's control: `GET /v1/calls`, `GET|DELETE /v1/calls/{id}`, `.../media`,
//! `.../start`, `.../transfer`, `.../forward`, `.../join`, `.../hold`, `.../unhold`.

use super::{AppState, ask, check_party, render_error};
use crate::driver::{Cmd, CmdError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, CallId, TransferRequest};

pub(super) async fn list(State(st): State<AppState>) -> Response {
    match ask(&st, Cmd::List).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn detail(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match ask(&st, |tx| Cmd::Get(CallId(id), tx)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn media(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match ask(&st, |tx| Cmd::Media(CallId(id), tx)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn start(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match ask(&st, |tx| Cmd::Start(CallId(id), tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn hangup(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match ask(&st, |tx| Cmd::Hangup(CallId(id), tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn transfer(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let req: TransferRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return render_error(CmdError {
                kind: ApiErrorKind::BadRequest,
                message: e.to_string(),
            });
        }
    };
    let mut req = req;
    let tenant = match ask(&st, |tx| Cmd::Get(CallId(id.clone()), tx)).await {
        Ok(info) => info.tenant,
        Err(e) => return render_error(e),
    };
    let trunked = match check_party(&st, &tenant, &mut req.target).await {
        Ok(t) => t,
        Err(e) => return render_error(e),
    };
    match ask(&st, |tx| Cmd::Transfer(CallId(id), req, trunked, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn forward(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mut req: patchbay_api::ForwardRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return render_error(CmdError {
                kind: ApiErrorKind::BadRequest,
                message: e.to_string(),
            });
        }
    };
    let tenant = match ask(&st, |tx| Cmd::Get(CallId(id.clone()), tx)).await {
        Ok(info) => info.tenant,
        Err(e) => return render_error(e),
    };
    let trunked = match check_party(&st, &tenant, &mut req.target).await {
        Ok(t) => t,
        Err(e) => return render_error(e),
    };
    match ask(&st, |tx| Cmd::Forward(CallId(id), req.target, trunked, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn join(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let req: patchbay_api::JoinRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return render_error(CmdError {
                kind: ApiErrorKind::BadRequest,
                message: e.to_string(),
            });
        }
    };
    match ask(&st, |tx| Cmd::Join(CallId(id), req, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn hold(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match ask(&st, |tx| Cmd::Hold(CallId(id), true, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn unhold(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    match ask(&st, |tx| Cmd::Hold(CallId(id), false, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}
