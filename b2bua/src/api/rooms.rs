//! A tenant's conference rooms (dial-in): `GET /v1/tenants/{t}/conference-rooms`,
//! `GET|PUT|DELETE /v1/tenants/{t}/conference-rooms/{name}` ([`ConferenceRoom`]). Stored as
//! the tenant's `conference` objects; this node's cache is refreshed at once (other nodes
//! within its 10 s lifetime). Who is in a room: `GET /v1/conferences/{name}?tenant=`.

use super::{AppState, api_error as error, store_error};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, ConferenceRoom};

pub(super) async fn list(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    match st.sh.store.tenant(&tenant).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(ApiErrorKind::NotFound, format!("no tenant {tenant}")),
        Err(e) => return store_error(e),
    }
    match st.sh.conference_rooms(&tenant).await {
        Ok(v) => Json(v.as_ref().clone()).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn get_one(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    match st.sh.conference_rooms(&tenant).await {
        Ok(v) => match v.iter().find(|r| r.name == name) {
            Some(r) => Json(r.clone()).into_response(),
            None => error(ApiErrorKind::NotFound, format!("no conference room {name}")),
        },
        Err(e) => store_error(e),
    }
}

pub(super) async fn put(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let mut room: ConferenceRoom = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    room.name = name;
    if let Err(why) = room.check() {
        return error(ApiErrorKind::BadRequest, why);
    }
    // The extension is the room's alone.
    match super::numbers::owner(&st.sh, &tenant, &room.extension).await {
        Ok(None) => {}
        Ok(Some(super::numbers::Owner::Room(n))) if n == room.name => {}
        Ok(Some(o)) => {
            let why = format!("{} is already {}", room.extension, o.describe());
            return error(ApiErrorKind::InvalidState, why);
        }
        Err(e) => return store_error(e),
    }
    let body = serde_json::to_string(&room).unwrap_or_default();
    match st
        .sh
        .store
        .put_config(&tenant, "conference", &room.name, &body)
        .await
    {
        Ok(()) => {
            st.sh.rooms.invalidate(&tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => store_error(e),
    }
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    match st
        .sh
        .store
        .delete_config(&tenant, "conference", &name)
        .await
    {
        Ok(true) => {
            st.sh.rooms.invalidate(&tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => error(ApiErrorKind::NotFound, format!("no conference room {name}")),
        Err(e) => store_error(e),
    }
}
