//! A tenant's trunks, dial plan and inbound numbers:
//! `GET /v1/tenants/{t}/trunks`, `GET|PUT|DELETE /v1/tenants/{t}/trunks/{name}` ([`Trunk`]),
//! `GET|PUT /v1/tenants/{t}/dialplan` (`[DialRule]`), `GET /v1/tenants/{t}/dids`,
//! `PUT|DELETE /v1/tenants/{t}/dids/{number}` (`{"destination": ...}`). Written to the store;
//! this node's trunk table and dial-plan cache are refreshed at once (other nodes within
//! `trunk_sync_secs` and 10 s).

use super::{AppState, api_error as error, store_error};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_api::{ApiErrorKind, DialRule, Did, Trunk, trunk_name_ok};

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

async fn tenant_known(st: &AppState, tenant: &str) -> Result<(), Response> {
    match st.sh.store.tenant(tenant).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(error(ApiErrorKind::NotFound, format!("no tenant {tenant}"))),
        Err(e) => Err(store_error(e)),
    }
}

async fn reload(st: &AppState) -> Response {
    match crate::trunks::reload(&st.sh).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn list(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    if let Err(r) = tenant_known(&st, &tenant).await {
        return r;
    }
    match st.sh.store.trunks(Some(&tenant)).await {
        Ok(v) => Json(v.into_iter().map(|(_, t)| t).collect::<Vec<_>>()).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn get_one(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    match st.sh.store.trunks(Some(&tenant)).await {
        Ok(v) => match v.into_iter().find(|(_, t)| t.name == name) {
            Some((_, t)) => Json(t).into_response(),
            None => error(ApiErrorKind::NotFound, format!("no trunk {name}")),
        },
        Err(e) => store_error(e),
    }
}

pub(super) async fn put(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if !trunk_name_ok(&name) {
        return error(
            ApiErrorKind::BadRequest,
            "a trunk name is 1-64 of a-z A-Z 0-9 - _ .",
        );
    }
    let mut t: Trunk = match json(&body) {
        Ok(t) => t,
        Err(e) => return error(ApiErrorKind::BadRequest, e),
    };
    t.name = name;
    t.host = t.host.trim().to_ascii_lowercase();
    if let Err(why) = t.check() {
        return error(ApiErrorKind::BadRequest, why);
    }
    match st.sh.store.put_trunk(&tenant, &t).await {
        Ok(()) => reload(&st).await,
        Err(e) => store_error(e),
    }
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    match st.sh.store.delete_trunk(&tenant, &name).await {
        Ok(true) => reload(&st).await,
        Ok(false) => error(ApiErrorKind::NotFound, format!("no trunk {name}")),
        Err(e) => store_error(e),
    }
}

pub(super) async fn dialplan(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    if let Err(r) = tenant_known(&st, &tenant).await {
        return r;
    }
    match st.sh.store.dialplan(&tenant).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn set_dialplan(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let rules: Vec<DialRule> = match json(&body) {
        Ok(r) => r,
        Err(e) => return error(ApiErrorKind::BadRequest, e),
    };
    if rules.len() > 256 {
        return error(
            ApiErrorKind::BadRequest,
            "a dial plan has at most 256 rules",
        );
    }
    let trunks = match st.sh.store.trunks(Some(&tenant)).await {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    for r in &rules {
        if let Err(why) = patchbay_proto::dialplan::check_rule(r) {
            return error(ApiErrorKind::BadRequest, why);
        }
        if let Some(name) = &r.trunk
            && !trunks.iter().any(|(_, t)| &t.name == name)
        {
            return error(
                ApiErrorKind::BadRequest,
                format!("{}: no trunk {name}", r.pattern),
            );
        }
    }
    match st.sh.store.set_dialplan(&tenant, &rules).await {
        Ok(()) => {
            st.sh.dialplans.invalidate(&tenant);
            Json(rules).into_response()
        }
        Err(e) => store_error(e),
    }
}

pub(super) async fn dids(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    if let Err(r) = tenant_known(&st, &tenant).await {
        return r;
    }
    match st.sh.store.dids(&tenant, None).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DidBody {
    destination: String,
    #[serde(default)]
    cti_url: Option<String>,
}

pub(super) async fn put_did(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if !patchbay_api::app_number_ok(&number) {
        return error(
            ApiErrorKind::BadRequest,
            "a DID is 1-32 digits, * or #, with an optional leading +",
        );
    }
    let b: DidBody = match json(&body) {
        Ok(b) => b,
        Err(e) => return error(ApiErrorKind::BadRequest, e),
    };
    // A DID leads to one of the tenant's users or application numbers.
    let user = match st.sh.store.user(&tenant, &b.destination).await {
        Ok(u) => u.is_some(),
        Err(e) => return store_error(e),
    };
    let group = match st.sh.ring_group(&tenant, &b.destination).await {
        Ok(g) => g.is_some(),
        Err(e) => return store_error(e),
    };
    if !user && !group && st.sh.is_app_number(&tenant, &b.destination).await != Some(true) {
        return error(
            ApiErrorKind::BadRequest,
            format!(
                "{} is not a user, ring group or application number of the tenant",
                b.destination
            ),
        );
    }
    let d = Did {
        number,
        destination: b.destination,
        cti_url: b.cti_url,
    };
    if let Err(why) = d.check() {
        return error(ApiErrorKind::BadRequest, why);
    }
    match st.sh.store.put_did(&tenant, &d).await {
        Ok(()) => Json(d).into_response(),
        Err(e) => store_error(e),
    }
}

pub(super) async fn delete_did(
    State(st): State<AppState>,
    Path((tenant, number)): Path<(String, String)>,
) -> Response {
    match st.sh.store.delete_did(&tenant, &number).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(ApiErrorKind::NotFound, format!("no DID {number}")),
        Err(e) => store_error(e),
    }
}
