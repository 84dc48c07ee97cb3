//! Taridium's IPPS pages (`/ipps/channelinfo.php`, `/ipps/queueactive.php`) from the B2BUA's
//! live channels and queues, for the tenant of the Host (or listener); off unless the
//! tenant's IPPS settings turn them on; their Basic credentials and SSL rule when set.

use super::{Ctx, Reply};
use crate::Gateway;
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::Request;
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::principal::Scheme;
use patchbay_gateway_proto::vendors::taridium::ipps::{self, IppsRequest, IppsSettings};
use std::sync::Arc;

/// `tenant_configs` kind and name of a tenant's IPPS settings.
pub(crate) const KIND: &str = "ipps";
pub(crate) const NAME: &str = "settings";

/// The tenant's IPPS settings: wallboards poll every few seconds, so they are cached (this
/// gateway's copy is dropped when they are changed through it; others see a change within
/// the cache's 10 s).
pub(crate) async fn settings(gw: &Gateway, tenant: &str) -> Result<Arc<IppsSettings>, Failure> {
    if let Some(s) = gw.ipps.get(tenant) {
        return Ok(s);
    }
    let s: Arc<IppsSettings> = Arc::new(
        super::config(gw, tenant, KIND, NAME)
            .await?
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or_default(),
    );
    gw.ipps.insert(tenant.to_string(), s.clone());
    Ok(s)
}

/// Every failure in IPPS's own texts.
pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Reply {
    ctx.endpoint = "ipps";
    match serve(gw, ctx, req).await {
        Ok(r) => r,
        Err(f) => Reply::Full(ipps::render_error(&f)),
    }
}

async fn serve(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let tenant = ctx
        .origin
        .tenant
        .clone()
        .ok_or_else(|| Failure::NotImplemented("ipps".into()))?;
    let st = settings(gw, &tenant).await?;
    if !st.enabled {
        return Err(Failure::NotImplemented("ipps".into()));
    }
    if st.require_ssl && !ctx.tls {
        return Err(Failure::bad("ssl", "required"));
    }
    if let Some(user) = &st.user {
        let challenge = vec!["Basic realm=\"IPPS\"".to_string()];
        match patchbay_gateway_proto::auth::from_authorization(req) {
            Credentials::None => return Err(gw.authn.missing("basic", challenge)),
            Credentials::Basic(b)
                if b.user == *user
                    && gw
                        .authn
                        .hashed_secret_ok(
                            &format!("ipps:{tenant}"),
                            st.password_hash.as_deref().unwrap_or(""),
                            &b.password,
                        )
                        .await => {}
            _ => {
                return Err(gw.authn.refuse(ip, Scheme::Basic, "ipps", challenge));
            }
        }
    }
    let r = ipps::parse(req)?;
    let b = &gw.b2bua;
    Ok(Reply::Full(match r {
        IppsRequest::Channels { names, useid } => {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let channels = b
                .channels(&tenant, Some(&refs))
                .await
                .map_err(|e| gw.b2bua_failure("channels", e))?;
            ipps::render_channels(&channels, useid)
        }
        IppsRequest::Queues { names, res_cc } => {
            let mut calls = Vec::new();
            for q in &names {
                match b.queue_calls(&tenant, q).await {
                    Ok(c) => calls.extend(c),
                    // An unknown queue lists nothing (a wallboard's typo is no error).
                    Err(patchbay_api::client::ClientError::Api {
                        kind: patchbay_api::ApiErrorKind::NotFound,
                        ..
                    }) => {}
                    Err(e) => return Err(gw.b2bua_failure("queues", e)),
                }
            }
            calls.sort_by_key(|c| (c.entered, c.unique_id.clone()));
            let country = |id: &str| {
                if res_cc {
                    ipps::country(
                        id,
                        st.domestic_number_max_len,
                        st.default_country.as_deref(),
                    )
                } else {
                    String::new()
                }
            };
            ipps::render_queue(&calls, country)
        }
    }))
}
