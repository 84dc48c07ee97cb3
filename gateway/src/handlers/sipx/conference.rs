//! sipXconfig's conferences: the rooms a user owns (`/my/conferences`), one room's settings
//! (`/my/conferences/{name}`), its live members (`/my/conferencedetails/{name}`) and commands
//! (`/my/conference/{name}/invite&<number>`: the room really calls the number).

use super::Rest;
use crate::handlers::{Ctx, Reply};
use patchbay_api::{ConferenceRoom, OriginateRequest};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::vendors::sipx::docs::{self, Conference, Member};
use patchbay_gateway_proto::vendors::sipx::render_ok;
use patchbay_gateway_proto::vendors::sipx::rest::{self, Variant};

fn conference(r: &ConferenceRoom) -> Conference {
    Conference {
        name: r.name.clone(),
        description: r.description.clone(),
        extension: r.extension.clone(),
        access_code: r.pin.clone(),
        moderator_code: r.moderator_pin.clone(),
        max_members: r.max_members,
        autorecorded: r.record,
        locked: r.locked,
    }
}

fn negotiate(cx: &Rest<'_>) -> Result<Variant, Failure> {
    rest::negotiate(cx.req, &[Variant::Xml, Variant::Json])
        .ok_or_else(|| Failure::NotAcceptable(String::new()))
}

/// The rooms of the tenant.
async fn rooms(cx: &Rest<'_>) -> Result<Vec<ConferenceRoom>, Failure> {
    cx.gw
        .b2bua
        .conference_rooms(cx.tenant())
        .await
        .map_err(|e| cx.gw.b2bua_failure("conference_rooms", e))
}

/// A room the user owns: `404 Conference not found`, `403 User is not owner of this
/// conference` otherwise.
async fn owned(cx: &Rest<'_>, name: &str) -> Result<ConferenceRoom, Failure> {
    let r = rooms(cx)
        .await?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| Failure::NotFound("Conference not found".into()))?;
    if r.owner.as_deref() != Some(cx.user()) {
        return Err(Failure::NotOwner(
            "User is not owner of this conference".into(),
        ));
    }
    Ok(r)
}

/// `/my/conferences`: the rooms the user owns.
pub(super) async fn list(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "conferences";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx)?;
    let mine: Vec<Conference> = rooms(cx)
        .await?
        .iter()
        .filter(|r| r.owner.as_deref() == Some(cx.user()))
        .map(conference)
        .collect();
    Ok(Reply::Full(docs::render_conferences(&mine, v)))
}

