//! An INVITE's way in, off the driver loop: digest verification (a store read), who it may
//! call (`policy`), then back to the loop as `SipIn::Authorized`; or its challenge or
//! rejection, sent from here.

use super::{Shared, USER_AGENT};
use crate::policy;
use crate::sip::{InviteFacts, SipIn};
use rvoip_sip::api::AuthScheme;
use rvoip_sip::{SipAuthDecision, SipRequestOptions, UnifiedCoordinator};
use rvoip_sip_core::types::headers::HeaderName;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Verify an INVITE's credentials (a store read); challenge or hand it back to the loop.
pub(super) async fn authenticate_invite(
    c: Arc<UnifiedCoordinator>,
    sh: Arc<Shared>,
    tx: mpsc::UnboundedSender<SipIn>,
    ta: Arc<crate::sip::TenantAuth>,
    f: InviteFacts,
    source_ip: Option<std::net::IpAddr>,
    now: u64,
) {
    let svc = ta.service_for(f.authorization.as_deref());
    let body = (!f.body.is_empty()).then_some(&f.body[..]);
    let decision =
        rvoip_sip::SipIncomingAuthenticator::authenticate_incoming_with_transport_context(
            svc,
            f.authorization.as_deref(),
            "INVITE",
            &f.ruri,
            body,
            rvoip_sip::SipAuthSource::Origin,
            &f.transport,
        )
        .await;
    match decision {
        Ok(SipAuthDecision::Authorized(idn)) => {
            let caller = idn.username.unwrap_or_default();
            // Who may be called: this PBX's users, or an allowed outside domain.
            let ruri = if f.ruri.is_empty() { &f.to } else { &f.ruri };
            let Some(uri) = crate::sip::parse_sip_uri(ruri) else {
                reject(&c, &sh, &f.id, 400).await;
                return;
            };
            let (host, port) = (uri.host, uri.port);
            let other = sh.auth.realm_tenant(&host).is_some_and(|t| t != ta.tenant);
            let allowed = match sh.store.allowed_sip_domains(&ta.tenant).await {
                Ok(a) => a,
                Err(_) => {
                    reject(&c, &sh, &f.id, 503).await;
                    return;
                }
            };
            let target = policy::Target { host: &host, port };
            let outside =
                match policy::classify(target, &ta.realm, sh.cfg.sip_listen, true, other, &allowed)
                {
                    policy::Domain::Own => None,
                    policy::Domain::Allowed => Some(uri.canonical),
                    refused => {
                        let reason = if refused == policy::Domain::OtherTenant {
                            "foreign_tenant"
                        } else {
                            "sip_domain"
                        };
                        sh.metrics
                            .destinations_refused
                            .with_label_values(&["sip", reason])
                            .inc();
                        reject(&c, &sh, &f.id, 403).await;
                        return;
                    }
                };
            let _ = tx.send(SipIn::Authorized {
                facts: f,
                tenant: ta.tenant.clone(),
                caller,
                outside,
            });
        }
        _ => {
            if f.authorization.is_some() {
                sh.record_bad_credentials(source_ip, now);
            }
            let challenges = ta.challenges().await;
            let Some(last) = challenges.last() else {
                reject(&c, &sh, &f.id, 503).await;
                return;
            };
            // On a 401 to INVITE rvoip writes staged raw headers before the main
            // WWW-Authenticate: stage all but the last so MD5 stays first on the wire.
            let b = c
                .challenge(&f.id, AuthScheme::Digest)
                .with_raw_www_authenticate(last.clone());
            if let Some(b) = crate::sip::stage_challenges(b, &challenges[..challenges.len() - 1])
                && b.send().await.is_ok()
            {
                sh.metrics.response("sent", "INVITE", 401);
            }
        }
    }
}

pub(super) async fn reject(
    c: &Arc<UnifiedCoordinator>,
    sh: &Shared,
    id: &rvoip_sip::CallId,
    status: u16,
) {
    sh.metrics
        .sip_rejected
        .with_label_values(&[&status.to_string()])
        .inc();
    sh.metrics.response("sent", "INVITE", status);
    let mut b = c
        .reject(id)
        .with_status(status)
        .with_reason(reason_phrase(status));
    if status == 503 {
        b = b.with_retry_after(sh.cfg.retry_after_secs);
    }
    if let Ok(b) = b.with_raw_header(HeaderName::UserAgent, USER_AGENT) {
        let _ = b.send().await;
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        503 => "Service Unavailable",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => "Error",
    }
}
