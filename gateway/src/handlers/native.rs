//! `/api/v1`: Patchbay's own JSON API.

mod cdrs;
mod ozeki;
pub(crate) mod phonebooks;
mod queues;
mod recordings;
mod routing;
mod settings;
mod voicemail;
mod webhooks;

use super::{Ctx, Reply, db, random_hex};
use crate::Gateway;
use patchbay_api::{CallId, CallInfo, OriginateRequest};
use patchbay_gateway_proto::auth::{Credentials, from_authorization};
use patchbay_gateway_proto::vendors::native::{self, NativeOp, RecordingOp, render_json};
use patchbay_gateway_proto::{Failure, Principal, Request, Role};
use patchbay_store::{ApiKey, Tenant, User, UserSettings};
use serde_json::json;

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "auth";
    let p = authenticate(gw, ctx, req).await?;
    gw.rate_limit(&p)?;
    let op = native::parse_request(req)?;
    ctx.endpoint = endpoint(&op);
    run(gw, ctx, &p, op).await
}

fn endpoint(op: &NativeOp) -> &'static str {
    match op {
        NativeOp::Me => "me",
        NativeOp::ListTenants | NativeOp::CreateTenant(_) | NativeOp::DeleteTenant(_) => "tenants",
        NativeOp::ListUsers { .. }
        | NativeOp::GetUser { .. }
        | NativeOp::PutUser { .. }
        | NativeOp::DeleteUser { .. } => "users",
        NativeOp::ListKeys { .. } | NativeOp::CreateKey { .. } | NativeOp::DeleteKey { .. } => {
            "api_keys"
        }
        NativeOp::Originate(_) => "calls.create",
        NativeOp::ListCalls => "calls.list",
        NativeOp::GetCall(_) => "calls.get",
        NativeOp::Hangup(_) => "calls.delete",
        NativeOp::Events { .. } => "calls.events",
        NativeOp::EventStream { .. } => "calls.stream",
        NativeOp::TenantEvents { .. } => "events",
        NativeOp::TenantEventStream { .. } => "events.stream",
        NativeOp::Transfer { .. } => "calls.transfer",
        NativeOp::Media { .. } => "calls.media",
        NativeOp::StopMedia { .. } => "calls.stop",
        NativeOp::Mute { .. } => "calls.mute",
        NativeOp::Conference(_) => "conferences.get",
        NativeOp::Cdrs(_) => "cdrs",
        NativeOp::Setting { .. } => "tenant_settings",
        NativeOp::Voicemail { .. } => "voicemail",
        NativeOp::Recording(RecordingOp::List { .. }) => "recordings.list",
        NativeOp::Recording(RecordingOp::Get { .. }) => "recordings.get",
        NativeOp::Recording(RecordingOp::Delete { .. }) => "recordings.delete",
    }
}

async fn authenticate(gw: &Gateway, ctx: &Ctx, req: &Request) -> Result<Principal, Failure> {
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let tenant = ctx.origin.tenant.as_deref();
    let basic = patchbay_gateway_proto::Scheme::Basic;
    let result = match from_authorization(req) {
        Credentials::None => Err(gw.authn.missing("none", vec![])),
        Credentials::Basic(b) => match b.user.split_once('@') {
            // `ext@tenant` names a user of another tenant than the Host's.
            Some((ext, t)) => {
                gw.authn
                    .web_user(ip, t, ext, &b.password, basic, vec![])
                    .await
            }
            // All digits: an extension of the Host's (or listener's) tenant; else an API key id.
            None => match tenant {
                Some(t) if b.user.chars().all(|c| c.is_ascii_digit()) => {
                    gw.authn
                        .web_user(ip, t, &b.user, &b.password, basic, vec![])
                        .await
                }
                _ => gw.authn.api_key(ip, &b.user, &b.password, vec![]).await,
            },
        },
        Credentials::Digest(d) => {
            let uri = req.uri().to_string();
            return gw.authn.digest(ip, &d, req.method().as_str(), &uri).await;
        }
        Credentials::Bearer(t) => gw.authn.jwt(ip, &t, vec![]).await,
        _ => {
            gw.metrics
                .auth_failures
                .with_label_values(&["none", "malformed"])
                .inc();
            Err(Failure::AuthFailed { challenges: vec![] })
        }
    };
    // Challenges (with a fresh nonce) only when they are needed.
    match result {
        Err(Failure::AuthRequired { .. }) => Err(Failure::AuthRequired {
            challenges: gw.authn.native_challenges(tenant, false).await,
        }),
        Err(Failure::AuthFailed { .. }) => Err(Failure::AuthFailed {
            challenges: gw.authn.native_challenges(tenant, false).await,
        }),
        other => other,
    }
}

