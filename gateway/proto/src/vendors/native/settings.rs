//! `/api/v1/tenants/{tenant}/...`: a tenant's settings an operator sets up when onboarding a
//! customer (IP allow-lists, outside SIP domains, Host names, JWT keys, recording policy,
//! trunks, dial plan, DIDs: `routing`), so no setting needs SQL. Parsing and validation only;
//! the gateway runs them.

use crate::Failure;
use crate::auth::{IpPattern, jwt};
use serde::{Deserialize, Serialize};

/// Allow-list scopes: Brekeke's client IP patterns (SOAP `UserImpl`, `/pbx/3pcc`) and Ozeki's
/// allowed and denied address lists (a denied address is refused whatever the allowed list says).
pub const IP_SCOPES: [&str; 5] = [
    "brekeke-soap",
    "brekeke-3pcc",
    "ozeki",
    "ozeki-deny",
    "sipx-trusted",
];

/// JWT algorithms a tenant key may use.
pub const JWT_ALGS: [&str; 3] = ["HS256", "RS256", "ES256"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingOp {
    GetIpPatterns {
        scope: String,
    },
    PutIpPatterns {
        scope: String,
        patterns: Vec<String>,
    },
    GetSipDomains,
    PutSipDomains(Vec<String>),
    ListHosts,
    PutHost(String),
    DeleteHost(String),
    ListJwtKeys,
    PutJwtKey {
        kid: String,
        alg: String,
        key: String,
    },
    DeleteJwtKey(String),
    GetRecordingPolicy,
    PutRecordingPolicy(patchbay_api::RecordingPolicy),
    ListAppNumbers,
    PutAppNumber {
        number: String,
        label: String,
    },
    DeleteAppNumber(String),
    /// Trunks, dial plan, DIDs.
    Routing(super::routing::RoutingOp),
    /// Call queues.
    Queues(super::queues::QueueOp),
    /// Dead letters and the webhook policy.
    Webhooks(super::webhooks::WebhookOp),
    /// Ozeki HTTP API settings and API extensions.
    Ozeki(super::ozeki::OzekiOp),
    /// Shared phonebooks and phones (what sipX reads).
    Phonebooks(super::phonebooks::PhonebookOp),
    /// Taridium's IPPS settings.
    GetIpps,
    PutIpps(Box<super::ipps::IppsBody>),
    /// Taridium's CTI settings.
    GetCti,
    PutCti(Box<crate::vendors::taridium::cti::CtiSettings>),
    DeleteCti,
}

#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
struct AppNumberBody {
    #[serde(default)]
    label: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PatternsBody {
    patterns: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DomainsBody {
    domains: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JwtKeyBody {
    alg: String,
    /// HS256: the shared secret; RS256 / ES256: the public key (PEM).
    key: String,
}

/// A host name (`pbx.example.com`) or an IP literal; lower-cased.
pub fn valid_host(s: &str) -> Option<String> {
    let h = s.trim().to_ascii_lowercase();
    if h.parse::<std::net::IpAddr>().is_ok() {
        return Some(h);
    }
    let labels_ok = h.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    (!h.is_empty() && h.len() <= 253 && labels_ok).then_some(h)
}

/// A JSON body, or the native API's bad-body failure.
pub(super) fn json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| Failure::bad("body", e.to_string()))
}

/// Parse `segs` after `tenants/{tenant}/` (method, remaining path, body).
pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let op = match (method, segs) {
        ("GET", ["ip-patterns", scope]) => SettingOp::GetIpPatterns {
            scope: scope_of(scope)?,
        },
        ("PUT", ["ip-patterns", scope]) => {
            let scope = scope_of(scope)?;
            let b: PatternsBody = json(body)?;
            if b.patterns.len() > 256 {
                return Err(Failure::bad("patterns", "at most 256"));
            }
            for p in &b.patterns {
                IpPattern::parse(p).map_err(|e| Failure::bad("patterns", format!("{p}: {e}")))?;
            }
            SettingOp::PutIpPatterns {
                scope,
                patterns: b.patterns,
            }
        }
        ("GET", ["sip-domains"]) => SettingOp::GetSipDomains,
        ("PUT", ["sip-domains"]) => {
            let b: DomainsBody = json(body)?;
            if b.domains.len() > 256 {
                return Err(Failure::bad("domains", "at most 256"));
            }
            let mut out = Vec::new();
            for d in &b.domains {
                let h = valid_host(d)
                    .ok_or_else(|| Failure::bad("domains", format!("{d}: not a host name")))?;
                if !out.contains(&h) {
                    out.push(h);
                }
            }
            SettingOp::PutSipDomains(out)
        }
        ("GET", ["app-numbers"]) => SettingOp::ListAppNumbers,
        ("PUT", ["app-numbers", number]) => {
            if !patchbay_api::app_number_ok(number) {
                return Err(Failure::bad(
                    "number",
                    "1-32 digits, * or #, with an optional leading +",
                ));
            }
            let b: AppNumberBody = if body.is_empty() {
                AppNumberBody::default()
            } else {
                json(body)?
            };
            if b.label.len() > 128 {
                return Err(Failure::bad("label", "at most 128 bytes"));
            }
            SettingOp::PutAppNumber {
                number: number.to_string(),
                label: b.label,
            }
        }
        ("DELETE", ["app-numbers", number]) => SettingOp::DeleteAppNumber(number.to_string()),
        ("GET", ["recording"]) => SettingOp::GetRecordingPolicy,
        ("PUT", ["recording"]) => {
            let p: patchbay_api::RecordingPolicy = json(body)?;
            if p.retention_days > 36_500 {
                return Err(Failure::bad("retention_days", "at most 36500"));
            }
            SettingOp::PutRecordingPolicy(p)
        }
        ("GET", ["hosts"]) => SettingOp::ListHosts,
        ("PUT", ["hosts", host]) => SettingOp::PutHost(
            valid_host(host).ok_or_else(|| Failure::bad("host", "not a host name"))?,
        ),
        ("DELETE", ["hosts", host]) => SettingOp::DeleteHost(host.to_ascii_lowercase()),
        ("GET", ["jwt-keys"]) => SettingOp::ListJwtKeys,
        ("PUT", ["jwt-keys", kid]) => {
            if !super::valid_name(kid) {
                return Err(Failure::bad("kid", "1-64 of a-z, 0-9, '-', '_', '.'"));
            }
            let b: JwtKeyBody = json(body)?;
            if !JWT_ALGS.contains(&b.alg.as_str()) {
                return Err(Failure::bad("alg", "HS256, RS256 or ES256"));
            }
            jwt::check_key(&b.alg, &b.key).map_err(|_| {
                Failure::bad(
                    "key",
                    "HS256: a secret of 16 bytes or more; RS256 / ES256: a public key in PEM",
                )
            })?;
            SettingOp::PutJwtKey {
                kid: kid.to_string(),
                alg: b.alg,
                key: b.key,
            }
        }
        ("DELETE", ["jwt-keys", kid]) => SettingOp::DeleteJwtKey(kid.to_string()),
        (_, ["ip-patterns" | "sip-domains" | "hosts" | "jwt-keys", ..]) => {
            return Err(Failure::MethodNotAllowed);
        }
        _ => return super::routing::parse(method, segs, body),
    };
    Ok(Some(op))
}

fn scope_of(s: &str) -> Result<String, Failure> {
    if IP_SCOPES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(Failure::bad("scope", IP_SCOPES.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let p = |m, segs: &[&str], body: &str| parse(m, segs, body.as_bytes());
        assert_eq!(
            p(
                "PUT",
                &["ip-patterns", "ozeki"],
                r#"{"patterns":["10.0.0.0/8","^192\\.168\\."]}"#
            ),
            Ok(Some(SettingOp::PutIpPatterns {
                scope: "ozeki".into(),
                patterns: vec!["10.0.0.0/8".into(), "^192\\.168\\.".into()]
            }))
        );
        assert!(p("PUT", &["ip-patterns", "ozeki"], r#"{"patterns":["("]}"#).is_err());
        assert!(p("GET", &["ip-patterns", "nope"], "").is_err());
        assert_eq!(
            p(
                "PUT",
                &["sip-domains"],
                r#"{"domains":["Carrier.Example","carrier.example","192.0.2.1"]}"#
            ),
            Ok(Some(SettingOp::PutSipDomains(vec![
                "carrier.example".into(),
                "192.0.2.1".into()
            ])))
        );
        assert!(p("PUT", &["sip-domains"], r#"{"domains":["a b"]}"#).is_err());
        assert!(p("PUT", &["sip-domains"], r#"{"domains":["*.x"]}"#).is_err());
        assert_eq!(
            p("PUT", &["hosts", "PBX.acme.example"], ""),
            Ok(Some(SettingOp::PutHost("pbx.acme.example".into())))
        );
        assert!(
            p(
                "PUT",
                &["jwt-keys", "k1"],
                r#"{"alg":"HS256","key":"short"}"#
            )
            .is_err()
        );
        assert!(
            p(
                "PUT",
                &["jwt-keys", "k1"],
                r#"{"alg":"RS256","key":"not pem"}"#
            )
            .is_err()
        );
        assert!(
            p(
                "PUT",
                &["jwt-keys", "k1"],
                r#"{"alg":"none","key":"0123456789abcdef"}"#
            )
            .is_err()
        );
        assert!(matches!(
            p(
                "PUT",
                &["jwt-keys", "k1"],
                r#"{"alg":"HS256","key":"0123456789abcdef"}"#
            ),
            Ok(Some(SettingOp::PutJwtKey { .. }))
        ));
        assert_eq!(p("POST", &["hosts"], ""), Err(Failure::MethodNotAllowed));
        assert_eq!(p("GET", &["users"], ""), Ok(None));
    }
}
