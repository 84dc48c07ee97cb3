//! A tenant's auto-attendants: `GET /v1/tenants/{t}/auto-attendants`,
//! `GET|PUT|DELETE /v1/tenants/{t}/auto-attendants/{id}` ([`AutoAttendant`]),
//! `GET|PUT /v1/tenants/{t}/auto-attendants-special-mode` ([`SpecialMode`]). Stored as the
//! tenant's `attendant` objects; read per call (a change moves the very next call).

use super::{AppState, api_error as error, store_error};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, AutoAttendant, SpecialMode};

pub(super) async fn list(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    match crate::driver::attendant::attendants(&st.sh, &tenant).await {
        Ok((all, _)) => Json(all).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn get_one(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    match crate::driver::attendant::attendants(&st.sh, &tenant).await {
        Ok((all, _)) => match all.into_iter().find(|a| a.id == id) {
            Some(a) => Json(a).into_response(),
            None => error(ApiErrorKind::NotFound, format!("no auto-attendant {id}")),
        },
        Err(e) => store_error(e),
    }
}

pub(super) async fn put(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let mut a: AutoAttendant = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    a.id = id;
    if let Err(why) = a.check() {
        return error(ApiErrorKind::BadRequest, why);
    }
    // The number is the attendant's alone.
    match super::numbers::owner(&st.sh, &tenant, &a.number).await {
        Ok(None) => {}
        Ok(Some(super::numbers::Owner::Attendant(id))) if id == a.id => {}
        Ok(Some(o)) => {
            let why = format!("{} is already {}", a.number, o.describe());
            return error(ApiErrorKind::InvalidState, why);
        }
        Err(e) => return store_error(e),
    }
    let body = serde_json::to_string(&a).unwrap_or_default();
    match st
        .sh
        .store
        .put_config(&tenant, "attendant", &a.id, &body)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    match st.sh.store.delete_config(&tenant, "attendant", &id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(ApiErrorKind::NotFound, format!("no auto-attendant {id}")),
        Err(e) => store_error(e),
    }
}

pub(super) async fn special_mode(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
) -> Response {
    match crate::driver::attendant::attendants(&st.sh, &tenant).await {
        Ok((_, mode)) => Json(mode).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn set_special_mode(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mode: SpecialMode = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    if let Some(id) = &mode.attendant {
        match crate::driver::attendant::attendants(&st.sh, &tenant).await {
            Ok((all, _)) if all.iter().any(|a| a.id == *id) => {}
            Ok(_) => return error(ApiErrorKind::BadRequest, format!("attendant: no {id}")),
            Err(e) => return store_error(e),
        }
    } else if mode.enabled {
        return error(
            ApiErrorKind::BadRequest,
            "attendant: which one, when enabled",
        );
    }
    let body = serde_json::to_string(&mode).unwrap_or_default();
    match st
        .sh
        .store
        .put_config(&tenant, "attendant-special", "mode", &body)
        .await
    {
        Ok(()) => Json(mode).into_response(),
        Err(e) => store_error(e),
    }
}
