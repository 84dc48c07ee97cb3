use patchbay_proto::api::{
    CallId, Cause, Cdr, EndedBy, Event, EventKind, OriginateMode, OriginateRequest, Side,
};
use patchbay_proto::{Calls, Input, LegAction, LegEvent, LegId, Ms, Output, Service, Target};

pub struct H {
    pub calls: Calls,
    pub now: Ms,
    pub actions: Vec<LegAction>,
    pub events: Vec<Event>,
    pub cdrs: Vec<Cdr>,
    pub voicemails: Vec<patchbay_proto::VoicemailMessage>,
    pub mailbox: Vec<patchbay_proto::MailboxAction>,
    pub routes: Vec<(CallId, String)>,
    /// Queue offers not answered yet (`Output::QueueOffer`).
    pub offers: Vec<(CallId, Vec<String>)>,
}

impl H {
    pub fn new() -> Self {
        Self {
            calls: Calls::new(),
            now: 1_000_000,
            actions: vec![],
            events: vec![],
            cdrs: vec![],
            voicemails: vec![],
            mailbox: vec![],
            routes: vec![],
            offers: vec![],
        }
    }

    pub fn input(&mut self, i: Input) {
        self.calls
            .handle_input(self.now, i)
            .expect("input accepted");
        self.drain();
    }

    pub fn try_input(&mut self, i: Input) -> Result<(), patchbay_proto::CallError> {
        let r = self.calls.handle_input(self.now, i);
        self.drain();
        r
    }

    pub fn leg(&mut self, leg: LegId, event: LegEvent) {
        self.input(Input::Leg { leg, event });
    }

    /// The node stops: every call ends.
    pub fn shutdown(&mut self) {
        self.calls.handle_shutdown(self.now);
        self.drain();
    }

