//! Auto-attendants: the B2BUA answers a call to an attendant's number and plays its prompt
//! while collecting one key (the wait for it starts when the prompt ends); the key's
//! destination is resolved by the driver ([`Output::Route`], answered by
//! [`Input::Routed`](crate::Input)): the caller is connected to a party (the application
//! call's connect: the engine keeps the caller until someone answers), goes to a mailbox, a
//! conference room's entry or another attendant's menu. No key: the timeout destination;
//! three invalid keys likewise; a destination nobody takes: "not available", then the menu.

use super::Calls;
use super::prompts::{keys, say};
use crate::{Ms, Output, RouteOutcome};
use patchbay_api::{
    AutoAttendant, CallId, Cause, EndedBy, MediaOp, PlayRequest, Side, TransferMethod,
};

/// Invalid keys before the timeout destination.
const INVALID: u8 = 3;

/// A caller in an attendant's menus.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    spec: AutoAttendant,
    step: Step,
    invalid: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The prompt plays; its key collection.
    Menu(u64),
    /// Typing an extension: its collection.
    Extension(u64),
    /// The driver resolves a destination.
    Routing,
    /// The destination rings.
    Connecting,
    /// "Not available" (or "not a valid choice"), then the menu again.
    Sorry(u64),
    Goodbye(u64),
}

impl Session {
    pub(crate) fn new(spec: AutoAttendant) -> Self {
        Self {
            spec,
            step: Step::Routing,
            invalid: 0,
        }
    }
}

// === impl Calls ===

