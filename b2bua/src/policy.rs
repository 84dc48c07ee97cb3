//! Who may be called. A destination of a call (an API-originated call's parties, a transfer
//! target, the request URI of a phone's INVITE) is one of:
//! - a user of the caller's tenant: an extension, or a SIP URI naming this PBX: the tenant's
//!   realm, `localhost`, or our own SIP address (any IP literal in the request URI of an
//!   INVITE that reached us);
//! - a number the tenant's dial plan routes (trunks come with PBX routing: none yet);
//! - a SIP URI whose domain is on the tenant's `allowed_sip_domains` (empty by default).
//!
//! Everything else is refused before any INVITE and counted in
//! `patchbay_b2bua_destinations_refused_total{origin, reason}`. [`classify`] is the pure rule;
//! [`check`] reads the store for it (from tasks, never the driver loop).

use crate::sip::parse_sip_uri;
use patchbay_api::ApiErrorKind;
use patchbay_store::Store;

/// Where a checked destination goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// A party of the tenant, by extension (looked up in the location table).
    User(String),
    /// An outside SIP URI on the tenant's allow-list, dialled as it is.
    Uri(String),
}

/// A refused destination: the metric's `reason` label (`None`: not a refused destination but
/// a bad request or a store failure, not counted) and the API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Option<&'static str>,
    pub kind: ApiErrorKind,
    pub message: String,
}

/// What a SIP domain is to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// This PBX for this tenant: its realm, `localhost`, our own address.
    Own,
    /// Another tenant's realm.
    OtherTenant,
    /// On the tenant's `allowed_sip_domains`.
    Allowed,
    Outside,
}

/// Where a request URI points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// Lower case, no port, no brackets.
    pub host: &'a str,
    pub port: Option<u16>,
}

/// The rule, without I/O. `own` is our SIP listen address; `any_ip_is_own` for the request URI
/// of an INVITE that reached us (a phone may know us by any address: the URI is never dialled,
/// its user is looked up). `other_tenant` tells whether the host is another tenant's realm.
pub fn classify(
    t: Target<'_>,
    realm: &str,
    own: std::net::SocketAddr,
    any_ip_is_own: bool,
    other_tenant: bool,
    allowed: &[String],
) -> Domain {
    let own_ip = t.host.parse::<std::net::IpAddr>().is_ok_and(|ip| {
        any_ip_is_own
            || ((ip == own.ip() || own.ip().is_unspecified())
                && t.port.unwrap_or(5060) == own.port())
    });
    if t.host.eq_ignore_ascii_case(realm) || t.host == "localhost" || own_ip {
        Domain::Own
    } else if other_tenant {
        Domain::OtherTenant
    } else if allowed.iter().any(|d| d.eq_ignore_ascii_case(t.host)) {
        Domain::Allowed
    } else {
        Domain::Outside
    }
}

fn is_sip_uri(party: &str) -> bool {
    let p = party.trim_start().to_ascii_lowercase();
    p.starts_with("sip:") || p.starts_with("sips:")
}

