//! Taridium: End-User URL Control (`/user/c/`); the IPPS pages are `super::ipps`.

use super::{Ctx, Reply, db};
use crate::Gateway;
use patchbay_api::{EventKind, OriginateMode, OriginateRequest};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::taridium::progress::{self, Outcome};
use patchbay_gateway_proto::vendors::taridium::{self, UrlAction};
use patchbay_gateway_proto::{Failure, Principal, Request};
use std::time::Duration;

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
        // "Generic" mode: the tenant's IPPS credentials (or an API key) and `user=<ext>`.
        Credentials::Basic(b) => {
            let k = match ipps_user(gw, ctx, &b.user, &b.password).await? {
                Some(p) => p,
                None => gw.authn.api_key(ip, &b.user, &b.password, vec![]).await?,
            };
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
        // The user's authorized client IP stands for its key.
        Credentials::None => match url_ip_user(gw, ctx).await? {
            Some(p) => p,
            None => return Err(gw.authn.missing("url_key", vec![])),
        },
        _ => return Err(Failure::AuthFailed { challenges: vec![] }),
    };
    gw.rate_limit(&p)?;
    let ext = p.user.clone().ok_or(Failure::Forbidden)?;
    let text = match c.action {
        UrlAction::Call {
            number,
            cid,
            progress,
        } => {
            ctx.endpoint = "call";
            let st = gw.store.user_settings(&p.tenant, &ext).await.map_err(db)?;
            let req = OriginateRequest {
                tenant: p.tenant.clone(),
                from: ext,
                to: vec![number.clone()],
                mode: OriginateMode::CallerFirst,
                ring_timeout_secs: st.map(|s| s.ring_secs),
                caller_id: cid,
                ..Default::default()
            };
            if let Some(mode) = progress {
                let outcome = call_with_progress(gw, req).await;
                return Ok(Reply::Full(progress::render(mode, &number, &outcome)));
            }
            gw.originate(ctx, req).await?;
            taridium::CALL_PLACED
        }
        // Each switch fails in its own words (`ERROR: FAILED UPDATING ... SETTINGS`).
        UrlAction::Forwarding { on, number } => {
            update(gw, ctx, &p.tenant, &ext, "fwd", |st| {
                if number.is_some() {
                    st.forward_to = number;
                }
                // Forwarding without a number to forward to means nothing (Taridium: "only
                // meaningful if a destination is configured").
                if on && st.forward_to.is_none() {
                    return Err(Failure::bad("fwd", "no forwarding number"));
                }
                st.forward_on = on;
                Ok(())
            })
            .await?;
            taridium::FORWARDING_UPDATED
        }
        UrlAction::FollowMe(on) => {
            update(gw, ctx, &p.tenant, &ext, "follow", |st| {
                // Follow-me needs a destination (the call sequence).
                if on && !st.call_sequence.iter().any(|r| r.enabled) {
                    return Err(Failure::bad("follow", "no follow-me destination"));
                }
                st.followme_on = on;
                Ok(())
            })
            .await?;
            taridium::FOLLOWME_UPDATED
        }
        UrlAction::Voicemail(on) => {
            update(gw, ctx, &p.tenant, &ext, "vm", |st| {
                st.vm_on = on;
                Ok(())
            })
            .await?;
            taridium::VM_UPDATED
        }
    };
    Ok(Reply::Full(taridium::render_text(text)))
}

/// Place the call now and wait until it connects or ends (`progress=1|2`). Every call ends
/// by itself (ring timeouts); the wait is capped all the same.
async fn call_with_progress(gw: &Gateway, req: OriginateRequest) -> Outcome {
    let info = match gw.originate_held(req).await {
        Ok(i) => i,
        Err(_) => return Outcome::NotPlaced,
    };
    gw.start_call(&info.id).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mut after = 0;
    while tokio::time::Instant::now() < deadline {
        let events = match gw
            .events
            .call(&info.id, after, Duration::from_secs(20))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                gw.store_failure("events", e);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        for e in events {
            after = after.max(e.seq);
            match e.kind {
                EventKind::Bridged => return Outcome::Connected,
                EventKind::Forwarded { to, .. } if to == "voicemail" => {
                    return Outcome::Voicemail;
                }
                EventKind::Ended { cause, .. } => {
                    let why = serde_json::to_value(cause)
                        .ok()
                        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                        .unwrap_or_default();
                    return Outcome::Ended { why };
                }
                _ => {}
            }
        }
    }
    Outcome::Ended {
        why: "no answer in time".into(),
    }
}

