//! sipXconfig's user actions: click-to-call (`/my/call/{to}`, `/call/{to}`), the voicemail PIN,
//! the portal password, and the call controller through the redirector.

use super::{Rest, callcontroller, party};
use crate::handlers::{Ctx, Reply, db};
use patchbay_api::{OriginateMode, OriginateRequest};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::query::Params;
use patchbay_gateway_proto::vendors::sipx::callcontroller as cc;
use patchbay_gateway_proto::vendors::sipx::forward::{self, CallSequence, NewSequence};
use patchbay_gateway_proto::vendors::sipx::rest::Variant;
use patchbay_gateway_proto::vendors::sipx::{self, render_ok, rest};
use patchbay_store::UserSettings;

/// `PUT` (or `GET`) `/my/call/{to}`: the user's phones ring, then `to`, bridged.
pub(super) async fn call(cx: &Rest<'_>, ctx: &mut Ctx, to: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "call";
    if !matches!(cx.method, "PUT" | "GET") {
        return Err(Failure::MethodNotAllowed);
    }
    let target = rest::call_target(to)?;
    let st = cx
        .gw
        .store
        .user_settings(cx.tenant(), cx.user())
        .await
        .map_err(db)?;
    cx.gw
        .originate(
            ctx,
            OriginateRequest {
                tenant: cx.tenant().to_string(),
                from: cx.user().to_string(),
                to: vec![party(&target, cx.realm)],
                mode: OriginateMode::CallerFirst,
                ring_timeout_secs: st.map(|s| s.ring_secs),
                ..Default::default()
            },
        )
        .await?;
    Ok(Reply::Full(render_ok()))
}

/// `PUT /my/voicemail/pin/{pin}`.
pub(super) async fn voicemail_pin(
    cx: &Rest<'_>,
    ctx: &mut Ctx,
    pin: &str,
) -> Result<Reply, Failure> {
    ctx.endpoint = "voicemail_pin";
    if cx.method != "PUT" {
        return Err(Failure::MethodNotAllowed);
    }
    rest::check_voicemail_pin(pin)?;
    cx.gw
        .store
        .set_vm_pin(cx.tenant(), cx.user(), Some(pin))
        .await
        .map_err(db)?;
    Ok(Reply::Full(render_ok()))
}

/// `PUT /my/portal/password/{password}`: the web PIN the user signs in with everywhere.
pub(super) async fn password(cx: &Rest<'_>, ctx: &mut Ctx, pw: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "portal_password";
    if cx.method != "PUT" {
        return Err(Failure::MethodNotAllowed);
    }
    rest::check_portal_password(pw)?;
    cx.gw
        .store
        .set_web_pin(cx.tenant(), cx.user(), Some(pw))
        .await
        .map_err(db)?;
    // The old private key (voicemail feed URLs) stops working with the old PIN.
    cx.gw
        .store
        .set_private_key(cx.tenant(), cx.user(), None)
        .await
        .map_err(db)?;
    cx.gw.authn.invalidate();
    Ok(Reply::Full(render_ok()))
}

/// `/my/redirect/callcontroller/{calling}/{called}`: the call controller as the
/// authenticated user, who must be the agent (or, without one, the calling party). Relayed
/// as sipXconfig's redirector relays it: a POST's status alone, a GET's bytes as `*/*`.
pub(super) async fn redirect_callcontroller(
    cx: &Rest<'_>,
    ctx: &mut Ctx,
    tail: &str,
) -> Result<Reply, Failure> {
    ctx.endpoint = "redirect_callcontroller";
    if !matches!(cx.method, "GET" | "POST") {
        return Err(Failure::MethodNotAllowed);
    }
    // The redirector's only variant is `*/*`: a concrete Accept is not acceptable.
    let accept = cx
        .req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if accept.is_some_and(|a| !a.trim().is_empty() && !a.contains("*/*")) {
        return Err(Failure::NotAcceptable(String::new()));
    }
    let p = Params::from_query(cx.req);
    let agent = match p.get("agent").filter(|a| !a.trim().is_empty()) {
        Some(a) => a.trim().to_string(),
        None => cc::decode(tail.split('/').next().unwrap_or("")),
    };
    if party(&agent, cx.realm) != cx.user() {
        return Err(Failure::WrongUser(
            "Authenticated user does not match the agent that places the call, or the caller"
                .into(),
        ));
    }
    let inner = match cc::parse(cx.req, tail) {
        Ok(r) => match callcontroller::run(cx.gw, ctx, cx.p, cx.realm, r).await {
            Ok(Reply::Full(r)) => r,
            Ok(_) => return Err(Failure::Internal("unexpected reply".into())),
            Err(f) => cc::render_error(&f),
        },
        Err(f) => cc::render_error(&f),
    };
    Ok(Reply::Full(sipx::render_redirected(
        &inner,
        cx.method,
        cx.req.uri().path(),
    )))
}

/// The user's call sequence as sipX shows it.
async fn sequence(cx: &Rest<'_>) -> Result<(CallSequence, UserSettings), Failure> {
    let st = cx
        .gw
        .store
        .user_settings(cx.tenant(), cx.user())
        .await
        .map_err(db)?
        .ok_or(Failure::Forbidden)?;
    Ok((
        CallSequence {
            rings: st.call_sequence.clone(),
            expiration: st.ring_secs,
            with_voicemail: st.vm_on,
        },
        st,
    ))
}

/// Store a new sequence: it rings from the next call on (follow-me on while it has rings).
async fn store_sequence(
    cx: &Rest<'_>,
    mut st: UserSettings,
    new: NewSequence,
) -> Result<(), Failure> {
    st.followme_on = new.rings.iter().any(|r| r.enabled);
    st.call_sequence = new.rings;
    if let Some(e) = new.expiration {
        st.ring_secs = e.clamp(5, 600);
    }
    if let Some(vm) = new.with_voicemail {
        st.vm_on = vm;
    }
    cx.gw
        .store
        .set_user_settings(cx.tenant(), cx.user(), &st)
        .await
        .map_err(db)?;
    Ok(())
}

/// `/my/forward`: GET the call sequence (XML first, or JSON), PUT a new one.
pub(super) async fn forward(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "forward";
    let (cs, st) = sequence(cx).await?;
    match cx.method {
        "GET" => {
            let v = rest::negotiate(cx.req, &[Variant::Xml, Variant::Json])
                .ok_or_else(|| Failure::NotAcceptable(String::new()))?;
            Ok(Reply::Full(forward::render_forward(&cs, v)))
        }
        "PUT" => {
            let body = cx.req.body();
            if body.trim_ascii().is_empty() {
                return Err(Failure::bad("body", "Missing request entity"));
            }
            store_sequence(cx, st, forward::parse_forward(body)?).await?;
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// `/my/callfwd`: the same as Jackson JSON (served as `text/plain`).
pub(super) async fn callfwd(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "callfwd";
    let (cs, st) = sequence(cx).await?;
    match cx.method {
        "GET" => {
            rest::negotiate(cx.req, &[Variant::Json])
                .ok_or_else(|| Failure::NotAcceptable(String::new()))?;
            Ok(Reply::Full(forward::render_callfwd(&cs)))
        }
        "PUT" => {
            let body = cx.req.body();
            if body.trim_ascii().is_empty() {
                return Err(Failure::bad("body", "Missing request entity"));
            }
            let new = forward::parse_callfwd(body)?;
            store_sequence(cx, st, new).await?;
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}
