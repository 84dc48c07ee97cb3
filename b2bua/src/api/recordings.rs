//! Recordings and the tenant's recording policy:
//! `GET /v1/recordings?tenant=&call=&limit=`, `GET|DELETE /v1/recordings/{id}?tenant=`,
//! `GET|PUT /v1/tenants/{tenant}/recording`, and the `record` primitive
//! (`POST /v1/calls/{id}/record`, in `media`). Files are served by tower-http's `ServeFile`
//! (byte ranges, conditional requests, a streamed body); the tenant is part of every lookup.

use super::{AppState, api_error as error, store_error};
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, CallId, RecordLayout, Recording, RecordingPolicy};
use tower::ServiceExt;

#[derive(Debug, serde::Deserialize)]
pub(super) struct ListQuery {
    tenant: String,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct TenantQuery {
    tenant: String,
}

/// The index entry as the API shows it (the path stays inside).
pub(crate) fn to_api(r: patchbay_store::Recording) -> Recording {
    Recording {
        id: r.id,
        call: CallId(r.call_id),
        tenant: r.tenant,
        side: r.side,
        layout: if r.layout == "stereo" {
            RecordLayout::Stereo
        } else {
            RecordLayout::Mono
        },
        started_ms: r.started_ms,
        duration_ms: r.duration_ms,
        bytes: r.bytes,
    }
}

pub(super) async fn list(State(st): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    match st
        .sh
        .store
        .recordings(&q.tenant, q.call.as_deref(), limit)
        .await
    {
        Ok(v) => Json(v.into_iter().map(to_api).collect::<Vec<_>>()).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn download(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TenantQuery>,
    req: Request,
) -> Response {
    let rec = match st.sh.store.recording(&q.tenant, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return error(ApiErrorKind::NotFound, format!("no recording {id}")),
        Err(e) => return store_error(e),
    };
    let (parts, _) = req.into_parts();
    let req = Request::from_parts(parts, axum::body::Body::empty());
    match tower_http::services::ServeFile::new(&rec.path)
        .oneshot(req)
        .await
    {
        Ok(resp) if resp.status() == StatusCode::NOT_FOUND => error(
            ApiErrorKind::NotFound,
            format!("the file of recording {id} is gone"),
        ),
        Ok(resp) => {
            let mut resp = resp.map(axum::body::Body::new);
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            resp
        }
        Err(e) => error(ApiErrorKind::Unavailable, e.to_string()),
    }
}

/// Remove a recording: its index entry, then its file.
pub(super) async fn delete(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TenantQuery>,
) -> Response {
    match st.sh.store.delete_recording(&q.tenant, &id).await {
        Ok(Some(rec)) => {
            remove_file(&rec.path).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => error(ApiErrorKind::NotFound, format!("no recording {id}")),
        Err(e) => store_error(e),
    }
}

/// Delete a recording's file (already gone is fine).
pub(crate) async fn remove_file(path: &str) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path, error = %e, "recording file not deleted");
    }
}

pub(super) async fn policy(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    match st.sh.store.recording_policy(&tenant).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn set_policy(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let p: RecordingPolicy = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return error(ApiErrorKind::BadRequest, e.to_string()),
    };
    if p.retention_days > 36_500 {
        return error(ApiErrorKind::BadRequest, "retention_days is at most 36500");
    }
    match st.sh.store.set_recording_policy(&tenant, &p).await {
        Ok(()) => {
            st.sh.policies.insert(tenant, p);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => store_error(e),
    }
}
