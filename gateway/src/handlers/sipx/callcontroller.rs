//! sipXcallController: Digest (or Basic) as the agent with its web PIN, or a trusted
//! address; POST places the call (the calling party's phones ring first, then the called
//! party, bridged through the relay), GET reports it from the B2BUA's events.

use super::party;
use crate::Gateway;
use crate::auth::now_ms;
use crate::handlers::{Ctx, Reply};
use crate::sipx::CcCall;
use patchbay_api::client::ClientError;
use patchbay_api::{ApiErrorKind, OriginateMode, OriginateRequest, Side, TransferMethod};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::principal::{Role, Scheme};
use patchbay_gateway_proto::vendors::sipx::callcontroller::{
    self as cc, CcAction, CcRequest, SetupMethod, StatusLine,
};
use patchbay_gateway_proto::{Failure, Principal, Request};
use std::time::Duration;

/// The tenant's address list whose members call without credentials (sipxrest's "local"
/// callers).
pub(crate) const TRUSTED_SCOPE: &str = "sipx-trusted";

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "auth";
    gw.authn.check_ban(ctx.origin.ip)?;
    let tail = req
        .uri()
        .path()
        .strip_prefix("/callcontroller/")
        .unwrap_or("");
    let r = cc::parse(req, tail)?;
    let tenant = ctx
        .origin
        .tenant
        .clone()
        .ok_or_else(|| Failure::UnknownUser(r.agent.clone()))?;
    let realm = gw.authn.realm_of(&tenant).await;
    let p = authenticate(gw, ctx, req, &tenant, &realm, &r).await?;
    gw.rate_limit(&p)?;
    run(gw, ctx, &p, &realm, r).await
}

/// sipxrest's filters: the agent must exist (else 403 `User Not found`), then a trusted
/// address, or Digest / Basic as the agent with its web PIN.
async fn authenticate(
    gw: &Gateway,
    ctx: &Ctx,
    req: &Request,
    tenant: &str,
    realm: &str,
    r: &CcRequest,
) -> Result<Principal, Failure> {
    let ip = ctx.origin.ip;
    let agent = party(&r.agent, realm);
    let known = !agent.starts_with("sip:")
        && gw
            .store
            .user(tenant, &agent)
            .await
            .map_err(crate::handlers::db)?
            .is_some();
    if !known {
        return Err(gw.authn.unknown_user(ip, Scheme::Digest, &r.agent));
    }
    if gw.authn.ip_listed(tenant, TRUSTED_SCOPE, ip).await? == Some(true) {
        return Ok(Principal {
            tenant: tenant.to_string(),
            user: Some(agent),
            key: None,
            roles: vec![Role::User],
            scheme: Scheme::IpAllowList,
        });
    }
    // sipxrest challenges with MD5 only.
    let challenges = || {
        let mut c = gw.authn.digest_challenges(realm, false);
        c.truncate(1);
        c
    };
    let p = match &r.credentials {
        Credentials::Digest(d) => {
            let uri = req.uri().to_string();
            let p = gw
                .authn
                .digest(ip, d, req.method().as_str(), &uri)
                .await
                .map_err(|f| match f {
                    Failure::AuthFailed { mut challenges } => {
                        challenges.truncate(1);
                        Failure::AuthFailed { challenges }
                    }
                    other => other,
                })?;
            if p.tenant != tenant || p.user.as_deref() != Some(agent.as_str()) {
                return Err(Failure::AuthFailed {
                    challenges: challenges(),
                });
            }
            p
        }
        Credentials::Basic(b) if b.user == agent || party(&b.user, realm) == agent => {
            gw.authn
                .web_user(ip, tenant, &agent, &b.password, Scheme::Basic, challenges())
                .await?
        }
        Credentials::None => return Err(gw.authn.missing("digest", challenges())),
        _ => {
            return Err(Failure::AuthFailed {
                challenges: challenges(),
            });
        }
    };
    Ok(p)
}

