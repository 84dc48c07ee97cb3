//! sipX: sipXconfig REST (`/sipxconfig/rest/...`) and the call controller
//! (`/callcontroller/...` on its own port, and through the REST redirector).
//!
//! REST access as sipXconfig's security chain has it: `/private/{key}/...` by the user's
//! private key; otherwise preemptive Basic (a user and its web PIN, or an admin API key) or
//! Digest in sipXconfig's nonce form; `/my/...` and `/call/...` need a user, the rest the
//! admin role.

mod admin;
pub(crate) mod callcontroller;
mod conference;
mod mailbox;
mod phonebook;
mod profile;
mod user;

use super::{Ctx, Reply, db};
use crate::Gateway;
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::principal::{Role, Scheme};
use patchbay_gateway_proto::vendors::sipx::{
    self,
    rest::{self, Access, Resource},
};
use patchbay_gateway_proto::{Failure, Principal, Request};

/// Every failure gets sipXconfig's form for the request's method and path (its errors
/// depend on both), rendered here rather than by the service.
pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    match serve(gw, ctx, req).await {
        Ok(r) => Ok(r),
        Err(f) => {
            if let Failure::Internal(e) = &f {
                tracing::warn!(vendor = "sipx", error = %e, "internal error");
            }
            Ok(Reply::Full(sipx::render_rest_error(
                &f,
                req.method().as_str(),
                req.uri().path(),
            )))
        }
    }
}

async fn serve(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "auth";
    gw.authn.check_ban(ctx.origin.ip)?;
    let (access, resource) = rest::route(req.uri().path());
    let p = authenticate(gw, ctx, req, &access).await?;
    match access {
        Access::User | Access::Private { .. } if p.user.is_none() => {
            return Err(Failure::Forbidden);
        }
        Access::Admin | Access::AttendantAdmin
            if !p
                .roles
                .iter()
                .any(|r| matches!(r, Role::Admin | Role::System)) =>
        {
            return Err(Failure::Forbidden);
        }
        _ => {}
    }
    gw.rate_limit(&p)?;
    let method = rest::method(req)?;
    let realm = gw.authn.realm_of(&p.tenant).await;
    let cx = Rest {
        gw,
        req,
        p: &p,
        realm: &realm,
        method,
    };
    match resource {
        Resource::Redirect => {
            ctx.endpoint = "redirect";
            Err(Failure::NotFound("No known resource was requested".into()))
        }
        Resource::Unknown => {
            ctx.endpoint = "unknown";
            Err(Failure::NotFound(String::new()))
        }
        Resource::Call { to } => user::call(&cx, ctx, &to).await,
        Resource::VoicemailPin { pin } => user::voicemail_pin(&cx, ctx, &pin).await,
        Resource::PortalPassword { password } => user::password(&cx, ctx, &password).await,
        Resource::Forward => user::forward(&cx, ctx).await,
        Resource::Phonebook => phonebook::mine(&cx, ctx).await,
        Resource::PhonebookEntry { id } => phonebook::one(&cx, ctx, &id).await,
        Resource::SearchPhonebook => phonebook::search(&cx, ctx).await,
        Resource::PagedPhonebook => phonebook::paged(&cx, ctx).await,
        Resource::Phonebooks => phonebook::books(&cx, ctx).await,
        Resource::SharedPhonebook { name } => phonebook::shared(&cx, ctx, &name).await,
        Resource::Phones => phonebook::phones(&cx, ctx).await,
        Resource::CallFwd => user::callfwd(&cx, ctx).await,
        Resource::RedirectCallController { tail } => {
            user::redirect_callcontroller(&cx, ctx, &tail).await
        }
        Resource::ContactInformation => profile::contact(&cx, ctx).await,
        Resource::LoginDetails => profile::login_details(&cx, ctx).await,
        Resource::SpeedDial => profile::speed_dial(&cx, ctx).await,
        Resource::ActiveGreeting { user, greeting } => {
            profile::greeting(&cx, ctx, &user, greeting.as_deref()).await
        }
        Resource::Conferences => conference::list(&cx, ctx).await,
        Resource::Conference { name } => conference::setting(&cx, ctx, &name).await,
        Resource::ConferenceDetails { name } => conference::details(&cx, ctx, &name).await,
        Resource::ConferenceCommand { name, command } => {
            conference::command(&cx, ctx, &name, &command).await
        }
        Resource::VoicemailFeed { folder } => mailbox::feed(&cx, ctx, &folder).await,
        Resource::VoicemailMessage { folder, id } => mailbox::message(&cx, ctx, &folder, &id).await,
        Resource::ActiveCdrs { user } => admin::active(&cx, ctx, user.as_deref()).await,
        Resource::AutoAttendants => admin::attendants(&cx, ctx).await,
        Resource::SpecialMode => admin::special_mode(&cx, ctx).await,
        Resource::SpecialAttendant { id } => admin::special(&cx, ctx, &id).await,
    }
}

