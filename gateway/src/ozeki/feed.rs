//! The B2BUA's event feed, followed for Ozeki: calls to API extensions start OzML sessions,
//! placed calls start theirs on answer, and every tracked call's state changes become
//! `CallChanged` notifications in the outbox (in order per call). Taridium's post-call CTI
//! follows the same feed: an ended call of a tenant with a post-call URL is handed to
//! [`crate::cti::post_call`].

use super::Placed;
use super::session::{First, Session};
use crate::Gateway;
use crate::webhooks::Notification;
use patchbay_api::{CallId, Event, EventKind};
use patchbay_gateway_proto::vendors::ozeki::notify::{self, Changes};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A call the feed follows.
struct Tracked {
    tenant: String,
    caller: String,
    callee: String,
    /// The API extension the call belongs to.
    ext: String,
    changed_url: Option<String>,
    /// Ozeki 10's `FinishedUrl` of `Call`: hears the call's last `CallChanged`.
    finished_url: Option<String>,
    changes: Changes,
    /// A placed call, until it is answered (its session starts then) or fails.
    placed: Option<Placed>,
    session: Option<mpsc::UnboundedSender<Event>>,
}

pub(crate) struct FeedService(pub Arc<Gateway>);

#[async_trait::async_trait]
impl pingora::services::background::BackgroundService for FeedService {
    async fn start(&self, mut shutdown: pingora::server::ShutdownWatch) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.0.webhooks.on_replies(tx);
        let replies = tokio::spawn(super::replies::run(self.0.clone(), rx));
        let mut feed = Feed {
            gw: self.0.clone(),
            calls: HashMap::new(),
            created: HashMap::new(),
            post_call: HashMap::new(),
            others: std::collections::HashSet::new(),
        };
        tokio::select! {
            () = feed.run() => {}
            _ = shutdown.changed() => {}
        }
        replies.abort();
    }
}

struct Feed {
    gw: Arc<Gateway>,
    calls: HashMap<CallId, Tracked>,
    /// Calls created and not yet seen again: (tenant, from, first callee).
    created: HashMap<CallId, (String, String, String)>,
    /// Live calls whose tenant has a post-call CTI URL: (tenant, URL).
    post_call: HashMap<CallId, (String, String)>,
    /// Live calls another gateway claimed.
    others: std::collections::HashSet<CallId>,
}

