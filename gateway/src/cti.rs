//! Taridium's CTI module, live: the tenant's CTI settings and per-application URLs (cached),
//! the control questions behind the B2BUA's route hook, and post-call notifications.
//!
//! - **Control**: before a call of a tenant with CTI on rings, the route hook reaches
//!   [`Gateway::cti_route`]: the general control URL is rendered with the call's variables
//!   and fetched (GET, within the tenant's `timeout_ms`); its `<ipbx>` reply may re-route the
//!   call, rewrite its caller ID, set account codes, turn recording on or off. Then the
//!   application the call is going to (the DID it came in on, then the queue, ring group or
//!   attendant its destination is) is asked likewise when it has a `cti_url`. Later answers
//!   win part by part; a URL that does not answer in time, fails, or answers something else
//!   than `<ipbx>` changes nothing. The pop-up URL is rendered too and rides on the callees'
//!   `ringing` events.
//! - **Post-call**: the feed hands every ended call of a tenant with a post-call URL to
//!   [`post_call`]: once the B2BUA's CDR is in the store, the URL rendered with the CDR's
//!   variables goes into the webhook outbox as a GET (retried, in order per call).

use crate::Gateway;
use crate::webhooks::Notification;
use patchbay_api::{CallId, RouteDecision, RouteQuery};
use patchbay_gateway_proto::vendors::promptcall::cdr as asterisk;
use patchbay_gateway_proto::vendors::taridium::cti::{self, CallVars, CtiSettings};
use patchbay_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Every tenant's CTI settings and application URLs, cached for a few seconds (a change
/// through another gateway shows within them; this gateway's own changes at once).
pub(crate) struct Cti {
    store: Arc<dyn Store>,
    settings: moka::sync::Cache<String, Arc<CtiSettings>>,
    /// Numbers (queues, groups, attendants) and DIDs with a `cti_url`, per tenant.
    apps: moka::sync::Cache<String, Arc<AppUrls>>,
}

#[derive(Default)]
struct AppUrls {
    /// A queue's, ring group's or attendant's number -> its URL.
    numbers: HashMap<String, String>,
    /// A DID -> its URL.
    dids: HashMap<String, String>,
}

impl Cti {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            settings: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
            apps: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
        }
    }

    /// The tenant's settings (`enabled: false` and no URLs when it has none).
    pub(crate) async fn settings(&self, tenant: &str) -> Result<Arc<CtiSettings>, StoreError> {
        if let Some(s) = self.settings.get(tenant) {
            return Ok(s);
        }
        let s = Arc::new(
            self.store
                .configs(tenant, cti::KIND)
                .await?
                .into_iter()
                .find(|(n, _)| n == cti::NAME)
                .and_then(|(_, b)| serde_json::from_str(&b).ok())
                .unwrap_or(CtiSettings {
                    enabled: false,
                    ..Default::default()
                }),
        );
        self.settings.insert(tenant.to_string(), s.clone());
        Ok(s)
    }

    /// Forget the tenant's cached settings and application URLs (they changed here).
    pub(crate) fn changed(&self, tenant: &str) {
        self.settings.invalidate(tenant);
        self.apps.invalidate(tenant);
    }

    async fn apps(&self, tenant: &str) -> Result<Arc<AppUrls>, StoreError> {
        if let Some(a) = self.apps.get(tenant) {
            return Ok(a);
        }
        let mut a = AppUrls::default();
        for q in self.store.configs(tenant, "queue").await? {
            if let Ok(q) = serde_json::from_str::<patchbay_api::Queue>(&q.1)
                && let Some(u) = q.cti_url
            {
                a.numbers.insert(q.number, u);
            }
        }
        for g in self.store.ring_groups(tenant).await? {
            if let Some(u) = g.cti_url {
                a.numbers.insert(g.number, u);
            }
        }
        for (_, body) in self.store.configs(tenant, "attendant").await? {
            if let Ok(at) = serde_json::from_str::<patchbay_api::AutoAttendant>(&body)
                && let Some(u) = at.cti_url
            {
                a.numbers.insert(at.number, u);
            }
        }
        for d in self.store.dids(tenant, None).await? {
            if let Some(u) = d.cti_url {
                a.dids.insert(d.number, u);
            }
        }
        let a = Arc::new(a);
        self.apps.insert(tenant.to_string(), a.clone());
        Ok(a)
    }
}

/// The route hook's switch for `tenant`: on while Ozeki's route interception URL is set, or
/// the CTI module is on with something to do before a call rings (a control or pop-up URL,
/// an application's URL); a post-call URL alone costs the calls no question.
pub(crate) async fn sync_route_hook(gw: &Gateway, tenant: &str) -> Result<(), StoreError> {
    let ozeki = gw
        .ozeki
        .settings(tenant)
        .await?
        .routing_interception_url
        .is_some();
    let st = gw.cti.settings(tenant).await?;
    let asks = st.enabled
        && (st.control_url.is_some() || st.popup_url.is_some() || {
            let apps = gw.cti.apps(tenant).await?;
            !apps.numbers.is_empty() || !apps.dids.is_empty()
        });
    let on = ozeki || asks;
    gw.store
        .put_config(
            tenant,
            patchbay_api::ROUTE_HOOK_KIND,
            patchbay_api::ROUTE_HOOK_NAME,
            &serde_json::json!({ "enabled": on }).to_string(),
        )
        .await
}

