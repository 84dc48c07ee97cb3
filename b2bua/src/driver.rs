//! The driver: one loop over rvoip's events (through the [`Pump`](crate::sip::Pump)), control
//! commands and the call core's timer. It turns SIP into [`Input`]s, executes the core's
//! [`LegAction`]s on rvoip and the relay, and publishes events and CDRs.

use crate::config::B2buaConfig;
use crate::events::EventLog;
use crate::location::{Binding, Location};
use crate::metrics::Metrics;
use crate::ratelimit::AuthFailures;
use crate::sip::{Auth, InviteFacts, SipIn, host_only, uri_parts};
use patchbay_api::{
    ApiErrorKind, CallId, CallInfo, Event, OriginateRequest, Side, TransferRequest,
};
use patchbay_media::sdp::{self, Codec, Direction as SdpDir};
use patchbay_media::{Bridge, LegMedia, Relay};
use patchbay_proto::{Calls, Input, LegAction, LegEvent, LegId, Output, Target};
use patchbay_store::Store;
use rvoip_sip::{Event as SipEvent, SipRequestOptions, UnifiedCoordinator};
use rvoip_sip_core::types::headers::HeaderName;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch};

/// Longest deferred start of a held 3PCC call.
const MAX_START_WITHIN_MS: u32 = 10_000;

mod commands;
mod invite_auth;
use invite_auth::{authenticate_invite, reject};

pub(crate) const USER_AGENT: &str = concat!("Patchbay/", env!("CARGO_PKG_VERSION"));

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An error of a control command, as the API reports it.
#[derive(Debug, Clone)]
pub(crate) struct CmdError {
    pub(crate) kind: ApiErrorKind,
    pub(crate) message: String,
}

impl CmdError {
    fn new(kind: ApiErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, CmdError>>;

/// Commands from the control API.
pub(crate) enum Cmd {
    Originate(OriginateRequest, Reply<CallInfo>),
    /// Start a held 3PCC call (see `OriginateRequest::start_within_ms`).
    Start(CallId, Reply<()>),
    Hangup(CallId, Reply<()>),
    Transfer(CallId, TransferRequest, Reply<()>),
    Hold(CallId, bool, Reply<()>),
    List(Reply<Vec<CallInfo>>),
    Get(CallId, Reply<CallInfo>),
    Media(CallId, Reply<Vec<patchbay_api::MediaLeg>>),
}

/// State shared with the registrar tasks and the control API.
pub(crate) struct Shared {
    pub(crate) cfg: Arc<B2buaConfig>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) auth: Auth,
    pub(crate) location: Mutex<Location>,
    pub(crate) failures: Mutex<AuthFailures>,
    pub(crate) log: EventLog,
    pub(crate) metrics: Metrics,
}

impl Shared {
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
}

pub(crate) struct Driver {
    c: Arc<UnifiedCoordinator>,
    sh: Arc<Shared>,
    calls: Calls,
    relay: Relay,
    /// rvoip session id <-> our leg.
    sess_leg: HashMap<String, LegId>,
    leg_sess: HashMap<LegId, rvoip_sip::CallId>,
    inbound_legs: std::collections::HashSet<LegId>,
    leg_media: HashMap<LegId, Arc<LegMedia>>,
    /// Codecs of a leg: for an inbound caller, what its callees may be offered until one
    /// answers, then our answer; for an outbound leg, the callee's answer.
    leg_codecs: HashMap<LegId, Vec<Codec>>,
    /// An inbound caller's whole offer (our answer takes the codec its callee chose).
    leg_offer: HashMap<LegId, Vec<Codec>>,
    call_legs: HashMap<CallId, Vec<LegId>>,
    bridges: HashMap<CallId, Bridge>,
    /// Sessions of released calls, forgotten after a minute (late 200s still get a BYE).
    graveyard: VecDeque<(u64, String)>,
    /// Our own handle on the SIP channel, for results of authentication tasks.
    sip_tx: mpsc::UnboundedSender<SipIn>,
    /// CDRs go to a writer task so the loop never waits on the store.
    cdr_tx: mpsc::UnboundedSender<patchbay_api::Cdr>,
    id_base: u64,
    next_call: u64,
    sdp_version: u64,
    sip_host: String,
    /// Calls accepted (or started) by the control API whose first INVITE has not left yet.
    startable: HashMap<CallId, Instant>,
    /// Outbound legs whose INVITE left and which are not answered yet.
    invite_sent: HashMap<LegId, Instant>,
    /// Housekeeping ticks (one a second).
    ticks: u64,
}

// === impl Driver ===

impl Driver {
    pub(crate) fn new(
        c: Arc<UnifiedCoordinator>,
        sh: Arc<Shared>,
        relay: Relay,
        sip_tx: mpsc::UnboundedSender<SipIn>,
        cdr_tx: mpsc::UnboundedSender<patchbay_api::Cdr>,
    ) -> Self {
        let sip_host = sh.cfg.sip_listen.to_string();
        let boot = now_ms() / 1000;
        Self {
            c,
            sh,
            calls: Calls::new(),
            relay,
            sess_leg: HashMap::new(),
            leg_sess: HashMap::new(),
            inbound_legs: Default::default(),
            leg_media: HashMap::new(),
            leg_codecs: HashMap::new(),
            leg_offer: HashMap::new(),
            call_legs: HashMap::new(),
            bridges: HashMap::new(),
            graveyard: VecDeque::new(),
            sip_tx,
            cdr_tx,
            id_base: boot,
            next_call: 0,
            sdp_version: 0,
            sip_host,
            startable: HashMap::new(),
            invite_sent: HashMap::new(),
            ticks: 0,
        }
    }

