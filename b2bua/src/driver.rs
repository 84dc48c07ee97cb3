//! The driver: one loop over SIP messages from the transports, control commands, results of
//! the authentication tasks, and the timers of the call core and the user agent. It feeds
//! SIP to the user agent ([`Ua`]), turns its events into the call core's [`Input`]s, executes
//! the core's [`LegAction`]s on the user agent and the relay, and sends what the user agent
//! wants sent. Everything on the loop is synchronous but the sends; store reads happen in
//! tasks whose results come back as [`TaskDone`].

pub(crate) use crate::shared::{Authorized, Shared, TaskDone, now_ms};

mod actions;
pub(crate) mod app;
pub(crate) mod attendant;
mod channels;
mod cmd;
mod commands;
mod conference;
mod forwards;
mod inbound;
mod invite_auth;
mod journal;
mod media;
mod publish;
pub(crate) mod queues;
mod record;
mod redirect;
mod services;
mod signals;
mod trunks;
mod voicemail;

use crate::transport::SipTransport;
use crate::ua::{Ua, UaEvent};
use patchbay_api::{ApiErrorKind, CallId};
use patchbay_media::sdp::Codec;
use patchbay_media::{Bridge, LegMedia, Relay};
use patchbay_proto::{Calls, Input, LegEvent, LegId, Output};
use patchbay_sip::{Ms, Peer};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Longest deferred start of a held 3PCC call.
const MAX_START_WITHIN_MS: u32 = 10_000;

pub(crate) const USER_AGENT: &str = concat!("Patchbay/", env!("CARGO_PKG_VERSION"));

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

pub(crate) use cmd::Cmd;

pub(crate) struct Driver {
    sh: Arc<Shared>,
    ua: Ua,
    transport: SipTransport,
    /// The user agent's clock starts here (monotonic).
    epoch: Instant,
    calls: Calls,
    relay: Relay,
    inbound_legs: HashSet<LegId>,
    /// Inbound legs whose INVITE had no offer: our 2xx offers, the ACK answers.
    delayed_offer: HashSet<LegId>,
    leg_media: HashMap<LegId, Arc<LegMedia>>,
    /// Codecs of a leg: for an inbound caller, what its callees may be offered until one
    /// answers, then our answer; for an outbound leg, the callee's answer.
    leg_codecs: HashMap<LegId, Vec<Codec>>,
    /// An inbound caller's whole offer (our answer takes the codec its callee chose).
    leg_offer: HashMap<LegId, Vec<Codec>>,
    /// The tenant of each leg (for contacts and transfers).
    call_legs: HashMap<CallId, Vec<LegId>>,
    bridges: HashMap<CallId, Bridge>,
    tasks: mpsc::UnboundedSender<TaskDone>,
    /// What the route hook (the tenant's CTI) set on a call: account codes for its CDR, the
    /// pop-up URL for its callees' `ringing` events.
    hooked: HashMap<CallId, crate::route_hook::Hooked>,
    sdp_version: u64,
    sip_host: String,
    /// Calls accepted (or started) by the control API whose first INVITE has not left yet.
    startable: HashMap<CallId, Instant>,
    /// Outbound legs whose INVITE left and which are not answered yet.
    invite_sent: HashMap<LegId, Instant>,
    /// Legs whose phone asked for a transfer (REFER) that is under way.
    referrers: HashMap<CallId, LegId>,
    /// MESSAGE / NOTIFY requests in flight: which batch each belongs to.
    messages: HashMap<patchbay_sip::txn::ClientTxId, (u64, String)>,
    batches: HashMap<u64, commands::Batch>,
    next_batch: u64,
    /// Housekeeping ticks (one a second).
    ticks: u64,
    /// Legs served by the media engine, and prompts being loaded.
    apps: app::Apps,
    /// Caller IDs that API calls asked their callees to see.
    caller_ids: HashMap<CallId, patchbay_api::CallerId>,
    /// Conference rooms with members.
    rooms: conference::Rooms,
    /// Recordings being written, by command.
    recordings: HashMap<u64, patchbay_media::recording::RecordingHandle>,
    engine_rx: Option<mpsc::UnboundedReceiver<(u64, patchbay_media::engine::leg::Event)>>,
    /// Trunk registrations and channels.
    trunk: trunks::TrunkState,
    /// Legs by channel name (wallboards).
    channel_index: channels::Channels,
}

// === impl Driver ===

