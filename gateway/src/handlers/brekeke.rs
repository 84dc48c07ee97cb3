//! Brekeke: the `UserImpl` SOAP service (`/pbx/services/UserImpl`) and HTTP 3PCC (`/pbx/3pcc`).
//!
//! Access: the tenant's client IP pattern (scope `brekeke-soap` / `brekeke-3pcc`, regex or
//! CIDR, as Brekeke's "Valid client IP Pattern"), or an admin API key as HTTP Basic. Without a
//! pattern list and without credentials, nobody gets in.

use super::{Ctx, Reply, db, random_hex};
use crate::Gateway;
use patchbay_api::{OriginateMode, OriginateRequest};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::brekeke::{self, ThreePcc};
use patchbay_gateway_proto::vendors::brekeke_soap::{
    self, Property, SoapOp, SoapReturn, valid_extension,
};
use patchbay_gateway_proto::{Failure, Principal, Request, Role, Scheme};
use patchbay_store::{Tenant, User};

pub(crate) const SOAP_SCOPE: &str = "brekeke-soap";
pub(crate) const THREE_PCC_SCOPE: &str = "brekeke-3pcc";
const SERVICE_PATH: &str = "/pbx/services/UserImpl";

/// The principal for a Brekeke request: Basic API key (admin of the tenant), else the client
/// address on the tenant's pattern list for `scope`.
async fn authorize(
    gw: &Gateway,
    ctx: &Ctx,
    credentials: &Credentials,
    tenant: Option<&str>,
    scope: &str,
) -> Result<Principal, Failure> {
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let p = match credentials {
        Credentials::Basic(b) => {
            let mut p = gw.authn.api_key(ip, &b.user, &b.password, vec![]).await?;
            let t = tenant.unwrap_or(&p.tenant).to_string();
            if !p.administers(&t) {
                return Err(Failure::Forbidden);
            }
            p.tenant = t;
            p
        }
        Credentials::None => {
            let t = tenant
                .map(str::to_string)
                .or_else(|| ctx.origin.tenant.clone())
                .ok_or(Failure::AddressForbidden)?;
            if gw.authn.ip_allowed(&t, scope, ip).await? != Some(true) {
                return Err(Failure::AddressForbidden);
            }
            Principal {
                tenant: t,
                user: None,
                key: None,
                roles: vec![Role::Admin],
                scheme: Scheme::IpAllowList,
            }
        }
        _ => return Err(Failure::AuthFailed { challenges: vec![] }),
    };
    gw.rate_limit(&p)?;
    Ok(p)
}

/// `/pbx/3pcc`: `succeeded: <ID>` once the call is created (it rings right after the reply).
pub(crate) async fn handle_3pcc(
    gw: &Gateway,
    ctx: &mut Ctx,
    req: &Request,
) -> Result<Reply, Failure> {
    ctx.endpoint = "3pcc";
    if req.uri().path() != "/pbx/3pcc" {
        return Err(Failure::NotImplemented(req.uri().path().to_string()));
    }
    let ThreePcc {
        to,
        from,
        user,
        mode,
        tenant,
        credentials,
        phone,
        page,
    } = brekeke::parse_3pcc(req)?;
    let p = authorize(gw, ctx, &credentials, tenant.as_deref(), THREE_PCC_SCOPE).await?;
    let call = Placement {
        user: &user,
        from,
        to,
        mode,
        phone,
        page,
    };
    let id = place_call(gw, ctx, &p.tenant, call).await?;
    Ok(Reply::Full(brekeke::render_succeeded(&id)))
}

/// A Brekeke call request (`callControl` or `/pbx/3pcc`).
struct Placement<'a> {
    user: &'a str,
    from: String,
    to: Vec<String>,
    mode: OriginateMode,
    /// `/pbx/3pcc` `phone` (callControl has none).
    phone: Option<u8>,
    /// `/pbx/3pcc` `page=true`.
    page: bool,
}

/// `callControl` and `/pbx/3pcc`: the calling `user` must exist (unless it is a SIP URI) and its
/// ring time applies; the call id is returned.
async fn place_call(
    gw: &Gateway,
    ctx: &mut Ctx,
    tenant: &str,
    call: Placement<'_>,
) -> Result<String, Failure> {
    let Placement {
        user,
        from,
        to,
        mode,
        phone,
        page,
    } = call;
    let ring = if user.starts_with("sip:") || user.starts_with("sips:") {
        None
    } else {
        match gw.store.user_settings(tenant, user).await.map_err(db)? {
            Some(st) => Some(st.ring_secs),
            None => return Err(Failure::NotFound(format!("user {user}"))),
        }
    };
    let info = gw
        .originate(
            ctx,
            OriginateRequest {
                request_key: None,
                tenant: tenant.to_string(),
                from,
                to,
                mode,
                ring_timeout_secs: ring,
                headers: vec![],
                start_within_ms: None,
                auto_answer: page,
                from_phone: phone,
                app: false,
                record: false,
                caller_id: None,
                conference: None,
                queue: None,
                caller_forwarding: false,
            },
        )
        .await?;
    Ok(info.id.0)
}

