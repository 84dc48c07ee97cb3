//! The route hook (vendor-neutral): before a call from a tenant's phones or trunks to its own
//! domain rings, the B2BUA asks `route_hook_url` where it goes, when the tenant turned the
//! hook on (`routing`/`hook` config `{"enabled": true}`, written by the gateway for Ozeki's
//! route interception URL and Taridium's CTI). `{"route": "<number>"}` sends the call there,
//! `caller_id` is what the called party sees, `record` overrides the tenant's recording
//! policy for the call, `account_codes` go on its CDR, `popup_url` on its callees' `ringing`
//! events; an error, `{}` or no answer within `route_hook_timeout_ms` leaves the call as it
//! was.

use crate::config::B2buaConfig;
use patchbay_api::client::outbound::{self, Outbound};
use patchbay_api::{
    AccountCodes, CallerId, ROUTE_HOOK_KIND, ROUTE_HOOK_NAME, RouteDecision, RouteQuery,
};
use patchbay_store::Store;
use std::time::Duration;

pub(crate) struct RouteHook {
    url: String,
    token: String,
    timeout: Duration,
    /// Tenants' switches, cached.
    tenants: moka::sync::Cache<String, bool>,
}

#[derive(serde::Deserialize)]
struct Switch {
    #[serde(default)]
    enabled: bool,
}

impl RouteHook {
    pub(crate) fn new(cfg: &B2buaConfig) -> Option<Self> {
        (!cfg.route_hook_url.is_empty()).then(|| Self {
            url: cfg.route_hook_url.clone(),
            token: cfg.control_token.clone(),
            timeout: Duration::from_millis(cfg.route_hook_timeout_ms),
            tenants: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
        })
    }

    /// Whether `tenant` turned the hook on.
    pub(crate) async fn enabled(&self, store: &dyn Store, tenant: &str) -> bool {
        if let Some(on) = self.tenants.get(tenant) {
            return on;
        }
        let on = store
            .configs(tenant, ROUTE_HOOK_KIND)
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|(n, _)| n == ROUTE_HOOK_NAME)
            .and_then(|(_, b)| serde_json::from_str::<Switch>(&b).ok())
            .is_some_and(|s| s.enabled);
        self.tenants.insert(tenant.to_string(), on);
        on
    }

    /// The hook's answer (`None`: no answer, the call as it was).
    pub(crate) async fn ask(&self, q: &RouteQuery) -> Option<RouteDecision> {
        let body = serde_json::to_vec(q).ok()?;
        let req = Outbound {
            method: reqwest::Method::POST,
            url: self.url.clone(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Authorization".into(), format!("Bearer {}", self.token)),
            ],
            body,
            timeout: self.timeout,
            max_body: 16 * 1024,
            // The operator's own gateway: a loopback or private address is expected.
            allow_private: true,
        };
        let answer = match outbound::send(req).await {
            Ok(a) if a.status == 200 => a,
            Ok(a) => {
                tracing::warn!(status = a.status, "the route hook refused");
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the route hook did not answer");
                return None;
            }
        };
        serde_json::from_slice(&answer.body).ok()
    }
}

/// What the hook set on a call beyond where it goes, kept by the driver until its CDR.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hooked {
    pub(crate) account_codes: AccountCodes,
    pub(crate) popup_url: Option<String>,
}

/// A call as the hook left it.
#[derive(Debug, Clone)]
pub(crate) struct Routed {
    /// Where it goes.
    pub(crate) number: String,
    /// What the called party sees instead of the caller's own.
    pub(crate) caller_id: Option<CallerId>,
    /// Record it (or not) whatever the tenant's policy says.
    pub(crate) record: Option<bool>,
    pub(crate) hooked: Hooked,
}

impl Routed {
    fn unchanged(dialed: &str) -> Self {
        Self {
            number: dialed.to_string(),
            caller_id: None,
            record: None,
            hooked: Hooked::default(),
        }
    }
}

/// A number the hook may send a call to.
fn routable(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 64
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+*#.-_".contains(c))
}

/// The hook's decision as the B2BUA takes it: malformed parts are dropped one by one.
fn routed(dialed: &str, d: RouteDecision) -> Routed {
    let cap = |s: String| (s.len() <= 64).then_some(s);
    Routed {
        number: d
            .route
            .filter(|r| routable(r))
            .unwrap_or_else(|| dialed.to_string()),
        caller_id: d.caller_id.as_deref().and_then(CallerId::parse),
        record: d.record,
        hooked: Hooked {
            account_codes: AccountCodes {
                accountcode: cap(d.account_codes.accountcode).unwrap_or_default(),
                acc_code2: cap(d.account_codes.acc_code2).unwrap_or_default(),
                acc_code3: cap(d.account_codes.acc_code3).unwrap_or_default(),
            },
            popup_url: d
                .popup_url
                .filter(|u| patchbay_api::cti_url_ok(u) && u.len() <= 4096),
        },
    }
}

/// Where the call of `q` goes and what else the hook set, when the tenant turned the hook
/// on; else the call as it was.
pub(crate) async fn route(sh: &crate::shared::Shared, q: RouteQuery) -> Routed {
    let Some(hook) = &sh.route_hook else {
        return Routed::unchanged(&q.dialed);
    };
    if !hook.enabled(&*sh.store, &q.tenant).await {
        return Routed::unchanged(&q.dialed);
    }
    match hook.ask(&q).await {
        Some(d) => routed(&q.dialed, d),
        None => Routed::unchanged(&q.dialed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parts_are_dropped_one_by_one() {
        let d = RouteDecision {
            route: Some("40 09".into()),
            caller_id: Some("Jane <4001>".into()),
            record: Some(true),
            account_codes: AccountCodes {
                acc_code2: "A2".into(),
                acc_code3: "x".repeat(65),
                ..Default::default()
            },
            popup_url: Some("ftp://crm".into()),
        };
        let r = routed("4007", d);
        assert_eq!(r.number, "4007");
        assert_eq!(
            r.caller_id,
            Some(CallerId::Shown {
                number: "4001".into(),
                name: Some("Jane".into())
            })
        );
        assert_eq!(r.record, Some(true));
        assert_eq!(r.hooked.account_codes.acc_code2, "A2");
        assert_eq!(r.hooked.account_codes.acc_code3, "");
        assert_eq!(r.hooked.popup_url, None);
        let r = routed(
            "4007",
            RouteDecision {
                route: Some("+41441234567".into()),
                ..Default::default()
            },
        );
        assert_eq!(r.number, "+41441234567");
    }
}