/// One authenticated REST request.
pub(crate) struct Rest<'a> {
    pub(crate) gw: &'a Gateway,
    pub(crate) req: &'a Request,
    pub(crate) p: &'a Principal,
    /// The tenant's SIP realm (sipX's domain).
    pub(crate) realm: &'a str,
    /// `GET` (also for `HEAD`), `PUT`, `POST` or `DELETE`.
    pub(crate) method: &'a str,
}

impl Rest<'_> {
    /// The user the request acts for (a user principal: checked before dispatch).
    pub(crate) fn user(&self) -> &str {
        self.p.user.as_deref().unwrap_or_default()
    }

    pub(crate) fn tenant(&self) -> &str {
        &self.p.tenant
    }
}

async fn authenticate(
    gw: &Gateway,
    ctx: &Ctx,
    req: &Request,
    access: &Access,
) -> Result<Principal, Failure> {
    let ip = ctx.origin.ip;
    let realm = match &ctx.origin.tenant {
        Some(t) => gw.authn.realm_of(t).await,
        None => "patchbay".to_string(),
    };
    let challenge = |stale| vec![gw.authn.sipx_challenge(&realm, stale)];
    if let Access::Private { key } = access {
        let u = gw.store.user_by_private_key(key).await.map_err(db)?;
        return match u {
            Some(u) => Ok(Principal {
                tenant: u.tenant,
                user: Some(u.ext),
                key: None,
                roles: vec![Role::User],
                scheme: Scheme::UrlKey,
            }),
            None => Err(gw
                .authn
                .refuse(ip, Scheme::UrlKey, "bad_private_key", challenge(false))),
        };
    }
    let mut p = match patchbay_gateway_proto::auth::from_authorization(req) {
        Credentials::Basic(b) => {
            let user = match &ctx.origin.tenant {
                Some(t) => gw.store.user(t, &b.user).await.map_err(db)?,
                None => None,
            };
            match user {
                Some(u) => {
                    gw.authn
                        .web_user(
                            ip,
                            &u.tenant,
                            &u.ext,
                            &b.password,
                            Scheme::Basic,
                            challenge(false),
                        )
                        .await?
                }
                None => {
                    gw.authn
                        .api_key(ip, &b.user, &b.password, challenge(false))
                        .await?
                }
            }
        }
        Credentials::Digest(d) => {
            let uri = req.uri().to_string();
            gw.authn
                .digest(ip, &d, req.method().as_str(), &uri)
                .await
                .map_err(|f| match f {
                    Failure::AuthFailed { challenges } => Failure::AuthFailed {
                        challenges: challenge(challenges.iter().any(|c| c.contains("stale=true"))),
                    },
                    other => other,
                })?
        }
        Credentials::None => return Err(gw.authn.missing("basic", challenge(false))),
        _ => {
            return Err(Failure::AuthFailed {
                challenges: challenge(false),
            });
        }
    };
    // Users given the admin role administer their tenant.
    if let Some(u) = &p.user
        && gw
            .store
            .user_roles(&p.tenant, u)
            .await
            .map_err(db)?
            .iter()
            .any(|r| r == "admin")
    {
        p.roles.push(Role::Admin);
    }
    Ok(p)
}

/// A party as the B2BUA names it: the user part of an address in the PBX's domain (`realm`),
/// otherwise a SIP URI.
pub(crate) fn party(value: &str, realm: &str) -> String {
    let v = value.trim();
    let v = v
        .strip_prefix("sip:")
        .or_else(|| v.strip_prefix("sips:"))
        .unwrap_or(v);
    match v.split_once('@') {
        None => v.to_string(),
        Some((user, domain)) if domain.eq_ignore_ascii_case(realm) => user.to_string(),
        Some(_) => format!("sip:{v}"),
    }
}