    pub(crate) async fn run(
        mut self,
        mut sip_rx: mpsc::UnboundedReceiver<SipIn>,
        mut cmd_rx: mpsc::Receiver<Cmd>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let timer = self.calls.poll_timeout().map(|t| {
                let wait = t.saturating_sub(now_ms());
                tokio::time::Instant::now() + Duration::from_millis(wait)
            });
            tokio::select! {
                Some(m) = sip_rx.recv() => self.handle_sip(m).await,
                Some(cmd) = cmd_rx.recv() => self.handle_cmd(cmd).await,
                _ = sleep_opt(timer) => {
                    self.calls.handle_timeout(now_ms());
                    self.drain().await;
                }
                _ = tick.tick() => self.housekeeping(),
                _ = shutdown.changed() => break,
            }
        }
        self.shutdown().await;
    }

    /// End every live call (BYE / CANCEL / 503) before the process stops.
    async fn shutdown(&mut self) {
        self.calls.handle_shutdown(now_ms());
        self.drain().await;
    }

    fn housekeeping(&mut self) {
        let now = now_ms();
        // Tenants created since start-up (for INVITEs and originates; the registrar also
        // reloads on an unknown realm). The store read runs in its own task.
        self.ticks += 1;
        if self.ticks.is_multiple_of(10) {
            let sh = self.sh.clone();
            tokio::spawn(async move {
                sh.auth.refresh(Duration::from_secs(5)).await;
            });
        }
        if let Ok(mut l) = self.sh.location.lock() {
            l.expire(now);
            self.sh.metrics.registrations.set(l.count() as i64);
        }
        while self
            .graveyard
            .front()
            .is_some_and(|(t, _)| *t + 60_000 < now)
        {
            if let Some((_, s)) = self.graveyard.pop_front() {
                self.sess_leg.remove(&s);
            }
        }
        let retention = u64::from(self.sh.cfg.ended_call_retention_secs) * 1000;
        self.sh.log.prune(now.saturating_sub(retention));
        self.update_gauges();
    }

    fn update_gauges(&self) {
        let m = &self.sh.metrics;
        m.calls_active.set(self.calls.len() as i64);
        m.setups_in_flight.set(self.calls.setups_in_flight() as i64);
        m.rtp_ports_in_use.set(self.relay.legs_in_use() as i64);
    }

    fn new_call_id(&mut self) -> CallId {
        self.next_call += 1;
        CallId(format!("{}{:06}", self.id_base, self.next_call))
    }

    fn overloaded(&self) -> bool {
        self.calls.setups_in_flight() >= self.sh.cfg.max_setups_in_flight
    }

    // --- SIP input ---

