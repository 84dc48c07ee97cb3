//! Control commands (from the control API) on the driver: originate, start, hangup, transfer,
//! hold, list, detail, media. Replies go out before the core's outputs are executed, so an
//! originated call's id reaches the API before its first INVITE leaves.

use super::{Cmd, CmdError, Driver, MAX_START_WITHIN_MS, now_ms};
use crate::sip::uri_parts;
use patchbay_api::{ApiErrorKind, CallId, CallInfo, OriginateRequest};
use patchbay_media::LegMedia;
use patchbay_proto::{Input, Target};
use std::sync::Arc;
use std::time::Instant;

/// A MESSAGE / NOTIFY sent to several phones: the answers so far and where they go.
pub(crate) struct Batch {
    results: Vec<patchbay_api::SipMessageResult>,
    waiting: usize,
    reply: tokio::sync::oneshot::Sender<Vec<patchbay_api::SipMessageResult>>,
}

// === impl Driver ===

impl Driver {
    pub(super) async fn handle_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Originate(req, id, trunked, plan, caller_plan, reply) => {
                let held = req.start_within_ms.is_some();
                let plans = (plan.map(|p| *p), caller_plan.map(|p| *p));
                let r = self.originate(*req, id, &trunked, plans);
                if let (Ok(info), false) = (&r, held) {
                    self.startable.insert(info.id.clone(), Instant::now());
                }
                let ok = r.is_ok();
                let _ = reply.send(r);
                // The reply (with the call id) is on its way before the first INVITE leaves.
                if ok {
                    self.step();
                }
            }
            Cmd::Start(id, reply) => {
                let r = self
                    .calls
                    .handle_input(now_ms(), Input::Start { call: id.clone() });
                if r.is_ok() {
                    self.startable.insert(id.clone(), Instant::now());
                }
                let _ = reply.send(r.map_err(|e| self.cmd_error(&id, e)));
                self.step();
            }
            Cmd::Hangup(id, reply) => {
                let r = self
                    .calls
                    .handle_input(now_ms(), Input::Hangup { call: id.clone() });
                let _ = reply.send(r.map_err(|e| self.cmd_error(&id, e)));
                self.step();
            }
            Cmd::Transfer(id, t, trunked, reply) => {
                let r = self.transfer(&id, t, trunked);
                let _ = reply.send(r);
                self.step();
            }
            Cmd::Hold(id, on, reply) => {
                let r = self.calls.handle_input(
                    now_ms(),
                    Input::Hold {
                        call: id.clone(),
                        on,
                    },
                );
                let _ = reply.send(r.map_err(|e| self.cmd_error(&id, e)));
                self.step();
            }
            Cmd::Forward(id, target, trunked, reply) => {
                let r = self.deflect(&id, target, trunked);
                let _ = reply.send(r);
                self.step();
            }
            Cmd::Join(id, req, reply) => {
                let r = self.join_sides(&id, &req);
                let _ = reply.send(r);
                self.step();
            }
            Cmd::List(reply) => {
                let _ = reply.send(Ok(self.calls.list()));
            }
            Cmd::Media(id, reply) => {
                let _ = reply.send(self.media_of(&id));
            }
            Cmd::TrunkRegistrations(reply) => {
                let now = self.mono();
                let v = self
                    .ua
                    .registrations()
                    .into_iter()
                    .map(|(aor, st)| {
                        use crate::ua::RegState as S;
                        let (state, status, expires_in) = match st {
                            S::Registered { until } => {
                                ("registered", None, Some(until.saturating_sub(now) / 1000))
                            }
                            S::Registering => ("registering", None, None),
                            S::Failed { status } => ("failed", Some(status), None),
                        };
                        patchbay_api::TrunkRegistration {
                            aor,
                            state: state.into(),
                            status,
                            expires_in,
                        }
                    })
                    .collect();
                let _ = reply.send(Ok(v));
            }
            Cmd::SipMessage(req, reply) => {
                let r = self.send_messages(req);
                let _ = reply.send(r);
            }
            Cmd::Primitive(id, op, reply) => {
                let command = self.calls.alloc_command();
                let r = self.calls.handle_input(
                    now_ms(),
                    Input::Media {
                        call: id.clone(),
                        command,
                        op,
                    },
                );
                let _ = reply.send(r.map(|()| command).map_err(|e| self.cmd_error(&id, e)));
                self.step();
            }
            Cmd::StopPrimitive(id, command, reply) => {
                let r = self.calls.handle_input(
                    now_ms(),
                    Input::MediaStop {
                        call: id.clone(),
                        command,
                    },
                );
                let _ = reply.send(r.map_err(|e| self.cmd_error(&id, e)));
                self.step();
            }
            Cmd::Mute(id, req, reply) => {
                let r = self.calls.handle_input(
                    now_ms(),
                    Input::ConferenceMute {
                        call: id.clone(),
                        side: req.side,
                        muted: req.muted,
                    },
                );
                let _ = reply.send(r.map_err(|e| self.cmd_error(&id, e)));
                self.step();
            }
            Cmd::Channels(tenant, names, reply) => {
                let _ = reply.send(Ok(self.channels(&tenant, names)));
            }
            Cmd::QueueCalls(tenant, name, reply) => {
                let calls = self.calls.queue_calls(now_ms(), &tenant, &name);
                let known = !calls.is_empty() || self.calls.knows_queue(&tenant, &name);
                let _ = reply.send(Ok(known.then_some(calls)));
            }
            Cmd::Core(input, reply) => {
                let r = self.calls.handle_input(now_ms(), *input);
                let _ = reply
                    .send(r.map_err(|e| CmdError::new(ApiErrorKind::InvalidState, e.to_string())));
                self.step();
            }
            Cmd::Conference(tenant, room, reply) => {
                let mut members = self.calls.conference_members(&tenant, &room);
                self.add_energy(&tenant, &room, &mut members);
                let _ = reply.send(Ok(members));
            }
            Cmd::Get(id, reply) => {
                let r = self
                    .calls
                    .info(&id)
                    .or_else(|| self.sh.log.info(&id))
                    .ok_or_else(|| CmdError::new(ApiErrorKind::NotFound, format!("no call {id}")));
                let _ = reply.send(r);
            }
        }
    }

    fn media_of(&self, id: &CallId) -> Result<Vec<patchbay_api::MediaLeg>, CmdError> {
        use std::sync::atomic::Ordering::Relaxed;
        let legs = self
            .call_legs
            .get(id)
            .ok_or_else(|| CmdError::new(ApiErrorKind::NotFound, format!("no live call {id}")))?;
        let mut out = Vec::new();
        let mut seen: Vec<*const LegMedia> = Vec::new();
        for leg in legs {
            let (Some(m), Some(l)) = (self.leg_media.get(leg), self.calls.leg(*leg)) else {
                continue;
            };
            if seen.contains(&Arc::as_ptr(m)) {
                continue;
            }
            seen.push(Arc::as_ptr(m));
            out.push(patchbay_api::MediaLeg {
                side: l.side,
                party: l.party.clone(),
                local_rtp: m.local_rtp().to_string(),
                remote_rtp: m.remote_rtp().map(|a| a.to_string()),
                latched: m.is_latched(),
                rtp_in: m.stats.rtp_in.load(Relaxed),
                rtp_out: m.stats.rtp_out.load(Relaxed),
                rtp_lost: m.stats.rtp_lost.load(Relaxed),
            });
        }
        Ok(out)
    }

    pub(super) fn cmd_error(&self, id: &CallId, e: patchbay_proto::CallError) -> CmdError {
        use patchbay_proto::CallError as E;
        match e {
            E::UnknownCall(_) if self.sh.log.knows(id) => {
                CmdError::new(ApiErrorKind::InvalidState, format!("call {id} has ended"))
            }
            E::UnknownCall(_) => CmdError::new(ApiErrorKind::NotFound, e.to_string()),
            E::NoCallee => CmdError::new(ApiErrorKind::BadRequest, e.to_string()),
            E::UnknownCommand(_) => CmdError::new(ApiErrorKind::NotFound, e.to_string()),
            _ => CmdError::new(ApiErrorKind::InvalidState, e.to_string()),
        }
    }

    /// Contacts of a party: a SIP URI is dialled as it is; an extension is looked up.
    /// [`Driver::targets`], the trunk's target for a party the dial plan routed.
    fn targets_routed(&self, tenant: &str, party: &str, trunked: &[Target]) -> Vec<Target> {
        match trunked.iter().find(|t| t.uri == party) {
            Some(t) => vec![t.clone()],
            None => self.targets(tenant, party),
        }
    }

    pub(super) fn targets(&self, tenant: &str, party: &str) -> Vec<Target> {
        if party.starts_with("sip:") || party.starts_with("sips:") {
            return vec![Target::new(uri_parts(party).0, party)];
        }
        let now = now_ms();
        let Ok(loc) = self.sh.location.lock() else {
            return vec![];
        };
        loc.lookup(tenant, party, now)
            .into_iter()
            .map(|b| Target::new(party, b.contact))
            .collect()
    }

    /// Send a MESSAGE / NOTIFY to every registered phone of `req.to`; the receiver gets what
    /// they answered once all did (or timed out).
    pub(super) fn send_messages(
        &mut self,
        req: patchbay_api::SipMessageRequest,
    ) -> Result<tokio::sync::oneshot::Receiver<Vec<patchbay_api::SipMessageResult>>, CmdError> {
        use patchbay_api::SipMessageMethod;
        use patchbay_sip::core::{Method, Uri};
        if !self.sh.auth.has_tenant(&req.tenant) {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                format!("unknown tenant {}", req.tenant),
            ));
        }
        // Checked with the request (`sip_message_refusal`).
        let from = req.from.clone().unwrap_or_else(|| "patchbay".to_string());
        let targets = self.targets(&req.tenant, &req.to);
        if targets.is_empty() || req.to.starts_with("sip") {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                format!("{} is not registered", req.to),
            ));
        }
        let method = match req.method {
            SipMessageMethod::Message => Method::Message,
            SipMessageMethod::Notify => Method::Notify,
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.next_batch += 1;
        let batch = self.next_batch;
        let mut waiting = 0;
        let mut results = Vec::new();
        let now = self.mono();
        for t in targets {
            let sent = t.uri.parse::<Uri>().ok().and_then(|uri| {
                let (peer, route) = self.contact_peer(&req.tenant, &t, &uri)?;
                let headers = route
                    .into_iter()
                    .map(|r| patchbay_sip::msg::raw("Route", r))
                    .chain(
                        req.headers
                            .iter()
                            .map(|(n, v)| patchbay_sip::msg::raw(n, v.clone())),
                    )
                    .collect();
                let body = Some((req.content_type.as_str(), req.body.clone().into()));
                let out = crate::ua::OutOfDialog {
                    headers,
                    body,
                    from_user: &from,
                };
                self.ua
                    .send_out_of_dialog(now, method.clone(), uri, peer, out)
            });
            match sent {
                Some(ctx) => {
                    self.messages.insert(ctx, (batch, t.uri));
                    waiting += 1;
                }
                None => results.push(patchbay_api::SipMessageResult {
                    contact: t.uri,
                    status: 502,
                }),
            }
        }
        self.count_sent(method.as_str());
        let b = Batch {
            results,
            waiting,
            reply: tx,
        };
        if waiting == 0 {
            let _ = b.reply.send(b.results);
        } else {
            self.batches.insert(batch, b);
        }
        Ok(rx)
    }

    /// One phone answered a MESSAGE / NOTIFY (or timed out).
    pub(super) fn message_answered(&mut self, tx: patchbay_sip::txn::ClientTxId, status: u16) {
        let Some((batch, contact)) = self.messages.remove(&tx) else {
            return;
        };
        let done = match self.batches.get_mut(&batch) {
            Some(b) => {
                b.results
                    .push(patchbay_api::SipMessageResult { contact, status });
                b.waiting -= 1;
                b.waiting == 0
            }
            None => false,
        };
        if done && let Some(b) = self.batches.remove(&batch) {
            let _ = b.reply.send(b.results);
        }
    }

    /// The contacts of a 3PCC call's caller (`from`, or its `from_phone`-th phone) and
    /// callees.
    /// The caller's contacts and the callees': those of the one user called as its routing
    /// says (`routed`), which may be none when a forward or its mailbox can take the call.
    fn parties(
        &self,
        req: &OriginateRequest,
        routed: Option<&super::forwards::Routed>,
        caller_plan: Option<&patchbay_proto::routing::Plan>,
    ) -> Result<(Vec<Target>, Vec<Target>), CmdError> {
        let mut a = match caller_plan {
            Some(p) => self.routed(&req.tenant, p).targets,
            None => self.targets(&req.tenant, &req.from),
        };
        if a.is_empty() {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                format!("{} is not registered", req.from),
            ));
        }
        if let Some(n) = req.from_phone {
            // Bindings are kept in the order they registered: phone 1 registered first.
            match a.get(usize::from(n).wrapping_sub(1)) {
                Some(t) if n > 0 => a = vec![t.clone()],
                _ => {
                    return Err(CmdError::new(
                        ApiErrorKind::NotFound,
                        format!("{} has no phone {n} registered", req.from),
                    ));
                }
            }
        }
        let b: Vec<Target> = match routed {
            Some(r) => r.targets.clone(),
            None => req
                .to
                .iter()
                .flat_map(|t| self.targets(&req.tenant, t))
                .collect(),
        };
        if b.is_empty() && !routed.is_some_and(|r| r.forwards.has_fallback()) {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                "no callee is registered",
            ));
        }
        Ok((a, b))
    }

    fn originate(
        &mut self,
        req: OriginateRequest,
        id: Option<CallId>,
        trunked: &[Target],
        (plan, caller_plan): (
            Option<patchbay_proto::routing::Plan>,
            Option<patchbay_proto::routing::Plan>,
        ),
    ) -> Result<CallInfo, CmdError> {
        if req.to.is_empty() || (req.from.is_empty() && !req.app) {
            return Err(CmdError::new(
                ApiErrorKind::BadRequest,
                "from and at least one callee are required",
            ));
        }
        if req
            .conference
            .as_ref()
            .is_some_and(|r| !req.app || !patchbay_api::room_name_ok(r))
        {
            return Err(CmdError::new(
                ApiErrorKind::BadRequest,
                "conference: a room name, on an application call",
            ));
        }
        if req.app && req.from_phone.is_some() {
            return Err(CmdError::new(
                ApiErrorKind::BadRequest,
                "from_phone names a caller's phone: an application call has no caller",
            ));
        }
        if !self.sh.auth.has_tenant(&req.tenant) {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                format!("unknown tenant {}", req.tenant),
            ));
        }
        if self.overloaded() {
            self.sh
                .metrics
                .sip_rejected
                .with_label_values(&["originate_overload"])
                .inc();
            return Err(CmdError::new(
                ApiErrorKind::Overloaded,
                "too many calls being set up",
            ));
        }
        if let Some(why) = req
            .headers
            .iter()
            .find_map(|(n, v)| patchbay_api::header_refusal(n, v))
        {
            return Err(CmdError::new(ApiErrorKind::BadRequest, why));
        }
        let caller_id = match req.caller_id.as_deref().map(patchbay_api::CallerId::parse) {
            None => None,
            Some(Some(c)) => Some(c),
            Some(None) => {
                return Err(CmdError::new(
                    ApiErrorKind::BadRequest,
                    "caller_id: a number, Name <number>, or anonymous",
                ));
            }
        };
        let routed = plan
            .filter(|_| !req.app)
            .map(|p| self.routed(&req.tenant, &p));
        let (a, b) = if req.app {
            // The application rings its party as side A; nobody is on side B.
            let a: Vec<Target> = req
                .to
                .iter()
                .flat_map(|t| self.targets_routed(&req.tenant, t, trunked))
                .collect();
            if a.is_empty() {
                return Err(CmdError::new(
                    ApiErrorKind::NotFound,
                    "no callee is registered",
                ));
            }
            (a, Vec::new())
        } else {
            let (mut a, mut b) = self.parties(&req, routed.as_ref(), caller_plan.as_ref())?;
            for t in a.iter_mut().chain(b.iter_mut()) {
                if let Some(r) = trunked.iter().find(|r| r.uri == t.uri) {
                    *t = r.clone();
                }
            }
            (a, b)
        };
        if req
            .start_within_ms
            .is_some_and(|ms| ms > MAX_START_WITHIN_MS)
        {
            return Err(CmdError::new(
                ApiErrorKind::BadRequest,
                format!("start_within_ms is at most {MAX_START_WITHIN_MS}"),
            ));
        }
        let ring = req
            .ring_timeout_secs
            .or(routed.as_ref().map(|r| r.ring_timeout_secs))
            .unwrap_or(self.sh.cfg.ring_timeout_secs)
            .clamp(1, 600);
        let (forwards, no_target_status) = routed
            .map_or((patchbay_proto::Forwards::default(), 480), |r| {
                (r.forwards, r.no_target_status)
            });
        let id = id.unwrap_or_else(|| self.new_call_id());
        self.calls
            .handle_input(
                now_ms(),
                Input::Originate {
                    call: id.clone(),
                    req,
                    a,
                    b,
                    ring_timeout_ms: u64::from(ring) * 1000,
                    forwards,
                    no_target_status,
                },
            )
            .map_err(|e| self.cmd_error(&id, e))?;
        if let Some(c) = caller_id {
            self.caller_ids.insert(id.clone(), c);
        }
        self.sh
            .metrics
            .calls_started
            .with_label_values(&["originate"])
            .inc();
        self.calls
            .info(&id)
            .ok_or_else(|| CmdError::new(ApiErrorKind::Unavailable, "call vanished"))
    }
}