impl Driver {
    pub(crate) fn new(
        sh: Arc<Shared>,
        transport: SipTransport,
        relay: Relay,
        tasks: mpsc::UnboundedSender<TaskDone>,
        engine_metrics: patchbay_media::endpoint::EngineMetrics,
    ) -> Self {
        let (apps, engine_rx) = app::Apps::new(&sh.cfg, engine_metrics);
        let sip_host = sh.cfg.sip_listen.to_string();
        use patchbay_sip::dialog::Local;
        let at = |a: std::net::SocketAddr, transport| Local {
            sent_by: a.to_string(),
            transport,
        };
        let locals = crate::ua::Locals {
            udp: at(transport.local_addr(), patchbay_sip::Transport::Udp),
            tcp: Some(at(transport.local_addr(), patchbay_sip::Transport::Tcp)),
            tls: transport
                .tls_addr()
                .map(|a| at(a, patchbay_sip::Transport::Tls)),
        };
        let mut ua = Ua::new(
            0,
            locals,
            rand::random::<u64>(),
            USER_AGENT,
            patchbay_sip::Timers::default(),
        );
        for r in &sh.cfg.registrations {
            let Ok(aor) = r.aor.parse() else { continue };
            ua.add_registration(
                0,
                crate::ua::RegistrationSpec {
                    aor,
                    registrar: Peer::udp(r.registrar),
                    user: r.user.clone(),
                    password: r.password.clone(),
                    expires: r.expires,
                },
            );
        }
        Self {
            sh,
            ua,
            transport,
            epoch: Instant::now(),
            calls: Calls::new(),
            relay,
            inbound_legs: HashSet::new(),
            delayed_offer: HashSet::new(),
            leg_media: HashMap::new(),
            leg_codecs: HashMap::new(),
            leg_offer: HashMap::new(),
            call_legs: HashMap::new(),
            bridges: HashMap::new(),
            tasks,
            hooked: HashMap::new(),
            sdp_version: 0,
            sip_host,
            startable: HashMap::new(),
            invite_sent: HashMap::new(),
            referrers: HashMap::new(),
            messages: HashMap::new(),
            batches: HashMap::new(),
            next_batch: 0,
            ticks: 0,
            apps,
            recordings: HashMap::new(),
            rooms: conference::Rooms::default(),
            caller_ids: HashMap::new(),
            engine_rx: Some(engine_rx),
            trunk: trunks::TrunkState::default(),
            channel_index: channels::Channels::default(),
        }
    }

    /// The user agent's time.
    fn mono(&self) -> Ms {
        self.epoch.elapsed().as_millis() as Ms
    }

    pub(crate) async fn run(
        mut self,
        mut sip_rx: crate::transport::Receivers,
        mut task_rx: mpsc::UnboundedReceiver<TaskDone>,
        mut cmd_rx: mpsc::Receiver<Cmd>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut engine_rx = self.engine_rx.take();
        loop {
            let wake = self.next_wake();
            tokio::select! {
                Some(m) = sip_rx.udp.recv() => {
                    self.handle_incoming(m);
                    // Take what else is already queued before sending anything.
                    for _ in 0..64 {
                        match sip_rx.udp.try_recv() {
                            Ok(m) => self.handle_incoming(m),
                            Err(_) => break,
                        }
                    }
                }
                Some(m) = sip_rx.tcp.recv() => self.handle_incoming(m),
                Some(m) = recv_opt(&mut sip_rx.tls) => self.handle_incoming(m),
                Some(done) = task_rx.recv() => self.handle_task(done),
                Some((tag, ev)) = recv_unbounded(&mut engine_rx) => self.engine_event(tag, ev),
                Some(cmd) = cmd_rx.recv() => self.handle_cmd(cmd).await,
                _ = sleep_opt(wake) => {
                    self.calls.handle_timeout(now_ms());
                    let now = self.mono();
                    self.ua.handle_timeout(now);
                    self.step();
                }
                _ = tick.tick() => self.housekeeping(),
                _ = shutdown.changed() => break,
            }
            self.flush().await;
        }
        self.shutdown(&mut task_rx).await;
    }