    async fn handle_sip(&mut self, m: SipIn) {
        match m {
            SipIn::Invite(f) => {
                self.sh
                    .metrics
                    .sip_requests
                    .with_label_values(&["INVITE"])
                    .inc();
                self.handle_invite(f).await;
            }
            SipIn::Authorized {
                facts,
                tenant,
                caller,
                outside,
            } => self.handle_authorized(facts, tenant, caller, outside).await,
            SipIn::Register(r) => {
                self.sh
                    .metrics
                    .sip_requests
                    .with_label_values(&["REGISTER"])
                    .inc();
                let sh = self.sh.clone();
                tokio::spawn(crate::registrar::handle_register(sh, r));
            }
            SipIn::Event(ev) => self.handle_sip_event(ev).await,
        }
    }

    async fn reject_invite(&self, id: &rvoip_sip::CallId, status: u16) {
        reject(&self.c, &self.sh, id, status).await;
    }

    async fn handle_invite(&mut self, f: InviteFacts) {
        let now = now_ms();
        if self.overloaded() {
            self.reject_invite(&f.id, 503).await;
            return;
        }
        let source_ip = f
            .transport
            .remote_addr
            .as_deref()
            .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            .map(|a| a.ip());
        if let Some(ip) = source_ip
            && self
                .sh
                .failures
                .lock()
                .map(|f| f.is_blocked(ip, now))
                .unwrap_or(false)
        {
            self.sh
                .metrics
                .auth_failures
                .with_label_values(&["blocked"])
                .inc();
            self.reject_invite(&f.id, 403).await;
            return;
        }
        // A malformed SDP offer is a bad request, whoever sends it (checked before the digest,
        // which costs a store read). No offer, or no codec we relay, is 488 after auth.
        if let Some(Err(e)) = f.sdp.as_deref().map(sdp::parse)
            && matches!(e, sdp::SdpError::Syntax(_) | sdp::SdpError::NoAddress)
        {
            self.reject_invite(&f.id, 400).await;
            return;
        }
        let (_, domain) = uri_parts(if f.ruri.is_empty() { &f.to } else { &f.ruri });
        let Some(ta) = self.sh.auth.pick(
            f.authorization.as_deref(),
            host_only(&domain),
            &self.sh.cfg.default_tenant,
        ) else {
            self.sh
                .metrics
                .auth_failures
                .with_label_values(&["unknown_realm"])
                .inc();
            self.reject_invite(&f.id, 403).await;
            return;
        };
        // Digest verification reads the store: do it off the loop, come back with the result.
        let (c, sh, tx) = (self.c.clone(), self.sh.clone(), self.sip_tx.clone());
        tokio::spawn(authenticate_invite(c, sh, tx, ta, f, source_ip, now));
    }

    async fn handle_authorized(
        &mut self,
        f: InviteFacts,
        tenant: String,
        caller: String,
        outside: Option<String>,
    ) {
        let now = now_ms();
        let (callee, _) = uri_parts(if f.ruri.is_empty() { &f.to } else { &f.ruri });
        // Media: callees are offered every codec of the caller's that we can relay; the caller
        // is answered with the one its callee chose (no transcoding, any phone pair works).
        let Some(offer) = f.sdp.as_deref().and_then(|s| sdp::parse(s).ok()) else {
            self.reject_invite(&f.id, 488).await;
            return;
        };
        let codecs = sdp::relayable(&offer.codecs);
        if codecs.is_empty() {
            self.reject_invite(&f.id, 488).await;
            return;
        }
        let media = match self.relay.alloc_leg() {
            Ok(m) => m,
            Err(_) => {
                self.reject_invite(&f.id, 503).await;
                return;
            }
        };
        media.set_remote(offer.rtp);
        let targets = match &outside {
            Some(uri) => vec![Target::new(callee.clone(), uri.clone())],
            None => self.targets(&tenant, &callee),
        };
        let no_target_status = if !targets.is_empty() {
            0
        } else {
            match self.sh.store.user(&tenant, &callee).await {
                Ok(Some(_)) => 480,
                Ok(None) => {
                    // No dial plan routes numbers yet: no user, no route.
                    self.sh
                        .metrics
                        .destinations_refused
                        .with_label_values(&["sip", "no_route"])
                        .inc();
                    404
                }
                Err(_) => 503,
            }
        };
        let leg = self.calls.alloc_leg();
        let call = self.new_call_id();
        self.map_leg(&call, leg, f.id.clone());
        self.inbound_legs.insert(leg);
        media.set_audio_codecs(&codecs);
        self.leg_media.insert(leg, media);
        self.leg_codecs.insert(leg, codecs);
        self.leg_offer.insert(leg, offer.codecs);
        self.sh
            .metrics
            .calls_started
            .with_label_values(&["inbound"])
            .inc();
        let call_id = call.clone();
        let input = Input::Inbound {
            call,
            leg,
            tenant,
            from: caller,
            to: callee,
            targets,
            no_target_status,
            ring_timeout_ms: u64::from(self.sh.cfg.ring_timeout_secs) * 1000,
        };
        match self.calls.handle_input(now, input) {
            Ok(()) => self.drain().await,
            // (Unreachable with fresh ids; never leave the leg's media and maps behind.)
            Err(_) => {
                self.release(&call_id);
                self.reject_invite(&f.id, 500).await;
            }
        }
    }

