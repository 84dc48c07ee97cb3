//! sipXconfig's user profile resources: `/my/contact-information`, `/my/logindetails`,
//! `/my/speeddial` and the active voicemail greeting.

use super::Rest;
use crate::handlers::{Ctx, Reply, db};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::vendors::sipx::docs::{self, Button};
use patchbay_gateway_proto::vendors::sipx::rest::{self, Variant};
use patchbay_gateway_proto::vendors::sipx::{profile, render_ok};
use serde_json::{Map, Value};

/// `tenant_configs` kind of a user's personal speed dials (named by extension).
const SPEED_DIAL_KIND: &str = "sipx-speeddial";

fn negotiate(cx: &Rest<'_>, offered: &[Variant]) -> Result<Variant, Failure> {
    rest::negotiate(cx.req, offered).ok_or_else(|| Failure::NotAcceptable(String::new()))
}

/// A display name as sipX's first and last name (split at the last space).
fn names(display: &str) -> (String, String) {
    match display.trim().rsplit_once(' ') {
        Some((f, l)) => (f.trim().to_string(), l.to_string()),
        None => (display.trim().to_string(), String::new()),
    }
}

/// `/my/contact-information`: GET the profile, PUT a new one (the server's own fields kept,
/// first and last name the user's display name).
pub(super) async fn contact(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "contact_information";
    let s = &cx.gw.store;
    let user = s
        .user(cx.tenant(), cx.user())
        .await
        .map_err(db)?
        .ok_or(Failure::Forbidden)?;
    let stored: Map<String, Value> = s
        .user_profile(cx.tenant(), cx.user())
        .await
        .map_err(db)?
        .and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or_default();
    match cx.method {
        "GET" => {
            let v = negotiate(cx, &[Variant::Xml, Variant::Json])?;
            let (first, last) = names(&user.display_name);
            Ok(Reply::Full(profile::render(&stored, &first, &last, v)))
        }
        "PUT" => {
            let u = profile::parse(cx.req.body())?;
            // The name first: a refused one changes nothing.
            let name = if u.first_name.is_some() || u.last_name.is_some() {
                let (first, last) = names(&user.display_name);
                let name = format!(
                    "{} {}",
                    u.first_name.clone().unwrap_or(first),
                    u.last_name.clone().unwrap_or(last)
                );
                let name = name.trim().to_string();
                if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
                    return Err(Failure::bad("firstName", "a name of at most 128 bytes"));
                }
                Some(name)
            } else {
                None
            };
            let mut next = u.fields;
            for f in profile::SERVER_FIELDS {
                match stored.get(f) {
                    Some(v) => next.insert(f.to_string(), v.clone()),
                    None => next.remove(f),
                };
            }
            s.set_user_profile(
                cx.tenant(),
                cx.user(),
                Some(&Value::Object(next).to_string()),
            )
            .await
            .map_err(db)?;
            if let Some(name) = name {
                s.set_display_name(cx.tenant(), cx.user(), &name)
                    .await
                    .map_err(db)?;
            }
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// `/my/logindetails`: what a client checks its credentials with.
pub(super) async fn login_details(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "login_details";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx, &[Variant::Xml, Variant::Json])?;
    Ok(Reply::Full(docs::render_login_details(cx.user(), v)))
}

/// `/my/speeddial`: the user's own buttons (`groupSpeedDial` when it has none).
pub(super) async fn speed_dial(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "speeddial";
    let s = &cx.gw.store;
    match cx.method {
        "GET" => {
            negotiate(cx, &[Variant::Json])?;
            let buttons: Option<Vec<Button>> =
                crate::handlers::config(cx.gw, cx.tenant(), SPEED_DIAL_KIND, cx.user())
                    .await?
                    .and_then(|b| serde_json::from_str(&b).ok());
            let group = buttons.is_none();
            Ok(Reply::Full(docs::render_speed_dial(
                &buttons.unwrap_or_default(),
                group,
            )))
        }
        "PUT" => {
            let (buttons, group) = docs::parse_speed_dial(cx.req.body())?;
            if group {
                s.delete_config(cx.tenant(), SPEED_DIAL_KIND, cx.user())
                    .await
                    .map_err(db)?;
            } else {
                let body = serde_json::to_string(&buttons).unwrap_or_default();
                s.put_config(cx.tenant(), SPEED_DIAL_KIND, cx.user(), &body)
                    .await
                    .map_err(db)?;
            }
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// `/my/mailbox/{user}/preferences/activegreeting[/{greeting}]`: the greeting callers hear
/// (GET as 4.2 had it; PUT: an unknown greeting is `none`, as sipX stores it). `{user}` must
/// be the user itself (sipX does not check; a user must not change another's greeting).
pub(super) async fn greeting(
    cx: &Rest<'_>,
    ctx: &mut Ctx,
    user: &str,
    greeting: Option<&str>,
) -> Result<Reply, Failure> {
    ctx.endpoint = "active_greeting";
    if user != cx.user() {
        return Err(Failure::Forbidden);
    }
    let s = &cx.gw.store;
    let mut st = s
        .user_settings(cx.tenant(), cx.user())
        .await
        .map_err(db)?
        .ok_or(Failure::Forbidden)?;
    match (cx.method, greeting) {
        ("GET", None) => {
            let v = negotiate(cx, &[Variant::Xml, Variant::Text])?;
            Ok(Reply::Full(docs::render_active_greeting(
                &st.vm_greeting,
                v,
            )))
        }
        ("PUT", Some(g)) => {
            st.vm_greeting = if patchbay_store::VOICEMAIL_GREETINGS.contains(&g) {
                g.to_string()
            } else {
                "none".to_string()
            };
            s.set_user_settings(cx.tenant(), cx.user(), &st)
                .await
                .map_err(db)?;
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}
