//! Ozeki HTTP API: the address lists, office-user credentials when the tenant wants them,
//! then the command: `Call` places an application call the feed drives with OzML; the
//! commands on live calls act through the control API (a call of another tenant, or ended,
//! is `601`).

use super::{Ctx, Reply};
use crate::Gateway;
use crate::ozeki::PendingRecord;
use patchbay_api::client::ClientError;
use patchbay_api::{
    ApiErrorKind, CallId, CallInfo, CallState, DtmfRequest, JoinRequest, MediaOp, PlayRequest,
    RecordRequest, Side, TransferMethod, TransferRequest,
};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::ozeki::config::ExtensionConfig;
use patchbay_gateway_proto::vendors::ozeki::{self, Command, Party};
use patchbay_gateway_proto::{Failure, Principal, Request, Role, Scheme};

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "auth";
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let r = ozeki::parse_request(req)?;
    let Some(tenant) = ctx.origin.tenant.clone() else {
        return Err(Failure::AddressForbidden);
    };
    if let Some(file) = req.uri().path().strip_prefix("/HttpRecordings/") {
        return recording(gw, &tenant, ip, file, req).await;
    }
    let p = access(gw, &tenant, ip, &r.credentials).await?;
    gw.rate_limit(&p)?;
    ctx.endpoint = "command";
    let cmd = ozeki::command(&r)?;
    ctx.endpoint = endpoint(&cmd);
    if let Command::Record { call, finished_url } = cmd {
        let id = own(gw, &p.tenant, &call).await?;
        let op = MediaOp::Record(RecordRequest {
            side: None,
            layout: None,
            max_ms: None,
            silence_ms: None,
            stop_keys: String::new(),
        });
        let started = gw.b2bua.primitive(&id, &op).await.map_err(|e| match e {
            ClientError::Api {
                kind: ApiErrorKind::InvalidState,
                ..
            } => Failure::Conflict(String::new()),
            e => gw.b2bua_failure("media", e),
        })?;
        if let Some(url) = finished_url {
            let scheme = if ctx.tls { "https" } else { "http" };
            let host = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let pending = PendingRecord {
                tenant: p.tenant.clone(),
                finished_url: url,
                base: format!("{scheme}://{host}"),
            };
            gw.ozeki.await_recording(&id, started.command, pending);
        }
        return Ok(Reply::Full(ozeki::render_ok()));
    }
    if let Command::AddConfig(c) = cmd {
        if !p.has(Role::Admin) {
            return Err(Failure::Forbidden);
        }
        let s = &gw.store;
        let id = match &c {
            ExtensionConfig::Sip(e) => e.id.clone(),
            ExtensionConfig::Api(e) => e.number.clone(),
        };
        let taken = s.user(&p.tenant, &id).await.map_err(super::db)?.is_some()
            || gw
                .ozeki
                .extension(&p.tenant, &id)
                .await
                .map_err(super::db)?
                .is_some();
        if taken {
            return Err(Failure::AlreadyExists(id));
        }
        match c {
            ExtensionConfig::Sip(e) => {
                let user = patchbay_store::User {
                    tenant: p.tenant.clone(),
                    ext: e.id.clone(),
                    display_name: e.username.clone(),
                };
                s.upsert_user(&user, &e.password).await.map_err(super::db)?;
            }
            // A number something else owns (a queue, a room ...) is no API extension either.
            ExtensionConfig::Api(e) => {
                gw.put_api_extension(&p.tenant, &e)
                    .await
                    .map_err(|f| match f {
                        Failure::Conflict(_) => Failure::AlreadyExists(e.number.clone()),
                        f => f,
                    })?
            }
        }
        return Ok(Reply::Full(ozeki::render_ok()));
    }
    if let Command::GetConfig { kind, id } = cmd {
        if !p.has(Role::Admin) && p.user.as_deref() != Some(id.as_str()) {
            return Err(Failure::Forbidden);
        }
        if kind == "API" {
            let e = gw
                .ozeki
                .extension(&p.tenant, &id)
                .await
                .map_err(super::db)?;
            let e = e.ok_or_else(|| Failure::UnknownType(kind.clone()))?;
            return Ok(Reply::Full(ozeki::config::render_api_extension(&e)));
        }
        let u = gw.store.user(&p.tenant, &id).await.map_err(super::db)?;
        let u = u.ok_or_else(|| Failure::UnknownType(kind.clone()))?;
        let e = ozeki::config::SipExtension {
            id: u.ext,
            username: u.display_name,
            password: String::new(),
        };
        return Ok(Reply::Full(ozeki::config::render_sip_extension(&e)));
    }
    if let Command::SendSms {
        api_extension,
        sender,
        recipient,
        message,
        report_url,
    } = cmd
    {
        let sms = crate::ozeki::Sms {
            api_extension,
            sender,
            recipient,
            message,
            report_url,
        };
        let sms_id = gw.ozeki_sms(&p.tenant, sms).await?;
        return Ok(Reply::Full(ozeki::render_body(&format!(
            "  <SmsId>{sms_id}</SmsId>\r\n"
        ))));
    }
    if let Command::Call(c) = cmd {
        let id = gw.ozeki_place(&p.tenant, *c).await?;
        // Ringing starts once the reply is out (the feed knows the call already).
        ctx.start_call = Some(id);
        return Ok(Reply::Full(ozeki::render_ok()));
    }
    run(gw, &p.tenant, cmd).await.map_err(|f| match f {
        // Ozeki says a command does not fit the call's state as 303, naming the command.
        Failure::Conflict(_) => Failure::Conflict(r.command.clone()),
        f => f,
    })
}

