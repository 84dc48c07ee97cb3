//! Taridium: End-User URL Control (`/user/c/`). The IPPS pages come with their own issue.

use super::{Ctx, Reply};
use crate::Gateway;
use patchbay_api::{OriginateMode, OriginateRequest};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::taridium::{self, UrlAction};
use patchbay_gateway_proto::{Failure, Principal, Request};

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    if !req.uri().path().starts_with("/user/c") {
        ctx.endpoint = "ipps";
        return Err(Failure::NotImplemented(req.uri().path().to_string()));
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
    let db = |e: patchbay_store::StoreError| Failure::Internal(e.to_string());
    let text = match c.action {
        UrlAction::Call { number, cid: _ } => {
            ctx.endpoint = "call";
            let st = gw.store.user_settings(&p.tenant, &ext).await.map_err(db)?;
            gw.originate(OriginateRequest {
                tenant: p.tenant.clone(),
                from: ext,
                to: vec![number],
                mode: OriginateMode::CallerFirst,
                ring_timeout_secs: st.map(|s| s.ring_secs),
                headers: vec![],
            })
            .await?;
            taridium::CALL_PLACED
        }
        other => {
            ctx.endpoint = "settings";
            let mut st = gw
                .store
                .user_settings(&p.tenant, &ext)
                .await
                .map_err(db)?
                .ok_or(Failure::Forbidden)?;
            let text = match other {
                UrlAction::Forwarding { on, number } => {
                    if number.is_some() {
                        st.forward_to = number;
                    }
                    st.forward_on = on;
                    taridium::FORWARDING_UPDATED
                }
                UrlAction::FollowMe(on) => {
                    st.followme_on = on;
                    taridium::FOLLOWME_UPDATED
                }
                UrlAction::Voicemail(on) => {
                    st.vm_on = on;
                    taridium::VM_UPDATED
                }
                UrlAction::Call { .. } => unreachable!("handled above"),
            };
            gw.store
                .set_user_settings(&p.tenant, &ext, &st)
                .await
                .map_err(db)?;
            text
        }
    };
    Ok(Reply::Full(taridium::render_text(text)))
}
