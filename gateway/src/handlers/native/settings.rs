//! `/api/v1/tenants/{tenant}/...` settings: IP allow-lists, outside SIP domains, Host names,
//! JWT keys. Tenant admins (and the system role) only; mapping Host names is the operator's
//! (system role): a Host name decides which tenant a request without tenant credentials
//! reaches, so a tenant must not claim one its neighbours' clients use. Host names and key ids
//! are global: one tenant cannot take another's (409, checked in the store's statement).

use super::super::db;
use crate::Gateway;
use patchbay_gateway_proto::vendors::native::{SettingOp, render_json};
use patchbay_gateway_proto::vendors::taridium::cti;
use patchbay_gateway_proto::{Failure, Principal, Response, Role};
use patchbay_store::JwtKey;
use serde_json::json;

pub(super) async fn run(
    gw: &Gateway,
    p: &Principal,
    tenant: &str,
    op: SettingOp,
) -> Result<Response, Failure> {
    if !p.administers(tenant) {
        return Err(Failure::Forbidden);
    }
    if gw.store.tenant(tenant).await.map_err(db)?.is_none() {
        return Err(Failure::NotFound(format!("tenant {tenant}")));
    }
    let s = &gw.store;
    Ok(match op {
        SettingOp::GetIpPatterns { scope } => {
            let v = s.ip_patterns(tenant, &scope).await.map_err(db)?;
            render_json(200, &json!({"scope": scope, "patterns": v}))
        }
        SettingOp::PutIpPatterns { scope, patterns } => {
            s.set_ip_patterns(tenant, &scope, &patterns)
                .await
                .map_err(db)?;
            gw.authn.invalidate();
            render_json(200, &json!({"scope": scope, "patterns": patterns}))
        }
        SettingOp::GetSipDomains => {
            let v = s.allowed_sip_domains(tenant).await.map_err(db)?;
            render_json(200, &json!({"domains": v}))
        }
        SettingOp::PutSipDomains(domains) => {
            s.set_allowed_sip_domains(tenant, &domains)
                .await
                .map_err(db)?;
            render_json(200, &json!({"domains": domains}))
        }
        SettingOp::ListHosts => {
            let v = s.tenant_hosts(tenant).await.map_err(db)?;
            render_json(200, &json!({"hosts": v}))
        }
        SettingOp::PutHost(host) => {
            if !p.roles.contains(&Role::System) {
                return Err(Failure::Forbidden);
            }
            s.set_tenant_host(&host, tenant).await.map_err(db)?;
            gw.authn.invalidate();
            render_json(200, &json!({"host": host, "tenant": tenant}))
        }
        SettingOp::DeleteHost(host) => {
            if !p.roles.contains(&Role::System) {
                return Err(Failure::Forbidden);
            }
            if !s.delete_tenant_host(tenant, &host).await.map_err(db)? {
                return Err(Failure::NotFound(format!("host {host}")));
            }
            gw.authn.invalidate();
            render_json(200, &json!({"deleted": host}))
        }
        SettingOp::ListJwtKeys => {
            let keys = s.jwt_keys(tenant).await.map_err(db)?;
            let v: Vec<_> = keys.iter().map(key_json).collect();
            render_json(200, &v)
        }
        SettingOp::PutJwtKey { kid, alg, key } => {
            let k = JwtKey {
                kid,
                tenant: tenant.to_string(),
                alg,
                key_material: key,
            };
            s.upsert_jwt_key(&k).await.map_err(db)?;
            gw.authn.invalidate();
            render_json(200, &key_json(&k))
        }
        SettingOp::ListAppNumbers => {
            let v = gw
                .b2bua
                .app_numbers(tenant)
                .await
                .map_err(|e| gw.b2bua_failure("app_numbers", e))?;
            render_json(200, &v)
        }
        SettingOp::PutAppNumber { number, label } => {
            // A user's extension keeps ringing the user: an application number may not take it.
            if s.user(tenant, &number).await.map_err(db)?.is_some() {
                return Err(Failure::Conflict(format!("{number} is a user's extension")));
            }
            gw.b2bua
                .put_app_number(tenant, &number, &label)
                .await
                .map_err(|e| gw.b2bua_failure("app_numbers", e))?;
            render_json(200, &json!({"number": number, "label": label}))
        }
        SettingOp::DeleteAppNumber(number) => {
            gw.b2bua
                .delete_app_number(tenant, &number)
                .await
                .map_err(|e| gw.b2bua_failure("app_numbers", e))?;
            render_json(200, &json!({"deleted": number}))
        }
        SettingOp::GetRecordingPolicy => {
            let policy = gw
                .b2bua
                .recording_policy(tenant)
                .await
                .map_err(|e| gw.b2bua_failure("recording_policy", e))?;
            render_json(200, &policy)
        }
        SettingOp::PutRecordingPolicy(policy) => {
            gw.b2bua
                .set_recording_policy(tenant, &policy)
                .await
                .map_err(|e| gw.b2bua_failure("recording_policy", e))?;
            render_json(200, &policy)
        }
        SettingOp::DeleteJwtKey(kid) => {
            if !s.delete_jwt_key(tenant, &kid).await.map_err(db)? {
                return Err(Failure::NotFound(format!("key {kid}")));
            }
            gw.authn.invalidate();
            render_json(200, &json!({"deleted": kid}))
        }
        // DIDs, groups, attendants and queues carry CTI URLs: the hook's switch follows.
        SettingOp::Routing(op) => {
            let cti = op.changes_cti_urls();
            let r = super::routing::run(gw, tenant, op).await?;
            cti_urls_changed(gw, tenant, cti).await?;
            r
        }
        SettingOp::Queues(op) => {
            let cti = op.changes_cti_urls();
            let r = super::queues::run(gw, tenant, op).await?;
            cti_urls_changed(gw, tenant, cti).await?;
            r
        }
        SettingOp::Webhooks(op) => super::webhooks::run(gw, p, tenant, op).await?,
        SettingOp::Ozeki(op) => super::ozeki::run(gw, tenant, op).await?,
        SettingOp::Phonebooks(op) => super::phonebooks::run(gw, tenant, op).await?,
        SettingOp::GetCti => render_json(200, &*gw.cti.settings(tenant).await.map_err(db)?),
        SettingOp::PutCti(c) => {
            let body = serde_json::to_string(&*c).unwrap_or_default();
            s.put_config(tenant, cti::KIND, cti::NAME, &body)
                .await
                .map_err(db)?;
            gw.cti.changed(tenant);
            crate::cti::sync_route_hook(gw, tenant).await.map_err(db)?;
            render_json(200, &*c)
        }
        SettingOp::DeleteCti => {
            if !s
                .delete_config(tenant, cti::KIND, cti::NAME)
                .await
                .map_err(db)?
            {
                return Err(Failure::NotFound("CTI settings".into()));
            }
            gw.cti.changed(tenant);
            crate::cti::sync_route_hook(gw, tenant).await.map_err(db)?;
            render_json(200, &json!({"deleted": "cti"}))
        }
        SettingOp::GetIpps => ipps_json(&*crate::handlers::ipps::settings(gw, tenant).await?),
        SettingOp::PutIpps(b) => {
            let st = patchbay_gateway_proto::vendors::taridium::ipps::IppsSettings {
                enabled: b.enabled,
                user: b.user.clone(),
                password_hash: b.password.as_deref().map(patchbay_store::hash_secret),
                require_ssl: b.require_ssl,
                domestic_number_max_len: b.domestic_number_max_len.unwrap_or(6),
                default_country: b.default_country.clone(),
                context: b.context.clone().unwrap_or_else(|| "inside".into()),
            };
            let body = serde_json::to_string(&st).unwrap_or_default();
            s.put_config(
                tenant,
                crate::handlers::ipps::KIND,
                crate::handlers::ipps::NAME,
                &body,
            )
            .await
            .map_err(db)?;
            gw.ipps.invalidate(tenant);
            ipps_json(&st)
        }
    })
}

/// After a write to an object that can carry a CTI URL: the cached URLs go, the route hook's
/// switch follows.
async fn cti_urls_changed(gw: &Gateway, tenant: &str, changed: bool) -> Result<(), Failure> {
    if changed {
        gw.cti.changed(tenant);
        crate::cti::sync_route_hook(gw, tenant).await.map_err(db)?;
    }
    Ok(())
}

/// IPPS settings as shown: the password never, whether there is one.
fn ipps_json(st: &patchbay_gateway_proto::vendors::taridium::ipps::IppsSettings) -> Response {
    render_json(
        200,
        &json!({"enabled": st.enabled, "user": st.user, "has_password": st.password_hash.is_some(),
                "require_ssl": st.require_ssl, "domestic_number_max_len": st.domestic_number_max_len,
                "default_country": st.default_country, "context": st.context}),
    )
}

/// A JWT key as listed: HS256 secrets are never shown; public keys are.
fn key_json(k: &JwtKey) -> serde_json::Value {
    let public = (k.alg != "HS256").then_some(k.key_material.as_str());
    json!({"kid": k.kid, "tenant": k.tenant, "alg": k.alg, "public_key": public})
}
