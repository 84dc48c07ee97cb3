//! Media primitives on a call: `POST /v1/calls/{id}/play|collect|dtmf|tone|record|conference|stop`
//! (and `mute`, `GET /v1/conferences/{room}`). Each primitive returns
//! 202 with the command id at once; the command's end comes as an event.

use super::{AppState, ask, render_error};
use crate::driver::{Cmd, CmdError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{
    ApiErrorKind, CallId, CollectRequest, CommandAccepted, DtmfRequest, MediaOp, PlayRequest,
    StopRequest, ToneRequest,
};
use serde::de::DeserializeOwned;

fn bad(message: impl Into<String>) -> Response {
    render_error(CmdError {
        kind: ApiErrorKind::BadRequest,
        message: message.into(),
    })
}

/// A caller id an application call may show: empty, or up to 32 of `0-9 A-Z a-z + * # . _ -`.
pub(super) fn caller_id_ok(s: &str) -> bool {
    s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))
}

async fn primitive<T: DeserializeOwned>(
    st: AppState,
    id: String,
    body: &[u8],
    wrap: fn(T) -> MediaOp,
) -> Response {
    let op = match serde_json::from_slice::<T>(body) {
        Ok(r) => wrap(r),
        Err(e) => return bad(e.to_string()),
    };
    if let Some(why) = op.refusal() {
        return bad(why);
    }
    match ask(&st, |tx| Cmd::Primitive(CallId(id), op, tx)).await {
        Ok(command) => (StatusCode::ACCEPTED, Json(CommandAccepted { command })).into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn play(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<PlayRequest>(st, id, &body, MediaOp::Play).await
}

pub(super) async fn hold_music(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<patchbay_api::HoldMusicRequest>(st, id, &body, |h| MediaOp::Play(h.into())).await
}

pub(super) async fn collect(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<CollectRequest>(st, id, &body, MediaOp::Collect).await
}

pub(super) async fn dtmf(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<DtmfRequest>(st, id, &body, MediaOp::Dtmf).await
}

pub(super) async fn tone(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<ToneRequest>(st, id, &body, MediaOp::Tone).await
}

pub(super) async fn record(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<patchbay_api::RecordRequest>(st, id, &body, MediaOp::Record).await
}

pub(super) async fn conference(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    primitive::<patchbay_api::ConferenceRequest>(st, id, &body, MediaOp::Conference).await
}

pub(super) async fn mute(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let req: patchbay_api::MuteRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(e.to_string()),
    };
    match ask(&st, |tx| Cmd::Mute(CallId(id), req, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct TenantQuery {
    tenant: String,
}

/// The members of a tenant's room (`[]`: nobody is in it).
pub(super) async fn members(
    State(st): State<AppState>,
    Path(room): Path<String>,
    axum::extract::Query(q): axum::extract::Query<TenantQuery>,
) -> Response {
    if !patchbay_api::room_name_ok(&room) {
        return bad("room must be 1-64 of letters, digits, '.', '_', '-'");
    }
    match ask(&st, |tx| Cmd::Conference(q.tenant, room, tx)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => render_error(e),
    }
}

pub(super) async fn stop(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let req: StopRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(e.to_string()),
    };
    match ask(&st, |tx| Cmd::StopPrimitive(CallId(id), req.command, tx)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => render_error(e),
    }
}
