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

/// A JSON body, or why it is none (a 400).
fn body<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, CmdError> {
    serde_json::from_slice(b).map_err(|e| CmdError {
        kind: ApiErrorKind::BadRequest,
        message: e.to_string(),
    })
}

/// 202 once the driver took the command, else its error.
async fn accepted(
    st: &AppState,
    cmd: impl FnOnce(tokio::sync::oneshot::Sender<Result<(), CmdError>>) -> Cmd,
) -> Response {
    match ask(st, cmd).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

/// A party a command sends the call to: checked against the call's tenant (its trunk target
/// when the dial plan routes it out).
async fn routed_party(
    st: &AppState,
    id: &str,
    party: &mut String,
) -> Result<Option<patchbay_proto::Target>, CmdError> {
    let tenant = ask(st, |tx| Cmd::Get(CallId(id.to_string()), tx))
        .await?
        .tenant;
    check_party(st, &tenant, party).await
}

pub(super) async fn start(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    accepted(&st, |tx| Cmd::Start(CallId(id), tx)).await
}

pub(super) async fn hangup(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    accepted(&st, |tx| Cmd::Hangup(CallId(id), tx)).await
}

pub(super) async fn transfer(
    State(st): State<AppState>,
    Path(id): Path<String>,
    b: axum::body::Bytes,
) -> Response {
    let mut req: TransferRequest = match body(&b) {
        Ok(r) => r,
        Err(e) => return render_error(e),
    };
    let trunked = match routed_party(&st, &id, &mut req.target).await {
        Ok(t) => t,
        Err(e) => return render_error(e),
    };
    accepted(&st, |tx| Cmd::Transfer(CallId(id), req, trunked, tx)).await
}

pub(super) async fn forward(
    State(st): State<AppState>,
    Path(id): Path<String>,
    b: axum::body::Bytes,
) -> Response {
    let mut req: patchbay_api::ForwardRequest = match body(&b) {
        Ok(r) => r,
        Err(e) => return render_error(e),
    };
    let trunked = match routed_party(&st, &id, &mut req.target).await {
        Ok(t) => t,
        Err(e) => return render_error(e),
    };
    accepted(&st, |tx| Cmd::Forward(CallId(id), req.target, trunked, tx)).await
}

pub(super) async fn join(
    State(st): State<AppState>,
    Path(id): Path<String>,
    b: axum::body::Bytes,
) -> Response {
    match body::<patchbay_api::JoinRequest>(&b) {
        Ok(req) => accepted(&st, |tx| Cmd::Join(CallId(id), req, tx)).await,
        Err(e) => render_error(e),
    }
}

pub(super) async fn hold(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    accepted(&st, |tx| Cmd::Hold(CallId(id), true, tx)).await
}

pub(super) async fn unhold(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    accepted(&st, |tx| Cmd::Hold(CallId(id), false, tx)).await
}