/// `http(s)://<Host>/pbx/services/UserImpl`: Axis names its namespace and address after the URL
/// the client used.
fn service_url(req: &Request, tls: bool) -> String {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['"', '<', '>', ' ']))
        .unwrap_or("127.0.0.1");
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}{SERVICE_PATH}")
}

/// `/pbx/services/UserImpl`: `GET ?wsdl` (open, as Axis serves it), `POST` a SOAP call.
pub(crate) async fn handle_soap(
    gw: &Gateway,
    ctx: &mut Ctx,
    req: &Request,
) -> Result<Reply, Failure> {
    if req.uri().path() != SERVICE_PATH {
        ctx.endpoint = "unknown";
        return Err(Failure::NotFound("no service at this URL".into()));
    }
    let url = service_url(req, ctx.tls);
    if req.method() == http::Method::GET {
        let wsdl = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("wsdl")));
        ctx.endpoint = if wsdl { "wsdl" } else { "service_page" };
        return Ok(Reply::Full(if wsdl {
            brekeke_soap::render_wsdl(&url)
        } else {
            brekeke_soap::render_service_page()
        }));
    }
    if req.method() != http::Method::POST {
        return Err(Failure::MethodNotAllowed);
    }
    ctx.endpoint = "soap";
    let call = brekeke_soap::parse_request(req)?;
    let p = authorize(
        gw,
        ctx,
        &call.credentials,
        call.tenant.as_deref(),
        SOAP_SCOPE,
    )
    .await?;
    let ret = run(gw, ctx, &p, call.op).await?;
    Ok(Reply::Full(brekeke_soap::render_return(
        &url, &call.name, &ret,
    )))
}

fn endpoint(op: &SoapOp) -> &'static str {
    match op {
        SoapOp::GetUserPropertyNames { .. } => "getUserPropertyNames",
        SoapOp::GetUserProperties { .. } => "getUserProperties",
        SoapOp::SetUserProperties { .. } => "setUserProperties",
        SoapOp::GetUserProperty { .. } => "getUserProperty",
        SoapOp::SetUserProperty { .. } => "setUserProperty",
        SoapOp::CreateUser { .. } => "createUser",
        SoapOp::DeleteUser { .. } => "deleteUser",
        SoapOp::CallControl { .. } => "callControl",
        SoapOp::CreateTenant => "createTenant",
    }
}

async fn existing_user(gw: &Gateway, tenant: &str, user: &str) -> Result<User, Failure> {
    gw.store
        .user(tenant, user)
        .await
        .map_err(db)?
        .ok_or_else(|| Failure::NotFound(format!("user {user}")))
}

async fn read_property(gw: &Gateway, u: &User, name: &str) -> Result<String, Failure> {
    // Properties Patchbay does not model read as "" (a CRM reading one must not break).
    let Some(prop) = Property::parse(name) else {
        return Ok(String::new());
    };
    Ok(match prop {
        Property::Name => u.display_name.clone(),
        Property::Password | Property::Pin => String::new(),
        Property::RingerTime | Property::PhoneForward => {
            let st = gw
                .store
                .user_settings(&u.tenant, &u.ext)
                .await
                .map_err(db)?
                .unwrap_or_default();
            if prop == Property::RingerTime {
                st.ring_secs.to_string()
            } else if st.forward_on {
                st.forward_to.unwrap_or_default()
            } else {
                String::new()
            }
        }
    })
}

