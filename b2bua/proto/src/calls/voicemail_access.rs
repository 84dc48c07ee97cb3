//! Listening to one's voicemail by phone: a user dials the voicemail number; the B2BUA answers,
//! asks for the PIN (keys, then `#`; three tries), says how many new messages wait, plays
//! each one and then offers 7 (delete), 9 (save) or `#` (next: it stays new); then 3 records
//! a greeting (1 standard, 2 out of office, 3 extended absence: a prompt, the beep, the
//! recording until `#` or silence, kept by the driver: [`MailboxAction::Greeting`]); and says
//! goodbye. The PIN is checked and the messages listed by the driver
//! ([`MailboxAction::Login`], answered by [`Input::VoicemailLogin`](crate::Input)); moves
//! are [`MailboxAction::Move`]. Every step is an ordinary primitive with its own event.

use super::Calls;
use super::app::{Kind, Pending};
use super::prompts::{keys, say};
use crate::{LegAction, LegId, MailboxAction, Ms, Output};
use patchbay_api::{CallId, Cause, EndedBy, MediaOp, PlayRequest, Side};
use std::collections::VecDeque;

/// PIN tries before goodbye.
const TRIES: u8 = 3;

/// A user listening to its mailbox.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    mailbox: String,
    step: Step,
    tries: u8,
    /// New messages not played yet: (id, recording).
    queue: VecDeque<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Waiting for the PIN collection.
    Pin(u64),
    /// The driver checks the PIN.
    Verifying,
    /// "You have N new messages."
    Announce(u64),
    /// A message plays.
    Message(u64, String),
    /// The menu after a message (its collection), for that message.
    Menu(u64, String),
    /// "To record a greeting, press 3": its collection.
    Options(u64),
    /// Which greeting: its collection.
    Choose(u64),
    /// "Record your greeting after the tone", then the beep, then the recording.
    GreetingPrompt(u64, &'static str),
    GreetingBeep(u64, &'static str),
    Recording(u64, &'static str),
    /// The last words; then the call ends.
    Goodbye(u64),
}

/// Longest greeting.
const GREETING_MAX_MS: u64 = 60_000;

impl Access {
    pub(crate) fn new(mailbox: String) -> Self {
        Self {
            mailbox,
            step: Step::Verifying,
            tries: 0,
            queue: VecDeque::new(),
        }
    }
}

// === impl Calls ===

impl Calls {
    /// Answer a caller of the voicemail number and ask for its PIN.
    pub(super) fn start_access(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Some(l) = call.leg_mut(leg) {
            l.state = crate::call::LegState::Answered;
        }
        self.out
            .push_back(Output::Leg(LegAction::AnswerApp { leg }));
        self.app_answered(now, id, leg);
        self.ask_pin(id, "Please enter your voicemail PIN, then the hash key.");
    }

    fn ask_pin(&mut self, id: &CallId, prompt: &str) {
        self.run_op(id, say(prompt, true));
        let c = self.run_op(id, keys(12, "#", 10_000));
        self.set_step(id, Step::Pin(c));
    }

    fn goodbye(&mut self, id: &CallId, text: &str) {
        let c = self.run_op(id, say(text, false));
        self.set_step(id, Step::Goodbye(c));
    }

    fn set_step(&mut self, id: &CallId, step: Step) {
        if let Some(a) = self.calls.get_mut(id).and_then(|c| c.access.as_mut()) {
            a.step = step;
        }
    }

    /// The next new message, or goodbye.
    fn next_message(&mut self, id: &CallId) {
        let next = self
            .calls
            .get_mut(id)
            .and_then(|c| c.access.as_mut())
            .and_then(|a| a.queue.pop_front());
        match next {
            Some((msg, recording)) => {
                let c = self.run_op(
                    id,
                    MediaOp::Play(PlayRequest {
                        side: Side::A,
                        file: None,
                        url: None,
                        text: None,
                        recording: Some(recording),
                        voice: None,
                        repeat: false,
                        barge_in: false,
                    }),
                );
                self.set_step(id, Step::Message(c, msg));
            }
            None => {
                self.run_op(
                    id,
                    say(
                        "No more new messages. To record a greeting, press 3. \
                         Otherwise, hang up or press the hash key.",
                        true,
                    ),
                );
                let c = self.run_op(id, keys(1, "", 5_000));
                self.set_step(id, Step::Options(c));
            }
        }
    }

    /// Recording `command` of `call` ended with `recording` (`None`: nothing recorded):
    /// `None` if it was no greeting; else the greeting for the mailbox (`None` inside when
    /// nothing was recorded).
    pub(super) fn greeting_of(
        call: &crate::call::Call,
        command: u64,
        recording: Option<String>,
    ) -> Option<Option<Output>> {
        let access = call.access.as_ref()?;
        let Step::Recording(c, greeting) = access.step else {
            return None;
        };
        (c == command).then_some(())?;
        Some(recording.map(|recording| {
            Output::Mailbox(MailboxAction::Greeting {
                tenant: call.tenant.clone(),
                mailbox: access.mailbox.clone(),
                greeting,
                recording,
            })
        }))
    }

    /// A greeting recording ended (kept, or not): say so and goodbye.
    pub(super) fn greeting_done(&mut self, id: &CallId, kept: bool) {
        let text = if kept {
            "Your greeting is saved. Goodbye."
        } else {
            "Nothing was recorded. Goodbye."
        };
        self.goodbye(id, text);
    }

    /// A primitive of `id` ended (`digits` for a collection): the listening's next step.
    pub(super) fn access_after(
        &mut self,
        now: Ms,
        id: &CallId,
        command: u64,
        digits: Option<String>,
    ) {
        let Some(access) = self.calls.get(id).and_then(|c| c.access.clone()) else {
            return;
        };
        match access.step {
            Step::Pin(c) if c == command => match digits.filter(|d| !d.is_empty()) {
                Some(pin) => {
                    let tenant = self
                        .calls
                        .get(id)
                        .map(|c| c.tenant.clone())
                        .unwrap_or_default();
                    self.out.push_back(Output::Mailbox(MailboxAction::Login {
                        call: id.clone(),
                        tenant,
                        mailbox: access.mailbox.clone(),
                        pin,
                    }));
                    self.set_step(id, Step::Verifying);
                }
                None => self.goodbye(id, "Goodbye."),
            },
            Step::Announce(c) if c == command => self.next_message(id),
            Step::Message(c, msg) if c == command => {
                self.run_op(
                    id,
                    say(
                        "Press 7 to delete, 9 to save, or the hash key for the next message.",
                        true,
                    ),
                );
                let c = self.run_op(id, keys(1, "", 5_000));
                self.set_step(id, Step::Menu(c, msg));
            }
            Step::Menu(c, msg) if c == command => {
                let folder = match digits.as_deref() {
                    Some("7") => Some("deleted"),
                    Some("9") => Some("saved"),
                    _ => None,
                };
                if let (Some(folder), Some(call)) = (folder, self.calls.get(id)) {
                    self.out.push_back(Output::Mailbox(MailboxAction::Move {
                        tenant: call.tenant.clone(),
                        mailbox: access.mailbox.clone(),
                        id: msg,
                        folder,
                    }));
                }
                self.next_message(id);
            }
            Step::Options(c) if c == command => match digits.as_deref() {
                Some("3") => {
                    self.run_op(
                        id,
                        say(
                            "Press 1 for your standard greeting, 2 for out of office, \
                             3 for extended absence.",
                            true,
                        ),
                    );
                    let c = self.run_op(id, keys(1, "", 5_000));
                    self.set_step(id, Step::Choose(c));
                }
                _ => self.goodbye(id, "Goodbye."),
            },
            Step::Choose(c) if c == command => {
                let greeting = match digits.as_deref() {
                    Some("1") => "standard",
                    Some("2") => "outofoffice",
                    Some("3") => "extendedabsence",
                    _ => return self.goodbye(id, "Goodbye."),
                };
                let c = self.run_op(
                    id,
                    say(
                        "Record your greeting after the tone, then press the hash key.",
                        false,
                    ),
                );
                self.set_step(id, Step::GreetingPrompt(c, greeting));
            }
            Step::GreetingPrompt(c, greeting) if c == command => {
                let c = self.run_op(id, super::voicemail::beep_op());
                self.set_step(id, Step::GreetingBeep(c, greeting));
            }
            Step::GreetingBeep(c, greeting) if c == command => {
                let c = self.alloc_command();
                let req = patchbay_api::RecordRequest {
                    side: Some(Side::A),
                    layout: Some(patchbay_api::RecordLayout::Mono),
                    max_ms: Some(GREETING_MAX_MS),
                    silence_ms: Some(5_000),
                    stop_keys: "#".into(),
                };
                if self.start_recording(id, c, req).is_ok() {
                    self.set_step(id, Step::Recording(c, greeting));
                } else {
                    self.goodbye(id, "Goodbye.");
                }
            }
            Step::Goodbye(c) if c == command => {
                self.end_call(now, id, Cause::Normal, EndedBy::System, None);
            }
            _ => {}
        }
    }

    /// The driver checked the PIN (and listed the new messages).
    pub(super) fn handle_voicemail_login(
        &mut self,
        _now: Ms,
        id: &CallId,
        ok: bool,
        messages: Vec<(String, String)>,
    ) {
        let Some(access) = self.calls.get_mut(id).and_then(|c| c.access.as_mut()) else {
            return;
        };
        if access.step != Step::Verifying {
            return;
        }
        if !ok {
            access.tries += 1;
            if access.tries >= TRIES {
                self.goodbye(id, "Wrong PIN. Goodbye.");
            } else {
                self.ask_pin(id, "Wrong PIN. Please try again, then the hash key.");
            }
            return;
        }
        let n = messages.len();
        access.queue = messages.into();
        let text = match n {
            0 => "You have no new messages.".to_string(),
            1 => "You have one new message.".to_string(),
            n => format!("You have {n} new messages."),
        };
        let c = self.run_op(id, say(&text, false));
        self.set_step(id, Step::Announce(c));
    }

    /// Run `op` on side A of `id` as a primitive of the B2BUA's own; its command id.
    pub(super) fn run_op(&mut self, id: &CallId, op: MediaOp) -> u64 {
        let command = self.alloc_command();
        let Some(call) = self.calls.get_mut(id) else {
            return command;
        };
        let Some(leg) = call.a else { return command };
        call.media.push(Pending {
            command,
            side: Side::A,
            kind: match &op {
                MediaOp::Play(_) => Kind::Play,
                MediaOp::Collect(_) => Kind::Collect,
                _ => Kind::Tone,
            },
        });
        self.out.push_back(Output::Leg(LegAction::Media {
            call: id.clone(),
            leg,
            command,
            op,
        }));
        command
    }
}