    /// A callee's answer we can use: an SDP with an audio codec, and one that the call's
    /// inbound caller offered too (the relay does not transcode).
    fn usable_answer(&self, leg: LegId, answer: Option<&str>) -> Option<sdp::AudioDesc> {
        let desc = sdp::parse(answer?).ok()?;
        if !sdp::has_audio(&desc.codecs) {
            return None;
        }
        let caller_offer = self
            .calls
            .call_of(leg)
            .and_then(|c| self.call_legs.get(c))
            .and_then(|legs| legs.iter().find_map(|l| self.leg_offer.get(l)));
        match caller_offer {
            Some(offer) if !sdp::has_audio(&sdp::choose(offer, Some(&desc.codecs))) => None,
            _ => Some(desc),
        }
    }

    fn map_leg(&mut self, call: &CallId, leg: LegId, sess: rvoip_sip::CallId) {
        self.sess_leg.insert(sess.0.clone(), leg);
        self.leg_sess.insert(leg, sess);
        self.call_legs.entry(call.clone()).or_default().push(leg);
    }

    async fn handle_sip_event(&mut self, ev: SipEvent) {
        let leg_of = |s: &Self, id: &rvoip_sip::CallId| s.sess_leg.get(&id.0).copied();
        let input = match ev {
            SipEvent::CallProgress {
                call_id,
                status_code,
                ..
            } if status_code == 180 || status_code == 183 => leg_of(self, &call_id).map(|leg| {
                self.sh.metrics.response("received", "INVITE", status_code);
                (leg, LegEvent::Ringing)
            }),
            SipEvent::CallAnswered { call_id, sdp } => match leg_of(self, &call_id) {
                None => None,
                Some(leg) => {
                    if let Some(t) = self.invite_sent.remove(&leg) {
                        self.sh.metrics.response("received", "INVITE", 200);
                        self.sh
                            .metrics
                            .invite_to_answer
                            .observe(t.elapsed().as_secs_f64());
                    }
                    match self.usable_answer(leg, sdp.as_deref()) {
                        Some(desc) => {
                            if let Some(m) = self.leg_media.get(&leg) {
                                m.set_remote(desc.rtp);
                                m.set_audio_codecs(&desc.codecs);
                            }
                            self.leg_codecs.insert(leg, desc.codecs);
                            Some((leg, LegEvent::Answered))
                        }
                        None => {
                            // rvoip ACKed the 200; end the leg at once and fail it as 488.
                            tracing::info!(?leg, "callee answer has no codec we can relay");
                            if self.c.hangup(&call_id).await.is_ok() {
                                self.sh
                                    .metrics
                                    .sip_requests_sent
                                    .with_label_values(&["BYE"])
                                    .inc();
                            }
                            Some((leg, LegEvent::Failed { status: 488 }))
                        }
                    }
                }
            },
            SipEvent::CallFailed {
                call_id,
                status_code,
                ..
            } => leg_of(self, &call_id).map(|leg| {
                if self.inbound_legs.contains(&leg) {
                    (leg, LegEvent::Ended)
                } else {
                    if self.invite_sent.remove(&leg).is_some() {
                        self.sh.metrics.response("received", "INVITE", status_code);
                    }
                    (
                        leg,
                        LegEvent::Failed {
                            status: status_code,
                        },
                    )
                }
            }),
            SipEvent::CallCancelled { call_id } => leg_of(self, &call_id).map(|leg| {
                if self.inbound_legs.contains(&leg) {
                    (leg, LegEvent::Ended)
                } else {
                    (leg, LegEvent::Failed { status: 487 })
                }
            }),
            SipEvent::CallEnded { call_id, .. } => {
                leg_of(self, &call_id).map(|leg| (leg, LegEvent::Ended))
            }
            SipEvent::ReferCompleted {
                call_id,
                status_code,
                ..
            } => leg_of(self, &call_id).map(|leg| {
                (
                    leg,
                    LegEvent::ReferResult {
                        ok: (200..300).contains(&status_code),
                        status: status_code,
                    },
                )
            }),
            SipEvent::TransferFailed {
                call_id,
                status_code,
                ..
            } => leg_of(self, &call_id).map(|leg| {
                (
                    leg,
                    LegEvent::ReferResult {
                        ok: false,
                        status: status_code,
                    },
                )
            }),
            SipEvent::ReferReceived { call_id, .. } => {
                // Phone-initiated transfer is not offered: decline before rvoip auto-accepts it.
                let _ = self.c.reject_refer(&call_id, 603, "Decline").await;
                None
            }
            _ => None,
        };
        if let Some((leg, event)) = input {
            let _ = self.calls.handle_input(now_ms(), Input::Leg { leg, event });
            self.drain().await;
        }
    }

