//! The call core's [`LegAction`]s, executed on the user agent and the relay.

use super::Driver;
use crate::ua::InviteSpec;
use patchbay_api::{CallId, Side};
use patchbay_media::LegMedia;
use patchbay_media::sdp::{self, Direction as SdpDir};
use patchbay_proto::{LegAction, LegEvent, LegId, Target};
use patchbay_sip::core::Uri;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::{Peer, Transport, msg};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

/// The relay endpoint of the last outbound leg allocated: forks of one side share it.
pub(super) type ForkGroup = Option<(CallId, Side, Arc<LegMedia>)>;

/// Where an INVITE to a contact URI goes: the URI's host (an IP address) and port, over the
/// transport it names.
fn peer_of_uri(uri: &Uri) -> Option<Peer> {
    let ip: IpAddr = match &uri.host {
        patchbay_sip::core::Host::Address(ip) => *ip,
        patchbay_sip::core::Host::Domain(d) => d.parse().ok()?,
    };
    let transport = uri
        .parameters
        .iter()
        .find_map(|p| match p {
            patchbay_sip::core::types::param::Param::Transport(t) => Some(t.to_ascii_lowercase()),
            _ => None,
        })
        .map(|t| match t.as_str() {
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            _ => Transport::Udp,
        })
        .unwrap_or(Transport::Udp);
    Some(Peer::new(
        SocketAddr::new(ip, uri.port.unwrap_or(5060)),
        transport,
        None,
    ))
}