impl Feed {
    async fn run(&mut self) {
        let events = self.gw.events.clone();
        // Where the feed stands now: what came before is history, except calls to API
        // extensions still waiting for their program (this gateway restarted under them).
        let (backlog, mut after) = events.recent().await;
        let ended: std::collections::HashSet<&CallId> = backlog
            .iter()
            .filter(|e| e.kind.is_terminal())
            .map(|e| &e.call)
            .collect();
        let waiting: Vec<Event> = backlog
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Incoming { .. }) && !ended.contains(&e.call))
            .cloned()
            .collect();
        for e in waiting {
            self.on_event(e).await;
        }
        loop {
            match events.after(after, None, Duration::from_secs(20)).await {
                Ok(batch) => {
                    for e in batch {
                        after = after.max(e.gseq);
                        self.on_event(e).await;
                    }
                }
                Err(e) => {
                    self.gw.store_failure("events", e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn on_event(&mut self, e: Event) {
        // With several gateways on one store, each call's follow-up is one gateway's: the
        // first to claim it when it is created (a call placed through a gateway is claimed by
        // it before it starts). Its view of the tenant's settings decides everything for the
        // call; the others leave it alone.
        if let EventKind::Created { .. } = &e.kind
            && !self.gw.claim_call(&e.call).await
        {
            self.others.insert(e.call.clone());
        }
        if self.others.contains(&e.call) {
            if e.kind.is_terminal() {
                self.others.remove(&e.call);
            }
            return;
        }
        match &e.kind {
            EventKind::Created { tenant, .. } => {
                if let Ok(st) = self.gw.cti.settings(tenant).await
                    && st.enabled
                    && let Some(url) = &st.post_call_url
                {
                    self.post_call
                        .insert(e.call.clone(), (tenant.clone(), url.clone()));
                }
            }
            EventKind::Ended { .. } => {
                if let Some((tenant, url)) = self.post_call.remove(&e.call) {
                    let gw = self.gw.clone();
                    tokio::spawn(crate::cti::post_call(gw, tenant, url, e.call.clone()));
                }
            }
            _ => {}
        }
        if let EventKind::RecordingReady {
            command, recording, ..
        } = &e.kind
            && let Some(r) = self.gw.ozeki.take_recording(&e.call, *command)
        {
            record_completed(&self.gw, &e.call, recording, &r).await;
        }
        // A call's creation is remembered until its next event: a placed call is registered
        // after its creation (and before it starts).
        if let EventKind::Created { tenant, from, to } = &e.kind {
            let to = to.first().cloned().unwrap_or_default();
            self.created
                .insert(e.call.clone(), (tenant.clone(), from.clone(), to));
            return;
        }
        if !self.calls.contains_key(&e.call) {
            let Some(t) = self.track(&e).await else {
                return;
            };
            self.calls.insert(e.call.clone(), t);
        }
        let Some(t) = self.calls.get_mut(&e.call) else {
            return;
        };
        for state in t.changes.on(&e.kind) {
            let last = e.kind.is_terminal().then_some(t.finished_url.as_ref());
            for url in [t.changed_url.as_ref(), last.flatten()]
                .into_iter()
                .flatten()
            {
                let body = notify::form(
                    "CallChanged",
                    &[
                        ("CallId", &e.call.0),
                        ("CallState", state),
                        ("Caller", &t.caller),
                        ("Callee", &t.callee),
                        ("ApiExtension", &t.ext),
                    ],
                );
                enqueue(&self.gw, &t.tenant, "CallChanged", &e.call, url, body).await;
            }
        }
        if let Some(tx) = &t.session {
            let _ = tx.send(e.clone());
        }
        match &e.kind {
            EventKind::Answered { party, .. } if t.placed.is_some() => {
                t.callee = party.clone();
                let Some(p) = t.placed.take() else { return };
                let first = match (p.call.response_ozml.clone(), p.call.url.clone()) {
                    (Some(program), _) => First::Program(program),
                    (None, Some(url)) => First::Fetch {
                        url,
                        form: notify::form(
                            "CallConnected",
                            &[
                                ("CallId", &e.call.0),
                                ("ApiExtension", &t.ext),
                                ("Dialed", &p.call.dialed),
                                ("CallerId", p.call.caller_id.as_deref().unwrap_or(&t.ext)),
                                (
                                    "CallerDisplayName",
                                    p.call.caller_display_name.as_deref().unwrap_or(&t.ext),
                                ),
                            ],
                        ),
                    },
                    (None, None) => return,
                };
                t.session = Some(spawn(
                    &self.gw,
                    &e.call,
                    (&p.tenant, &t.ext),
                    p.call.error_url,
                    first,
                ));
            }
            EventKind::Ended { cause, .. } => {
                let t = self.calls.remove(&e.call);
                if let Some(p) = t.as_ref().and_then(|t| t.placed.as_ref()) {
                    // Never answered: the app hears why at its ErrorUrl.
                    if let Some(url) = &p.call.error_url {
                        let state = notify::failed_state(*cause);
                        let msg = format!(
                            "Call connect to '{}' failed with result state '{state}'",
                            p.call.dialed
                        );
                        let body =
                            notify::form("Error", &[("CallId", &e.call.0), ("ErrorMessage", &msg)]);
                        enqueue(&self.gw, &p.tenant, "Error", &e.call, url, body).await;
                    }
                }
            }
            _ => {}
        }
    }

    /// Follow the call of `e` if it is Ozeki's: placed by `Call`, a call to an API extension,
    /// or any call of a tenant with a third-party call control URL.
    async fn track(&mut self, e: &Event) -> Option<Tracked> {
        let created = self.created.remove(&e.call);
        let oz = &self.gw.ozeki;
        if let Some(p) = oz.take_placed(&e.call) {
            let ext = p.call.api_extension.clone().unwrap_or_default();
            return Some(Tracked {
                tenant: p.tenant.clone(),
                caller: ext.clone(),
                callee: p.call.dialed.clone(),
                ext,
                changed_url: p.changed_url.clone(),
                finished_url: p.call.finished_url.clone(),
                changes: Changes::new(true),
                placed: Some(p),
                session: None,
            });
        }
        match &e.kind {
            EventKind::Incoming {
                tenant,
                from,
                number,
            } => {
                let ext = oz.extension(tenant, number).await.ok().flatten()?;
                let settings = oz.settings(tenant).await.ok()?;
                // Another gateway may run this call's program (its creation was not seen here).
                if !self.gw.claim_call(&e.call).await {
                    return None;
                }
                let changed_url = ext
                    .call_changed_url
                    .clone()
                    .or_else(|| settings.call_changed_url.clone());
                let session = ext.incoming_call_url.clone().map(|url| {
                    let form = notify::form(
                        "IncomingCall",
                        &[
                            ("CallId", &e.call.0),
                            ("Caller", from),
                            ("CallerId", from),
                            ("ApiExtension", number),
                            ("Dialed", number),
                        ],
                    );
                    spawn(
                        &self.gw,
                        &e.call,
                        (tenant, number),
                        None,
                        First::Fetch { url, form },
                    )
                });
                let mut changes = Changes::new(true);
                // The B2BUA answered it itself: it connected as it arrived.
                let _ = changes.on(&EventKind::Ringing {
                    side: patchbay_api::Side::A,
                    party: from.clone(),
                    popup_url: None,
                });
                Some(Tracked {
                    tenant: tenant.clone(),
                    caller: from.clone(),
                    callee: number.clone(),
                    ext: number.clone(),
                    changed_url,
                    finished_url: None,
                    changes,
                    placed: None,
                    session,
                })
            }
            _ => {
                let (tenant, from, to) = created?;
                let url = oz.settings(&tenant).await.ok()?.call_changed_url.clone()?;
                if !self.gw.claim_call(&e.call).await {
                    return None;
                }
                Some(Tracked {
                    tenant,
                    caller: from,
                    callee: to,
                    ext: String::new(),
                    changed_url: Some(url),
                    finished_url: None,
                    changes: Changes::new(false),
                    placed: None,
                    session: None,
                })
            }
        }
    }
}

/// Start a session on `call`; its events go to the sender.
fn spawn(
    gw: &Arc<Gateway>,
    call: &CallId,
    tenant_ext: (&str, &str),
    error_url: Option<String>,
    first: First,
) -> mpsc::UnboundedSender<Event> {
    let (tx, rx) = mpsc::unbounded_channel();
    let s = Session::new(gw.clone(), tenant_ext, call, error_url, rx);
    tokio::spawn(s.run(first));
    tx
}

/// `RecordCompleted` to the app that asked for the recording, with the link that serves it.
pub(super) async fn record_completed(
    gw: &Gateway,
    call: &CallId,
    recording: &str,
    r: &super::PendingRecord,
) {
    let url = super::record_url(gw, &r.base, &r.tenant, recording);
    let body = notify::form(
        "RecordCompleted",
        &[("CallId", &call.0), ("RecordURL", &url)],
    );
    enqueue(
        gw,
        &r.tenant,
        "RecordCompleted",
        call,
        &r.finished_url,
        body,
    )
    .await;
}

/// Queue a notification about `call` (delivered in order per call).
pub(super) async fn enqueue(
    gw: &Gateway,
    tenant: &str,
    kind: &'static str,
    call: &CallId,
    url: &str,
    body: String,
) {
    let n = Notification {
        tenant: tenant.to_string(),
        vendor: "ozeki",
        kind,
        key: call.0.clone(),
        url: url.to_string(),
        content_type: notify::CONTENT_TYPE.to_string(),
        headers: notify::HEADERS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body,
    };
    if let Err(e) = gw.webhooks.enqueue(n).await {
        tracing::warn!(call = %call, error = %e, "an Ozeki notification could not be queued");
    }
}