/// `GET /HttpRecordings/<id>.wav?key=<signature>`: a `RecordURL`, its own credential (only
/// a denied address is refused); a wrong key is the same 404 as an unknown recording.
async fn recording(
    gw: &Gateway,
    tenant: &str,
    ip: std::net::IpAddr,
    file: &str,
    req: &Request,
) -> Result<Reply, Failure> {
    if gw.authn.ip_listed(tenant, "ozeki-deny", ip).await? == Some(true) {
        return Err(Failure::AddressForbidden);
    }
    let not_found = || Reply::Full(ozeki::render_file_not_found());
    let id = file.strip_suffix(".wav").unwrap_or("");
    let key = patchbay_gateway_proto::query::Params::from_query_and_form(req)
        .get_ci("key")
        .unwrap_or("")
        .to_string();
    if id.is_empty()
        || !gw
            .authn
            .link_ok(&[crate::ozeki::RECORD_LINK, tenant, id], &key)
    {
        return Ok(not_found());
    }
    let range = req
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match gw.b2bua.recording_file(tenant, id, range.as_deref()).await {
        Ok(resp) => Ok(Reply::Download(resp)),
        Err(ClientError::Api {
            kind: ApiErrorKind::NotFound,
            ..
        }) => Ok(not_found()),
        Err(e) => Err(gw.b2bua_failure("recording", e)),
    }
}

/// Ozeki's access rules: a denied address never; office-user credentials when the tenant
/// turned them on (or when sent: then they must be right), else the allowed list decides,
/// and an empty one allows nobody.
async fn access(
    gw: &Gateway,
    tenant: &str,
    ip: std::net::IpAddr,
    credentials: &Credentials,
) -> Result<Principal, Failure> {
    if gw.authn.ip_listed(tenant, "ozeki-deny", ip).await? == Some(true) {
        gw.metrics
            .auth_failures
            .with_label_values(&["ip_allow_list", "denied"])
            .inc();
        return Err(Failure::AddressForbidden);
    }
    let allowed = gw.authn.ip_allowed(tenant, "ozeki", ip).await?;
    let auth_on = gw
        .ozeki
        .settings(tenant)
        .await
        .map_err(super::db)?
        .office_user_auth;
    match credentials {
        // An API key of the tenant for the admin commands: key ids have `-` or `_`, which
        // no extension has.
        Credentials::Params { user, password }
            if allowed != Some(false) && user.contains(['-', '_']) =>
        {
            let p = gw.authn.api_key(ip, user, password, vec![]).await?;
            if p.tenant != tenant && !p.administers(tenant) {
                return Err(Failure::AuthFailed { challenges: vec![] });
            }
            Ok(Principal {
                tenant: tenant.to_string(),
                ..p
            })
        }
        Credentials::Params { user, password } if allowed != Some(false) => {
            gw.authn
                .web_user(ip, tenant, user, password, Scheme::VendorParams, vec![])
                .await
        }
        // A server on the tenant's allowed list acts for the tenant (as Ozeki's API does).
        Credentials::None if !auth_on && allowed == Some(true) => Ok(Principal {
            tenant: tenant.to_string(),
            user: None,
            key: None,
            roles: vec![Role::Admin, Role::User],
            scheme: Scheme::IpAllowList,
        }),
        Credentials::None if auth_on && allowed != Some(false) => {
            Err(gw.authn.missing("vendor_params", vec![]))
        }
        Credentials::None | Credentials::Params { .. } => Err(Failure::AddressForbidden),
        _ => Err(Failure::AuthFailed { challenges: vec![] }),
    }
}