    // --- outputs ---

    /// Execute every pending output of the core, feeding failures back in.
    async fn drain(&mut self) {
        let mut feedback: VecDeque<(LegId, LegEvent)> = VecDeque::new();
        loop {
            // Forks of one side share one relay endpoint: remember the last one allocated.
            let mut group: Option<(CallId, Side, Arc<LegMedia>)> = None;
            while let Some(out) = self.calls.poll_output() {
                match out {
                    Output::Event(ev) => self.publish(ev),
                    Output::Cdr(cdr) => {
                        self.sh
                            .metrics
                            .calls_ended
                            .with_label_values(&[cause_label(cdr.cause)])
                            .inc();
                        let _ = self.cdr_tx.send(cdr);
                    }
                    Output::Leg(action) => {
                        if let Some(fail) = self.execute(action, &mut group).await {
                            feedback.push_back(fail);
                        }
                    }
                }
            }
            let Some((leg, event)) = feedback.pop_front() else {
                break;
            };
            let _ = self.calls.handle_input(now_ms(), Input::Leg { leg, event });
        }
        self.update_gauges();
    }

    fn publish(&self, ev: Event) {
        let info = self.calls.info(&ev.call);
        self.sh.log.push(ev, info);
    }

    fn render_for(&mut self, leg: LegId, dir: SdpDir) -> Option<String> {
        let m = self.leg_media.get(&leg)?;
        let codecs = self
            .leg_codecs
            .get(&leg)
            .cloned()
            .unwrap_or_else(sdp::default_offer);
        self.sdp_version += 1;
        Some(sdp::render(
            m.local_rtp(),
            leg.0,
            self.sdp_version,
            &codecs,
            dir,
        ))
    }