    /// The earlier of the call core's and the user agent's next timer.
    fn next_wake(&self) -> Option<tokio::time::Instant> {
        let core = self.calls.poll_timeout().map(|t| {
            tokio::time::Instant::now() + Duration::from_millis(t.saturating_sub(now_ms()))
        });
        let ua = self
            .ua
            .poll_timeout()
            .map(|t| tokio::time::Instant::from_std(self.epoch) + Duration::from_millis(t));
        match (core, ua) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Send everything the user agent queued.
    async fn flush(&mut self) {
        while let Some(t) = self.ua.poll_transmit() {
            self.transport.send(t).await;
        }
    }

    /// End every live call (BYE / CANCEL / 503) before the process stops; calls that were
    /// recording get their recordings closed and indexed first (up to 3 s), so that no CDR
    /// is lost to a graceful stop.
    async fn shutdown(&mut self, tasks: &mut mpsc::UnboundedReceiver<TaskDone>) {
        self.calls.handle_shutdown(now_ms());
        self.step();
        self.flush().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while self.calls.closing() > 0 {
            tokio::select! {
                Some(done) = tasks.recv() => self.handle_task(done),
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        self.calls.close_all_now(now_ms());
        self.step();
        self.flush().await;
        // Give the BYEs a moment on the wire before the socket goes away.
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.transport.close().await;
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
        if let Ok(mut r) = self.sh.source_rate.lock() {
            r.prune(now);
        }
        if let Ok(mut l) = self.sh.location.lock() {
            l.expire(now);
            self.sh.metrics.registrations.set(l.count() as i64);
        }
        let retention = u64::from(self.sh.cfg.ended_call_retention_secs) * 1000;
        self.sh.log.prune(now.saturating_sub(retention));
        self.update_gauges();
    }

    fn update_gauges(&self) {
        let m = &self.sh.metrics;
        m.calls_active.set(self.calls.len() as i64);
        let (waiting, connected) = self.calls.queue_counts();
        m.queue_callers
            .with_label_values(&["waiting"])
            .set(waiting as i64);
        m.queue_callers
            .with_label_values(&["connected"])
            .set(connected as i64);
        m.setups_in_flight.set(self.calls.setups_in_flight() as i64);
        m.rtp_ports_in_use.set(self.relay.legs_in_use() as i64);
        let (_, client, server) = self.ua.counts();
        m.sip_transactions.set((client + server) as i64);
        let s = self.ua.tx_stats();
        m.set_retransmissions(s.retransmissions_sent, s.retransmissions_received);
        let mut by_state = [0i64; 3];
        for (_, st) in self.ua.registrations() {
            by_state[match st {
                crate::ua::RegState::Registered { .. } => 0,
                crate::ua::RegState::Registering => 1,
                crate::ua::RegState::Failed { .. } => 2,
            }] += 1;
        }
        for (i, s) in ["registered", "registering", "failed"].iter().enumerate() {
            m.trunk_registrations
                .with_label_values(&[s])
                .set(by_state[i]);
        }
    }

    fn new_call_id(&mut self) -> CallId {
        self.sh.new_call_id()
    }

    fn overloaded(&self) -> bool {
        self.calls.setups_in_flight() >= self.sh.cfg.max_setups_in_flight
    }

    /// Run the user agent's events through the core and the core's outputs onto the user
    /// agent until both are quiet.
    fn step(&mut self) {
        loop {
            let mut any = false;
            while let Some(ev) = self.ua.poll_event() {
                any = true;
                self.handle_ua_event(ev);
            }
            if !self.drain() && !any {
                break;
            }
        }
        self.update_gauges();
    }

    fn handle_ua_event(&mut self, ev: UaEvent) {
        match ev {
            UaEvent::Invite { tx, req, peer } => self.handle_invite(tx, req, peer),
            UaEvent::Register { tx, req, peer } => {
                self.sh
                    .metrics
                    .sip_requests
                    .with_label_values(&["REGISTER"])
                    .inc();
                let (sh, done) = (self.sh.clone(), self.tasks.clone());
                tokio::spawn(crate::registrar::handle_register(sh, done, tx, req, peer));
            }
            UaEvent::Request { tx, req } => {
                // Out of any dialog: NOTIFY without a subscription, MESSAGE, SUBSCRIBE ...
                let status = if req.method == patchbay_sip::core::Method::Notify {
                    481
                } else {
                    405
                };
                let allow = patchbay_sip::msg::raw("Allow", crate::ua::ALLOW_OUTSIDE);
                let now = self.mono();
                self.ua.respond(now, tx, status, vec![allow], None);
            }
            UaEvent::InviteCancelled => {}
            UaEvent::OutOfDialogResult { tx, status, .. } => self.message_answered(tx, status),
            UaEvent::Leg { leg, signal } => self.handle_signal(leg, signal),
        }
    }

    fn handle_task(&mut self, done: TaskDone) {
        match done {
            TaskDone::Authorized(a) => self.handle_authorized(*a),
            TaskDone::Trunks(t) => self.trunks_loaded(t),
            TaskDone::EndOrphan(dialogs) => self.bye_orphan(&dialogs),
            TaskDone::Routed { call, resolved } => self.route_resolved(call, resolved),
            TaskDone::VoicemailLogin { call, ok, messages } => {
                let _ = self
                    .calls
                    .handle_input(now_ms(), Input::VoicemailLogin { call, ok, messages });
            }
            TaskDone::Mwi {
                tenant,
                mailbox,
                waiting,
            } => self.notify_mwi(tenant, mailbox, waiting),
            TaskDone::Recording {
                call,
                command,
                done,
            } => self.recording_done(call, command, done),
            TaskDone::Prompt {
                leg,
                command,
                result,
                repeat,
                barge_in,
            } => self.prompt_loaded(leg, command, result, repeat, barge_in),
            TaskDone::Core(input) => {
                let _ = self.calls.handle_input(now_ms(), *input);
            }
            TaskDone::Respond {
                tx,
                method,
                status,
                headers,
            } => {
                if status >= 300 && method == "INVITE" {
                    self.sh
                        .metrics
                        .sip_rejected
                        .with_label_values(&[&status.to_string()])
                        .inc();
                }
                self.sh.metrics.response("sent", method, status);
                let now = self.mono();
                self.ua.respond(now, tx, status, headers, None);
            }
        }
        self.step();
    }

    /// Feed one leg event to the core (the outputs run in [`Driver::step`]).
    fn feed(&mut self, leg: LegId, event: LegEvent) {
        let _ = self.calls.handle_input(now_ms(), Input::Leg { leg, event });
    }

    /// Execute every pending output of the core, feeding failures back in. Whether anything
    /// was executed.
    fn drain(&mut self) -> bool {
        let mut any = false;
        let mut feedback: VecDeque<(LegId, LegEvent)> = VecDeque::new();
        loop {
            // Forks of one side share one relay endpoint: remember the last one allocated.
            let mut group = None;
            while let Some(out) = self.calls.poll_output() {
                any = true;
                match out {
                    Output::Event(ev) => self.publish(ev),
                    Output::Cdr(mut cdr) => {
                        if let Some(h) = self.hooked.remove(&cdr.call) {
                            cdr.account_codes = h.account_codes;
                        }
                        self.sh
                            .metrics
                            .calls_ended
                            .with_label_values(&[publish::cause_label(cdr.cause)])
                            .inc();
                        // To the durable log's writer (it removes the call's journal entry):
                        // the loop never waits on the store.
                        self.sh.log.write(patchbay_store::LogEntry::Cdr(cdr));
                    }
                    Output::Mailbox(m) => self.mailbox(m),
                    Output::Route { call, destination } => {
                        self.route_destination(call, destination)
                    }
                    Output::QueueOffer {
                        call,
                        tenant,
                        agents,
                    } => self.queue_offer(call, &tenant, agents),
                    Output::Leg(action) => {
                        if let Some(fail) = self.execute(action, &mut group) {
                            feedback.push_back(fail);
                        }
                    }
                }
            }
            let Some((leg, event)) = feedback.pop_front() else {
                break;
            };
            self.feed(leg, event);
        }
        any
    }

    fn map_leg(&mut self, call: &CallId, leg: LegId) {
        self.call_legs.entry(call.clone()).or_default().push(leg);
    }

    fn release(&mut self, call: &CallId) {
        self.bridges.remove(call);
        self.caller_ids.remove(call);
        self.startable.remove(call);
        self.referrers.remove(call);
        for leg in self.call_legs.remove(call).unwrap_or_default() {
            self.detach(leg);
            self.leg_media.remove(&leg);
            self.invite_sent.remove(&leg);
            self.leg_codecs.remove(&leg);
            self.leg_offer.remove(&leg);
            self.inbound_legs.remove(&leg);
            self.delayed_offer.remove(&leg);
            self.trunk_release(leg);
            self.channel_index.close(leg);
            self.ua.release(leg);
        }
    }
}

/// Writes CDRs in order; ends when the driver drops its sender, after the last one is stored.
async fn recv_opt<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_unbounded<T>(rx: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