fn require(ok: bool) -> Result<(), Failure> {
    if ok { Ok(()) } else { Err(Failure::Forbidden) }
}

fn user_json(u: &User, st: Option<UserSettings>) -> serde_json::Value {
    let mut v = json!({"tenant": u.tenant, "ext": u.ext, "display_name": u.display_name});
    if let Some(s) = &st {
        v["forwarding"] = json!({
            "always": s.forward_on.then(|| s.forward_to.clone()).flatten(),
            "busy": s.forward_busy,
            "no_answer": s.forward_no_answer,
            "no_answer_secs": s.ring_secs,
        });
        v["call_sequence"] = json!(s.call_sequence);
        v["dnd"] = json!(s.dnd);
        v["voicemail"] = json!({"enabled": s.vm_on, "greeting": s.vm_greeting});
        v["caller_id"] = json!(s.caller_id);
    }
    v["settings"] = json!(st);
    v
}

/// The call, if the principal's tenant owns it (others' calls are "not found").
async fn own_call(gw: &Gateway, p: &Principal, id: &CallId) -> Result<CallInfo, Failure> {
    let c = gw
        .b2bua
        .call(id)
        .await
        .map_err(|e| gw.b2bua_failure("get", e))?;
    if c.tenant != p.tenant && !p.roles.contains(&Role::System) {
        return Err(Failure::NotFound(format!("call {id}")));
    }
    Ok(c)
}

/// The call, if the principal may act on it: its tenant's admins (and the system), or a user
/// who is one of its parties.
async fn party_call(gw: &Gateway, p: &Principal, id: &CallId) -> Result<CallInfo, Failure> {
    let c = own_call(gw, p, id).await?;
    if let Some(u) = &p.user
        && !p.has(Role::Admin)
        && c.from != *u
        && !c.to.contains(u)
    {
        return Err(Failure::Forbidden);
    }
    Ok(c)
}