    /// Run one action; a SIP failure comes back as a leg event for the core.
    async fn execute(
        &mut self,
        action: LegAction,
        group: &mut Option<(CallId, Side, Arc<LegMedia>)>,
    ) -> Option<(LegId, LegEvent)> {
        let sess = |s: &Self, leg: LegId| s.leg_sess.get(&leg).cloned();
        match action {
            LegAction::Invite {
                call,
                leg,
                side,
                target,
                peer,
                headers,
                auto_answer,
            } => {
                let media = match group {
                    Some((c, s, m)) if *c == call && *s == side => m.clone(),
                    _ => match self.relay.alloc_leg() {
                        Ok(m) => m,
                        Err(_) => return Some((leg, LegEvent::Failed { status: 503 })),
                    },
                };
                *group = Some((call.clone(), side, media.clone()));
                // An inbound caller's leg holds what may be offered on its behalf (or, once
                // answered, the agreed codec); an answered callee, its answer: offer one codec.
                let codecs = match peer {
                    Some(p) if self.inbound_legs.contains(&p) => self.leg_codecs.get(&p).cloned(),
                    Some(p) => self.leg_codecs.get(&p).map(|c| sdp::choose(c, None)),
                    None => None,
                }
                .unwrap_or_else(sdp::default_offer);
                self.leg_media.insert(leg, media.clone());
                self.sdp_version += 1;
                let offer = sdp::render(
                    media.local_rtp(),
                    leg.0,
                    self.sdp_version,
                    &codecs,
                    SdpDir::SendRecv,
                );
                let info = self.calls.info(&call);
                // The phone shows who it is connected to: callers see the callee and vice versa.
                let shown = info
                    .map(|i| {
                        if side == Side::A {
                            i.to.first().cloned().unwrap_or_default()
                        } else {
                            i.from
                        }
                    })
                    .unwrap_or_default();
                let from = format!("sip:{}@{}", shown, self.sip_host);
                let b = self
                    .c
                    .invite(Some(from), target.uri.clone())
                    .with_sdp(offer)
                    .with_from_display(shown);
                let b = match invite_headers(b, &self.sip_host, &headers, auto_answer) {
                    Ok(b) => b,
                    Err(e) => {
                        // `header_refusal` screens request headers when the call is made, so
                        // this means rvoip's policy grew: fail the leg visibly, free its media.
                        tracing::warn!(call = %call, error = ?e, "rvoip refused an INVITE header");
                        self.call_legs.entry(call).or_default().push(leg);
                        return Some((leg, LegEvent::Failed { status: 500 }));
                    }
                };
                match b.send().await {
                    Ok(sid) => {
                        let m = &self.sh.metrics;
                        m.sip_requests_sent.with_label_values(&["INVITE"]).inc();
                        if let Some(t) = self.startable.remove(&call) {
                            m.api_to_invite.observe(t.elapsed().as_secs_f64());
                        }
                        self.invite_sent.insert(leg, Instant::now());
                        self.map_leg(&call, leg, sid);
                        None
                    }
                    Err(_) => {
                        self.call_legs.entry(call).or_default().push(leg);
                        Some((leg, LegEvent::Failed { status: 503 }))
                    }
                }
            }
            LegAction::Ring { leg } => {
                let s = sess(self, leg)?;
                // No SDP: the callee has not chosen a codec yet, and the caller must stay free
                // to get a 488 (our state table keeps it in Ringing). A staged header also
                // makes rvoip send the 180 unreliably (no 100rel needed).
                if let Ok(b) = self
                    .c
                    .send_provisional(&s, 180)
                    .with_raw_header(HeaderName::UserAgent, USER_AGENT)
                    && b.send().await.is_ok()
                {
                    self.sh.metrics.response("sent", "INVITE", 180);
                }
                None
            }
            LegAction::Answer { leg, peer } => {
                let s = sess(self, leg)?;
                // The caller gets the codec its callee chose, under the caller's numbers.
                if let (Some(offer), Some(chosen)) =
                    (self.leg_offer.get(&leg), self.leg_codecs.get(&peer))
                {
                    let codecs = sdp::choose(offer, Some(chosen));
                    if let Some(m) = self.leg_media.get(&leg) {
                        m.set_audio_codecs(&codecs);
                    }
                    self.leg_codecs.insert(leg, codecs);
                }
                let sdp = self.render_for(leg, SdpDir::SendRecv)?;
                let b = self.c.accept(&s).with_sdp(sdp);
                let ok = match b.with_raw_header(HeaderName::UserAgent, USER_AGENT) {
                    Ok(b) => b.send().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    self.sh.metrics.response("sent", "INVITE", 200);
                }
                (!ok).then_some((leg, LegEvent::Ended))
            }
            LegAction::Reject { leg, status } => {
                let s = sess(self, leg)?;
                self.reject_invite(&s, status).await;
                None
            }
            LegAction::Cancel { leg } | LegAction::Bye { leg } => {
                let s = sess(self, leg)?;
                // rvoip's hangup sends CANCEL before the answer and BYE after it.
                let method = if self.invite_sent.remove(&leg).is_some() {
                    "CANCEL"
                } else {
                    "BYE"
                };
                if self.c.hangup(&s).await.is_ok() {
                    self.sh
                        .metrics
                        .sip_requests_sent
                        .with_label_values(&[method])
                        .inc();
                }
                None
            }
            LegAction::Bridge { a, b } => {
                let call = self.calls.call_of(a).cloned()?;
                let (ma, mb) = (
                    self.leg_media.get(&a)?.clone(),
                    self.leg_media.get(&b)?.clone(),
                );
                self.bridges.insert(call, self.relay.bridge(&ma, &mb));
                None
            }
            LegAction::Refer { leg, uri } => {
                let s = sess(self, leg)?;
                match self.c.refer(&s, uri).send().await {
                    Ok(()) => {
                        self.sh
                            .metrics
                            .sip_requests_sent
                            .with_label_values(&["REFER"])
                            .inc();
                        None
                    }
                    Err(_) => Some((
                        leg,
                        LegEvent::ReferResult {
                            ok: false,
                            status: 500,
                        },
                    )),
                }
            }
            LegAction::Hold { leg, on } => {
                let s = sess(self, leg)?;
                let sdp = self.render_for(
                    leg,
                    if on {
                        SdpDir::SendOnly
                    } else {
                        SdpDir::SendRecv
                    },
                )?;
                if self.c.reinvite(&s).with_sdp(sdp).send().await.is_ok() {
                    self.sh
                        .metrics
                        .sip_requests_sent
                        .with_label_values(&["INVITE"])
                        .inc();
                }
                None
            }
            LegAction::Release { call } => {
                self.release(&call);
                None
            }
        }
    }

