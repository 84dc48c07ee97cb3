//! Applications: calls held by the B2BUA's media engine, and the media primitives on them.
//!
//! An application call rings its party as side A; on answer the leg is *attached* to the
//! engine ([`LegAction::Attach`]) instead of bridged, and the call counts as connected
//! (`bridged` in its state). Each primitive gets a command id, becomes a
//! [`LegAction::Media`] for the driver, and is pending until the engine reports its end: then
//! exactly one completion event. When the call ends first, every pending primitive ends here
//! with reason `hangup`, before the call's `ended` event.

use super::Calls;
use crate::call::{Call, side_index, state_name};
use crate::{CallError, LegAction, LegId, MediaEvent, Ms, Output};
use patchbay_api::{
    CallId, CallState, Cause, EndedBy, Event, EventKind, MediaOp, MediaReason, RecordLayout, Side,
};

/// A primitive waiting for its end.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) command: u64,
    pub(crate) side: Side,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Play,
    Collect,
    Dtmf,
    Tone,
    /// A leg in a conference room (see `conference`), until it leaves.
    Conference {
        room: String,
        muted: bool,
    },
    /// A recording (see `recording`): of one leg (`whole` false: of `side`) or of the call.
    Record {
        id: String,
        whole: bool,
        layout: RecordLayout,
    },
}

impl Kind {
    fn of(op: &MediaOp) -> Self {
        match op {
            MediaOp::Play(_) => Kind::Play,
            MediaOp::Collect(_) => Kind::Collect,
            MediaOp::Dtmf(_) => Kind::Dtmf,
            MediaOp::Tone(_) => Kind::Tone,
            MediaOp::Conference(r) => Kind::Conference {
                room: r.room.clone(),
                muted: r.muted,
            },
            MediaOp::Record(_) => unreachable!("recordings start in calls::recording"),
        }
    }
}

/// The name of a primitive in errors.
pub(super) fn action_name(op: &MediaOp) -> &'static str {
    match op {
        MediaOp::Play(_) => "play",
        MediaOp::Collect(_) => "collect",
        MediaOp::Dtmf(_) => "dtmf",
        MediaOp::Tone(_) => "tone",
        MediaOp::Record(_) => "record",
        MediaOp::Conference(_) => "conference",
    }
}

/// The completion event of `p` with `reason` and the engine's details.
pub(super) fn completion(p: &Pending, reason: MediaReason, d: Details) -> EventKind {
    let (command, side) = (p.command, p.side);
    match &p.kind {
        Kind::Play => EventKind::PlayFinished {
            command,
            side,
            reason,
            played_ms: d.played_ms,
            key: d.key.map(String::from),
            error: d.error,
        },
        Kind::Collect => EventKind::Digits {
            command,
            side,
            digits: d.digits.unwrap_or_default(),
            reason,
            ok: d.ok,
            key: d.key.map(String::from),
        },
        Kind::Dtmf => EventKind::DtmfSent {
            command,
            side,
            reason,
        },
        Kind::Tone => EventKind::ToneFinished {
            command,
            side,
            reason,
            played_ms: d.played_ms,
        },
        Kind::Conference { room, .. } => EventKind::ConferenceLeft {
            command,
            side,
            room: room.clone(),
            reason,
        },
        Kind::Record { id, whole, layout } => EventKind::RecordingReady {
            command,
            recording: id.clone(),
            side: (!whole).then_some(side),
            layout: *layout,
            reason,
            duration_ms: d.played_ms,
            bytes: d.bytes,
            key: d.key.map(String::from),
            error: d.error,
        },
    }
}

#[derive(Debug, Default)]
pub(super) struct Details {
    /// Played, or recorded.
    pub(super) played_ms: u64,
    pub(super) digits: Option<String>,
    pub(super) ok: bool,
    pub(super) key: Option<char>,
    pub(super) error: Option<String>,
    pub(super) bytes: u64,
}

/// Stop everything but recordings pending on `call` (its party leaves the engine): a stop for
/// each and its completion event (`stopped`).
pub(super) fn stop_all(call: &mut Call, now: Ms) -> Vec<Output> {
    let (records, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut call.media)
        .into_iter()
        .partition(|p| matches!(p.kind, Kind::Record { .. }));
    call.media = records;
    let leg = call.a;
    let mut out = Vec::new();
    for p in pending {
        if let Some(leg) = leg {
            out.push(Output::Leg(LegAction::MediaStop {
                leg,
                command: p.command,
            }));
        }
        call.seq += 1;
        out.push(Output::Event(Event {
            call: call.id.clone(),
            seq: call.seq,
            gseq: 0,
            at_ms: now,
            kind: completion(&p, MediaReason::Stopped, Details::default()),
        }));
    }
    out
}

/// The completion events of everything still pending on `call` (it is ending), numbered
/// after the call's events so far; recordings are told to stop instead and stay pending
/// (they end when their file is closed).
pub(super) fn hangup_all(call: &mut Call, now: Ms) -> Vec<Output> {
    let (records, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut call.media)
        .into_iter()
        .partition(|p| matches!(p.kind, Kind::Record { .. }));
    let mut out: Vec<Output> = records
        .iter()
        .map(|p| Output::Leg(LegAction::RecordStop { command: p.command }))
        .collect();
    call.media = records;
    out.extend(pending.iter().map(|p| {
        call.seq += 1;
        Output::Event(Event {
            call: call.id.clone(),
            seq: call.seq,
            gseq: 0,
            at_ms: now,
            kind: completion(p, MediaReason::Hangup, Details::default()),
        })
    }));
    out
}

