//! A tenant's trunks to carriers at run time, and where outside numbers go.
//!
//! The store holds trunks, dial plans and DIDs (written through the control API). Every node
//! keeps a [`TrunkTable`] of all tenants' trunks with their addresses resolved (the system
//! resolver, `/etc/hosts` included), reloaded every `trunk_sync_secs` and at once after a
//! change through this node's API; the driver keeps trunk registrations up from it, and
//! recognises a carrier's INVITE by its source address. Dial plans are read through a cache of
//! the same short lifetime; [`route_outside`] applies one.

use crate::shared::{Shared, TaskDone};
use patchbay_api::{DialRule, Trunk, TrunkTransport};
use patchbay_proto::dialplan::{self, Route};
use patchbay_store::{Store, StoreError};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::sync::mpsc;

/// One trunk, its tenant and where its host resolved (`None`: it did not).
#[derive(Debug, Clone)]
pub(crate) struct TrunkEntry {
    pub(crate) tenant: String,
    pub(crate) trunk: Trunk,
    pub(crate) addr: Option<SocketAddr>,
}

impl TrunkEntry {
    pub(crate) fn key(&self) -> (String, String) {
        (self.tenant.clone(), self.trunk.name.clone())
    }

    /// Our transport to it.
    pub(crate) fn transport(&self) -> patchbay_sip::Transport {
        match self.trunk.transport {
            TrunkTransport::Udp => patchbay_sip::Transport::Udp,
            TrunkTransport::Tcp => patchbay_sip::Transport::Tcp,
            TrunkTransport::Tls => patchbay_sip::Transport::Tls,
        }
    }

    /// The Request-URI dialling `number` at the carrier.
    pub(crate) fn uri(&self, number: &str) -> String {
        let host = if self.trunk.host.contains(':') {
            format!("[{}]", self.trunk.host)
        } else {
            self.trunk.host.clone()
        };
        let scheme = if self.trunk.transport == TrunkTransport::Tls {
            "sips"
        } else {
            "sip"
        };
        let param = match self.trunk.transport {
            TrunkTransport::Tcp => ";transport=tcp",
            _ => "",
        };
        format!("{scheme}:{number}@{host}:{}{param}", self.trunk.port)
    }
}

/// Every tenant's trunks.
#[derive(Debug, Default)]
pub(crate) struct TrunkTable {
    entries: Vec<TrunkEntry>,
    /// Carriers by address (every INVITE asks): the first trunk with that address.
    by_ip: std::collections::HashMap<IpAddr, usize>,
}

impl TrunkTable {
    pub(crate) fn entries(&self) -> &[TrunkEntry] {
        &self.entries
    }

    pub(crate) fn get(&self, tenant: &str, name: &str) -> Option<&TrunkEntry> {
        self.entries
            .iter()
            .find(|e| e.tenant == tenant && e.trunk.name == name)
    }

    /// The trunk whose carrier sends from `ip` (carriers send from other ports than they
    /// listen on: the address alone decides).
    pub(crate) fn by_source(&self, ip: IpAddr) -> Option<&TrunkEntry> {
        self.by_ip.get(&ip).map(|&i| &self.entries[i])
    }

    fn new(entries: Vec<TrunkEntry>) -> Self {
        let mut by_ip = std::collections::HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(a) = e.addr {
                by_ip.entry(a.ip()).or_insert(i);
            }
        }
        Self { entries, by_ip }
    }
}

/// Read every trunk and resolve its host.
pub(crate) async fn load(store: &dyn Store) -> Result<TrunkTable, StoreError> {
    let mut entries = Vec::new();
    for (tenant, trunk) in store.trunks(None).await? {
        let addr = match tokio::net::lookup_host((trunk.host.as_str(), trunk.port)).await {
            Ok(mut it) => it.next(),
            Err(e) => {
                tracing::warn!(tenant, trunk = trunk.name, error = %e, "trunk host does not resolve");
                None
            }
        };
        entries.push(TrunkEntry {
            tenant,
            trunk,
            addr,
        });
    }
    Ok(TrunkTable::new(entries))
}

/// Reload the table now (after a change through this node's API), and have the sync task
/// bring the driver's registrations along.
pub(crate) async fn reload(sh: &Shared) -> Result<(), StoreError> {
    let t = Arc::new(load(sh.store.as_ref()).await?);
    if let Ok(mut cur) = sh.trunks.write() {
        *cur = t;
    }
    sh.trunk_sync.notify_one();
    Ok(())
}

