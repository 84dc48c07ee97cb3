//! REGISTER handling: digest authentication per tenant, expiry bounds, the location table.
//! Runs in its own task per request so the driver loop never waits on the store.

use crate::driver::{Shared, USER_AGENT, binding, now_ms};
use crate::sip::{digest_param, host_only, uri_parts};
use rvoip_sip::api::AuthScheme;
use rvoip_sip::{IncomingRegister, SipAuthDecision, SipRequestOptions};
use rvoip_sip_core::types::headers::HeaderName;
use std::sync::Arc;
use std::time::Duration;

pub(crate) async fn handle_register(sh: Arc<Shared>, r: IncomingRegister) {
    let now = now_ms();
    let source = r
        .transport_security_context()
        .remote_addr
        .clone()
        .unwrap_or_default();
    let transport = r
        .transport_security_context()
        .transport
        .clone()
        .unwrap_or_else(|| "UDP".into());
    let ip = source.parse::<std::net::SocketAddr>().ok().map(|a| a.ip());
    if let Some(ip) = ip
        && sh
            .failures
            .lock()
            .map(|f| f.is_blocked(ip, now))
            .unwrap_or(false)
    {
        sh.metrics
            .auth_failures
            .with_label_values(&["blocked"])
            .inc();
        reply(&sh, r.reject_builder(403).send().await, 403);
        return;
    }
    let (_, domain) = uri_parts(&r.to_uri);
    // A realm (answered, or the REGISTER's domain) we do not know may be a tenant created since
    // start-up: read the tenant list again (at most once a second).
    let realm = r
        .authorization
        .as_deref()
        .and_then(|a| digest_param(a, "realm"))
        .unwrap_or_else(|| host_only(&domain).to_string());
    // (An IP literal is never a tenant's realm: that is the default tenant's case.)
    if !sh.auth.knows_realm(&realm) && realm.parse::<std::net::IpAddr>().is_err() {
        sh.auth.refresh(Duration::from_secs(1)).await;
    }
    let Some(ta) = sh.auth.pick(
        r.authorization.as_deref(),
        host_only(&domain),
        &sh.cfg.default_tenant,
    ) else {
        sh.metrics
            .auth_failures
            .with_label_values(&["unknown_realm"])
            .inc();
        reply(&sh, r.reject_builder(403).send().await, 403);
        return;
    };
    let decision = r
        .authenticate_with(ta.service_for(r.authorization.as_deref()))
        .await;
    let user = match decision {
        Ok(SipAuthDecision::Authorized(id)) => id.username.unwrap_or_default(),
        _ => {
            if r.authorization.is_some() {
                sh.record_bad_credentials(ip, now);
            }
            let challenges = ta.challenges().await;
            let Some(first) = challenges.first() else {
                reply(&sh, r.reject_builder(503).send().await, 503);
                return;
            };
            let b = r
                .challenge_builder(AuthScheme::Digest)
                .with_raw_www_authenticate(first.clone());
            if let Some(b) = crate::sip::stage_challenges(b, &challenges[1..]) {
                reply(&sh, b.send().await, 401);
            }
            return;
        }
    };
    // The authenticated user may only register its own address of record, in its own tenant
    // (never under another tenant's realm).
    let (aor_user, _) = uri_parts(&r.to_uri);
    let foreign = sh
        .auth
        .realm_tenant(&host_only(&domain).to_ascii_lowercase())
        .is_some_and(|t| t != ta.tenant);
    if aor_user != user || foreign {
        sh.metrics
            .auth_failures
            .with_label_values(&["aor_mismatch"])
            .inc();
        reply(&sh, r.reject_builder(403).send().await, 403);
        return;
    }
    let cfg = &sh.cfg;
    let granted = if r.expires == 0 {
        0
    } else if r.expires < cfg.min_expires_secs {
        let sent = r
            .reject_builder(423)
            .with_min_expires(cfg.min_expires_secs)
            .send()
            .await;
        reply(&sh, sent, 423);
        return;
    } else {
        r.expires.min(cfg.max_expires_secs)
    };
    let contact = r.contact_uri.trim().to_string();
    {
        let Ok(mut loc) = sh.location.lock() else {
            return;
        };
        if contact == "*" && granted == 0 {
            loc.clear(&ta.tenant, &user);
        } else {
            let b = binding(
                contact.clone(),
                source,
                transport.to_ascii_lowercase(),
                now + u64::from(granted) * 1000,
            );
            loc.register(&ta.tenant, &user, b, now);
        }
        sh.metrics.registrations.set(loc.count() as i64);
    }
    let b = r
        .accept_builder()
        .with_expires(granted)
        .with_contact_from_binding(contact);
    if let Ok(b) = b.with_raw_header(HeaderName::UserAgent, USER_AGENT) {
        reply(&sh, b.send().await, 200);
    }
}

/// Count a response we sent to a REGISTER (if it went out).
fn reply<T, E>(sh: &Shared, sent: Result<T, E>, status: u16) {
    if sent.is_ok() {
        sh.metrics.response("sent", "REGISTER", status);
    }
}