/// The extra headers of an INVITE: the request's own (checked by `header_refusal` when the
/// call was made) and, for an intercom leg, the two auto-answer forms phones understand:
/// `Call-Info` with `answer-after=0` (Snom, Yealink, Grandstream, Linphone) and `Alert-Info`
/// `info=alert-autoanswer` (Polycom, Cisco).
fn invite_headers(
    sip_host: &str,
    headers: &[(String, String)],
    auto_answer: bool,
    diversion: Option<(String, &'static str)>,
) -> Vec<TypedHeader> {
    let mut out: Vec<TypedHeader> = headers
        .iter()
        .map(|(n, v)| msg::raw(n, v.clone()))
        .collect();
    // A forwarded call says who it was for and why (RFC 5806).
    if let Some((user, reason)) = diversion {
        out.push(msg::raw(
            "Diversion",
            format!("<sip:{user}@{sip_host}>;reason={reason};counter=1"),
        ));
    }
    if auto_answer {
        out.push(msg::raw(
            "Call-Info",
            format!("<sip:{sip_host}>;answer-after=0"),
        ));
        out.push(msg::raw(
            "Alert-Info",
            format!("<sip:{sip_host}>;info=alert-autoanswer;delay=0"),
        ));
    }
    out
}

// === impl Driver ===

impl Driver {
    /// Where to send an INVITE for `target`: the contact URI's address (RFC 3261; phones
    /// behind NAT register a reachable contact or sit behind the SIP edge proxy), over the
    /// transport the URI names, else the one the contact registered over; with the Route
    /// headers of the contact's Path (see [`Driver::contact_peer`]).
    fn peer_for(&self, call: &CallId, target: &Target, uri: &Uri) -> Option<(Peer, Vec<String>)> {
        let tenant = self.calls.info(call)?.tenant;
        self.contact_peer(&tenant, target, uri)
    }

    /// Where requests to a registered contact of `tenant` go (see [`Driver::peer_for`]), and
    /// the Route headers they carry: a contact registered through an edge proxy with a Path
    /// (RFC 3327) is reached through it: the first Path entry's address, the Path as the
    /// request's Route.
    pub(super) fn contact_peer(
        &self,
        tenant: &str,
        target: &Target,
        uri: &Uri,
    ) -> Option<(Peer, Vec<String>)> {
        let mut peer = peer_of_uri(uri)?;
        let named = uri
            .parameters
            .iter()
            .any(|p| matches!(p, patchbay_sip::core::types::param::Param::Transport(_)));
        let binding = self.sh.location.lock().ok().and_then(|l| {
            l.lookup(tenant, &target.party, super::now_ms())
                .into_iter()
                .find(|b| b.contact == target.uri)
        });
        let Some(b) = binding else {
            return Some((peer, Vec::new()));
        };
        if let Some(first) = b.path.first() {
            let text = first.trim().trim_start_matches('<');
            let text = text.split('>').next().unwrap_or(text);
            let hop = text.parse::<Uri>().ok().and_then(|u| peer_of_uri(&u))?;
            return Some((hop, b.path));
        }
        if !named {
            peer.transport = match b.transport.as_str() {
                "tcp" => Transport::Tcp,
                "tls" => Transport::Tls,
                _ => Transport::Udp,
            };
        }
        // Over TCP/TLS the phone's registration connection is tried first.
        if peer.transport.is_reliable()
            && b.transport == peer.transport.as_str().to_ascii_lowercase()
        {
            peer.flow = b.flow;
        }
        Some((peer, Vec::new()))
    }

    /// Run one action; a failure comes back as a leg event for the core.
    pub(super) fn execute(
        &mut self,
        action: LegAction,
        group: &mut ForkGroup,
    ) -> Option<(LegId, LegEvent)> {
        let now = self.mono();
        match action {
            LegAction::Invite {
                call,
                leg,
                side,
                target,
                peer,
                headers,
                auto_answer,
                diversion,
            } => {
                let media = match group {
                    Some((c, s, m)) if *c == call && *s == side => m.clone(),
                    _ => match self.relay.alloc_leg() {
                        Ok(m) => m,
                        Err(_) => return Some((leg, LegEvent::Failed { status: 503 })),
                    },
                };
                *group = Some((call.clone(), side, media.clone()));
                self.map_leg(&call, leg);
                self.leg_media.insert(leg, media.clone());
                // An inbound caller's leg holds what may be offered on its behalf (or, once
                // answered, the agreed codec); an answered callee, its answer: offer one codec.
                let codecs = match peer {
                    Some(p) if self.inbound_legs.contains(&p) => self.leg_codecs.get(&p).cloned(),
                    Some(p) => self.leg_codecs.get(&p).map(|c| sdp::choose(c, None)),
                    None => None,
                }
                .unwrap_or_else(sdp::default_offer);
                self.sdp_version += 1;
                let offer = sdp::render(
                    media.local_rtp(),
                    leg.0,
                    self.sdp_version,
                    &codecs,
                    SdpDir::SendRecv,
                );
                // The phone shows who it is connected to: callers see the callee and vice versa.
                let shown = self
                    .calls
                    .info(&call)
                    .map(|i| {
                        if i.app {
                            // An application shows its caller id, or its own name.
                            if i.from.is_empty() {
                                "patchbay".to_string()
                            } else {
                                i.from
                            }
                        } else if side == Side::A {
                            i.to.first().cloned().unwrap_or_default()
                        } else {
                            i.from
                        }
                    })
                    .unwrap_or_default();
                // Out through a trunk: its address, credentials and caller ID.
                let (tenant, app) = self
                    .calls
                    .info(&call)
                    .map(|i| (i.tenant, i.app))
                    .unwrap_or_default();
                let via_trunk = match self.trunk_invite(&tenant, leg, &target) {
                    Ok(v) => v,
                    Err(status) => return Some((leg, LegEvent::Failed { status })),
                };
                let name = super::channels::channel_name(&target.party, target.trunk.as_deref());
                self.channel_index.open(&tenant, name, leg);
                // A caller ID the API (or the caller's settings) asked for (callees only: side
                // B, or an application call's one party), else the trunk's; a forwarded call
                // keeps its caller's (the Diversion header says who forwarded it, RFC 5806).
                let asked = self
                    .caller_ids
                    .get(&call)
                    .filter(|_| side == Side::B || app)
                    .cloned()
                    .or_else(|| {
                        via_trunk
                            .as_ref()
                            .filter(|_| diversion.is_none())
                            .and_then(|t| t.caller_id.clone())
                    });
                let (from_user, from_display, privacy) = match asked.as_ref() {
                    Some(patchbay_api::CallerId::Shown { number, name }) => (
                        number.clone(),
                        Some(name.clone().unwrap_or_else(|| number.clone())),
                        false,
                    ),
                    Some(patchbay_api::CallerId::Anonymous) => {
                        ("anonymous".to_string(), Some("Anonymous".to_string()), true)
                    }
                    None => (shown.clone(), Some(shown), false),
                };
                let mut headers = invite_headers(&self.sip_host, &headers, auto_answer, diversion);
                if privacy {
                    headers.push(msg::raw("Privacy", "id".to_string()));
                }
                let Ok(ruri) = target
                    .uri
                    .parse::<Uri>()
                    .map(|u| crate::ua::keep_user_as_written(u, &target.uri))
                else {
                    return Some((leg, LegEvent::Failed { status: 400 }));
                };
                let dest = match &via_trunk {
                    Some(t) => Some((t.peer, Vec::new())),
                    None => self.peer_for(&call, &target, &ruri),
                };
                let Some((dest, route)) = dest else {
                    // (Contacts by host name need DNS, RFC 3263: not resolved yet.)
                    tracing::info!(uri = %target.uri, "no address for the contact");
                    return Some((leg, LegEvent::Failed { status: 502 }));
                };
                headers.extend(route.into_iter().map(|r| msg::raw("Route", r)));
                let spec = InviteSpec {
                    ruri,
                    peer: dest,
                    from_user,
                    from_display,
                    to: None,
                    headers,
                    sdp: Some(offer),
                    credentials: via_trunk.and_then(|t| t.credentials),
                };
                if !self.ua.invite(now, leg, spec) {
                    return Some((leg, LegEvent::Failed { status: 503 }));
                }
                self.count_sent("INVITE");
                if let Some(t) = self.startable.remove(&call) {
                    self.sh
                        .metrics
                        .api_to_invite
                        .observe(t.elapsed().as_secs_f64());
                }
                self.invite_sent.insert(leg, Instant::now());
                None
            }
            LegAction::Ring { leg } => {
                // No SDP: the callee has not chosen a codec yet.
                if self.ua.ring(now, leg) {
                    self.sh.metrics.response("sent", "INVITE", 180);
                }
                None
            }
            LegAction::Answer { leg, peer } => {
                let chosen = self.leg_codecs.get(&peer).cloned();
                let codecs = match (self.leg_offer.get(&leg), chosen) {
                    // The caller gets the codec its callee chose, under the caller's numbers.
                    (Some(offer), Some(chosen)) => sdp::choose(offer, Some(&chosen)),
                    // Offerless INVITE: our 2xx offers what the callee chose.
                    (None, Some(chosen)) => chosen,
                    (_, None) => self.leg_codecs.get(&leg).cloned().unwrap_or_default(),
                };
                self.answer_with(now, leg, codecs)
            }
            LegAction::AnswerApp { leg } => {
                // The engine speaks G.711: the caller's first G.711 codec, and telephone-event
                // if it offered it; an offerless INVITE gets our offer (its ACK answers).
                let codecs = match self.leg_offer.get(&leg) {
                    Some(offer) => app_codecs(offer),
                    None => sdp::default_offer(),
                };
                if !codecs
                    .iter()
                    .any(|c| patchbay_media::engine::g711::Law::from_pt(c.pt).is_some())
                {
                    self.ua.reject(now, leg, 488, Vec::new());
                    self.sh.metrics.response("sent", "INVITE", 488);
                    return Some((leg, LegEvent::Ended));
                }
                self.answer_with(now, leg, codecs)
            }
            LegAction::Reject { leg, status } => {
                let mut headers = Vec::new();
                if status == 503 {
                    headers.push(msg::raw(
                        "Retry-After",
                        self.sh.cfg.retry_after_secs.to_string(),
                    ));
                }
                if self.ua.reject(now, leg, status, headers) {
                    self.sh
                        .metrics
                        .sip_rejected
                        .with_label_values(&[&status.to_string()])
                        .inc();
                    self.sh.metrics.response("sent", "INVITE", status);
                }
                None
            }
            LegAction::Cancel { leg } => {
                self.invite_sent.remove(&leg);
                self.ua.cancel(now, leg);
                self.count_sent("CANCEL");
                None
            }
            LegAction::Bye { leg } => {
                // A phone that asked for this transfer hears that it worked before its BYE.
                if let Some(call) = self.calls.call_of(leg).cloned()
                    && self.referrers.get(&call) == Some(&leg)
                {
                    self.referrers.remove(&call);
                    self.ua.notify_refer(now, leg, 200, true);
                }
                if self.ua.bye(now, leg) {
                    self.count_sent("BYE");
                } else {
                    // Not answered on the SIP side yet: a CANCEL ends it.
                    self.ua.cancel(now, leg);
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
                if self.ua.refer(now, leg, &uri) {
                    self.count_sent("REFER");
                    None
                } else {
                    Some((
                        leg,
                        LegEvent::ReferResult {
                            ok: false,
                            status: 500,
                        },
                    ))
                }
            }
            LegAction::Hold { leg, on } => {
                let dir = if on {
                    SdpDir::SendOnly
                } else {
                    SdpDir::SendRecv
                };
                let sdp = self.render_for(leg, dir)?;
                if self.ua.reinvite(now, leg, sdp) {
                    self.count_sent("INVITE");
                }
                None
            }
            LegAction::Attach { leg } => {
                self.attach(leg);
                None
            }
            LegAction::Detach { leg } => {
                self.detach(leg);
                None
            }
            LegAction::Media {
                call,
                leg,
                command,
                op,
            } => {
                self.media_command(&call, leg, command, op);
                None
            }
            LegAction::MediaStop { leg, command } => {
                self.media_stop(leg, command);
                None
            }
            LegAction::Record {
                call,
                command,
                recording,
                legs,
                layout,
                req,
            } => {
                self.record(call, command, recording, &legs, layout, req);
                None
            }
            LegAction::ConferenceMute { leg, muted } => {
                self.mute_in_room(leg, muted);
                None
            }
            LegAction::RecordStop { command } => {
                self.record_stop(command);
                None
            }
            LegAction::Release { call } => {
                self.release(&call);
                None
            }
        }
    }
}

/// What an application number answers with: the caller's first G.711 codec (in its order)
/// and telephone-event/8000 if offered.
fn app_codecs(offer: &[sdp::Codec]) -> Vec<sdp::Codec> {
    let audio = offer
        .iter()
        .find(|c| patchbay_media::engine::g711::Law::from_pt(c.pt).is_some());
    let te = offer.iter().find(|c| {
        c.rtpmap
            .to_ascii_lowercase()
            .starts_with("telephone-event/8000")
    });
    audio.into_iter().chain(te).cloned().collect()
}

// === impl Driver ===

impl Driver {
    /// Answer an inbound leg (200 OK) with `codecs` (an answer to its offer, or our offer
    /// when its INVITE had none); `Ended` for the core if the answer could not be sent.
    fn answer_with(
        &mut self,
        now: patchbay_sip::Ms,
        leg: LegId,
        codecs: Vec<sdp::Codec>,
    ) -> Option<(LegId, LegEvent)> {
        let offered = !self.delayed_offer.contains(&leg);
        if let Some(m) = self.leg_media.get(&leg) {
            m.set_audio_codecs(&codecs);
        }
        self.leg_codecs.insert(leg, codecs);
        let sdp = self.render_for(leg, SdpDir::SendRecv)?;
        if self.ua.answer(now, leg, sdp, !offered) {
            self.sh.metrics.response("sent", "INVITE", 200);
            None
        } else {
            Some((leg, LegEvent::Ended))
        }
    }
}