/// Keep the table current: at start, every `trunk_sync_secs`, and when poked; the driver gets
/// each new table (for registrations).
pub(crate) async fn sync(sh: Arc<Shared>, done: mpsc::UnboundedSender<TaskDone>) {
    let every = std::time::Duration::from_secs(u64::from(sh.cfg.trunk_sync_secs.max(1)));
    loop {
        match load(sh.store.as_ref()).await {
            Ok(t) => {
                let t = Arc::new(t);
                if let Ok(mut cur) = sh.trunks.write() {
                    *cur = t.clone();
                }
                if done.send(TaskDone::Trunks(t)).is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "trunks unreadable; keeping the last table"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = sh.trunk_sync.notified() => {}
        }
    }
}

/// Where an outside number of `tenant` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outside {
    /// Through a trunk: the URI to dial there.
    Trunk { trunk: String, uri: String },
    /// A refusing rule matched.
    Refused,
    /// No rule (or its trunk is gone).
    NoRule,
}

/// A tenant's dial plan, cached.
pub(crate) async fn dialplan(sh: &Shared, tenant: &str) -> Result<Arc<Vec<DialRule>>, StoreError> {
    if let Some(p) = sh.dialplans.get(tenant) {
        return Ok(p);
    }
    let p = Arc::new(sh.store.dialplan(tenant).await?);
    sh.dialplans.insert(tenant.to_string(), p.clone());
    Ok(p)
}

/// Apply the tenant's dial plan to `number`.
pub(crate) async fn route_outside(
    sh: &Shared,
    tenant: &str,
    number: &str,
) -> Result<Outside, StoreError> {
    let plan = dialplan(sh, tenant).await?;
    Ok(match dialplan::route(&plan, number) {
        Route::Trunk { trunk, number, .. } => {
            let table = sh.trunks.read().map(|t| t.clone()).unwrap_or_default();
            match table.get(tenant, &trunk) {
                Some(e) => Outside::Trunk {
                    uri: e.uri(&number),
                    trunk,
                },
                None => {
                    tracing::warn!(
                        tenant,
                        trunk,
                        "the dial plan names a trunk that does not exist"
                    );
                    Outside::NoRule
                }
            }
        }
        Route::Refused { .. } => Outside::Refused,
        Route::NoRule => Outside::NoRule,
    })
}

/// The destination of an inbound number: the DID as dialled, then in its normalized form.
pub(crate) async fn did_destination(
    store: &dyn Store,
    tenant: &str,
    number: &str,
) -> Result<Option<String>, StoreError> {
    let mut forms = vec![number.to_string()];
    if let Some(n) = dialplan::normalize(number)
        && n != number
    {
        forms.push(n);
    }
    for f in forms {
        if let Some(d) = store.dids(tenant, Some(&f)).await?.into_iter().next() {
            return Ok(Some(d.destination));
        }
    }
    Ok(None)
}

/// A destination of an API call or a phone's INVITE that is not a SIP URI: a user (or an
/// application number, or the voicemail number) stays inside (`Ok(None)`); any other number
/// goes where the tenant's dial plan says: `Ok(Some(target))` through a trunk, `Err` when a
/// rule refuses it; with no rule it stays as it is (`Ok(None)`: no user, no call, 404).
/// No store read while the tenant has no dial plan.
pub(crate) async fn route_number(
    sh: &Shared,
    tenant: &str,
    number: &str,
) -> Result<Option<patchbay_proto::Target>, crate::policy::Refusal> {
    let unavailable = |e: StoreError| crate::policy::Refusal {
        reason: None,
        kind: patchbay_api::ApiErrorKind::Unavailable,
        message: e.to_string(),
    };
    if dialplan(sh, tenant).await.map_err(unavailable)?.is_empty()
        || number == sh.cfg.voicemail_number
    {
        return Ok(None);
    }
    if sh
        .store
        .user(tenant, number)
        .await
        .map_err(unavailable)?
        .is_some()
        || sh.is_app_number(tenant, number).await == Some(true)
    {
        return Ok(None);
    }
    match route_outside(sh, tenant, number)
        .await
        .map_err(unavailable)?
    {
        Outside::Trunk { trunk, uri } => {
            Ok(Some(patchbay_proto::Target::via_trunk(number, uri, &trunk)))
        }
        Outside::Refused => Err(crate::policy::Refusal {
            reason: Some("dialplan"),
            kind: patchbay_api::ApiErrorKind::Forbidden,
            message: format!("{number}: the tenant's dial plan refuses it"),
        }),
        Outside::NoRule => Ok(None),
    }
}