impl Calls {
    /// Answer a caller of an attendant's number and start its menu.
    pub(super) fn start_attendant(&mut self, now: Ms, id: &CallId, leg: crate::LegId) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Some(l) = call.leg_mut(leg) {
            l.state = crate::call::LegState::Answered;
        }
        self.out
            .push_back(Output::Leg(crate::LegAction::AnswerApp { leg }));
        self.app_answered(now, id, leg);
        self.attendant_menu(id);
    }

    fn set_attendant_step(&mut self, id: &CallId, step: Step) {
        if let Some(s) = self.calls.get_mut(id).and_then(|c| c.attendant.as_mut()) {
            s.step = step;
        }
    }

    fn attendant_menu(&mut self, id: &CallId) {
        let Some(spec) = self
            .calls
            .get(id)
            .and_then(|c| c.attendant.as_ref())
            .map(|s| s.spec.clone())
        else {
            return;
        };
        self.run_op(
            id,
            MediaOp::Play(PlayRequest {
                side: Side::A,
                file: spec.prompt.file.clone(),
                url: spec.prompt.url.clone(),
                text: spec.prompt.text.clone(),
                recording: None,
                voice: None,
                repeat: false,
                barge_in: true,
            }),
        );
        let c = self.run_op(id, keys(1, "", u64::from(spec.timeout_secs) * 1000));
        self.set_attendant_step(id, Step::Menu(c));
    }

    fn attendant_sorry(&mut self, id: &CallId, text: &str) {
        let c = self.run_op(id, say(text, false));
        self.set_attendant_step(id, Step::Sorry(c));
    }

    /// Go to `destination` (`None`: goodbye).
    fn attendant_route(&mut self, id: &CallId, destination: Option<String>) {
        match destination {
            Some(destination) => {
                self.set_attendant_step(id, Step::Routing);
                self.out.push_back(Output::Route {
                    call: id.clone(),
                    destination,
                });
            }
            None => {
                let c = self.run_op(id, say("Goodbye.", false));
                self.set_attendant_step(id, Step::Goodbye(c));
            }
        }
    }

    /// A primitive of `id` ended (`digits` for a collection): the attendant's next step.
    pub(super) fn attendant_after(
        &mut self,
        now: Ms,
        id: &CallId,
        command: u64,
        digits: Option<String>,
    ) {
        let Some(session) = self.calls.get(id).and_then(|c| c.attendant.clone()) else {
            return;
        };
        let digits = digits.filter(|d| !d.is_empty());
        match session.step {
            Step::Menu(c) if c == command => {
                let Some(key) = digits else {
                    return self.attendant_route(id, session.spec.timeout_destination.clone());
                };
                match session.spec.menu.get(&key).cloned() {
                    Some(d) if d == "extension" => {
                        self.run_op(
                            id,
                            say("Please enter the extension, then the hash key.", false),
                        );
                        let c = self.run_op(id, keys(8, "#", 10_000));
                        self.set_attendant_step(id, Step::Extension(c));
                    }
                    Some(d) => self.attendant_route(id, Some(d)),
                    None => {
                        let invalid = session.invalid + 1;
                        if let Some(s) = self.calls.get_mut(id).and_then(|c| c.attendant.as_mut()) {
                            s.invalid = invalid;
                        }
                        if invalid >= INVALID {
                            self.attendant_route(id, session.spec.timeout_destination.clone());
                        } else {
                            self.attendant_sorry(id, "That is not a valid choice.");
                        }
                    }
                }
            }
            Step::Extension(c) if c == command => match digits {
                Some(ext) => self.attendant_route(id, Some(ext)),
                None => self.attendant_menu(id),
            },
            Step::Sorry(c) if c == command => self.attendant_menu(id),
            Step::Goodbye(c) if c == command => {
                self.end_call(now, id, Cause::Normal, EndedBy::System, None);
            }
            _ => {}
        }
    }

    /// The driver resolved the destination of an attendant call or a queue's overflow.
    pub(super) fn handle_routed(
        &mut self,
        now: Ms,
        id: &CallId,
        outcome: RouteOutcome,
    ) -> Result<(), crate::CallError> {
        let call = self
            .calls
            .get(id)
            .ok_or_else(|| crate::CallError::UnknownCall(id.clone()))?;
        if call.queue.is_some() {
            self.queue_routed(now, id, outcome);
            return Ok(());
        }
        if call.attendant.as_ref().map(|s| s.step) != Some(Step::Routing) {
            return Ok(()); // the caller hung up meanwhile, or it is stale
        }
        match outcome {
            RouteOutcome::Connect { target, targets } => {
                let connect =
                    self.handle_transfer(now, id, target, targets, Side::A, TransferMethod::Bridge);
                if connect.is_ok() {
                    self.set_attendant_step(id, Step::Connecting);
                } else {
                    self.attendant_sorry(id, "That destination is not available.");
                }
            }
            RouteOutcome::Unavailable => {
                self.attendant_sorry(id, "That destination is not available.");
            }
            other => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.attendant = None;
                }
                self.route_elsewhere(now, id, other);
            }
        }
        Ok(())
    }

    /// An answered caller (served by the engine) goes to a service: another attendant's
    /// menu, a mailbox, a room's entry, a queue (not a connect: the caller's own logic does
    /// those).
    pub(super) fn route_elsewhere(&mut self, now: Ms, id: &CallId, outcome: RouteOutcome) {
        match outcome {
            RouteOutcome::Attendant(spec) => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.attendant = Some(Session::new(spec));
                }
                self.attendant_menu(id);
            }
            RouteOutcome::Voicemail(vm) => {
                self.start_voicemail(now, id, vm, crate::routing::Divert::Unconditional);
            }
            RouteOutcome::Room(room) => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.entry = Some(super::room_entry::Entry::new(room));
                }
                self.enter_room(now, id);
            }
            RouteOutcome::Queue(entry) => self.queue_enter(now, id, *entry),
            RouteOutcome::Connect { .. } | RouteOutcome::Unavailable => {}
        }
    }

    /// A connect of an attendant call failed: "not available", then the menu.
    pub(super) fn attendant_connect_failed(&mut self, id: &CallId) {
        let connecting = self
            .calls
            .get(id)
            .and_then(|c| c.attendant.as_ref())
            .is_some_and(|s| s.step == Step::Connecting);
        if connecting {
            self.attendant_sorry(id, "The person you called is not available.");
        }
    }
}
