//! SIP in: every message from the transports, and a phone's INVITE on its way to a call:
//! load and ban checks, the authentication task, then the call core.

use super::{Driver, now_ms};
use crate::sip::{host_only, uri_parts};
use crate::transport::{Incoming, incoming};
use patchbay_media::sdp;
use patchbay_proto::Input;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::core::{Message, Method};
use patchbay_sip::txn::ServerTxId;
use patchbay_sip::{Peer, msg};
use rvoip_sip_transport::TransportEvent;

// === impl Driver ===

impl Driver {
    pub(super) fn handle_incoming(&mut self, ev: TransportEvent) {
        let Some(Incoming { msg, peer }) = incoming(ev) else {
            return;
        };
        let new_request = matches!(&msg, Message::Request(req)
            if !matches!(req.method, Method::Ack | Method::Cancel)
                && msg::to_tag(&req.headers).is_none());
        // Every request but ACK counts against its source's rate (in-dialog ones too: a made-up
        // To tag must not be a way around it); only new requests are refused to banned sources
        // (a banned office NAT can still hang up its calls).
        let limited = matches!(&msg, Message::Request(req) if req.method != Method::Ack);
        // Through an edge proxy, the phone behind it is the source.
        let source = match &msg {
            Message::Request(req) => {
                crate::sip::origin(&req.headers, peer.addr, &self.sh.cfg.edge_proxies).ip()
            }
            Message::Response(_) => peer.addr.ip(),
        };
        if limited
            && !self
                .sh
                .source_rate
                .lock()
                .map(|mut r| r.admit(source, now_ms()))
                .unwrap_or(true)
        {
            // A source flooding us: dropped before any transaction state (no amplification).
            self.sh
                .metrics
                .sip_dropped
                .with_label_values(&["flood"])
                .inc();
            return;
        }
        if let Message::Request(req) = &msg
            && new_request
            && self.sh.is_blocked(source, now_ms())
        {
            // A source past its failed-auth limit: 403 without any transaction state.
            self.sh
                .metrics
                .auth_failures
                .with_label_values(&["blocked"])
                .inc();
            self.ua.respond_stateless(req, peer, 403, Vec::new());
            return;
        }
        if let Message::Response(r) = &msg
            && let Some((_, m)) = msg::cseq(&r.headers)
            && matches!(m, Method::Invite | Method::Register)
        {
            self.sh
                .metrics
                .response("received", m.as_str(), r.status.as_u16());
        }
        let now = self.mono();
        self.ua.handle_message(now, msg, peer);
        self.step();
    }

    fn refuse(&mut self, tx: ServerTxId, status: u16) {
        self.sh
            .metrics
            .sip_rejected
            .with_label_values(&[&status.to_string()])
            .inc();
        self.sh.metrics.response("sent", "INVITE", status);
        let mut headers = Vec::new();
        if status == 503 {
            headers.push(msg::raw(
                "Retry-After",
                self.sh.cfg.retry_after_secs.to_string(),
            ));
        }
        let now = self.mono();
        self.ua.respond(now, tx, status, headers, None);
    }

    pub(super) fn handle_invite(&mut self, tx: ServerTxId, req: Request, peer: Peer) {
        self.sh
            .metrics
            .sip_requests
            .with_label_values(&["INVITE"])
            .inc();
        let now = now_ms();
        if self.overloaded() {
            return self.refuse(tx, 503);
        }
        // A malformed SDP offer is a bad request, whoever sends it (checked before the digest,
        // which costs a store read). No codec we relay is 488 after auth.
        if !req.body.is_empty()
            && let Err(sdp::SdpError::Syntax(_) | sdp::SdpError::NoAddress) =
                sdp::parse(&String::from_utf8_lossy(&req.body))
        {
            return self.refuse(tx, 400);
        }
        let authorization = msg::header_text(&req.headers, "authorization");
        // A carrier's INVITE: its number decides the tenant's callee, no challenge.
        let source = crate::sip::origin(&req.headers, peer.addr, &self.sh.cfg.edge_proxies);
        let from_trunk = self
            .sh
            .trunks
            .read()
            .ok()
            .and_then(|t| t.by_source(source.ip()).cloned());
        if let Some(e) = from_trunk {
            return self.handle_trunk_invite(
                e,
                super::invite_auth::Pending {
                    tx,
                    req,
                    peer,
                    authorization,
                },
            );
        }
        let ruri = req.uri.to_string();
        let (_, domain) = uri_parts(&ruri);
        let Some(ta) = self.sh.auth.pick(
            authorization.as_deref(),
            host_only(&domain),
            &self.sh.cfg.default_tenant,
        ) else {
            self.sh
                .metrics
                .auth_failures
                .with_label_values(&["unknown_realm"])
                .inc();
            return self.refuse(tx, 403);
        };
        // Digest verification reads the store: do it off the loop, come back with the result.
        let (sh, done) = (self.sh.clone(), self.tasks.clone());
        tokio::spawn(super::invite_auth::authenticate_invite(
            sh,
            done,
            ta,
            super::invite_auth::Pending {
                tx,
                req,
                peer,
                authorization,
            },
            now,
        ));
    }

