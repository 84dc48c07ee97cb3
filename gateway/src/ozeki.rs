//! Ozeki's live side: the tenant's Ozeki settings and API extensions (cached), the calls the
//! `Call` command placed, and the feed (a background service) that follows the B2BUA's
//! events: it POSTs `IncomingCall` for calls to an API extension and `CallConnected` when a
//! placed call is answered, runs the OzML replies on the calls ([`session`]), and queues
//! `CallChanged` notifications in the webhook outbox.
//!
//! One gateway runs the feed's sessions (several gateways would each run them: issue 18
//! claims calls per node).

mod feed;
mod replies;
mod routing;
mod session;
mod sms;

pub(crate) use feed::FeedService;
pub(crate) use sms::Sms;

use crate::Gateway;
use patchbay_api::{CallId, OriginateRequest};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::vendors::native::{ApiExtension, OzekiSettings};
use patchbay_gateway_proto::vendors::ozeki::PlaceCall;
use patchbay_store::{Store, StoreError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `tenant_configs` kind and name of a tenant's Ozeki settings.
pub(crate) const SETTINGS_KIND: &str = "ozeki";
pub(crate) const SETTINGS_NAME: &str = "settings";
/// `tenant_configs` kind of API extensions (named by number).
pub(crate) const EXTENSION_KIND: &str = "ozeki-api-extension";
/// The B2BUA application-number label of API extensions.
pub(crate) const LABEL: &str = "ozeki";

/// A recording whose end an app waits for (`RecordCompleted` to `finished_url`).
#[derive(Debug, Clone)]
pub(crate) struct PendingRecord {
    pub tenant: String,
    pub finished_url: String,
    /// Where the app reaches this gateway's Ozeki listener (`http://host:port`).
    pub base: String,
}

/// A call placed by `Call` (or OzML `Call`), until the feed sees its first event.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub tenant: String,
    pub call: PlaceCall,
    /// Where its `CallChanged` go (the API extension's, else the tenant's).
    pub changed_url: Option<String>,
}

pub(crate) struct Ozeki {
    store: Arc<dyn Store>,
    settings: moka::sync::Cache<String, Arc<OzekiSettings>>,
    /// Each tenant's API extensions by number.
    extensions: moka::sync::Cache<String, Arc<HashMap<String, Arc<ApiExtension>>>>,
    placed: Mutex<HashMap<CallId, Placed>>,
    recordings: Mutex<HashMap<(CallId, u64), PendingRecord>>,
    /// See [`public_base`].
    pub(crate) public_base: String,
}

impl Ozeki {
    pub(crate) fn new(store: Arc<dyn Store>, public_base: String) -> Self {
        Self {
            store,
            settings: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
            extensions: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
            placed: Mutex::new(HashMap::new()),
            recordings: Mutex::new(HashMap::new()),
            public_base,
        }
    }

    /// The tenant's Ozeki settings (defaults when none are stored).
    pub(crate) async fn settings(&self, tenant: &str) -> Result<Arc<OzekiSettings>, StoreError> {
        if let Some(s) = self.settings.get(tenant) {
            return Ok(s);
        }
        let s = Arc::new(
            self.store
                .configs(tenant, SETTINGS_KIND)
                .await?
                .into_iter()
                .find(|(n, _)| n == SETTINGS_NAME)
                .and_then(|(_, b)| serde_json::from_str::<OzekiSettings>(&b).ok())
                .unwrap_or_default(),
        );
        self.settings.insert(tenant.to_string(), s.clone());
        Ok(s)
    }

    /// The tenant's API extension `number`, if it is one.
    pub(crate) async fn extension(
        &self,
        tenant: &str,
        number: &str,
    ) -> Result<Option<Arc<ApiExtension>>, StoreError> {
        let all = match self.extensions.get(tenant) {
            Some(all) => all,
            None => {
                let all: HashMap<String, Arc<ApiExtension>> = self
                    .store
                    .configs(tenant, EXTENSION_KIND)
                    .await?
                    .into_iter()
                    .filter_map(|(n, b)| {
                        serde_json::from_str::<ApiExtension>(&b)
                            .ok()
                            .map(|e| (n, Arc::new(e)))
                    })
                    .collect();
                let all = Arc::new(all);
                self.extensions.insert(tenant.to_string(), all.clone());
                all
            }
        };
        Ok(all.get(number).cloned())
    }

    /// Forget what is cached of `tenant` (its settings or extensions just changed here).
    pub(crate) fn changed(&self, tenant: &str) {
        self.settings.invalidate(tenant);
        self.extensions.invalidate(tenant);
    }

    fn take_placed(&self, id: &CallId) -> Option<Placed> {
        self.placed.lock().ok()?.remove(id)
    }