// === impl Calls ===

impl Calls {
    /// A fresh id for a media primitive (unique on this node).
    pub fn alloc_command(&mut self) -> u64 {
        self.next_command += 1;
        self.next_command
    }

    /// An application call's party answered: the engine takes the leg.
    pub(super) fn app_answered(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.state != CallState::Bridged {
            self.bridged += 1;
        }
        call.state = CallState::Bridged;
        call.answered_ms = Some(now);
        self.out.push_back(Output::Leg(LegAction::Attach { leg }));
        self.record_at_answer(id);
        // A room's invite: the party joins the room now.
        let room = self.calls.get_mut(id).and_then(|c| c.join_room.take());
        if let Some(room) = room {
            let command = self.alloc_command();
            let op = MediaOp::Conference(patchbay_api::ConferenceRequest {
                side: Side::A,
                room,
                muted: false,
                tones: true,
                record: false,
            });
            if self.handle_media(now, id, command, op).is_err() {
                self.end_call(now, id, Cause::Failed, EndedBy::System, None);
            }
        }
    }

    /// A call to an application number: answered here, the caller attached to the engine,
    /// `incoming` then `answered` on the call's (and the tenant's) feed.
    pub(super) fn answer_app_number(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let (tenant, from, number) = (
            call.tenant.clone(),
            call.from.clone(),
            call.to.first().cloned().unwrap_or_default(),
        );
        if let Some(l) = call.leg_mut(leg) {
            l.state = crate::call::LegState::Answered;
        }
        self.out
            .push_back(Output::Leg(LegAction::AnswerApp { leg }));
        self.emit(
            now,
            id,
            EventKind::Incoming {
                tenant,
                from: from.clone(),
                number,
            },
        );
        self.emit(
            now,
            id,
            EventKind::Answered {
                side: Side::A,
                party: from,
            },
        );
        self.app_answered(now, id, leg);
    }

    pub(super) fn handle_media(
        &mut self,
        now: Ms,
        id: &CallId,
        command: u64,
        op: MediaOp,
    ) -> Result<(), CallError> {
        if let MediaOp::Record(req) = op {
            return self.start_recording(id, command, req);
        }
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let action = action_name(&op);
        if call.state != CallState::Bridged {
            return Err(CallError::InvalidState {
                action,
                state: state_name(call.state),
            });
        }
        let side = op.side();
        let Some(leg) = call.winner(side) else {
            return Err(CallError::InvalidState {
                action,
                state: ["no leg on side a", "no leg on side b"][side_index(side)],
            });
        };
        super::conference::check_leg_free(call, side, &op)?;
        let kind = Kind::of(&op);
        let joined = match &kind {
            Kind::Conference { room, .. } => Some(EventKind::ConferenceJoined {
                command,
                side,
                room: room.clone(),
            }),
            _ => None,
        };
        call.media.push(Pending {
            command,
            side,
            kind,
        });
        self.out.push_back(Output::Leg(LegAction::Media {
            call: id.clone(),
            leg,
            command,
            op,
        }));
        if let Some(ev) = joined {
            self.emit(now, id, ev);
        }
        Ok(())
    }

    pub(super) fn handle_media_stop(&mut self, id: &CallId, command: u64) -> Result<(), CallError> {
        let call = self
            .calls
            .get(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let p = call
            .media
            .iter()
            .find(|p| p.command == command)
            .ok_or(CallError::UnknownCommand(command))?;
        if matches!(p.kind, Kind::Record { .. }) {
            self.out
                .push_back(Output::Leg(LegAction::RecordStop { command }));
        } else if let Some(leg) = call.winner(p.side) {
            self.out
                .push_back(Output::Leg(LegAction::MediaStop { leg, command }));
        }
        Ok(())
    }

    pub(super) fn handle_media_event(&mut self, now: Ms, leg: LegId, event: MediaEvent) {
        let Some(id) = self.leg_index.get(&leg).cloned() else {
            return; // the call ended: its primitives were ended with it
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(side) = call.leg(leg).map(|l| l.side) else {
            return;
        };
        let mut done: Option<(u64, Option<String>)> = None;
        let kind = match event {
            MediaEvent::Key(key) => EventKind::Dtmf {
                side,
                key: key.to_string(),
            },
            MediaEvent::Done {
                command,
                reason,
                played_ms,
                digits,
                ok,
                key,
                error,
            } => {
                let Some(pos) = call.media.iter().position(|p| p.command == command) else {
                    return; // ended already (reported once)
                };
                let p = call.media.remove(pos);
                done = Some((command, digits.clone()));
                let d = Details {
                    played_ms,
                    digits,
                    ok,
                    key,
                    error,
                    bytes: 0,
                };
                completion(&p, reason, d)
            }
        };
        self.emit(now, &id, kind);
        if let Some((command, digits)) = done {
            self.voicemail_after(&id, command);
            self.access_after(now, &id, command, digits.clone());
            self.entry_after(now, &id, command, digits.clone());
            self.attendant_after(now, &id, command, digits);
            self.queue_after(now, &id, command);
            self.notice_after(now, &id, command);
        }
    }
}
