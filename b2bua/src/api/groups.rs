//! A tenant's ring groups: `GET /v1/tenants/{t}/groups`,
//! `GET|PUT|DELETE /v1/tenants/{t}/groups/{number}` ([`RingGroup`]). Written to the store; this
//! node's cache is refreshed at once (other nodes within its 10 s lifetime).

use super::{AppState, api_error as error, store_error};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, RingGroup};

pub(super) async fn list(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    match st.sh.store.tenant(&tenant).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(ApiErrorKind::NotFound, format!("no tenant {tenant}")),
        Err(e) => return store_error(e),
    }
    match st.sh.store.ring_groups(&tenant).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn get_one(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
) -> Response {
    match st.sh.store.ring_groups(&tenant).await {
        Ok(v) => match v.into_iter().find(|g| g.number == number) {
            Some(g) => Json(g).into_response(),
            None => error(ApiErrorKind::NotFound, format!("no group {number}")),
        },
        Err(e) => store_error(e),
    }
}

pub(super) async fn put(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let mut g: RingGroup = match serde_json::from_slice(&body) {
        Ok(g) => g,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    g.number = number;
    if let Err(why) = g.check() {
        return error(ApiErrorKind::BadRequest, why);
    }
    // The number is the group's alone; its members are users.
    let store = &st.sh.store;
    match store.user(&tenant, &g.number).await {
        Ok(Some(_)) => {
            return error(
                ApiErrorKind::InvalidState,
                format!("{} is a user's extension", g.number),
            );
        }
        Ok(None) => {}
        Err(e) => return store_error(e),
    }
    if st.sh.is_app_number(&tenant, &g.number).await == Some(true) {
        return error(
            ApiErrorKind::InvalidState,
            format!("{} is an application number", g.number),
        );
    }
    match super::numbers::owner(&st.sh, &tenant, &g.number).await {
        Ok(Some(
            o @ (super::numbers::Owner::Room(_)
            | super::numbers::Owner::Attendant(_)
            | super::numbers::Owner::Queue(_)),
        )) => {
            let why = format!("{} is already {}", g.number, o.describe());
            return error(ApiErrorKind::InvalidState, why);
        }
        Ok(_) => {}
        Err(e) => return store_error(e),
    }
    for m in &g.members {
        match store.user(&tenant, &m.ext).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return error(
                    ApiErrorKind::BadRequest,
                    format!("members: {} is not a user of the tenant", m.ext),
                );
            }
            Err(e) => return store_error(e),
        }
    }
    match store.put_ring_group(&tenant, &g).await {
        Ok(()) => {
            st.sh.groups.invalidate(&tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => store_error(e),
    }
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
) -> Response {
    match st.sh.store.delete_ring_group(&tenant, &number).await {
        Ok(true) => {
            st.sh.groups.invalidate(&tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => error(ApiErrorKind::NotFound, format!("no group {number}")),
        Err(e) => store_error(e),
    }
}
