//! REGISTER handling: digest authentication per tenant, expiry bounds, the location table.
//! Runs in its own task per request so the driver loop never waits on the store; the answer
//! goes back to the loop as [`TaskDone::Respond`].

use crate::auth::{Verdict, digest_param};
use crate::shared::{Shared, TaskDone, binding, now_ms};
use crate::sip::{host_only, uri_parts};
use patchbay_sip::core::types::contact::ContactValue;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::param::Param;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::txn::ServerTxId;
use patchbay_sip::{Peer, msg};
use patchbay_store::BindingChange;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The Contact of a REGISTER: `*`, or the first URI with its `expires` parameter.
enum ContactOf {
    Star,
    Uri(String, Option<u32>),
    None,
}

fn contact_of(req: &Request) -> ContactOf {
    for h in &req.headers {
        if let TypedHeader::Contact(c) = h {
            for v in &c.0 {
                match v {
                    ContactValue::Star => return ContactOf::Star,
                    ContactValue::Params(ps) => {
                        if let Some(p) = ps.first() {
                            let exp = p.address.params.iter().find_map(|x| match x {
                                Param::Expires(e) => Some(*e),
                                _ => None,
                            });
                            return ContactOf::Uri(p.address.uri.to_string(), exp);
                        }
                    }
                }
            }
        }
    }
    ContactOf::None
}

fn expires_header(req: &Request) -> Option<u32> {
    req.headers.iter().find_map(|h| match h {
        TypedHeader::Expires(e) => Some(e.0),
        _ => None,
    })
}

pub(crate) async fn handle_register(
    sh: Arc<Shared>,
    done: mpsc::UnboundedSender<TaskDone>,
    tx: ServerTxId,
    req: Request,
    peer: Peer,
) {
    let reply = |status: u16, headers: Vec<TypedHeader>| {
        let _ = done.send(TaskDone::Respond {
            tx,
            method: "REGISTER",
            status,
            headers,
        });
    };
    let now = now_ms();
    let source = crate::sip::origin(&req.headers, peer.addr, &sh.cfg.edge_proxies);
    let ip = source.ip();
    let to_uri = req
        .headers
        .iter()
        .find_map(|h| match h {
            TypedHeader::To(t) => Some(t.0.uri.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let (aor_user, domain) = uri_parts(&to_uri);
    let authorization = msg::header_text(&req.headers, "authorization");
    // A realm (answered, or the REGISTER's domain) we do not know may be a tenant created since
    // start-up: read the tenant list again (at most once a second).
    let realm = authorization
        .as_deref()
        .and_then(|a| digest_param(a, "realm"))
        .unwrap_or_else(|| host_only(&domain).to_string());
    // (An IP literal is never a tenant's realm: that is the default tenant's case.)
    if !sh.auth.knows_realm(&realm) && realm.parse::<std::net::IpAddr>().is_err() {
        sh.auth.refresh(Duration::from_secs(1)).await;
    }
    let Some(ta) = sh.auth.pick(
        authorization.as_deref(),
        host_only(&domain),
        &sh.cfg.default_tenant,
    ) else {
        sh.metrics
            .auth_failures
            .with_label_values(&["unknown_realm"])
            .inc();
        return reply(403, Vec::new());
    };
    let ruri = req.uri.to_string();
    let user = match sh
        .auth
        .verify(&ta, authorization.as_deref(), "REGISTER", &ruri)
        .await
    {
        Ok(Verdict::Authorized { user }) => user,
        Ok(Verdict::Challenge { stale, bad }) => {
            if bad {
                sh.record_bad_credentials(Some(ip), now);
            }
            let headers = sh
                .auth
                .challenges(&ta.realm, stale)
                .into_iter()
                .map(|v| msg::raw("WWW-Authenticate", v))
                .collect();
            return reply(401, headers);
        }
        Err(_) => return reply(503, Vec::new()),
    };
    // The authenticated user may only register its own address of record, in its own tenant
    // (never under another tenant's realm).
    let foreign = sh
        .auth
        .realm_tenant(&host_only(&domain).to_ascii_lowercase())
        .is_some_and(|t| t != ta.tenant);
    if aor_user != user || foreign {
        sh.metrics
            .auth_failures
            .with_label_values(&["aor_mismatch"])
            .inc();
        return reply(403, Vec::new());
    }
    let cfg = &sh.cfg;
    let (contact, contact_expires) = match contact_of(&req) {
        ContactOf::Star => ("*".to_string(), None),
        ContactOf::Uri(u, e) => (u, e),
        ContactOf::None => {
            // A query: nothing changes (the bindings are not listed back).
            return reply(200, Vec::new());
        }
    };
    let asked = contact_expires.or(expires_header(&req)).unwrap_or(3600);
    let granted = if asked == 0 {
        0
    } else if asked < cfg.min_expires_secs {
        return reply(
            423,
            vec![msg::raw("Min-Expires", cfg.min_expires_secs.to_string())],
        );
    } else {
        asked.min(cfg.max_expires_secs)
    };
    if contact == "*" && granted != 0 {
        return reply(400, Vec::new());
    }
    // The store first (every node reads the location from it; a restart keeps it), then
    // this node's table.
    let path = crate::sip::path_of(&req.headers);
    let b = binding(
        contact.clone(),
        peer,
        source,
        path.clone(),
        now,
        now + u64::from(granted) * 1000,
    );
    let change = if contact == "*" {
        BindingChange::Clear {
            tenant: ta.tenant.clone(),
            user: user.clone(),
            now_ms: now,
        }
    } else {
        BindingChange::Save(crate::location_sync::stored(&ta.tenant, &user, &b))
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    if sh.location_writes.send((change, tx)).is_err() || !rx.await.unwrap_or(false) {
        return reply(500, Vec::new());
    }
    {
        let Ok(mut loc) = sh.location.lock() else {
            return reply(500, Vec::new());
        };
        if contact == "*" {
            loc.clear(&ta.tenant, &user);
        } else {
            loc.register(&ta.tenant, &user, b, now);
        }
        sh.metrics.registrations.set(loc.count() as i64);
    }
    let mut headers = Vec::new();
    if contact != "*" && granted > 0 {
        headers.push(msg::raw(
            "Contact",
            format!("<{contact}>;expires={granted}"),
        ));
    }
    headers.push(msg::raw("Expires", granted.to_string()));
    // RFC 3327 5.3: the Path stored is echoed to a phone that supports it.
    if granted > 0 && msg::lists(&req.headers, "supported", "path") {
        headers.extend(path.into_iter().map(|p| msg::raw("Path", p)));
    }
    reply(200, headers);
}
