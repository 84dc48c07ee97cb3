//! Media wiring of legs: our SDP for each leg (always the relay's address), codec choice
//! without transcoding, and the offers and answers phones send mid-call (hold, resume,
//! delayed offer).

use super::Driver;
use patchbay_media::sdp::{self, Codec, Direction as SdpDir};
use patchbay_proto::LegId;
use std::net::SocketAddr;

/// The direction of an SDP body (`a=sendonly` ...; `sendrecv` when none is given).
pub(super) fn direction_of(body: &str) -> SdpDir {
    for line in body.lines() {
        match line.trim() {
            "a=sendonly" => return SdpDir::SendOnly,
            "a=recvonly" => return SdpDir::RecvOnly,
            "a=inactive" => return SdpDir::Inactive,
            _ => {}
        }
    }
    SdpDir::SendRecv
}

/// The answer's direction for an offer's (RFC 3264 6.1).
fn mirror(d: SdpDir) -> SdpDir {
    match d {
        SdpDir::SendOnly => SdpDir::RecvOnly,
        SdpDir::RecvOnly => SdpDir::SendOnly,
        other => other,
    }
}

/// An address RTP can be sent to (not the RFC 2543 hold address 0.0.0.0, not port 0).
fn usable_addr(a: SocketAddr) -> bool {
    !a.ip().is_unspecified() && a.port() != 0
}

// === impl Driver ===

impl Driver {
    /// Our SDP for `leg` with its codecs and direction `dir`.
    pub(super) fn render_for(&mut self, leg: LegId, dir: SdpDir) -> Option<String> {
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

    /// The other answered leg of `leg`'s call (its bridge peer).
    pub(super) fn bridge_peer(&self, leg: LegId) -> Option<LegId> {
        let call = self.calls.call_of(leg)?;
        let legs = self.call_legs.get(call)?;
        legs.iter().copied().find(|l| {
            *l != leg
                && self
                    .calls
                    .leg(*l)
                    .is_some_and(|x| x.state == patchbay_proto::LegState::Answered)
        })
    }

    /// A callee's answer we can use: an SDP with an audio codec, and one that the call's
    /// inbound caller offered too (the relay does not transcode).
    pub(super) fn usable_answer(&self, leg: LegId, answer: Option<&str>) -> Option<sdp::AudioDesc> {
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

    /// The phone's answer in an ACK (to the offer in our 2xx): where its RTP goes, and
    /// whether it kept a codec of ours. `false` if unusable.
    pub(super) fn take_ack_answer(&mut self, leg: LegId, body: &str) -> bool {
        let Ok(desc) = sdp::parse(body) else {
            return false;
        };
        let ours = self.leg_codecs.get(&leg).cloned().unwrap_or_default();
        let agreed: Vec<Codec> = sdp::choose(&desc.codecs, Some(&ours));
        if !sdp::has_audio(&agreed) {
            return false;
        }
        if let Some(m) = self.leg_media.get(&leg) {
            if usable_addr(desc.rtp) {
                m.set_remote(desc.rtp);
            }
            m.set_audio_codecs(&agreed);
        }
        self.leg_codecs.insert(leg, agreed);
        true
    }

    /// A re-INVITE or UPDATE from a leg's phone: answer it with the relay's address, the
    /// codec already agreed and the mirrored direction; pass the direction on to the other
    /// leg (a phone's hold is heard as hold on the other side). An offerless re-INVITE gets
    /// our offer (its answer comes with the ACK).
    pub(super) fn handle_reoffer(&mut self, leg: LegId, offer: Option<String>) {
        let now = self.mono();
        let Some(body) = offer else {
            let ours = self.render_for(leg, SdpDir::SendRecv);
            self.ua.answer_offer(now, leg, ours.ok_or(500));
            return;
        };
        let Ok(desc) = sdp::parse(&body) else {
            self.ua.answer_offer(now, leg, Err(488));
            return;
        };
        let current = self.leg_codecs.get(&leg).cloned().unwrap_or_default();
        let agreed = sdp::choose(&desc.codecs, Some(&current));
        if !sdp::has_audio(&agreed) {
            self.ua.answer_offer(now, leg, Err(488));
            return;
        }
        if let Some(m) = self.leg_media.get(&leg)
            && usable_addr(desc.rtp)
        {
            m.set_remote(desc.rtp);
        }
        let dir = direction_of(&body);
        let answer = self.render_for(leg, mirror(dir));
        self.ua.answer_offer(now, leg, answer.ok_or(500));
        if let Some(other) = self.bridge_peer(leg)
            && let Some(sdp) = self.render_for(other, dir)
            && self.ua.reinvite(now, other, sdp)
        {
            self.sh
                .metrics
                .sip_requests_sent
                .with_label_values(&["INVITE"])
                .inc();
        }
    }

    /// The answer to our re-INVITE: follow the phone if it moved its media.
    pub(super) fn take_reinvite_answer(&mut self, leg: LegId, answer: Option<&str>) {
        let Some(desc) = answer.and_then(|a| sdp::parse(a).ok()) else {
            return;
        };
        if let Some(m) = self.leg_media.get(&leg)
            && usable_addr(desc.rtp)
        {
            m.set_remote(desc.rtp);
        }
    }
}