    fn release(&mut self, call: &CallId) {
        self.bridges.remove(call);
        self.startable.remove(call);
        let now = now_ms();
        for leg in self.call_legs.remove(call).unwrap_or_default() {
            self.leg_media.remove(&leg);
            self.invite_sent.remove(&leg);
            self.leg_codecs.remove(&leg);
            self.leg_offer.remove(&leg);
            self.inbound_legs.remove(&leg);
            if let Some(s) = self.leg_sess.remove(&leg) {
                self.graveyard.push_back((now, s.0));
            }
        }
    }
}

/// Writes CDRs in order; ends when the driver drops its sender, after the last one is stored.
pub(crate) async fn cdr_writer(
    sh: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<patchbay_api::Cdr>,
) {
    while let Some(cdr) = rx.recv().await {
        // One retry: a transient store error must not lose a billing record.
        if sh.store.insert_cdr(&cdr).await.is_err() && sh.store.insert_cdr(&cdr).await.is_err() {
            sh.metrics.cdr_write_errors.inc();
        }
    }
}

fn cause_label(c: patchbay_api::Cause) -> &'static str {
    use patchbay_api::Cause::*;
    match c {
        Normal => "normal",
        Busy => "busy",
        NoAnswer => "no_answer",
        Rejected => "rejected",
        Cancelled => "cancelled",
        Transferred => "transferred",
        NotFound => "not_found",
        Failed => "failed",
        IncompatibleMedia => "incompatible_media",
    }
}

/// User-Agent, the request's extra headers (checked by `header_refusal` when the call was
/// made) and, for an intercom leg, the two auto-answer forms phones understand: `Call-Info`
/// with `answer-after=0` (RFC 7462's draft lineage; Snom, Yealink, Grandstream, Linphone) and
/// `Alert-Info` `info=alert-autoanswer` (Polycom, Cisco).
fn invite_headers<B: SipRequestOptions>(
    b: B,
    sip_host: &str,
    headers: &[(String, String)],
    auto_answer: bool,
) -> Result<B, rvoip_sip::api::headers::HeaderPolicyViolation> {
    let mut b = b.with_raw_header(HeaderName::UserAgent, USER_AGENT)?;
    for (name, value) in headers {
        b = b.with_raw_header(HeaderName::Other(name.clone()), value.clone())?;
    }
    if auto_answer {
        b = b.with_raw_header(
            HeaderName::CallInfo,
            format!("<sip:{sip_host}>;answer-after=0"),
        )?;
        b = b.with_raw_header(
            HeaderName::AlertInfo,
            format!("<sip:{sip_host}>;info=alert-autoanswer;delay=0"),
        )?;
    }
    Ok(b)
}

async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Binding from a REGISTER (used by the registrar).
pub(crate) fn binding(
    contact: String,
    source: String,
    transport: String,
    expires_at_ms: u64,
) -> Binding {
    Binding {
        contact,
        source,
        transport,
        expires_at_ms,
    }
}