fn endpoint(c: &Command) -> &'static str {
    match c {
        Command::ListActiveCalls => "list_active_calls",
        Command::Call(_) => "call",
        Command::Hangup { .. } => "hangup",
        Command::Hold { .. } => "hold",
        Command::BlindTransfer { .. } => "blind_transfer",
        Command::AttendedTransfer { .. } => "attended_transfer",
        Command::Forward { .. } => "forward",
        Command::SendDtmf { .. } => "send_dtmf",
        Command::Play { .. } => "play",
        Command::Speak { .. } => "speak",
        Command::Record { .. } => "record",
        Command::AddConfig(_) => "add_config",
        Command::GetConfig { .. } => "get_config",
        Command::SendSms { .. } => "send_sms",
        Command::Other(_) => "command",
    }
}

/// The tenant's live call `id` (another tenant's, or an ended one, is not found: 601).
async fn own(gw: &Gateway, tenant: &str, id: &str) -> Result<CallId, Failure> {
    own_info(gw, tenant, id).await.map(|c| c.id)
}

async fn own_info(gw: &Gateway, tenant: &str, id: &str) -> Result<CallInfo, Failure> {
    match gw.b2bua.call(&CallId(id.to_string())).await {
        Ok(c) if c.tenant == tenant && c.state != CallState::Ended => Ok(c),
        Ok(_) => Err(Failure::NotFound(id.to_string())),
        Err(ClientError::Api {
            kind: ApiErrorKind::NotFound,
            ..
        }) => Err(Failure::NotFound(id.to_string())),
        Err(e) => Err(gw.b2bua_failure("get", e)),
    }
}

/// The answered parties of a call by side.
fn parties(c: &CallInfo) -> [(Side, Option<&str>); 2] {
    [
        (Side::A, Some(c.from.as_str()).filter(|f| !f.is_empty())),
        (Side::B, c.connected.as_deref()),
    ]
}

/// The side each call has the party they share on (the transferor of an attended transfer).
fn shared_party(c1: &CallInfo, c2: &CallInfo) -> Option<(Side, Side)> {
    parties(c1).into_iter().find_map(|(s1, p1)| {
        parties(c2)
            .into_iter()
            .find(|(_, p2)| p1.is_some() && *p2 == p1)
            .map(|(s2, _)| (s1, s2))
    })
}

fn sides(p: Party) -> &'static [Side] {
    match p {
        Party::Caller => &[Side::A],
        Party::Callee => &[Side::B],
        Party::All => &[Side::A, Side::B],
    }
}

