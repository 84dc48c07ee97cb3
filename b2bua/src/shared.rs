//! What the driver loop shares with the tasks it spawns (registrar, INVITE authentication)
//! and with the control API: the shared state, the tasks' results, the clock. Neither the
//! driver nor the tasks import each other.

use crate::auth::Auth;
use crate::config::B2buaConfig;
use crate::events::EventLog;
use crate::location::{Binding, Location};
use crate::metrics::Metrics;
use crate::ratelimit::AuthFailures;
use patchbay_sip::Peer;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::txn::ServerTxId;
use patchbay_store::Store;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock unix milliseconds (the call core's time).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What a task that read the store hands back to the loop.
#[derive(Debug)]
pub(crate) enum TaskDone {
    /// A prompt loaded (or not) for a `play` on a leg the engine serves.
    Prompt {
        leg: patchbay_proto::LegId,
        command: u64,
        result: Result<std::sync::Arc<[i16]>, String>,
        repeat: bool,
        barge_in: bool,
    },
    /// An INVITE whose credentials and destination checked out.
    Authorized(Box<Authorized>),
    /// A dead node's call, ended in the store: BYE its phones (its saved dialogs).
    EndOrphan(Vec<patchbay_sip::dialog::SavedDialog>),
    /// The trunks as just loaded (registrations follow them).
    Trunks(Arc<crate::trunks::TrunkTable>),
    /// An attendant caller's destination, read.
    Routed {
        call: patchbay_api::CallId,
        resolved: crate::driver::attendant::Resolved,
    },
    /// A PIN typed for a mailbox was checked (and its new messages listed).
    VoicemailLogin {
        call: patchbay_api::CallId,
        ok: bool,
        messages: Vec<(String, String)>,
    },
    /// A voicemail message is stored: tell the mailbox's phones how many wait.
    Mwi {
        tenant: String,
        mailbox: String,
        waiting: usize,
    },
    /// A recording is closed and indexed (or failed).
    Recording {
        call: patchbay_api::CallId,
        command: u64,
        done: patchbay_proto::RecordingDone,
    },
    /// An input for the core worked out off the loop (an agent's feature code).
    Core(Box<patchbay_proto::Input>),
    /// Answer a request (REGISTER, or an INVITE's challenge or refusal).
    Respond {
        tx: ServerTxId,
        method: &'static str,
        status: u16,
        headers: Vec<TypedHeader>,
    },
}

/// An INVITE whose credentials and destination checked out.
#[derive(Debug)]
pub(crate) struct Authorized {
    pub(crate) tx: ServerTxId,
    pub(crate) req: Request,
    pub(crate) peer: Peer,
    pub(crate) tenant: String,
    pub(crate) caller: String,
    /// Where the call goes when it is not to this PBX's users: an outside domain on the
    /// tenant's allow-list (the Request-URI dialled as it is), or a trunk the dial plan chose.
    pub(crate) outside: Option<patchbay_proto::Target>,
    /// The callee is a user of the tenant (registered or not): 480 rather than 404 when it
    /// has no contact.
    pub(crate) callee_known: bool,
    /// The tenant records every call.
    pub(crate) record: bool,
    /// The callee is one of the tenant's application numbers: the B2BUA answers.
    pub(crate) app: bool,
    /// The callee is a user: where its call goes (forwarding, do-not-disturb, ring time).
    pub(crate) plan: Option<patchbay_proto::routing::Plan>,
    /// The callee, when it is not the Request-URI's user (a DID's destination).
    pub(crate) callee: Option<String>,
    /// The carrier trunk the call came in on.
    pub(crate) from_trunk: Option<crate::trunks::TrunkEntry>,
    /// The caller's own outbound caller ID, for a call out through a trunk.
    pub(crate) caller_id: Option<patchbay_api::CallerId>,
    /// The B2BUA serves the caller itself: the voicemail number, a room's extension, an
    /// attendant's or a queue's number, a feature code.
    pub(crate) service: Option<patchbay_proto::Service>,
    /// The call's id, named before the route hook was asked.
    pub(crate) call: patchbay_api::CallId,
    /// What the route hook set on the call.
    pub(crate) hooked: crate::route_hook::Hooked,
}

/// State shared with the registrar tasks and the control API.
pub(crate) struct Shared {
    pub(crate) cfg: Arc<B2buaConfig>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) auth: Auth,
    pub(crate) location: Mutex<Location>,
    /// Registrations on their way to the store (`location_sync::writer`).
    pub(crate) location_writes: tokio::sync::mpsc::UnboundedSender<crate::location_sync::Write>,
    pub(crate) failures: Mutex<AuthFailures>,
    pub(crate) source_rate: Mutex<crate::ratelimit::SourceRate>,
    pub(crate) log: EventLog,
    pub(crate) metrics: Metrics,
    /// Tenants' recording policies as read from the store (a short TTL, so that a change
    /// made through another node shows within seconds).
    pub(crate) policies: moka::sync::Cache<String, patchbay_api::RecordingPolicy>,
    /// Tenants' application numbers (same TTL).
    pub(crate) app_numbers: moka::sync::Cache<String, Arc<std::collections::HashSet<String>>>,
    /// Tenants' dial plans (same TTL).
    pub(crate) dialplans: moka::sync::Cache<String, Arc<Vec<patchbay_api::DialRule>>>,
    /// Tenants' ring groups (same TTL).
    pub(crate) groups: moka::sync::Cache<String, Arc<Vec<patchbay_api::RingGroup>>>,
    /// Tenants' conference rooms (same TTL).
    pub(crate) rooms: moka::sync::Cache<String, Arc<Vec<patchbay_api::ConferenceRoom>>>,
    /// Every tenant's trunks (see [`crate::trunks`]), and the poke that reloads them.
    pub(crate) trunks: std::sync::RwLock<Arc<crate::trunks::TrunkTable>>,
    pub(crate) trunk_sync: tokio::sync::Notify,
    /// Asked where inbound calls go, for tenants that turned it on (`route_hook_url`).
    pub(crate) route_hook: Option<crate::route_hook::RouteHook>,
    /// Call ids: this node's start (unix seconds), its number, then a counter. Taken here,
    /// not in the driver, so that an INVITE's task can name its call to the route hook before
    /// the call exists.
    pub(crate) id_base: u64,
    pub(crate) calls_named: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// A new call id: this node's start (unix seconds), its number, a counter; unique across
    /// nodes and restarts (`CallId::node` reads the node back).
    pub(crate) fn new_call_id(&self) -> patchbay_api::CallId {
        let n = self
            .calls_named
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        patchbay_api::CallId::compose(self.id_base, self.cfg.node, n)
    }

    /// Whether `number` is one of the tenant's application numbers (cached; `None` when the
    /// store cannot say).
    pub(crate) async fn is_app_number(&self, tenant: &str, number: &str) -> Option<bool> {
        if let Some(set) = self.app_numbers.get(tenant) {
            return Some(set.contains(number));
        }
        let set: Arc<std::collections::HashSet<String>> = Arc::new(
            self.store
                .app_numbers(tenant)
                .await
                .ok()?
                .into_iter()
                .map(|n| n.number)
                .collect(),
        );
        self.app_numbers.insert(tenant.to_string(), set.clone());
        Some(set.contains(number))
    }

    /// The tenant's ring group `number`, if it has one (cached).
    pub(crate) async fn ring_group(
        &self,
        tenant: &str,
        number: &str,
    ) -> Result<Option<patchbay_api::RingGroup>, patchbay_store::StoreError> {
        let all = match self.groups.get(tenant) {
            Some(g) => g,
            None => {
                let g = Arc::new(self.store.ring_groups(tenant).await?);
                self.groups.insert(tenant.to_string(), g.clone());
                g
            }
        };
        Ok(all.iter().find(|g| g.number == number).cloned())
    }

    /// The tenant's conference rooms (cached).
    pub(crate) async fn conference_rooms(
        &self,
        tenant: &str,
    ) -> Result<Arc<Vec<patchbay_api::ConferenceRoom>>, patchbay_store::StoreError> {
        if let Some(r) = self.rooms.get(tenant) {
            return Ok(r);
        }
        let mut rooms = Vec::new();
        for (name, body) in self.store.configs(tenant, "conference").await? {
            match serde_json::from_str::<patchbay_api::ConferenceRoom>(&body) {
                Ok(r) => rooms.push(r),
                Err(e) => tracing::warn!(tenant, name, error = %e, "conference room unreadable"),
            }
        }
        let rooms = Arc::new(rooms);
        self.rooms.insert(tenant.to_string(), rooms.clone());
        Ok(rooms)
    }

    /// The tenant's recording policy (cached; the default when the store cannot say).
    pub(crate) async fn recording_policy(&self, tenant: &str) -> patchbay_api::RecordingPolicy {
        if let Some(p) = self.policies.get(tenant) {
            return p;
        }
        match self.store.recording_policy(tenant).await {
            Ok(p) => {
                self.policies.insert(tenant.to_string(), p);
                p
            }
            Err(e) => {
                tracing::warn!(tenant, error = %e, "recording policy unreadable; not recording");
                patchbay_api::RecordingPolicy::default()
            }
        }
    }

    /// A digest answer that did not check out: count it, and count it against its source.
    pub(crate) fn record_bad_credentials(&self, ip: Option<std::net::IpAddr>, now: u64) {
        self.metrics
            .auth_failures
            .with_label_values(&["bad_credentials"])
            .inc();
        if let (Some(ip), Ok(mut f)) = (ip, self.failures.lock()) {
            f.record(ip, now);
        }
    }

    pub(crate) fn is_blocked(&self, ip: std::net::IpAddr, now: u64) -> bool {
        self.failures
            .lock()
            .map(|f| f.is_blocked(ip, now))
            .unwrap_or(false)
    }
}

/// Binding from a REGISTER (used by the registrar): `source` is the phone's address (through
/// an edge proxy too), `path` the REGISTER's Path.
pub(crate) fn binding(
    contact: String,
    peer: Peer,
    source: std::net::SocketAddr,
    path: Vec<String>,
    now_ms: u64,
    expires_at_ms: u64,
) -> Binding {
    Binding {
        contact,
        source: source.to_string(),
        transport: peer.transport.as_str().to_ascii_lowercase(),
        flow: peer.flow,
        path,
        expires_at_ms,
        registered_ms: now_ms,
        updated_ms: now_ms,
    }
}