    /// Tell `r.finished_url` when recording `command` of `call` is ready.
    pub(crate) fn await_recording(&self, call: &CallId, command: u64, r: PendingRecord) {
        if let Ok(mut m) = self.recordings.lock() {
            m.insert((call.clone(), command), r);
        }
    }

    fn take_recording(&self, call: &CallId, command: u64) -> Option<PendingRecord> {
        self.recordings
            .lock()
            .ok()?
            .remove(&(call.clone(), command))
    }
}

/// The link that serves recording `id` of `tenant` (its own credential: signed).
pub(crate) fn record_url(gw: &Gateway, base: &str, tenant: &str, id: &str) -> String {
    let sig = gw.authn.link_sig(&[RECORD_LINK, tenant, id]);
    format!("{base}/HttpRecordings/{id}.wav?key={sig}")
}

/// The signature domain of `RecordURL` links.
pub(crate) const RECORD_LINK: &str = "ozeki-recording";

/// Where apps reach the Ozeki listener when no request says (OzML from the feed): the
/// configured public URL, else the first Ozeki listener's bound address (`bound`: each
/// listener's, in config order).
pub(crate) fn public_base(cfg: &crate::config::GatewayConfig, bound: &[SocketAddr]) -> String {
    if !cfg.ozeki_public_url.is_empty() {
        return cfg.ozeki_public_url.trim_end_matches('/').to_string();
    }
    cfg.listeners
        .iter()
        .zip(bound)
        .find(|(l, _)| {
            l.profiles
                .contains(&patchbay_gateway_proto::route::Vendor::Ozeki)
        })
        .map(|(l, a)| {
            let scheme = if l.tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{a}")
        })
        .unwrap_or_default()
}

impl Gateway {
    /// Make `e.number` an API extension of `tenant` (also a B2BUA application number); a
    /// user's extension may not be one (409).
    pub(crate) async fn put_api_extension(
        &self,
        tenant: &str,
        e: &ApiExtension,
    ) -> Result<(), Failure> {
        let db = crate::handlers::db;
        if self
            .store
            .user(tenant, &e.number)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(Failure::Conflict(format!(
                "{} is a user's extension",
                e.number
            )));
        }
        self.b2bua
            .put_app_number(tenant, &e.number, LABEL)
            .await
            .map_err(|err| self.b2bua_failure("app_numbers", err))?;
        let body = serde_json::to_string(e).unwrap_or_default();
        self.store
            .put_config(tenant, EXTENSION_KIND, &e.number, &body)
            .await
            .map_err(db)?;
        self.ozeki.changed(tenant);
        Ok(())
    }

    /// Place `Call`: the API extension (checked), or the tenant, calls `dialed` as an
    /// application call, held until the caller starts it (the feed knows it first).
    pub(crate) async fn ozeki_place(
        &self,
        tenant: &str,
        call: PlaceCall,
    ) -> Result<CallId, Failure> {
        let db = crate::handlers::db;
        let ext = match &call.api_extension {
            Some(n) => Some(
                self.ozeki
                    .extension(tenant, n)
                    .await
                    .map_err(db)?
                    .ok_or_else(|| Failure::EndpointUnavailable(n.clone()))?,
            ),
            None => None,
        };
        let changed_url = match ext.as_ref().and_then(|e| e.call_changed_url.clone()) {
            Some(u) => Some(u),
            None => self
                .ozeki
                .settings(tenant)
                .await
                .map_err(db)?
                .call_changed_url
                .clone(),
        };
        let number = call
            .caller_id
            .clone()
            .or_else(|| call.api_extension.clone());
        let caller_id = match (&call.caller_display_name, &number) {
            (Some(name), Some(n)) => Some(format!("{name} <{n}>")),
            (None, Some(n)) => Some(n.clone()),
            (Some(name), None) => Some(format!("{name} <anonymous>")),
            (None, None) => None,
        };
        let req = OriginateRequest {
            tenant: tenant.to_string(),
            from: call.api_extension.clone().unwrap_or_default(),
            to: vec![call.dialed.clone()],
            ring_timeout_secs: call.ring_secs,
            app: true,
            caller_id,
            ..OriginateRequest::default()
        };
        let info = self.originate_held(req).await.map_err(|f| match f {
            Failure::BadRequest { .. } | Failure::DestinationRefused(_) => {
                Failure::bad("Dialed", "Call")
            }
            Failure::NotFound(_) => Failure::ConnectFailed {
                target: call.dialed.clone(),
                state: "NotFound".into(),
            },
            f => f,
        })?;
        // This gateway registered the call: its follow-up is this gateway's (before it starts,
        // so no other gateway's feed takes it first).
        self.claim_call(&info.id).await;
        if let Ok(mut p) = self.ozeki.placed.lock() {
            p.insert(
                info.id.clone(),
                Placed {
                    tenant: tenant.to_string(),
                    call,
                    changed_url,
                },
            );
        }
        Ok(info.id)
    }
}
