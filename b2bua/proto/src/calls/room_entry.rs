//! Dialling into a conference room: the B2BUA answers, asks for the PIN (keys, then `#`;
//! three tries) unless the room has none, refuses a full room, says the caller is joining,
//! then joins it to the room (an ordinary `conference` primitive: the member list, mute and
//! leaving work as for API joins). The participant and moderator PINs both let in.

use super::Calls;
use super::prompts::{keys, say};
use crate::{LegId, Ms};
use patchbay_api::{CallId, Cause, ConferenceRequest, ConferenceRoom, EndedBy, MediaOp, Side};

/// PIN tries before goodbye.
const TRIES: u8 = 3;

/// A caller on its way into a room.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    room: ConferenceRoom,
    step: Step,
    tries: u8,
    /// It typed the moderator's PIN.
    pub(crate) moderator: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Pin(u64),
    Joining(u64),
    Joined,
    Goodbye(u64),
}

impl Entry {
    pub(crate) fn new(room: ConferenceRoom) -> Self {
        Self {
            room,
            step: Step::Joined,
            tries: 0,
            moderator: false,
        }
    }
}

// === impl Calls ===

impl Calls {
    /// Answer a caller of a room's extension; ask for the PIN, or join at once.
    pub(super) fn start_room_entry(&mut self, now: Ms, id: &CallId, leg: LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Some(l) = call.leg_mut(leg) {
            l.state = crate::call::LegState::Answered;
        }
        self.out
            .push_back(crate::Output::Leg(crate::LegAction::AnswerApp { leg }));
        self.app_answered(now, id, leg);
        self.enter_room(now, id);
    }

    /// The caller (answered, served by the engine) is asked for the PIN, or let in.
    pub(super) fn enter_room(&mut self, now: Ms, id: &CallId) {
        let open = self
            .calls
            .get(id)
            .and_then(|c| c.entry.as_ref())
            .is_some_and(|e| e.room.pin.is_none() && e.room.moderator_pin.is_none());
        if open {
            self.admit(now, id);
        } else {
            self.ask_room_pin(id, "Please enter the conference PIN, then the hash key.");
        }
    }

    fn ask_room_pin(&mut self, id: &CallId, prompt: &str) {
        self.run_op(id, say(prompt, true));
        let c = self.run_op(id, keys(12, "#", 10_000));
        self.set_entry_step(id, Step::Pin(c));
    }

    fn set_entry_step(&mut self, id: &CallId, step: Step) {
        if let Some(e) = self.calls.get_mut(id).and_then(|c| c.entry.as_mut()) {
            e.step = step;
        }
    }

    fn entry_goodbye(&mut self, id: &CallId, text: &str) {
        let c = self.run_op(id, say(text, false));
        self.set_entry_step(id, Step::Goodbye(c));
    }

    /// The PIN was right (or none is needed): in, unless the room is full.
    fn admit(&mut self, _now: Ms, id: &CallId) {
        let Some((tenant, room)) = self
            .calls
            .get(id)
            .and_then(|c| Some((c.tenant.clone(), c.entry.as_ref()?.room.clone())))
        else {
            return;
        };
        if room.locked {
            return self.entry_goodbye(id, "The conference is locked. Goodbye.");
        }
        let members = self.conference_members(&tenant, &room.name).len();
        if room.max_members > 0 && members >= room.max_members as usize {
            return self.entry_goodbye(id, "The conference is full. Goodbye.");
        }
        let c = self.run_op(id, say("You are now joining the conference.", false));
        self.set_entry_step(id, Step::Joining(c));
    }

    /// A primitive of `id` ended (`digits` for a collection): the entry's next step.
    pub(super) fn entry_after(
        &mut self,
        now: Ms,
        id: &CallId,
        command: u64,
        digits: Option<String>,
    ) {
        let Some(entry) = self.calls.get(id).and_then(|c| c.entry.clone()) else {
            return;
        };
        match entry.step {
            Step::Pin(c) if c == command => {
                let typed = digits.unwrap_or_default();
                let moderator = entry.room.moderator_pin.as_deref() == Some(typed.as_str());
                let participant = entry.room.pin.as_deref() == Some(typed.as_str());
                if !typed.is_empty() && (moderator || participant) {
                    if let Some(e) = self.calls.get_mut(id).and_then(|c| c.entry.as_mut()) {
                        e.moderator = moderator;
                    }
                    return self.admit(now, id);
                }
                let tries = entry.tries + 1;
                if let Some(e) = self.calls.get_mut(id).and_then(|c| c.entry.as_mut()) {
                    e.tries = tries;
                }
                if tries >= TRIES {
                    self.entry_goodbye(id, "Wrong PIN. Goodbye.");
                } else {
                    self.ask_room_pin(id, "Wrong PIN. Please try again, then the hash key.");
                }
            }
            Step::Joining(c) if c == command => {
                let command = self.alloc_command();
                let op = MediaOp::Conference(ConferenceRequest {
                    side: Side::A,
                    room: entry.room.name.clone(),
                    muted: false,
                    tones: true,
                    record: entry.room.record,
                });
                if self.handle_media(now, id, command, op).is_ok() {
                    self.set_entry_step(id, Step::Joined);
                } else {
                    self.entry_goodbye(id, "The conference cannot be joined. Goodbye.");
                }
            }
            Step::Goodbye(c) if c == command => {
                self.end_call(now, id, Cause::Normal, EndedBy::System, None);
            }
            _ => {}
        }
    }
}