/// Read-modify-write of the user's call settings.
async fn update(
    gw: &Gateway,
    ctx: &mut Ctx,
    tenant: &str,
    ext: &str,
    action: &'static str,
    change: impl FnOnce(&mut patchbay_store::UserSettings) -> Result<(), Failure>,
) -> Result<(), Failure> {
    ctx.endpoint = "settings";
    let mut st = gw
        .store
        .user_settings(tenant, ext)
        .await
        .map_err(db)?
        .ok_or_else(|| Failure::bad(action, "no such user"))?;
    change(&mut st)?;
    gw.store
        .set_user_settings(tenant, ext, &st)
        .await
        .map_err(db)?;
    Ok(())
}

/// `tenant_configs` kind of users' authorized client IPs (named by extension).
const URL_IP_KIND: &str = "taridium-url-ip";

/// Set (or, with `""`, clear) a user's authorized client IP.
pub(crate) async fn set_url_ip(
    gw: &Gateway,
    tenant: &str,
    ext: &str,
    ip: &str,
) -> Result<(), Failure> {
    if ip.is_empty() {
        gw.store
            .delete_config(tenant, URL_IP_KIND, ext)
            .await
            .map_err(db)?;
    } else {
        let body = serde_json::json!({ "ip": ip }).to_string();
        gw.store
            .put_config(tenant, URL_IP_KIND, ext, &body)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// The user of the request's tenant whose authorized client IP the request comes from.
async fn url_ip_user(gw: &Gateway, ctx: &Ctx) -> Result<Option<Principal>, Failure> {
    let Some(tenant) = &ctx.origin.tenant else {
        return Ok(None);
    };
    let ip = ctx.origin.ip.to_string();
    let found = gw
        .store
        .configs(tenant, URL_IP_KIND)
        .await
        .map_err(db)?
        .into_iter()
        .find(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b)
                .ok()
                .is_some_and(|v| v["ip"].as_str() == Some(ip.as_str()))
        });
    Ok(found.map(|(ext, _)| Principal {
        tenant: tenant.clone(),
        user: Some(ext),
        key: None,
        roles: vec![patchbay_gateway_proto::Role::User],
        scheme: patchbay_gateway_proto::Scheme::IpAllowList,
    }))
}

/// Generic auth with the tenant's IPPS user and password (`$cfg['IPPSUser']`); `None`: not
/// the IPPS user (an API key, perhaps).
async fn ipps_user(
    gw: &Gateway,
    ctx: &Ctx,
    user: &str,
    password: &str,
) -> Result<Option<Principal>, Failure> {
    let Some(tenant) = &ctx.origin.tenant else {
        return Ok(None);
    };
    let st = super::ipps::settings(gw, tenant).await?;
    if st.user.as_deref() != Some(user) {
        return Ok(None);
    }
    let ok = gw
        .authn
        .hashed_secret_ok(
            &format!("ipps:{tenant}"),
            st.password_hash.as_deref().unwrap_or(""),
            password,
        )
        .await;
    if !ok {
        return Err(gw.authn.refuse(
            ctx.origin.ip,
            patchbay_gateway_proto::Scheme::Basic,
            "ipps",
            Vec::new(),
        ));
    }
    Ok(Some(Principal {
        tenant: tenant.clone(),
        user: None,
        key: None,
        roles: vec![patchbay_gateway_proto::Role::User],
        scheme: patchbay_gateway_proto::Scheme::Basic,
    }))
}