/// `/my/conferences/{name}`: GET the `<setting>`, PUT the fields present.
pub(super) async fn setting(cx: &Rest<'_>, ctx: &mut Ctx, name: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "conference_setting";
    // Another user's room is not found here (sipX checks no owner; a user must not read or
    // change another's PINs).
    let mut r = owned(cx, name).await.map_err(|f| match f {
        Failure::NotOwner(_) => Failure::NotFound(String::new()),
        Failure::NotFound(_) => Failure::NotFound(String::new()),
        other => other,
    })?;
    match cx.method {
        "GET" => {
            let v = negotiate(cx)?;
            Ok(Reply::Full(docs::render_setting(&conference(&r), v)))
        }
        "PUT" => {
            let u = docs::parse_setting(cx.req.body())?;
            if u.name.as_ref().is_some_and(|n| *n != r.name) {
                return Err(Failure::bad(
                    "name",
                    "A room is renamed by its administrator",
                ));
            }
            let code = |c: String| (!c.is_empty()).then_some(c);
            if let Some(d) = u.description {
                r.description = Some(d).filter(|d| !d.is_empty());
            }
            if let Some(a) = u.autorecorded {
                r.record = a;
            }
            if let Some(c) = u.access_code {
                r.pin = code(c);
            }
            if let Some(c) = u.moderator_code {
                r.moderator_pin = code(c);
            }
            if let Some(m) = u.max_members {
                r.max_members = m;
            }
            r.check().map_err(|why| Failure::bad("setting", why))?;
            cx.gw
                .b2bua
                .put_conference_room(cx.tenant(), &r.name, &r)
                .await
                .map_err(|e| cx.gw.b2bua_bad("conference", "setting", e))?;
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// `/my/conferencedetails/{name}`: who is in the room now.
pub(super) async fn details(cx: &Rest<'_>, ctx: &mut Ctx, name: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "conference_details";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx)?;
    let r = owned(cx, name).await?;
    let members = cx
        .gw
        .b2bua
        .conference(cx.tenant(), name)
        .await
        .map_err(|e| cx.gw.b2bua_failure("conference", e))?;
    if members.is_empty() {
        return Err(Failure::NotAcceptable(
            "Conference found, but not active".into(),
        ));
    }
    let ms: Vec<Member> = members
        .iter()
        .enumerate()
        .map(|(i, m)| Member {
            id: member_id(m, i),
            name: m.party.clone(),
            uuid: format!("{}-{}", m.call.0, m.command),
            energy: m.energy,
            muted: m.muted,
        })
        .collect();
    Ok(Reply::Full(docs::render_details(&conference(&r), &ms, v)))
}

/// A member's id: its call's (numeric, stable while it is in the room), else its place.
fn member_id(m: &patchbay_api::ConferenceMember, i: usize) -> u64 {
    m.call.0.parse().unwrap_or(i as u64 + 1)
}

/// `/my/conference/{name}/{command}`: `invite&<number>` calls the number into the room.
pub(super) async fn command(
    cx: &Rest<'_>,
    ctx: &mut Ctx,
    name: &str,
    command: &str,
) -> Result<Reply, Failure> {
    ctx.endpoint = "conference_command";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    // The only variant is `text/*`: a concrete Accept is not acceptable.
    let accept = cx
        .req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(accept.trim().is_empty() || accept.contains("*/*") || accept.contains("text/*")) {
        return Err(Failure::NotAcceptable(String::new()));
    }
    let r = owned(cx, name).await?;
    let args = docs::command_args(command);
    match args.first().map(String::as_str) {
        None | Some("") => Err(Failure::bad("command", "No conference command specified")),
        Some("invite") => {
            let Some(to) = args.get(1).filter(|t| !t.is_empty()) else {
                return Err(Failure::bad("command", "Incorect invite command"));
            };
            let req = OriginateRequest {
                tenant: cx.tenant().to_string(),
                // What the invited phone shows: the room's extension.
                from: r.extension.clone(),
                to: vec![super::party(to, cx.realm)],
                app: true,
                conference: Some(r.name.clone()),
                ..Default::default()
            };
            cx.gw.originate(ctx, req).await.map_err(|f| match f {
                Failure::BadRequest { .. } | Failure::NotFound(_) => {
                    Failure::bad("command", "Incorect invite command")
                }
                other => other,
            })?;
            Ok(Reply::Full(docs::render_command_response(
                "Invitation sent",
            )))
        }
        Some(c @ ("lock" | "unlock")) => {
            let mut r = r;
            r.locked = c == "lock";
            cx.gw
                .b2bua
                .put_conference_room(cx.tenant(), &r.name, &r)
                .await
                .map_err(|e| cx.gw.b2bua_failure("conference", e))?;
            Ok(Reply::Full(docs::render_text(&format!(
                "OK {} {c}ed",
                r.name
            ))))
        }
        Some(c @ ("mute" | "unmute" | "kick")) => {
            let members = cx
                .gw
                .b2bua
                .conference(cx.tenant(), &r.name)
                .await
                .map_err(|e| cx.gw.b2bua_failure("conference", e))?;
            let wanted = args.get(1).and_then(|i| i.parse::<u64>().ok());
            let m = members
                .iter()
                .enumerate()
                .find(|(i, m)| Some(member_id(m, *i)) == wanted)
                .map(|(_, m)| m)
                .ok_or_else(|| {
                    Failure::bad("command", format!("Non-existent member id for {c}"))
                })?;
            let gw = cx.gw;
            if c == "kick" {
                gw.b2bua
                    .hangup(&m.call)
                    .await
                    .map_err(|e| gw.b2bua_failure("hangup", e))?;
            } else {
                let req = patchbay_api::MuteRequest {
                    side: m.side,
                    muted: c == "mute",
                };
                gw.b2bua
                    .mute(&m.call, &req)
                    .await
                    .map_err(|e| gw.b2bua_failure("mute", e))?;
            }
            Ok(Reply::Full(docs::render_text(&format!(
                "OK {c} {}",
                args[1]
            ))))
        }
        Some(other) => Err(Failure::bad(
            "command",
            format!("Unknown conference command {other}"),
        )),
    }
}