/// The operation, for a principal that may act as the request's agent.
pub(crate) async fn run(
    gw: &Gateway,
    ctx: &mut Ctx,
    p: &Principal,
    realm: &str,
    r: CcRequest,
) -> Result<Reply, Failure> {
    // Per tenant: two tenants may share a realm and extension numbers.
    let key = format!(
        "{}|{}",
        p.tenant,
        cc::key(&r.agent, &r.calling, &r.called, realm)
    );
    let now = now_ms();
    if !r.post {
        ctx.endpoint = "callcontroller_status";
        return status(gw, &key, &r, realm).await;
    }
    match &r.action {
        CcAction::Transfer { target } => {
            ctx.endpoint = "callcontroller_transfer";
            let id = gw
                .sipx
                .get(&key, now)
                .filter(|c| c.method == SetupMethod::Invite)
                .and_then(|c| c.call)
                .ok_or_else(|| Failure::NotFound("call".into()))?;
            let t = patchbay_api::TransferRequest {
                target: party(target, realm),
                keep: Side::A,
                method: TransferMethod::Bridge,
            };
            gw.b2bua.transfer(&id, &t).await.map_err(|e| match e {
                ClientError::Api {
                    kind: ApiErrorKind::NotFound | ApiErrorKind::InvalidState,
                    ..
                } => Failure::NotFound("call".into()),
                e => gw.b2bua_failure("transfer", e),
            })?;
        }
        CcAction::Call => {
            ctx.endpoint = "callcontroller_call";
            if r.method == SetupMethod::Invite && live(gw, &key, now).await {
                return Err(Failure::Conflict("call in progress".into()));
            }
            // Headers the B2BUA would refuse: a bad parameter, before anything is placed.
            for (name, field, v) in [
                ("Subject", "subject", &r.subject),
                ("X-ConfPin", "confpin", &r.confpin),
            ] {
                if let Some(v) = v
                    && (patchbay_api::header_refusal(name, v).is_some() || v.len() > 256)
                {
                    return Err(Failure::bad(field, v.clone()));
                }
            }
            // The calling party is the agent, or a party that is no user of the tenant (an
            // agent bridging an outside number); ringing a colleague's phones takes a trusted
            // address.
            let calling = party(&r.calling, realm);
            if Some(calling.as_str()) != p.user.as_deref()
                && p.scheme != Scheme::IpAllowList
                && !p.roles.contains(&Role::Admin)
                && gw
                    .store
                    .user(&p.tenant, &calling)
                    .await
                    .map_err(crate::handlers::db)?
                    .is_some()
            {
                return Err(Failure::NotOwner(format!(
                    "{} may not place calls for {}",
                    r.agent, r.calling
                )));
            }
            let mut headers = Vec::new();
            if let Some(s) = &r.subject {
                headers.push(("Subject".to_string(), s.clone()));
            }
            let called = party(&r.called, realm);
            let room = room_of(gw, &p.tenant, &called).await?;
            let req = match &room {
                // A conference room of the tenant: the calling party joins it on answer
                // (`confpin` stands for the PIN the bridge would ask for).
                Some(room) => OriginateRequest {
                    tenant: p.tenant.clone(),
                    from: room.extension.clone(),
                    to: vec![party(&r.calling, realm)],
                    ring_timeout_secs: Some(r.timeout_secs.clamp(1, 600)),
                    headers,
                    app: true,
                    conference: Some(room.name.clone()),
                    ..Default::default()
                },
                None => {
                    // A bridge elsewhere reads the PIN from the INVITE (sipX's `X-ConfPin`).
                    if let Some(pin) = &r.confpin {
                        headers.push(("X-ConfPin".to_string(), pin.clone()));
                    }
                    OriginateRequest {
                        tenant: p.tenant.clone(),
                        from: party(&r.calling, realm),
                        to: vec![called],
                        mode: OriginateMode::CallerFirst,
                        ring_timeout_secs: Some(r.timeout_secs.clamp(1, 600)),
                        headers,
                        caller_forwarding: r.forwarding_allowed,
                        ..Default::default()
                    }
                }
            };
            let entry = |call, lines, ended| CcCall {
                call,
                method: r.method,
                created_ms: now,
                // At most a day: statuses live in the gateway's memory.
                cache_ms: u64::from(r.cache_secs.min(86_400)) * 1000,
                lines,
                dialogs: Vec::new(),
                ended,
            };
            // What the PBX would have answered the calling party's INVITE.
            let refused = |status| {
                vec![StatusLine {
                    at_ms: now,
                    method: "INVITE",
                    status,
                }]
            };
            let pin_ok = room.as_ref().is_none_or(|room| {
                room.pin.is_none() || room.pin.as_deref() == r.confpin.as_deref()
            });
            let c = if !pin_ok {
                // The bridge would refuse the call without its PIN; guesses count as failed
                // logins of the address.
                let _ = gw
                    .authn
                    .refuse(ctx.origin.ip, p.scheme, "conference_pin", Vec::new());
                entry(None, refused(403), true)
            } else {
                match gw.originate(ctx, req).await {
                    Ok(info) => entry(Some(info.id), Vec::new(), false),
                    Err(Failure::NotFound(_)) => entry(None, refused(480), true),
                    Err(Failure::DestinationRefused(_)) => entry(None, refused(403), true),
                    Err(f) => return Err(f),
                }
            };
            gw.sipx.put(key, c, now);
        }
    }
    Ok(Reply::Full(cc::render_placed()))
}