impl Gateway {
    fn cti_count(&self, kind: &str, outcome: &str) {
        self.metrics.cti.with_label_values(&[kind, outcome]).inc();
    }

    /// What the tenant's CTI makes of the call of `q` (`None`: CTI is off).
    pub(crate) async fn cti_route(&self, q: &RouteQuery) -> Option<RouteDecision> {
        let st = self.cti.settings(&q.tenant).await.ok()?;
        if !st.enabled {
            return None;
        }
        let timeout = Duration::from_millis(st.timeout_ms);
        let mut vars = CallVars {
            calleridname: if q.caller_name.is_empty() {
                q.caller.clone()
            } else {
                q.caller_name.clone()
            },
            calleridnumber: q.caller.clone(),
            accountcode: String::new(),
            uniqueid: q.call.clone(),
            channel: q.channel.clone(),
            exten: q.dialed.clone(),
        };
        let mut d = RouteDecision::default();
        if let Some(url) = &st.control_url {
            self.cti_merge(&mut d, &mut vars, &q.tenant, "control", url, timeout)
                .await;
        }
        if let Ok(apps) = self.cti.apps(&q.tenant).await {
            // The DID the call came in on (inbound routing), then the application it goes to.
            if let Some(url) = q.did.as_ref().and_then(|n| apps.dids.get(n)) {
                self.cti_merge(&mut d, &mut vars, &q.tenant, "application", url, timeout)
                    .await;
            }
            if let Some(url) = apps.numbers.get(&vars.exten) {
                self.cti_merge(&mut d, &mut vars, &q.tenant, "application", url, timeout)
                    .await;
            }
        }
        if let Some(t) = &st.popup_url {
            d.popup_url = Some(cti::render(t, &vars.pairs()));
            self.cti_count("popup", "rendered");
        }
        Some(d)
    }

    /// Ask one control URL and take its answer into `d` (and the variables the next URL
    /// sees: the new destination, caller ID and account code).
    async fn cti_merge(
        &self,
        d: &mut RouteDecision,
        vars: &mut CallVars,
        tenant: &str,
        kind: &'static str,
        template: &str,
        timeout: Duration,
    ) {
        let url = cti::render(template, &vars.pairs());
        let answer = self
            .webhooks
            .request(tenant, &url, "", &[], String::new(), timeout)
            .await;
        let body = match answer {
            Ok(a) if (200..300).contains(&a.status) => a.body,
            Ok(a) => {
                tracing::info!(status = a.status, kind, "a CTI control URL refused");
                return self.cti_count(kind, "failed");
            }
            Err(e) => {
                tracing::info!(error = %e, kind, "a CTI control URL did not answer");
                return self.cti_count(kind, "failed");
            }
        };
        let reply = match cti::parse_reply(&body, &vars.calleridnumber) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = ?e, kind, "a CTI control reply is no <ipbx> document");
                return self.cti_count(kind, "failed");
            }
        };
        let changed = reply != RouteDecision::default();
        if let Some(r) = &reply.route {
            vars.exten = r.clone();
        }
        if let Some(c) = reply
            .caller_id
            .as_deref()
            .and_then(patchbay_api::CallerId::parse)
        {
            let (number, name) = match c {
                patchbay_api::CallerId::Shown { number, name } => {
                    (number.clone(), name.unwrap_or(number))
                }
                patchbay_api::CallerId::Anonymous => ("anonymous".into(), "Anonymous".into()),
            };
            vars.calleridnumber = number;
            vars.calleridname = name;
        }
        if !reply.account_codes.accountcode.is_empty() {
            vars.accountcode = reply.account_codes.accountcode.clone();
        }
        d.merge(reply);
        self.cti_count(kind, if changed { "changed" } else { "unchanged" });
    }
}

/// Queue the post-call notification of `call` once its CDR is in the store (the B2BUA
/// writes it just after the call's `ended` event; given up after 10 s).
pub(crate) async fn post_call(gw: Arc<Gateway>, tenant: String, url: String, call: CallId) {
    let mut cdr = None;
    for _ in 0..100 {
        match gw.store.cdr(&call.0).await {
            Ok(Some(c)) => {
                cdr = Some(c);
                break;
            }
            Ok(None) | Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let Some(cdr) = cdr else {
        tracing::warn!(call = %call, "no CDR for the post-call CTI URL");
        return gw.cti_count("post_call", "failed");
    };
    let recording = gw
        .store
        .recordings(&tenant, Some(&call.0), 1)
        .await
        .ok()
        .and_then(|r| r.into_iter().next())
        .map(|r| r.id);
    let row = asterisk::asterisk(&cdr, recording.as_deref());
    let vars = cti::post_call_vars(&row, &cdr.account_codes);
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let n = Notification {
        tenant,
        vendor: "taridium",
        kind: "PostCall",
        key: call.0.clone(),
        url: cti::render(&url, &pairs),
        content_type: String::new(),
        headers: Vec::new(),
        body: String::new(),
    };
    match gw.webhooks.enqueue(n).await {
        Ok(()) => gw.cti_count("post_call", "queued"),
        Err(e) => {
            tracing::warn!(call = %call, error = %e, "a post-call CTI notification could not be queued");
            gw.cti_count("post_call", "failed");
        }
    }
}