    pub(super) fn handle_authorized(&mut self, a: super::Authorized) {
        let super::Authorized {
            tx,
            req,
            peer,
            tenant,
            caller,
            outside,
            callee_known,
            record,
            app,
            plan,
            callee,
            from_trunk,
            caller_id,
            service,
            call,
            hooked,
        } = a;
        if !self.ua_tx_open(tx) {
            return; // cancelled while we authenticated it
        }
        let now = now_ms();
        let ruri = req.uri.to_string();
        let callee = callee.unwrap_or_else(|| uri_parts(&ruri).0);
        // Media: callees are offered every codec of the caller's that we can relay; the caller
        // is answered with the one its callee chose (no transcoding, any phone pair works). No
        // offer at all: callees get our default offer, the caller our offer in the 2xx.
        let offer = if req.body.is_empty() {
            None
        } else {
            match sdp::parse(&String::from_utf8_lossy(&req.body)) {
                Ok(o) => Some(o),
                Err(_) => return self.refuse(tx, 488),
            }
        };
        let codecs = match &offer {
            Some(o) => sdp::relayable(&o.codecs),
            None => sdp::default_offer(),
        };
        if codecs.is_empty() {
            return self.refuse(tx, 488);
        }
        let media = match self.relay.alloc_leg() {
            Ok(m) => m,
            Err(_) => return self.refuse(tx, 503),
        };
        if let Some(o) = &offer {
            media.set_remote(o.rtp);
        }
        // A user rings where its forwarding says; on do-not-disturb it is busy at once.
        let routed = plan.as_ref().map(|p| self.routed(&tenant, p));
        let targets = match (&outside, &routed) {
            (Some(t), _) => vec![t.clone()],
            (None, _) if app => Vec::new(),
            (None, Some(r)) => r.targets.clone(),
            (None, None) => self.targets(&tenant, &callee),
        };
        let ring_timeout_ms = routed
            .as_ref()
            .map_or(self.sh.cfg.ring_timeout_secs, |r| r.ring_timeout_secs);
        let no_target_status = if !targets.is_empty() || app {
            0
        } else if let Some(r) = &routed {
            r.no_target_status
        } else if callee_known {
            480
        } else {
            // No user, no route.
            self.sh
                .metrics
                .destinations_refused
                .with_label_values(&["sip", "no_route"])
                .inc();
            404
        };
        let forwards = routed.map(|r| r.forwards).unwrap_or_default();
        let leg = self.calls.alloc_leg();
        if let Some(e) = &from_trunk
            && !self.trunk_claim(leg, e, "in")
        {
            return self.refuse(tx, 503);
        }
        let mono = self.mono();
        if self.ua.accept_inbound(mono, tx, leg, &req, peer).is_err() {
            self.trunk_release(leg);
            return;
        }
        self.map_leg(&call, leg);
        if !hooked.account_codes.is_empty() || hooked.popup_url.is_some() {
            self.hooked.insert(call.clone(), hooked);
        }
        let trunk = from_trunk.as_ref().map(|e| e.trunk.name.as_str());
        let name = super::channels::channel_name(&caller, trunk);
        self.channel_index.open(&tenant, name, leg);
        if let Some(c) = caller_id {
            self.caller_ids.insert(call.clone(), c);
        }
        self.inbound_legs.insert(leg);
        media.set_audio_codecs(&codecs);
        self.leg_media.insert(leg, media);
        self.leg_codecs.insert(leg, codecs);
        match offer {
            Some(o) => {
                self.leg_offer.insert(leg, o.codecs);
            }
            None => {
                self.delayed_offer.insert(leg);
            }
        }
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
            ring_timeout_ms: u64::from(ring_timeout_ms) * 1000,
            record,
            app,
            forwards,
            service,
        };
        if self.calls.handle_input(now, input).is_err() {
            // (Unreachable with fresh ids; never leave the leg's media and maps behind.)
            let mono = self.mono();
            self.ua.reject(mono, leg, 500, Vec::new());
            self.release(&call_id);
        }
    }

    fn ua_tx_open(&self, tx: ServerTxId) -> bool {
        self.ua.is_unanswered(tx)
    }
}