/// The tenant's conference room whose extension `number` is.
async fn room_of(
    gw: &Gateway,
    tenant: &str,
    number: &str,
) -> Result<Option<patchbay_api::ConferenceRoom>, Failure> {
    if number.starts_with("sip:") {
        return Ok(None);
    }
    let rooms = gw
        .b2bua
        .conference_rooms(tenant)
        .await
        .map_err(|e| gw.b2bua_failure("conference_rooms", e))?;
    Ok(rooms.into_iter().find(|r| r.extension == number))
}

/// Whether the call of `key` is still up (asks the B2BUA: the cached document may be old).
async fn live(gw: &Gateway, key: &str, now: u64) -> bool {
    let Some(id) = gw
        .sipx
        .get(key, now)
        .filter(|c| !c.ended)
        .and_then(|c| c.call)
    else {
        return false;
    };
    match gw.b2bua.call(&id).await {
        Ok(info) => info.ended_ms.is_none(),
        Err(_) => false,
    }
}

async fn status(gw: &Gateway, key: &str, r: &CcRequest, realm: &str) -> Result<Reply, Failure> {
    let now = now_ms();
    let Some(mut c) = gw.sipx.get(key, now) else {
        return Ok(Reply::Full(
            if r.method_given && r.method == SetupMethod::Invite {
                cc::render_dialogs(&[], "", &r.agent, realm)
            } else {
                cc::render_status_lines(&[], "")
            },
        ));
    };
    if let (Some(id), false) = (&c.call, c.ended) {
        match gw.events.call(id, 0, Duration::ZERO).await {
            Ok(evs) if !evs.is_empty() => {
                c.lines = cc::status_lines(&evs);
                c.dialogs = cc::dialogs(&evs);
                c.ended = evs.iter().any(|e| e.kind.is_terminal());
            }
            // Not in the log yet (just placed): the last document stands.
            Ok(_) => {}
            Err(e) => return Err(gw.store_failure("events", e)),
        }
        let (lines, dialogs, ended) = (c.lines.clone(), c.dialogs.clone(), c.ended);
        gw.sipx.update(key, |s| {
            s.lines = lines;
            s.dialogs = dialogs;
            s.ended = ended;
        });
    }
    let call_id = match &c.call {
        Some(id) => format!("{}@{realm}", id.0),
        None => format!("{}@{realm}", c.created_ms),
    };
    Ok(Reply::Full(match c.method {
        SetupMethod::Refer => cc::render_status_lines(&c.lines, &call_id),
        SetupMethod::Invite => cc::render_dialogs(&c.dialogs, &call_id, &r.agent, realm),
    }))
}