/// Validate every pair first, then write them in order.
async fn write_properties(
    gw: &Gateway,
    u: &User,
    pairs: &[(String, String)],
) -> Result<(), Failure> {
    let mut props = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let prop =
            Property::parse(name).ok_or_else(|| Failure::bad(name.clone(), "unknown property"))?;
        prop.validate(value)?;
        props.push((prop, value.as_str()));
    }
    let (t, e) = (u.tenant.as_str(), u.ext.as_str());
    for (prop, value) in props {
        match prop {
            Property::Name => {
                gw.store.set_display_name(t, e, value).await.map_err(db)?;
            }
            Property::Password => {
                let cur = existing_user(gw, t, e).await?;
                gw.store.upsert_user(&cur, value).await.map_err(db)?;
            }
            Property::Pin => {
                gw.store.set_vm_pin(t, e, Some(value)).await.map_err(db)?;
            }
            Property::RingerTime | Property::PhoneForward => {
                let mut st = gw
                    .store
                    .user_settings(t, e)
                    .await
                    .map_err(db)?
                    .unwrap_or_default();
                if prop == Property::RingerTime {
                    st.ring_secs = value.parse().unwrap_or(st.ring_secs);
                } else {
                    let v = value.trim();
                    st.forward_on = !v.is_empty();
                    st.forward_to = (!v.is_empty()).then(|| v.to_string());
                }
                gw.store.set_user_settings(t, e, &st).await.map_err(db)?;
            }
        }
    }
    gw.authn.invalidate();
    Ok(())
}

async fn run(
    gw: &Gateway,
    ctx: &mut Ctx,
    p: &Principal,
    op: SoapOp,
) -> Result<SoapReturn, Failure> {
    ctx.endpoint = endpoint(&op);
    let tenant = p.tenant.as_str();
    match op {
        SoapOp::GetUserPropertyNames { user } => {
            existing_user(gw, tenant, &user).await?;
            Ok(SoapReturn::Array(
                Property::ALL.iter().map(|(n, _)| n.to_string()).collect(),
            ))
        }
        SoapOp::GetUserProperties { user, names } => {
            let u = existing_user(gw, tenant, &user).await?;
            let mut out = Vec::with_capacity(names.len());
            for n in &names {
                out.push(read_property(gw, &u, n).await?);
            }
            Ok(SoapReturn::Array(out))
        }
        SoapOp::GetUserProperty { user, name } => {
            let u = existing_user(gw, tenant, &user).await?;
            Ok(SoapReturn::Str(read_property(gw, &u, &name).await?))
        }
        SoapOp::SetUserProperties {
            user,
            names,
            values,
        } => {
            let u = existing_user(gw, tenant, &user).await?;
            let pairs: Vec<(String, String)> = names.into_iter().zip(values).collect();
            write_properties(gw, &u, &pairs).await?;
            Ok(SoapReturn::Void)
        }
        SoapOp::SetUserProperty { user, name, value } => {
            let u = existing_user(gw, tenant, &user).await?;
            write_properties(gw, &u, &[(name, value)]).await?;
            Ok(SoapReturn::Void)
        }
        SoapOp::CreateUser { user, password } => {
            if !valid_extension(&user) {
                return Err(Failure::bad("user", "invalid user name"));
            }
            if let Some(pw) = &password {
                Property::Password.validate(pw)?;
            }
            if gw.store.user(tenant, &user).await.map_err(db)?.is_some() {
                return Err(Failure::Conflict(format!("user {user} already exists")));
            }
            // The one-argument overload: an unguessable password, to be set with
            // setUserProperty(user, "password", ...) before the phone can register.
            let pw = password.unwrap_or_else(|| random_hex(16));
            let u = User {
                tenant: tenant.to_string(),
                ext: user.clone(),
                display_name: user,
            };
            gw.store.upsert_user(&u, &pw).await.map_err(db)?;
            Ok(SoapReturn::Void)
        }
        SoapOp::DeleteUser { user } => {
            if !gw.store.delete_user(tenant, &user).await.map_err(db)? {
                return Err(Failure::NotFound(format!("user {user}")));
            }
            gw.authn.invalidate();
            Ok(SoapReturn::Void)
        }
        SoapOp::CallControl {
            user,
            from,
            to,
            mode,
        } => {
            let call = Placement {
                user: &user,
                from,
                to,
                mode,
                phone: None,
                page: false,
            };
            Ok(SoapReturn::Str(place_call(gw, ctx, tenant, call).await?))
        }
        SoapOp::CreateTenant => {
            if !p.roles.contains(&Role::System) {
                return Err(Failure::Forbidden);
            }
            if !valid_extension(tenant) {
                return Err(Failure::bad("tenant", "invalid tenant name"));
            }
            if gw.store.tenant(tenant).await.map_err(db)?.is_some() {
                return Err(Failure::Conflict(format!("tenant {tenant} already exists")));
            }
            gw.store
                .upsert_tenant(&Tenant {
                    name: tenant.to_string(),
                    realm: tenant.to_string(),
                })
                .await
                .map_err(db)?;
            Ok(SoapReturn::Void)
        }
    }
}
