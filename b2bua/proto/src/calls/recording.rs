//! Recordings: the `record` primitive on a bridged or application call, whole-call
//! recording from answer (`record` at originate, or the tenant's policy), and calls that
//! ended while recording.
//!
//! A recording ends when the driver reports its file closed and indexed
//! ([`Input::RecordingDone`](crate::Input::RecordingDone)), also after a hangup: the call
//! then waits in `closing` (its legs torn down already) and its `ended` event and CDR follow
//! the `recording_ready` events, so that `ended` stays the last event of every call. A
//! recording that does not report within [`CLOSE_WITHIN_MS`] ends with reason `error`.

use super::Calls;
use super::app::{Details, Kind, Pending, completion};
use super::voicemail::message_of;
use crate::call::{Call, side_index, state_name};
use crate::{CallError, LegAction, Ms, Output, RecordingDone};
use patchbay_api::{
    CallId, CallState, Cause, EndedBy, Event, EventKind, MediaReason, RecordLayout, RecordRequest,
    Side,
};

/// How long an ended call waits for its recordings to close.
pub(super) const CLOSE_WITHIN_MS: Ms = 5_000;

/// An ended call waiting for its recordings.
#[derive(Debug)]
pub(super) struct Closing {
    call: Call,
    ended_ms: Ms,
    cause: Cause,
    by: EndedBy,
    status: Option<u16>,
    deadline: Ms,
}

/// A recording's id: the call's id and the command's (both unique on the node).
fn recording_id(call: &CallId, command: u64) -> String {
    format!("{call}-r{command}")
}

// === impl Calls ===