/// Check one destination of `tenant`'s call. `own` is our SIP listen address. Plain parties
/// pass as [`Dest::User`] without a store read (a party that is no user of the tenant has no
/// registration, so the call refuses it as not found: no dial plan routes numbers yet); a SIP
/// URI is read by rvoip's own parser (the reading it would be dialled by) and comes back as a
/// user of the tenant or, allowed, as rvoip's rendering of it (store reads: the tenant's realm,
/// other realms, the allow-list). `Err` for URIs the tenant may not reach or that do not parse.
pub async fn check(
    store: &dyn Store,
    own: std::net::SocketAddr,
    tenant: &str,
    party: &str,
) -> Result<Dest, Refusal> {
    let unavailable = |e: patchbay_store::StoreError| Refusal {
        reason: None,
        kind: ApiErrorKind::Unavailable,
        message: e.to_string(),
    };
    if !is_sip_uri(party) {
        return Ok(Dest::User(party.to_string()));
    }
    let Some(uri) = parse_sip_uri(party) else {
        return Err(Refusal {
            reason: None,
            kind: ApiErrorKind::BadRequest,
            message: format!("{party}: not a SIP URI that can be dialled"),
        });
    };
    let realm = store
        .tenant(tenant)
        .await
        .map_err(unavailable)?
        .map(|t| t.realm)
        .unwrap_or_default();
    let other = store
        .tenant_by_realm(&uri.host)
        .await
        .map_err(unavailable)?
        .is_some_and(|t| t.name != tenant);
    let allowed = store
        .allowed_sip_domains(tenant)
        .await
        .map_err(unavailable)?;
    let target = Target {
        host: &uri.host,
        port: uri.port,
    };
    match classify(target, &realm, own, false, other, &allowed) {
        Domain::Own => {
            if uri.user.is_empty() {
                return Err(Refusal {
                    reason: None,
                    kind: ApiErrorKind::BadRequest,
                    message: format!("{party} names no user"),
                });
            }
            Ok(Dest::User(uri.user))
        }
        Domain::Allowed => Ok(Dest::Uri(uri.canonical)),
        Domain::OtherTenant => Err(Refusal {
            reason: Some("foreign_tenant"),
            kind: ApiErrorKind::Forbidden,
            message: format!("{party}: users of other tenants cannot be called"),
        }),
        Domain::Outside => Err(Refusal {
            reason: Some("sip_domain"),
            kind: ApiErrorKind::Forbidden,
            message: format!(
                "{party}: domain {} is not on the tenant's allowed_sip_domains",
                uri.host
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::sip::SipUri;

    fn host_port(uri: &str) -> (String, Option<u16>) {
        let SipUri { host, port, .. } = parse_sip_uri(uri).expect(uri);
        (host, port)
    }

    #[test]
    fn the_rule() {
        let allowed = vec!["carrier.example".to_string(), "192.0.2.7".to_string()];
        let own: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let c = |uri: &str, inbound, other| {
            let (host, port) = host_port(uri);
            classify(
                Target { host: &host, port },
                "demo",
                own,
                inbound,
                other,
                &allowed,
            )
        };
        assert_eq!(c("sip:1@demo", false, false), Domain::Own);
        assert_eq!(c("sip:1@DEMO:5999", false, false), Domain::Own);
        assert_eq!(c("sip:1@localhost", false, false), Domain::Own);
        assert_eq!(c("sip:1@127.0.0.1", false, false), Domain::Own);
        assert_eq!(c("sip:1@127.0.0.1:5060", false, false), Domain::Own);
        // Another SIP endpoint on our own machine is outside.
        assert_eq!(c("sip:1@127.0.0.1:5999", false, false), Domain::Outside);
        assert_eq!(c("sip:1@127.0.0.2", false, false), Domain::Outside);
        // An INVITE that reached us: any IP literal means us (its user is looked up).
        assert_eq!(c("sip:1@10.1.2.3:5999", true, false), Domain::Own);
        assert_eq!(c("sip:1@acme", false, true), Domain::OtherTenant);
        assert_eq!(c("sip:1@acme", true, true), Domain::OtherTenant);
        assert_eq!(c("sip:1@carrier.example", false, false), Domain::Allowed);
        assert_eq!(c("sips:1@carrier.example", false, false), Domain::Allowed);
        assert_eq!(c("sip:1@192.0.2.7:5070", false, false), Domain::Allowed);
        assert_eq!(c("sip:1@evil.example", false, false), Domain::Outside);
        assert_eq!(
            c("sip:1@sub.carrier.example", false, false),
            Domain::Outside
        );
        // The host is what rvoip dials, whatever the user part holds.
        assert_eq!(
            c("sip:carrier.example;x@evil.example", false, false),
            Domain::Outside
        );
        assert_eq!(
            c("sip:carrier.example?x@evil.example", false, false),
            Domain::Outside
        );
        assert_eq!(
            host_port("sip:4007@Demo:5060;transport=tcp"),
            ("demo".into(), Some(5060))
        );
        assert_eq!(host_port("sips:x@[::1]:5061"), ("::1".into(), Some(5061)));
        // Routed elsewhere than their host: refused outright.
        assert!(parse_sip_uri("sip:x@carrier.example;maddr=203.0.113.9").is_none());
        assert!(parse_sip_uri("sip:x@carrier.example?Route=%3Csip:evil.example%3E").is_none());
        assert!(parse_sip_uri("sip:x@carrier.example junk").is_none());
        assert!(parse_sip_uri("tel:+15551234").is_none());
        assert!(is_sip_uri(" SIP:a@b") && !is_sip_uri("4007"));
    }
}