    pub fn advance(&mut self, ms: Ms) {
        self.now += ms;
        if self.calls.poll_timeout().is_some_and(|t| t <= self.now) {
            self.calls.handle_timeout(self.now);
            self.drain();
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.calls.poll_output() {
            match o {
                Output::Leg(a) => self.actions.push(a),
                Output::Event(e) => self.events.push(e),
                Output::Cdr(c) => self.cdrs.push(c),
                Output::Mailbox(patchbay_proto::MailboxAction::Store(v)) => self.voicemails.push(v),
                Output::Mailbox(m) => self.mailbox.push(m),
                Output::Route { call, destination } => self.routes.push((call, destination)),
                Output::QueueOffer { call, agents, .. } => self.offers.push((call, agents)),
            }
        }
    }

    /// Actions since the last call, emptying the list.
    pub fn take(&mut self) -> Vec<LegAction> {
        std::mem::take(&mut self.actions)
    }

    /// Leg ids of the INVITEs in `actions`, in order.
    pub fn invites(actions: &[LegAction]) -> Vec<(LegId, Side, String)> {
        actions
            .iter()
            .filter_map(|a| match a {
                LegAction::Invite {
                    leg, side, target, ..
                } => Some((*leg, *side, target.party.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn originate(&mut self, id: &str, from: &str, to: &[&str], mode: OriginateMode) {
        self.originate_held(id, from, to, mode, None);
    }

    /// Originate with a deferred start (`start_within_ms`).
    pub fn originate_held(
        &mut self,
        id: &str,
        from: &str,
        to: &[&str],
        mode: OriginateMode,
        start_within_ms: Option<u32>,
    ) {
        let req = OriginateRequest {
            request_key: None,
            tenant: "demo".into(),
            from: from.into(),
            to: to.iter().map(|s| s.to_string()).collect(),
            mode,
            ring_timeout_secs: None,
            headers: vec![],
            start_within_ms,
            auto_answer: false,
            from_phone: None,
            app: false,
            record: false,
            caller_id: None,
            conference: None,
            queue: None,
            caller_forwarding: false,
        };
        let a = vec![Target::new(from, format!("sip:{from}@127.0.0.1:5071"))];
        let b = to
            .iter()
            .map(|t| Target::new(*t, format!("sip:{t}@127.0.0.1:5072")))
            .collect();
        self.input(Input::Originate {
            call: CallId(id.into()),
            req,
            a,
            b,
            ring_timeout_ms: 20_000,
            forwards: patchbay_proto::Forwards::default(),
            no_target_status: 480,
        });
    }

    /// An application call ringing `to` (side A), with no second party.
    pub fn originate_app(&mut self, id: &str, to: &str) {
        let req = OriginateRequest {
            tenant: "demo".into(),
            to: vec![to.into()],
            app: true,
            ..Default::default()
        };
        let a = vec![Target::new(to, format!("sip:{to}@127.0.0.1:5071"))];
        self.input(Input::Originate {
            call: CallId(id.into()),
            req,
            a,
            b: vec![],
            ring_timeout_ms: 20_000,
            forwards: patchbay_proto::Forwards::default(),
            no_target_status: 480,
        });
    }

    pub fn inbound(&mut self, id: &str, targets: &[&str]) -> LegId {
        let targets = targets
            .iter()
            .map(|t| Target::new("4007", format!("sip:4007@{t}")))
            .collect();
        self.inbound_routed(id, targets, 404, patchbay_proto::Forwards::default())
    }

    /// 4005 calls in; `targets` ring (none: `no_target_status`), with `forwards`.
    pub fn inbound_routed(
        &mut self,
        id: &str,
        targets: Vec<Target>,
        no_target_status: u16,
        forwards: patchbay_proto::Forwards,
    ) -> LegId {
        let leg = self.calls.alloc_leg();
        self.inbound_input(
            id,
            leg,
            "4007",
            targets,
            no_target_status,
            forwards,
            None,
            false,
        );
        leg
    }

    /// 4005 dials the voicemail number to listen to its mailbox.
    pub fn voicemail_access(&mut self, id: &str) -> LegId {
        let no_forwards = patchbay_proto::Forwards::default();
        let leg = self.calls.alloc_leg();
        let mailbox = Some("4005".to_string());
        self.inbound_input(id, leg, "*97", vec![], 0, no_forwards, mailbox, true);
        leg
    }

    /// A phone calls application number 8000 of the demo tenant.
    pub fn inbound_app(&mut self, id: &str) -> LegId {
        let no_forwards = patchbay_proto::Forwards::default();
        let leg = self.calls.alloc_leg();
        self.inbound_input(id, leg, "8000", vec![], 0, no_forwards, None, true);
        leg
    }

    /// 4005 calls `to`.
    #[allow(clippy::too_many_arguments)]
    fn inbound_input(
        &mut self,
        id: &str,
        leg: LegId,
        to: &str,
        targets: Vec<Target>,
        no_target_status: u16,
        forwards: patchbay_proto::Forwards,
        voicemail_access: Option<String>,
        app: bool,
    ) {
        self.input(Input::Inbound {
            call: CallId(id.into()),
            leg,
            tenant: "demo".into(),
            from: "4005".into(),
            to: to.into(),
            no_target_status,
            targets,
            ring_timeout_ms: 20_000,
            record: false,
            app,
            forwards,
            service: voicemail_access.map(Service::VoicemailAccess),
        });
    }

    /// The one terminal event (asserting there is exactly one) and the one CDR.
    pub fn ended(&self) -> (Cause, EndedBy, Cdr) {
        let terminals: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| e.kind.is_terminal())
            .collect();
        assert_eq!(
            terminals.len(),
            1,
            "exactly one terminal event: {:?}",
            self.events
        );
        assert_eq!(self.cdrs.len(), 1, "exactly one CDR");
        // Sequence numbers are 1..=n without gaps.
        for (i, e) in self.events.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
        }
        assert!(self.calls.is_empty(), "call released");
        assert_eq!(self.calls.setups_in_flight(), 0);
        match &terminals[0].kind {
            EventKind::Ended { cause, by, .. } => (*cause, *by, self.cdrs[0].clone()),
            _ => unreachable!(),
        }
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .map(|e| match e.kind {
                EventKind::Created { .. } => "created",
                EventKind::Forwarded { .. } => "forwarded",
                EventKind::Incoming { .. } => "incoming",
                EventKind::Dialing { .. } => "dialing",
                EventKind::Ringing { .. } => "ringing",
                EventKind::Answered { .. } => "answered",
                EventKind::Bridged => "bridged",
                EventKind::Held => "held",
                EventKind::Resumed => "resumed",
                EventKind::TransferStarted { .. } => "transfer_started",
                EventKind::Transferred { .. } => "transferred",
                EventKind::TransferFailed { .. } => "transfer_failed",
                EventKind::PlayFinished { .. } => "play_finished",
                EventKind::RecordingReady { .. } => "recording_ready",
                EventKind::ConferenceJoined { .. } => "conference_joined",
                EventKind::ConferenceLeft { .. } => "conference_left",
                EventKind::Digits { .. } => "digits",
                EventKind::Dtmf { .. } => "dtmf",
                EventKind::DtmfSent { .. } => "dtmf_sent",
                EventKind::ToneFinished { .. } => "tone_finished",
                EventKind::QueueEntered { .. } => "queue_entered",
                EventKind::QueueLeft { .. } => "queue_left",
                EventKind::Ended { .. } => "ended",
            })
            .collect()
    }
}

/// The media commands in `acts`.
pub fn media(acts: &[LegAction]) -> Vec<(u64, patchbay_proto::api::MediaOp)> {
    acts.iter()
        .filter_map(|a| match a {
            LegAction::Media { command, op, .. } => Some((*command, op.clone())),
            _ => None,
        })
        .collect()
}

/// The collection among `acts` (the command after the prompt).
pub fn collection(acts: &[LegAction]) -> u64 {
    media(acts)
        .into_iter()
        .find(|(_, op)| matches!(op, patchbay_proto::api::MediaOp::Collect(_)))
        .expect("a collection")
        .0
}

/// The engine finished `command` on `leg` (a collection with `digits`).
pub fn done(h: &mut H, leg: LegId, command: u64, digits: Option<&str>) {
    h.input(Input::MediaEvent {
        leg,
        event: patchbay_proto::MediaEvent::Done {
            command,
            reason: patchbay_proto::api::MediaReason::Finished,
            played_ms: 0,
            digits: digits.map(str::to_string),
            ok: digits.is_some(),
            key: None,
            error: None,
        },
    });
}

/// A queue `sales` (number 600) of `agents`, all available, ringing each for 15 s.
pub fn queue(
    strategy: patchbay_proto::api::QueueStrategy,
    agents: &[&str],
) -> patchbay_proto::QueueEntry {
    use patchbay_proto::api::{AgentState, Queue};
    patchbay_proto::QueueEntry {
        tenant: "demo".into(),
        queue: Queue {
            name: "sales".into(),
            number: "600".into(),
            strategy,
            agents: agents.iter().map(|a| a.to_string()).collect(),
            ring_secs: 15,
            wrapup_secs: 0,
            hold_music: None,
            announce_secs: 0,
            max_wait_secs: 0,
            overflow: None,
            max_callers: 0,
            cti_url: None,
        },
        states: agents
            .iter()
            .map(|a| (a.to_string(), AgentState::Available))
            .collect(),
    }
}

impl H {
    /// `from` calls the queue of `entry` as call `id`: its leg.
    pub fn call_queue(
        &mut self,
        id: &str,
        from: &str,
        entry: &patchbay_proto::QueueEntry,
    ) -> LegId {
        let leg = self.calls.alloc_leg();
        self.input(Input::Inbound {
            call: CallId(id.into()),
            leg,
            tenant: "demo".into(),
            from: from.into(),
            to: entry.queue.number.clone(),
            targets: vec![],
            no_target_status: 0,
            ring_timeout_ms: 20_000,
            record: false,
            app: true,
            forwards: patchbay_proto::Forwards::default(),
            service: Some(Service::Queue(Box::new(entry.clone()))),
        });
        leg
    }

    /// Answer every pending queue offer as the driver would: the agents in `reachable` can
    /// ring (one phone each). Returns the offers answered.
    pub fn answer_offers(&mut self, reachable: &[&str]) -> Vec<(CallId, Vec<String>)> {
        let mut answered = Vec::new();
        while !self.offers.is_empty() {
            let offers = std::mem::take(&mut self.offers);
            for (call, agents) in offers {
                let keep = agents
                    .iter()
                    .filter(|a| reachable.contains(&a.as_str()))
                    .map(|a| {
                        let t = Target::new(a.clone(), format!("sip:{a}@127.0.0.1:5072"));
                        (a.clone(), vec![t])
                    })
                    .collect();
                answered.push((call.clone(), agents));
                self.input(Input::QueueTargets { call, agents: keep });
            }
        }
        answered
    }
}