impl Calls {
    pub(super) fn start_recording(
        &mut self,
        id: &CallId,
        command: u64,
        req: RecordRequest,
    ) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        if call.state != CallState::Bridged {
            return Err(CallError::InvalidState {
                action: "record",
                state: state_name(call.state),
            });
        }
        let legs = match req.side {
            Some(side) => match call.winner(side) {
                Some(l) => vec![l],
                None => {
                    return Err(CallError::InvalidState {
                        action: "record",
                        state: ["no leg on side a", "no leg on side b"][side_index(side)],
                    });
                }
            },
            None => [Side::A, Side::B]
                .into_iter()
                .filter_map(|s| call.winner(s))
                .collect(),
        };
        let layout = req.layout.unwrap_or(if legs.len() == 2 {
            RecordLayout::Stereo
        } else {
            RecordLayout::Mono
        });
        let recording = recording_id(id, command);
        call.media.push(Pending {
            command,
            side: req.side.unwrap_or(Side::A),
            kind: Kind::Record {
                id: recording.clone(),
                whole: req.side.is_none(),
                layout,
            },
        });
        self.out.push_back(Output::Leg(LegAction::Record {
            call: id.clone(),
            command,
            recording,
            legs,
            layout,
            req,
        }));
        Ok(())
    }

    /// The call was answered: record it whole if it asked to be (once: a transfer's new
    /// bridge does not start another).
    pub(super) fn record_at_answer(&mut self, id: &CallId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if !std::mem::take(&mut call.record) {
            return;
        }
        let command = self.alloc_command();
        let _ = self.start_recording(id, command, RecordRequest::default());
    }

    /// A call ended with recordings still closing: hold its end until they report.
    pub(super) fn close_later(
        &mut self,
        call: Call,
        ended_ms: Ms,
        cause: Cause,
        by: EndedBy,
        status: Option<u16>,
    ) {
        let deadline = ended_ms + CLOSE_WITHIN_MS;
        let id = call.id.clone();
        self.closing_deadlines.insert((deadline, id.clone()));
        self.closing.insert(
            id,
            Closing {
                call,
                ended_ms,
                cause,
                by,
                status,
                deadline,
            },
        );
    }

    pub(super) fn handle_recording_done(
        &mut self,
        now: Ms,
        id: &CallId,
        command: u64,
        done: RecordingDone,
    ) {
        let details = Details {
            played_ms: done.duration_ms,
            key: done.key,
            error: done.error,
            bytes: done.bytes,
            ..Details::default()
        };
        let recording_of = |k: &Option<EventKind>| match k {
            Some(EventKind::RecordingReady { recording, .. }) => Some(recording.clone()),
            _ => None,
        };
        if let Some(call) = self.calls.get_mut(id) {
            let kind = take_completion(call, command, done.reason, details);
            let recorded = recording_of(&kind).filter(|_| done.duration_ms > 0);
            let message = message_of(call, command, done.duration_ms, recording_of(&kind), now);
            let greeting = Calls::greeting_of(call, command, recorded);
            if let Some(kind) = kind {
                self.emit(now, id, kind);
            }
            if let Some(message) = message {
                self.out.extend(message);
                self.voicemail_done(now, id);
            }
            if let Some(greeting) = greeting {
                let kept = greeting.is_some();
                self.out.extend(greeting);
                self.greeting_done(id, kept);
            }
            return;
        }
        let Some(c) = self.closing.get_mut(id) else {
            return; // reported already (or overdue)
        };
        let kind = take_completion(&mut c.call, command, done.reason, details);
        let message = message_of(&c.call, command, done.duration_ms, recording_of(&kind), now);
        if let Some(kind) = kind {
            push_event(&mut self.out, &mut c.call, now, kind);
        }
        self.out.extend(message.flatten());
        if c.call.media.is_empty() {
            self.finish_closing(id);
        }
    }

    /// Ended calls still waiting for their recordings.
    pub fn closing(&self) -> usize {
        self.closing.len()
    }

    /// End every call still waiting for its recordings now (the node is stopping): their
    /// recordings end with `error`, then `ended` and the CDR.
    pub fn close_all_now(&mut self, now: Ms) {
        self.end_closing(now, Ms::MAX);
    }

    /// Closing calls past their deadline end now; their recordings end with `error`.
    pub(super) fn closing_overdue(&mut self, now: Ms) {
        self.end_closing(now, now);
    }

    /// End (at `now`) the closing calls whose deadline is at or before `cutoff`.
    fn end_closing(&mut self, now: Ms, cutoff: Ms) {
        while let Some((due, _)) = self.closing_deadlines.first() {
            if *due > cutoff {
                break;
            }
            let Some((due, id)) = self.closing_deadlines.pop_first() else {
                break;
            };
            let Some(c) = self.closing.get_mut(&id) else {
                continue;
            };
            if c.deadline != due {
                continue;
            }
            for p in std::mem::take(&mut c.call.media) {
                let d = Details {
                    error: Some("the recording was not closed in time".into()),
                    ..Details::default()
                };
                push_event(
                    &mut self.out,
                    &mut c.call,
                    now,
                    completion(&p, MediaReason::Error, d),
                );
            }
            self.finish_closing(&id);
        }
    }

    fn finish_closing(&mut self, id: &CallId) {
        if let Some(c) = self.closing.remove(id) {
            self.finish_call(c.call, c.ended_ms, c.cause, c.by, c.status);
        }
    }
}

/// The completion of recording `command` of `call`, once (`None`: not pending).
fn take_completion(
    call: &mut Call,
    command: u64,
    reason: MediaReason,
    d: Details,
) -> Option<patchbay_api::EventKind> {
    let pos = call
        .media
        .iter()
        .position(|p| p.command == command && matches!(p.kind, Kind::Record { .. }))?;
    let p = call.media.remove(pos);
    Some(completion(&p, reason, d))
}

/// An event of a call no longer in the live set.
fn push_event(
    out: &mut std::collections::VecDeque<Output>,
    call: &mut Call,
    now: Ms,
    kind: patchbay_api::EventKind,
) {
    call.seq += 1;
    out.push_back(Output::Event(Event {
        call: call.id.clone(),
        seq: call.seq,
        gseq: 0,
        at_ms: now,
        kind,
    }));
}