async fn run(gw: &Gateway, ctx: &mut Ctx, p: &Principal, op: NativeOp) -> Result<Reply, Failure> {
    let full = |r| Ok(Reply::Full(r));
    match op {
        NativeOp::Me => full(render_json(200, p)),
        NativeOp::ListTenants => {
            require(p.roles.contains(&Role::System))?;
            let ts = gw.store.tenants().await.map_err(db)?;
            let v: Vec<_> = ts
                .iter()
                .map(|t| json!({"name": t.name, "realm": t.realm}))
                .collect();
            full(render_json(200, &v))
        }
        NativeOp::CreateTenant(b) => {
            require(p.roles.contains(&Role::System))?;
            let realm = b.realm.clone().unwrap_or_else(|| b.name.clone());
            gw.store
                .upsert_tenant(&Tenant {
                    name: b.name.clone(),
                    realm: realm.clone(),
                })
                .await
                .map_err(db)?;
            gw.authn.invalidate();
            full(render_json(201, &json!({"name": b.name, "realm": realm})))
        }
        NativeOp::DeleteTenant(name) => {
            require(p.roles.contains(&Role::System))?;
            if !gw.store.delete_tenant(&name).await.map_err(db)? {
                return Err(Failure::NotFound(format!("tenant {name}")));
            }
            gw.authn.invalidate();
            full(render_json(200, &json!({"deleted": name})))
        }
        NativeOp::ListUsers { tenant } => {
            require(p.administers(&tenant))?;
            let us = gw.store.users(&tenant).await.map_err(db)?;
            let v: Vec<_> = us.iter().map(|u| user_json(u, None)).collect();
            full(render_json(200, &v))
        }
        NativeOp::GetUser { tenant, ext } => {
            require(
                p.administers(&tenant) || (p.tenant == tenant && p.user.as_deref() == Some(&ext)),
            )?;
            let u = gw.store.user(&tenant, &ext).await.map_err(db)?;
            let u = u.ok_or_else(|| Failure::NotFound(format!("user {ext}")))?;
            let st = gw.store.user_settings(&tenant, &ext).await.map_err(db)?;
            let mut v = user_json(&u, st);
            v["roles"] = json!(gw.store.user_roles(&tenant, &ext).await.map_err(db)?);
            full(render_json(200, &v))
        }
        NativeOp::PutUser { tenant, ext, body } => {
            require(p.administers(&tenant))?;
            if !native::valid_party(&ext) || ext.starts_with("sip") || ext.starts_with('+') {
                return Err(Failure::bad("ext", "letters, digits, '*', '#'"));
            }
            let existing = gw.store.user(&tenant, &ext).await.map_err(db)?;
            let created = existing.is_none();
            let display_name = body
                .display_name
                .clone()
                .or_else(|| existing.as_ref().map(|u| u.display_name.clone()))
                .unwrap_or_else(|| ext.clone());
            let user = User {
                tenant: tenant.clone(),
                ext: ext.clone(),
                display_name,
            };
            match (&body.sip_password, created) {
                (Some(pw), _) => gw.store.upsert_user(&user, pw).await.map_err(db)?,
                (None, true) => {
                    return Err(Failure::bad("sip_password", "required for a new user"));
                }
                (None, false) if body.display_name.is_some() => {
                    return Err(Failure::bad(
                        "sip_password",
                        "required to change display_name",
                    ));
                }
                (None, false) => {}
            }
            if let Some(pin) = &body.web_pin {
                gw.store
                    .set_web_pin(&tenant, &ext, Some(pin))
                    .await
                    .map_err(db)?;
                // URLs keyed to the old PIN (sipX's private feed links) stop working.
                gw.store
                    .set_private_key(&tenant, &ext, None)
                    .await
                    .map_err(db)?;
            }
            if let Some(pin) = &body.vm_pin {
                gw.store
                    .set_vm_pin(&tenant, &ext, Some(pin))
                    .await
                    .map_err(db)?;
            }
            if let Some(k) = &body.url_key {
                gw.store
                    .set_url_key(&tenant, &ext, Some(k))
                    .await
                    .map_err(db)?;
            }
            if let Some(ip) = &body.url_ip {
                super::taridium::set_url_ip(gw, &tenant, &ext, ip).await?;
            }
            let mut st = gw
                .store
                .user_settings(&tenant, &ext)
                .await
                .map_err(db)?
                .unwrap_or_default();
            if body.forward_to.is_some() {
                st.forward_to = body.forward_to.clone();
            }
            st.forward_on = body.forward_on.unwrap_or(st.forward_on);
            st.vm_on = body.vm_on.unwrap_or(st.vm_on);
            st.ring_secs = body.ring_secs.unwrap_or(st.ring_secs);
            let target = |t: &Option<String>, old: &Option<String>| match t {
                Some(x) if x.is_empty() => None,
                Some(x) => Some(x.clone()),
                None => old.clone(),
            };
            st.forward_busy = target(&body.forward_busy, &st.forward_busy);
            st.forward_no_answer = target(&body.forward_no_answer, &st.forward_no_answer);
            st.dnd = body.dnd.unwrap_or(st.dnd);
            st.followme_on = body.followme_on.unwrap_or(st.followme_on);
            if let Some(seq) = &body.call_sequence {
                st.call_sequence = seq.clone();
            }
            if let Some(g) = &body.vm_greeting {
                st.vm_greeting = g.clone();
            }
            st.caller_id = target(&body.caller_id, &st.caller_id);
            gw.store
                .set_user_settings(&tenant, &ext, &st)
                .await
                .map_err(db)?;
            if let Some(r) = &body.roles {
                gw.store
                    .set_user_roles(&tenant, &ext, r)
                    .await
                    .map_err(db)?;
            }
            gw.authn.invalidate();
            let mut v = user_json(&user, Some(st));
            v["roles"] = json!(gw.store.user_roles(&tenant, &ext).await.map_err(db)?);
            full(render_json(if created { 201 } else { 200 }, &v))
        }
        NativeOp::DeleteUser { tenant, ext } => {
            require(p.administers(&tenant))?;
            if !gw.store.delete_user(&tenant, &ext).await.map_err(db)? {
                return Err(Failure::NotFound(format!("user {ext}")));
            }
            // Its sipX speed dials and Taridium authorized client IP go with it.
            for kind in ["sipx-speeddial", "taridium-url-ip"] {
                gw.store
                    .delete_config(&tenant, kind, &ext)
                    .await
                    .map_err(db)?;
            }
            gw.authn.invalidate();
            full(render_json(200, &json!({"deleted": ext})))
        }
        NativeOp::ListKeys { tenant } => {
            require(p.administers(&tenant))?;
            let ks = gw.store.api_keys(&tenant).await.map_err(db)?;
            full(render_json(200, &ks))
        }
        NativeOp::CreateKey { tenant, body } => {
            require(p.administers(&tenant))?;
            for r in &body.roles {
                match Role::parse(r) {
                    None => return Err(Failure::bad("roles", format!("unknown role {r}"))),
                    Some(Role::System) => require(p.roles.contains(&Role::System))?,
                    Some(_) => {}
                }
            }
            let key = ApiKey {
                key_id: format!("pk_{}", random_hex(8)),
                tenant: tenant.clone(),
                roles: body.roles.clone(),
                label: body.label.clone(),
                created_ms: crate::auth::now_ms(),
                secret_hash: String::new(),
            };
            let secret = random_hex(16);
            gw.store.create_api_key(&key, &secret).await.map_err(db)?;
            full(render_json(
                201,
                &json!({"key_id": key.key_id, "secret": secret, "tenant": tenant,
                        "roles": key.roles, "label": key.label}),
            ))
        }
        NativeOp::DeleteKey { tenant, key_id } => {
            require(p.administers(&tenant))?;
            if !gw
                .store
                .delete_api_key(&tenant, &key_id)
                .await
                .map_err(db)?
            {
                return Err(Failure::NotFound(format!("key {key_id}")));
            }
            gw.authn.invalidate();
            full(render_json(200, &json!({"deleted": key_id})))
        }
        NativeOp::Originate(b) => {
            b.validate(&gw.cfg.allowed_call_headers)?;
            // A user may only place calls from its own extension, and application calls
            // only to itself.
            if let Some(u) = &p.user
                && !p.has(Role::Admin)
                && (if b.app {
                    b.callees() != [u.clone()]
                } else {
                    *u != b.from
                })
            {
                return Err(Failure::Forbidden);
            }
            let info = gw
                .originate(
                    ctx,
                    OriginateRequest {
                        tenant: p.tenant.clone(),
                        from: b.from.clone(),
                        to: b.callees(),
                        mode: b.mode,
                        ring_timeout_secs: b.ring_timeout_secs,
                        headers: b.headers.clone().into_iter().collect(),
                        start_within_ms: None,
                        request_key: b.idempotency_key.clone(),
                        auto_answer: b.auto_answer,
                        from_phone: b.from_phone,
                        app: b.app,
                        record: b.record,
                        caller_id: b.caller_id.clone(),
                        conference: None,
                        queue: b.queue.clone(),
                        caller_forwarding: false,
                    },
                )
                .await?;
            full(native::render_created_call(&info.id, &info))
        }
        NativeOp::ListCalls => {
            let calls = gw
                .b2bua
                .list_calls()
                .await
                .map_err(|e| gw.b2bua_failure("list", e))?;
            let mine: Vec<_> = calls.into_iter().filter(|c| c.tenant == p.tenant).collect();
            full(render_json(200, &mine))
        }
        NativeOp::GetCall(id) => {
            let c = own_call(gw, p, &id).await?;
            full(render_json(200, &c))
        }
        NativeOp::Hangup(id) => {
            own_call(gw, p, &id).await?;
            gw.b2bua
                .hangup(&id)
                .await
                .map_err(|e| gw.b2bua_failure("hangup", e))?;
            full(render_json(200, &json!({"id": id, "hangup": true})))
        }
        NativeOp::Events {
            call,
            after,
            wait_ms,
        } => {
            own_call(gw, p, &call).await?;
            let evs = gw
                .events
                .call(&call, after, std::time::Duration::from_millis(wait_ms))
                .await
                .map_err(|e| gw.store_failure("events", e))?;
            full(render_json(200, &evs))
        }
        NativeOp::EventStream { call, after } => {
            own_call(gw, p, &call).await?;
            Ok(Reply::Events { call, after })
        }
        NativeOp::TenantEvents { after, wait_ms } => {
            // Every call of the tenant: its admins (a user reads its own calls' feeds).
            require(p.has(Role::Admin))?;
            let evs = gw
                .events
                .after(
                    after,
                    Some(&p.tenant),
                    std::time::Duration::from_millis(wait_ms),
                )
                .await
                .map_err(|e| gw.store_failure("events", e))?;
            full(render_json(200, &evs))
        }
        NativeOp::TenantEventStream { after } => {
            require(p.has(Role::Admin))?;
            Ok(Reply::TenantEvents {
                tenant: p.tenant.clone(),
                after,
            })
        }
        NativeOp::Transfer { call, body } => {
            let c = own_call(gw, p, &call).await?;
            // A user may move only calls it is a party of.
            if let Some(u) = &p.user
                && !p.has(Role::Admin)
                && c.from != *u
                && !c.to.contains(u)
            {
                return Err(Failure::Forbidden);
            }
            gw.b2bua
                .transfer(&call, &body)
                .await
                .map_err(|e| gw.b2bua_failure("transfer", e))?;
            full(render_json(
                202,
                &json!({"id": call, "transfer": body.target}),
            ))
        }
        NativeOp::Media { call, op } => {
            party_call(gw, p, &call).await?;
            let accepted = gw
                .b2bua
                .primitive(&call, &op)
                .await
                .map_err(|e| gw.b2bua_failure("media", e))?;
            full(render_json(202, &accepted))
        }
        NativeOp::StopMedia { call, command } => {
            party_call(gw, p, &call).await?;
            gw.b2bua
                .stop_command(&call, command)
                .await
                .map_err(|e| gw.b2bua_failure("stop", e))?;
            full(render_json(202, &json!({"id": call, "stopped": command})))
        }
        NativeOp::Mute { call, body } => {
            party_call(gw, p, &call).await?;
            gw.b2bua
                .mute(&call, &body)
                .await
                .map_err(|e| gw.b2bua_failure("mute", e))?;
            full(render_json(202, &json!({"id": call, "muted": body.muted})))
        }
        NativeOp::Conference(room) => {
            // Who is in a room: the tenant's admins (members' numbers are the tenant's).
            require(p.has(Role::Admin))?;
            let members = gw
                .b2bua
                .conference(&p.tenant, &room)
                .await
                .map_err(|e| gw.b2bua_failure("conference", e))?;
            full(render_json(200, &json!({"room": room, "members": members})))
        }
        NativeOp::Cdrs(search) => full(cdrs::search(gw, p, search).await?),
        NativeOp::Setting { tenant, op } => full(settings::run(gw, p, &tenant, op).await?),
        NativeOp::Recording(op) => recordings::run(gw, p, op).await,
        NativeOp::Voicemail { tenant, ext, op } => voicemail::run(gw, p, &tenant, &ext, op).await,
    }
}
