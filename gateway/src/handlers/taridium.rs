//! Taridium: End-User URL Control (`/user/c/`); the IPPS pages are `super::ipps`.

use super::{Ctx, Reply, db};
use crate::Gateway;
use patchbay_api::{OriginateMode, OriginateRequest};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::taridium::{self, UrlAction};
use patchbay_gateway_proto::{Failure, Principal, Request};

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    if !req.uri().path().starts_with("/user/c") {
        return Ok(super::ipps::handle(gw, ctx, req).await);
    }
    ctx.endpoint = "auth";
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let c = taridium::parse_url_control(req)?;
    let p = match &c.credentials {
        Credentials::UrlKey(k) => gw.authn.url_key(ip, k).await?,
        // "Generic" mode: IPPS credentials (an API key here) and `user=<ext>`.
        Credentials::Basic(b) => {
            let k = gw.authn.api_key(ip, &b.user, &b.password, vec![]).await?;
            let ext = c
                .user
                .clone()
                .ok_or_else(|| Failure::bad("user", "required"))?;
            if gw
                .store
                .user(&k.tenant, &ext)
                .await
                .ok()
                .flatten()
                .is_none()
            {
                return Err(Failure::AuthFailed { challenges: vec![] });
            }
            Principal {
                user: Some(ext),
                ..k
            }
        }
        Credentials::None => return Err(gw.authn.missing("url_key", vec![])),
        _ => return Err(Failure::AuthFailed { challenges: vec![] }),
    };
    gw.rate_limit(&p)?;
    let ext = p.user.clone().ok_or(Failure::Forbidden)?;
    let text = match c.action {
        UrlAction::Call { number, cid } => {
            ctx.endpoint = "call";
            let st = gw.store.user_settings(&p.tenant, &ext).await.map_err(db)?;
            gw.originate(
                ctx,
                OriginateRequest {
                    tenant: p.tenant.clone(),
                    from: ext,
                    to: vec![number],
                    mode: OriginateMode::CallerFirst,
                    ring_timeout_secs: st.map(|s| s.ring_secs),
                    caller_id: cid,
                    ..Default::default()
                },
            )
            .await?;
            taridium::CALL_PLACED
        }
        UrlAction::Forwarding { on, number } => {
            update(gw, ctx, &p.tenant, &ext, |st| {
                if number.is_some() {
                    st.forward_to = number;
                }
                st.forward_on = on;
            })
            .await?;
            taridium::FORWARDING_UPDATED
        }
        UrlAction::FollowMe(on) => {
            update(gw, ctx, &p.tenant, &ext, |st| st.followme_on = on).await?;
            taridium::FOLLOWME_UPDATED
        }
        UrlAction::Voicemail(on) => {
            update(gw, ctx, &p.tenant, &ext, |st| st.vm_on = on).await?;
            taridium::VM_UPDATED
        }
    };
    Ok(Reply::Full(taridium::render_text(text)))
}

/// Read-modify-write of the user's call settings.
async fn update(
    gw: &Gateway,
    ctx: &mut Ctx,
    tenant: &str,
    ext: &str,
    change: impl FnOnce(&mut patchbay_store::UserSettings),
) -> Result<(), Failure> {
    ctx.endpoint = "settings";
    let mut st = gw
        .store
        .user_settings(tenant, ext)
        .await
        .map_err(db)?
        .ok_or(Failure::Forbidden)?;
    change(&mut st);
    gw.store
        .set_user_settings(tenant, ext, &st)
        .await
        .map_err(db)?;
    Ok(())
}
