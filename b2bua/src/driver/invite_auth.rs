//! An INVITE's way in, off the driver loop: digest verification (a store read), who it may
//! call (`policy`), whether its callee is a user; back to the loop as
//! [`TaskDone::Authorized`], or as the challenge or refusal to send.

use crate::auth::{TenantAuth, Verdict};
use crate::policy;
use crate::shared::{Authorized, Shared, TaskDone};
use crate::sip::uri_parts;
use crate::trunks::Outside;
use patchbay_api::CallerId;
use patchbay_proto::Target;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::txn::ServerTxId;
use patchbay_sip::{Peer, msg};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The INVITE being authenticated.
pub(super) struct Pending {
    pub(super) tx: ServerTxId,
    pub(super) req: Request,
    pub(super) peer: Peer,
    pub(super) authorization: Option<String>,
}

/// The display name of an INVITE's From header ("" when it has none).
pub(super) fn from_display(req: &Request) -> String {
    req.headers
        .iter()
        .find_map(|h| match h {
            patchbay_sip::core::types::TypedHeader::From(f) => f.0.display_name.clone(),
            _ => None,
        })
        .unwrap_or_default()
}

fn respond(done: &mpsc::UnboundedSender<TaskDone>, tx: ServerTxId, status: u16) {
    let _ = done.send(TaskDone::Respond {
        tx,
        method: "INVITE",
        status,
        headers: Vec::new(),
    });
}

/// Verify an INVITE's credentials; challenge it or hand it back to the loop.
pub(super) async fn authenticate_invite(
    sh: Arc<Shared>,
    done: mpsc::UnboundedSender<TaskDone>,
    ta: Arc<TenantAuth>,
    p: Pending,
    now: u64,
) {
    let ruri = p.req.uri.to_string();
    let verdict = match sh
        .auth
        .verify(&ta, p.authorization.as_deref(), "INVITE", &ruri)
        .await
    {
        Ok(v) => v,
        Err(_) => return respond(&done, p.tx, 503),
    };
    let caller = match verdict {
        Verdict::Authorized { user } => user,
        Verdict::Challenge { stale, bad } => {
            if bad {
                let source = crate::sip::origin(&p.req.headers, p.peer.addr, &sh.cfg.edge_proxies);
                sh.record_bad_credentials(Some(source.ip()), now);
            }
            let headers = sh
                .auth
                .challenges(&ta.realm, stale)
                .into_iter()
                .map(|v| msg::raw("WWW-Authenticate", v))
                .collect();
            let _ = done.send(TaskDone::Respond {
                tx: p.tx,
                method: "INVITE",
                status: 401,
                headers,
            });
            return;
        }
    };
    // Who may be called: this PBX's users, or an allowed outside domain.
    let Some(uri) = crate::sip::parse_sip_uri(&ruri) else {
        return respond(&done, p.tx, 400);
    };
    let (host, port) = (uri.host, uri.port);
    let other = sh.auth.realm_tenant(&host).is_some_and(|t| t != ta.tenant);
    let allowed = match sh.store.allowed_sip_domains(&ta.tenant).await {
        Ok(a) => a,
        Err(_) => return respond(&done, p.tx, 503),
    };
    let target = policy::Target { host: &host, port };
    let outside =
        match policy::classify(target, &ta.realm, sh.cfg.sip_listen, true, other, &allowed) {
            policy::Domain::Own => None,
            policy::Domain::Allowed => Some(Target::new(uri_parts(&ruri).0, uri.canonical)),
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
                return respond(&done, p.tx, 403);
            }
        };
    // A user's (or a ring group's) call goes where its forwarding says: one store read per
    // call, the common case first. Not a user: a number the B2BUA serves itself (voicemail,
    // feature codes, rooms, attendants, queues) or an application number is answered here;
    // otherwise a callee with no contact is 480 if it is a user, 404 if not.
    let dialed = uri_parts(&ruri).0;
    // The tenant's route hook (its CTI control) may send a call to its own domain elsewhere
    // before it rings, show the callee another caller ID, record it, set account codes.
    let call = sh.new_call_id();
    let hooked = match &outside {
        None => {
            let q = patchbay_api::RouteQuery {
                tenant: ta.tenant.clone(),
                caller: caller.clone(),
                dialed: dialed.clone(),
                state: "calling".into(),
                call: call.0.clone(),
                caller_name: from_display(&p.req),
                channel: super::channels::channel_name(&caller, None),
                direction: "outbound".into(),
                did: None,
            };
            Some(crate::route_hook::route(&sh, q).await)
        }
        Some(_) => None,
    };
    let number = hooked
        .as_ref()
        .map_or_else(|| dialed.clone(), |h| h.number.clone());
    let plan = match &outside {
        Some(_) => None,
        None => match crate::routing::plan_for(&sh, &ta.tenant, &number).await {
            Ok(p) => p,
            Err(_) => return respond(&done, p.tx, 503),
        },
    };
    let mut later = Vec::new();
    let service = match (&outside, &plan) {
        (None, None) => {
            let s =
                super::services::service_for(&sh, &mut later, &ta.tenant, Some(&caller), &number);
            match s.await {
                Ok(s) => s,
                Err(_) => return respond(&done, p.tx, 503),
            }
        }
        _ => None,
    };
    let app = match (&outside, &plan) {
        (None, None) if service.is_some() => true,
        (None, None) => match sh.is_app_number(&ta.tenant, &number).await {
            Some(a) => a,
            None => return respond(&done, p.tx, 503),
        },
        _ => false,
    };
    // Not a user: an outside number goes where the tenant's dial plan says.
    let (mut outside, mut caller_id) = (outside, None);
    if outside.is_none() && !app && plan.is_none() {
        match crate::trunks::route_outside(&sh, &ta.tenant, &number).await {
            Ok(Outside::Trunk { trunk, uri }) => {
                outside = Some(Target::via_trunk(number.clone(), uri, &trunk));
                // The caller's own outbound caller ID, if it has one (else the trunk's).
                caller_id = match sh.store.user_settings(&ta.tenant, &caller).await {
                    Ok(s) => s
                        .and_then(|s| s.caller_id)
                        .and_then(|c| CallerId::parse(&c)),
                    Err(_) => return respond(&done, p.tx, 503),
                };
            }
            Ok(Outside::Refused) => {
                sh.metrics
                    .destinations_refused
                    .with_label_values(&["sip", "dialplan"])
                    .inc();
                return respond(&done, p.tx, 403);
            }
            Ok(Outside::NoRule) => {}
            Err(_) => return respond(&done, p.tx, 503),
        }
    }
    let callee_known = outside.is_some() || app || plan.is_some();
    let record = match hooked.as_ref().and_then(|h| h.record) {
        Some(r) => r,
        None => sh.recording_policy(&ta.tenant).await.record_calls,
    };
    if let Some(c) = hooked.as_ref().and_then(|h| h.caller_id.clone()) {
        caller_id = Some(c);
    }
    let _ = done.send(TaskDone::Authorized(Box::new(Authorized {
        tx: p.tx,
        req: p.req,
        peer: p.peer,
        tenant: ta.tenant.clone(),
        caller,
        outside,
        callee_known,
        record,
        app,
        plan,
        callee: (number != dialed).then_some(number),
        from_trunk: None,
        caller_id,
        service,
        call,
        hooked: hooked.map(|h| h.hooked).unwrap_or_default(),
    })));
    super::services::tell_core(&done, later);
}
