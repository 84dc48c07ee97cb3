//! Leaving a message: when an inbound call to a user finds no one (busy, no answer, not
//! registered, do-not-disturb) and no forward takes it, the B2BUA answers the caller itself,
//! plays the user's greeting (or a spoken default), a beep, and records the caller (until
//! `#`, silence, the length limit or hangup). The recording becomes a message in the user's
//! mailbox ([`Output::Voicemail`]) whether the caller hung up or a limit ended it; then the
//! call ends. Each step is an ordinary primitive with its own completion event.

use super::Calls;
use crate::routing::Divert;
use crate::{LegAction, Ms, Output, Voicemail, VoicemailMessage};
use patchbay_api::{
    CallId, Cause, EndedBy, EventKind, MediaOp, PlayRequest, RecordLayout, RecordRequest, Side,
    ToneName, ToneRequest,
};

/// Silence that ends a message.
const SILENCE_MS: u64 = 5_000;

/// Where a caller leaving a message is.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    vm: Voicemail,
    step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Greeting(u64),
    Beep(u64),
    Recording(u64),
}

/// Recording `command` of `call` (live or closing) ended with `duration_ms` written: `None`
/// if it was no message; else the message for the mailbox (`None` inside when nothing was
/// recorded).
pub(super) fn message_of(
    call: &crate::call::Call,
    command: u64,
    duration_ms: u64,
    recording: Option<String>,
    now: Ms,
) -> Option<Option<Output>> {
    let session = call.voicemail.as_ref()?;
    if session.step != Step::Recording(command) {
        return None;
    }
    Some(recording.filter(|_| duration_ms > 0).map(|recording| {
        Output::Mailbox(crate::MailboxAction::Store(VoicemailMessage {
            call: call.id.clone(),
            tenant: call.tenant.clone(),
            mailbox: session.vm.mailbox.clone(),
            from: call.from.clone(),
            recording,
            duration_ms,
            at_ms: now,
        }))
    }))
}

// === impl Calls ===

impl Calls {
    /// Answer the caller of inbound call `id` for `vm`'s mailbox and start the greeting.
    pub(super) fn start_voicemail(&mut self, now: Ms, id: &CallId, vm: Voicemail, why: Divert) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(a) = call.a else { return };
        // Already served by the engine (an attendant's caller): it just goes on there.
        let served = std::mem::replace(&mut call.app, true);
        // An inbound caller is answered here; an API call's caller answered its phone.
        let inbound = call.leg(a).is_some_and(|l| l.inbound);
        if let Some(l) = call.leg_mut(a) {
            l.state = crate::call::LegState::Answered;
        }
        let from = std::mem::take(&mut call.forwards.ring);
        if inbound && !served {
            self.out
                .push_back(Output::Leg(LegAction::AnswerApp { leg: a }));
        }
        self.emit(
            now,
            id,
            EventKind::Forwarded {
                from,
                to: "voicemail".into(),
                reason: why.reason().into(),
            },
        );
        if !served {
            self.app_answered(now, id, a);
        }
        let step = if vm.greeting.is_none() && vm.greeting_text.is_none() {
            // No greeting (sipX's `none`): the beep at once.
            Step::Beep(self.run_op(id, beep_op()))
        } else {
            let play = MediaOp::Play(PlayRequest {
                side: Side::A,
                // The user's recorded greeting if there is one, else the spoken default (for
                // the B2BUA's own plays, a file and a text mean "the file, else the text").
                file: vm.greeting.clone(),
                url: None,
                text: vm.greeting_text.clone(),
                recording: None,
                voice: None,
                repeat: false,
                barge_in: false,
            });
            Step::Greeting(self.run_op(id, play))
        };
        if let Some(call) = self.calls.get_mut(id) {
            call.voicemail = Some(Session { vm, step });
        }
    }

    /// A primitive of `id` ended: the voicemail's next step, if it was one.
    pub(super) fn voicemail_after(&mut self, id: &CallId, command: u64) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(session) = call.voicemail.clone() else {
            return;
        };
        let next = match session.step {
            Step::Greeting(c) if c == command => Step::Beep(self.run_op(id, beep_op())),
            Step::Beep(c) if c == command => {
                let c = self.alloc_command();
                let req = RecordRequest {
                    side: Some(Side::A),
                    layout: Some(RecordLayout::Mono),
                    max_ms: Some(session.vm.max_ms),
                    silence_ms: Some(SILENCE_MS),
                    stop_keys: "#".into(),
                };
                if self.start_recording(id, c, req).is_err() {
                    return;
                }
                Step::Recording(c)
            }
            _ => return,
        };
        if let Some(call) = self.calls.get_mut(id) {
            call.voicemail = Some(Session {
                step: next,
                ..session
            });
        }
    }

    /// The message is in: the call ends (the caller is sent BYE).
    pub(super) fn voicemail_done(&mut self, now: Ms, id: &CallId) {
        self.end_call(now, id, Cause::Normal, EndedBy::System, None);
    }
}

pub(super) fn beep_op() -> MediaOp {
    MediaOp::Tone(ToneRequest {
        side: Side::A,
        tone: ToneName::Beep,
        duration_ms: None,
        barge_in: false,
    })
}