pub(crate) async fn run(gw: &Gateway, tenant: &str, cmd: Command) -> Result<Reply, Failure> {
    let b = &gw.b2bua;
    let ok = || Ok(Reply::Full(ozeki::render_ok()));
    match cmd {
        Command::ListActiveCalls => {
            let mut calls = b
                .list_calls()
                .await
                .map_err(|e| gw.b2bua_failure("list", e))?;
            calls.retain(|c| c.tenant == tenant && c.state != CallState::Ended);
            let now = crate::auth::now_ms();
            Ok(Reply::Full(ozeki::render_active_calls(&calls, now)))
        }
        Command::Hangup { call } => {
            let id = own(gw, tenant, &call).await?;
            b.hangup(&id)
                .await
                .map_err(|e| gw.b2bua_failure("hangup", e))?;
            ok()
        }
        Command::Hold { call, on } => {
            let id = own(gw, tenant, &call).await?;
            b.hold(&id, on)
                .await
                .map_err(|e| gw.b2bua_failure("hold", e))?;
            ok()
        }
        Command::BlindTransfer {
            call,
            transferor,
            target,
        } => {
            let id = own(gw, tenant, &call).await?;
            // The transferor leaves; the other party is connected to the target.
            let keep = if transferor == Party::Callee {
                Side::A
            } else {
                Side::B
            };
            let req = TransferRequest {
                target,
                keep,
                method: TransferMethod::Bridge,
            };
            b.transfer(&id, &req).await.map_err(|e| match e {
                ClientError::Api {
                    kind: ApiErrorKind::Forbidden | ApiErrorKind::NotFound,
                    ..
                } => Failure::bad("Target", "BlindTransfer"),
                e => gw.b2bua_failure("transfer", e),
            })?;
            ok()
        }
        Command::AttendedTransfer {
            transferred,
            target,
        } => {
            let c1 = own_info(gw, tenant, &transferred).await?;
            let c2 = own_info(gw, tenant, &target).await?;
            let (side, other_side) =
                shared_party(&c1, &c2).ok_or_else(|| Failure::Conflict(String::new()))?;
            let req = JoinRequest {
                other: c2.id,
                side,
                other_side,
            };
            b.join(&c1.id, &req).await.map_err(|e| match e {
                ClientError::Api {
                    kind: ApiErrorKind::InvalidState | ApiErrorKind::BadRequest,
                    ..
                } => Failure::Conflict(String::new()),
                e => gw.b2bua_failure("join", e),
            })?;
            ok()
        }
        Command::Forward { call, destination } => {
            let id = own(gw, tenant, &call).await?;
            b.forward(&id, &destination).await.map_err(|e| match e {
                ClientError::Api {
                    kind:
                        ApiErrorKind::Forbidden | ApiErrorKind::NotFound | ApiErrorKind::BadRequest,
                    ..
                } => Failure::bad("Destination", "Forward"),
                ClientError::Api {
                    kind: ApiErrorKind::InvalidState,
                    ..
                } => Failure::Conflict(String::new()),
                e => gw.b2bua_failure("forward", e),
            })?;
            ok()
        }
        Command::SendDtmf {
            call,
            party,
            digits,
        } => {
            let id = own(gw, tenant, &call).await?;
            for side in sides(party) {
                let op = MediaOp::Dtmf(DtmfRequest {
                    side: *side,
                    digits: digits.clone(),
                    duration_ms: 100,
                });
                b.primitive(&id, &op)
                    .await
                    .map_err(|e| gw.b2bua_failure("media", e))?;
            }
            ok()
        }
        Command::Play {
            call,
            party,
            audio,
            repeat,
        } => {
            let id = own(gw, tenant, &call).await?;
            let url = audio.starts_with("http://") || audio.starts_with("https://");
            for side in sides(party) {
                let op = MediaOp::Play(PlayRequest {
                    side: *side,
                    file: (!url).then(|| audio.clone()),
                    url: url.then(|| audio.clone()),
                    text: None,
                    recording: None,
                    voice: None,
                    repeat,
                    barge_in: false,
                });
                b.primitive(&id, &op).await.map_err(|e| match e {
                    ClientError::Api {
                        kind: ApiErrorKind::BadRequest,
                        ..
                    } => Failure::bad("AudioFile", "Play"),
                    e => gw.b2bua_failure("media", e),
                })?;
            }
            ok()
        }
        Command::Speak {
            call,
            party,
            text,
            voice,
        } => {
            let id = own(gw, tenant, &call).await?;
            for side in sides(party) {
                let op = MediaOp::Play(PlayRequest {
                    side: *side,
                    file: None,
                    url: None,
                    text: Some(text.clone()),
                    recording: None,
                    voice: voice.clone(),
                    repeat: false,
                    barge_in: false,
                });
                b.primitive(&id, &op).await.map_err(|e| match e {
                    ClientError::Api {
                        kind: ApiErrorKind::BadRequest,
                        ..
                    } => Failure::bad("Language", "Speak"),
                    e => gw.b2bua_failure("media", e),
                })?;
            }
            ok()
        }
        // Carried out by `handle` (the call starts after the reply; the RecordURL needs the
        // request's Host).
        Command::Call(_)
        | Command::Record { .. }
        | Command::AddConfig(_)
        | Command::GetConfig { .. }
        | Command::SendSms { .. } => Err(Failure::Internal(
            "Call, Record and the configuration commands are handled before".into(),
        )),
        Command::Other(name) => Err(Failure::NotImplemented(name)),
    }
}
