//! The route hook (vendor-neutral): before an inbound call to one of a tenant's own numbers
//! rings, the B2BUA asks `route_hook_url` where it goes, when the tenant turned the hook on
//! (`routing`/`hook` config `{"enabled": true}`, written by the gateway for Ozeki's route
//! interception URL). `{"route": "<number>"}` sends the call there; an error, `{}` or no
//! answer within `route_hook_timeout_ms` leaves it where it was going.

use crate::config::B2buaConfig;
use patchbay_api::client::outbound::{self, Outbound};
use patchbay_api::{ROUTE_HOOK_KIND, ROUTE_HOOK_NAME, RouteDecision, RouteQuery};
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

    /// Where the hook sends the call (`None`: where it was going).
    pub(crate) async fn ask(&self, q: &RouteQuery) -> Option<String> {
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
            max_body: 4096,
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
        let d: RouteDecision = serde_json::from_slice(&answer.body).ok()?;
        d.route.filter(|r| {
            !r.is_empty()
                && r.len() <= 64
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+*#.-_".contains(c))
        })
    }
}

/// Where a call from `caller` to the tenant's `dialed` goes: the hook's answer when the
/// tenant turned it on, else `dialed`.
pub(crate) async fn route(
    sh: &crate::shared::Shared,
    tenant: &str,
    caller: &str,
    dialed: &str,
) -> String {
    let Some(hook) = &sh.route_hook else {
        return dialed.to_string();
    };
    if !hook.enabled(&*sh.store, tenant).await {
        return dialed.to_string();
    }
    let q = RouteQuery {
        tenant: tenant.to_string(),
        caller: caller.to_string(),
        dialed: dialed.to_string(),
        state: "calling".into(),
    };
    hook.ask(&q).await.unwrap_or_else(|| dialed.to_string())
}
