//! A tenant's application numbers: `GET /v1/tenants/{t}/app-numbers`,
//! `PUT|DELETE /v1/tenants/{t}/app-numbers/{number}` (body `{"label": ...}`). Written to the
//! store; this node's cache is refreshed at once (other nodes within its 10 s lifetime).

use super::{AppState, api_error as error, store_error};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, AppNumber, app_number_ok};

pub(super) async fn list(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    match st.sh.store.app_numbers(&tenant).await {
        Ok(v) => Json(
            v.into_iter()
                .map(|n| AppNumber {
                    number: n.number,
                    label: n.label,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Body {
    #[serde(default)]
    label: String,
}

pub(super) async fn put(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if !app_number_ok(&number) {
        return error(
            ApiErrorKind::BadRequest,
            "an application number is 1-32 digits, * or #, with an optional leading +",
        );
    }
    let b: Body = if body.is_empty() {
        Body {
            label: String::new(),
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
        }
    };
    if b.label.len() > 128 {
        return error(ApiErrorKind::BadRequest, "label is at most 128 bytes");
    }
    let n = patchbay_store::AppNumber {
        tenant: tenant.clone(),
        number,
        label: b.label,
    };
    match st.sh.store.put_app_number(&n).await {
        Ok(()) => {
            st.sh.app_numbers.invalidate(&tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => store_error(e),
    }
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
) -> Response {
    match st.sh.store.delete_app_number(&tenant, &number).await {
        Ok(true) => {
            st.sh.app_numbers.invalidate(&tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => error(
            ApiErrorKind::NotFound,
            format!("no application number {number}"),
        ),
        Err(e) => store_error(e),
    }
}
