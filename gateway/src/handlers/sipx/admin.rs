//! sipXconfig's live calls (`/my/activecdrs`, admin `/activecdrs/{user}`) and
//! auto-attendant administration (`/auto-attendant`, `/auto-attendant/specialmode`,
//! `/auto-attendant/{id}/special`).

use super::Rest;
use crate::auth::now_ms;
use crate::handlers::{Ctx, Reply, db};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::vendors::sipx::docs::{self, ActiveCall};
use patchbay_gateway_proto::vendors::sipx::render_no_content;
use patchbay_gateway_proto::vendors::sipx::rest::{self, Variant};

fn negotiate(cx: &Rest<'_>) -> Result<Variant, Failure> {
    rest::negotiate(cx.req, &[Variant::Xml, Variant::Json])
        .ok_or_else(|| Failure::NotAcceptable(String::new()))
}

/// The live calls `user` is in, oldest first.
pub(super) async fn active(
    cx: &Rest<'_>,
    ctx: &mut Ctx,
    user: Option<&str>,
) -> Result<Reply, Failure> {
    ctx.endpoint = "activecdrs";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx)?;
    let user = user.unwrap_or(cx.user());
    if cx
        .gw
        .store
        .user(cx.tenant(), user)
        .await
        .map_err(db)?
        .is_none()
    {
        return Err(Failure::NotFound(String::new()));
    }
    let users: Vec<String> = cx
        .gw
        .store
        .users(cx.tenant())
        .await
        .map_err(db)?
        .into_iter()
        .map(|u| u.ext)
        .collect();
    let mut calls = cx
        .gw
        .b2bua
        .list_calls()
        .await
        .map_err(|e| cx.gw.b2bua_failure("list", e))?;
    calls.retain(|c| c.tenant == cx.tenant() && c.ended_ms.is_none());
    calls.sort_by_key(|c| c.created_ms);
    let now = now_ms();
    let aor = |p: &str| {
        if p.starts_with("sip:") {
            format!("<{p}>")
        } else {
            format!("<sip:{p}@{}>", cx.realm)
        }
    };
    let out: Vec<ActiveCall> = calls
        .iter()
        .filter_map(|c| {
            let callee = c.connected.clone().or_else(|| c.to.first().cloned())?;
            let direction = if c.from == user {
                "OUTGOING"
            } else if c.connected.as_deref() == Some(user) || c.to.iter().any(|t| t == user) {
                "INCOMING"
            } else {
                return None;
            };
            Some(ActiveCall {
                from: c.from.clone(),
                from_aor: aor(&c.from),
                to: callee.clone(),
                to_aor: aor(&callee),
                direction,
                internal: users.contains(&c.from) && users.contains(&callee),
                start_ms: c.created_ms,
                duration_ms: now.saturating_sub(c.created_ms),
            })
        })
        .collect();
    Ok(Reply::Full(docs::render_active(&out, v)))
}

/// `/auto-attendant`: the attendants, with the one special mode plays marked while on.
pub(super) async fn attendants(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "auto_attendants";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx)?;
    let b = &cx.gw.b2bua;
    let list = b
        .auto_attendants(cx.tenant())
        .await
        .map_err(|e| cx.gw.b2bua_failure("attendants", e))?;
    let mode = b
        .special_mode(cx.tenant())
        .await
        .map_err(|e| cx.gw.b2bua_failure("attendants", e))?;
    let rows: Vec<(String, String, bool)> = list
        .iter()
        .map(|a| {
            let name = if a.name.is_empty() {
                a.id.clone()
            } else {
                a.name.clone()
            };
            let selected = mode.enabled && mode.attendant.as_deref() == Some(a.id.as_str());
            (name, a.id.clone(), selected)
        })
        .collect();
    Ok(Reply::Full(docs::render_attendants(&rows, v)))
}

/// `/auto-attendant/specialmode`: GET it, PUT switches it on, DELETE off (204).
pub(super) async fn special_mode(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "special_mode";
    let b = &cx.gw.b2bua;
    let fail = |e| cx.gw.b2bua_failure("attendants", e);
    let mut mode = b.special_mode(cx.tenant()).await.map_err(fail)?;
    match cx.method {
        "GET" => {
            let v = negotiate(cx)?;
            Ok(Reply::Full(docs::render_special_mode(mode.enabled, v)))
        }
        "PUT" | "DELETE" => {
            mode.enabled = cx.method == "PUT";
            b.set_special_mode(cx.tenant(), &mode)
                .await
                .map_err(|e| cx.gw.b2bua_bad("attendants", "special-mode", e))?;
            Ok(Reply::Full(render_no_content()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// `/auto-attendant/{id}/special`: PUT selects the attendant special mode plays, DELETE
/// deselects it (409 while special mode is on); an unknown attendant is 400.
pub(super) async fn special(cx: &Rest<'_>, ctx: &mut Ctx, id: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "special_attendant";
    if !matches!(cx.method, "PUT" | "DELETE") {
        return Err(Failure::MethodNotAllowed);
    }
    let b = &cx.gw.b2bua;
    let fail = |e| cx.gw.b2bua_failure("attendants", e);
    let list = b.auto_attendants(cx.tenant()).await.map_err(fail)?;
    if !list.iter().any(|a| a.id == id) {
        return Err(Failure::bad(
            "attendant",
            patchbay_gateway_proto::vendors::sipx::BAD_REQUEST,
        ));
    }
    let mut mode = b.special_mode(cx.tenant()).await.map_err(fail)?;
    if cx.method == "PUT" {
        mode.attendant = Some(id.to_string());
    } else {
        if mode.enabled {
            return Err(Failure::Conflict(
                "The request could not be completed due to a conflict with the current state of the resource".into(),
            ));
        }
        if mode.attendant.as_deref() == Some(id) {
            mode.attendant = None;
        }
    }
    b.set_special_mode(cx.tenant(), &mode)
        .await
        .map_err(|e| cx.gw.b2bua_bad("attendants", "special-mode", e))?;
    Ok(Reply::Full(render_no_content()))
}
