//! Idempotency keys of `POST /v1/calls` (`OriginateRequest::request_key`): the first request
//! with a tenant's key claims it in the store for the call id it is about to make; a repeat
//! (on any node) gets that call, or 409 while it may still be in the making. A claim whose
//! call never appeared (its node died between the claim and the call) is taken over after
//! [`GRACE_MS`].

use crate::driver::{CmdError, Shared, now_ms};
use patchbay_api::{ApiErrorKind, CallId, CallInfo, CallState, Event, EventKind, Side};

/// How long a claimed key may name a call not seen yet before a repeat takes it over.
const GRACE_MS: u64 = 15_000;

pub(super) enum Keyed {
    /// Make the call with this id.
    New(CallId),
    /// The call an earlier request with the key made.
    Made(CallInfo),
}

fn unavailable(e: impl std::fmt::Display) -> CmdError {
    CmdError {
        kind: ApiErrorKind::Unavailable,
        message: e.to_string(),
    }
}

pub(super) async fn claim(sh: &Shared, tenant: &str, key: &str) -> Result<Keyed, CmdError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CmdError {
            kind: ApiErrorKind::BadRequest,
            message: "request_key: 1 to 255 visible ASCII characters".into(),
        });
    }
    let id = sh.new_call_id();
    let now = now_ms();
    let Some((old, at)) = sh
        .store
        .claim_request_key(tenant, key, &id, now)
        .await
        .map_err(unavailable)?
    else {
        return Ok(Keyed::New(id));
    };
    if let Some(info) = made(sh, &old).await? {
        return Ok(Keyed::Made(info));
    }
    let in_progress = CmdError {
        kind: ApiErrorKind::InvalidState,
        message: "a request with this key is still being served; repeat it later".into(),
    };
    if now.saturating_sub(at) < GRACE_MS {
        return Err(in_progress);
    }
    let taken = sh
        .store
        .retake_request_key(tenant, key, &old, &id, now)
        .await
        .map_err(unavailable)?;
    if taken {
        Ok(Keyed::New(id))
    } else {
        Err(in_progress)
    }
}

/// Free the key of a request that made no call.
pub(super) async fn release(sh: &Shared, tenant: &str, key: &str, id: &CallId) {
    if let Err(e) = sh.store.release_request_key(tenant, key, id).await {
        tracing::warn!(error = %e, "idempotency key not released");
    }
}

/// The call `id` as it stands, if it was ever made: this node's own, or from the store's
/// event log (another node's).
async fn made(sh: &Shared, id: &CallId) -> Result<Option<CallInfo>, CmdError> {
    if let Some(info) = sh.log.info(id) {
        return Ok(Some(info));
    }
    let events = sh.store.call_events(id, 0).await.map_err(unavailable)?;
    Ok(info_from_events(id, &events))
}

/// A call's summary from its events (`None`: no `created` among them).
fn info_from_events(id: &CallId, events: &[Event]) -> Option<CallInfo> {
    let first = events.first()?;
    let EventKind::Created { tenant, from, to } = &first.kind else {
        return None;
    };
    let mut info = CallInfo {
        id: id.clone(),
        tenant: tenant.clone(),
        from: from.clone(),
        to: to.clone(),
        state: CallState::Created,
        connected: None,
        created_ms: first.at_ms,
        answered_ms: None,
        ended_ms: None,
        app: false,
        held: false,
    };
    for e in events {
        match &e.kind {
            EventKind::Ringing { .. } if info.state == CallState::Created => {
                info.state = CallState::Ringing;
            }
            EventKind::Answered {
                side: Side::B,
                party,
            } => info.connected = Some(party.clone()),
            EventKind::Bridged => {
                info.state = CallState::Bridged;
                info.answered_ms = Some(e.at_ms);
            }
            EventKind::Held => info.held = true,
            EventKind::Resumed => info.held = false,
            EventKind::Ended { .. } => {
                info.state = CallState::Ended;
                info.ended_ms = Some(e.at_ms);
            }
            _ => {}
        }
    }
    Some(info)
}
