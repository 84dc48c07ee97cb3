//! A queue caller's waiting time: the caller's timers (position announcements, max wait),
//! the overflow (or goodbye) and where the overflow leads, hold music that stops by itself.

use super::Calls;
use super::prompts::say;
use super::queue::{Status, Timer};
use crate::call::Role;
use crate::{LegAction, Ms, Output, RouteOutcome};
use patchbay_api::{CallId, Cause, EndedBy, EventKind, Side, TransferMethod};

// === impl Calls ===

impl Calls {
    /// A caller's timer: its announcement, or its max wait.
    pub(super) fn queue_call_timer(&mut self, now: Ms, id: &CallId) {
        let Some(s) = self.calls.get(id).and_then(|c| c.queue.as_ref()) else {
            return;
        };
        if !s.waiting() {
            return;
        }
        if s.deadline.is_some_and(|d| d <= now) {
            return self.queue_overflow(now, id, "overflow");
        }
        if s.next_announce.is_some_and(|a| a <= now) {
            let key = s.key.clone();
            let music = s.music;
            let Some(q) = self.queues.get(&key) else {
                return;
            };
            let position = q.waiting.iter().position(|c| c == id).unwrap_or(0) + 1;
            let every = u64::from(q.spec.announce_secs) * 1000;
            let (leg, text) = (
                self.calls.get(id).and_then(|c| c.a),
                format!("You are caller number {position}. Please hold."),
            );
            if let (Some(leg), Some(command)) = (leg, music) {
                self.out
                    .push_back(Output::Leg(LegAction::MediaStop { leg, command }));
            }
            self.run_op(id, say(&text, false));
            if let Some(s) = self.session_mut(id) {
                s.next_announce = (every > 0).then_some(now + every);
            }
            self.queue_music(id);
        }
        self.queue_arm(id);
    }

    /// The caller leaves the queue for its overflow destination (`why`: `overflow` after the
    /// max wait, `full`), or hears goodbye when there is none.
    pub(super) fn queue_overflow(&mut self, now: Ms, id: &CallId, why: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        // Agents still ringing for it stop.
        let ringing = call.ringing_legs(Side::B, Role::TransferTarget, None);
        for leg in ringing {
            if let Some(l) = call.leg_mut(leg) {
                l.state = crate::call::LegState::Cancelling;
                l.deadline = None;
            }
            self.out.push_back(Output::Leg(LegAction::Cancel { leg }));
        }
        call.transfer = None;
        let leg = call.a;
        let Some(s) = call.queue.as_mut() else {
            return;
        };
        s.status = Status::Overflow;
        let (key, music, waited_ms) =
            (s.key.clone(), s.music.take(), now.saturating_sub(s.entered));
        if let (Some(leg), Some(command)) = (leg, music) {
            self.out
                .push_back(Output::Leg(LegAction::MediaStop { leg, command }));
        }
        let overflow = self.queues.get_mut(&key).and_then(|q| {
            q.release_offers(id);
            q.waiting.retain(|c| c != id);
            q.spec.overflow.clone()
        });
        self.emit(
            now,
            id,
            EventKind::QueueLeft {
                queue: key.1.clone(),
                outcome: why.to_string(),
                agent: None,
                waited_ms,
            },
        );
        match overflow {
            Some(destination) => self.out.push_back(Output::Route {
                call: id.clone(),
                destination,
            }),
            None => self.queue_goodbye(id),
        }
        self.queue_dispatch(now, &key);
    }

    pub(super) fn queue_goodbye(&mut self, id: &CallId) {
        let c = self.run_op(
            id,
            say("Nobody is available to take your call. Goodbye.", false),
        );
        if let Some(s) = self.session_mut(id) {
            s.status = Status::Goodbye(c);
        }
    }

    /// Where an overflowing caller's destination leads.
    pub(super) fn queue_routed(&mut self, now: Ms, id: &CallId, outcome: RouteOutcome) {
        let overflowing = self
            .calls
            .get(id)
            .and_then(|c| c.queue.as_ref())
            .is_some_and(|s| s.status == Status::Overflow);
        if !overflowing {
            return;
        }
        match outcome {
            RouteOutcome::Connect { target, targets } => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.ring_timeout_ms = 30_000;
                }
                let method = TransferMethod::Bridge;
                if self
                    .handle_transfer(now, id, target, targets, Side::A, method)
                    .is_err()
                {
                    self.queue_goodbye(id);
                }
            }
            RouteOutcome::Unavailable => self.queue_goodbye(id),
            other => {
                if let Some(c) = self.calls.get_mut(id) {
                    c.queue = None;
                }
                self.route_elsewhere(now, id, other);
            }
        }
    }

    /// A primitive of a queue caller ended: its goodbye hangs up; hold music that ended by
    /// itself (a file that could not play) becomes ringback.
    pub(super) fn queue_after(&mut self, now: Ms, id: &CallId, command: u64) {
        let Some(s) = self.calls.get(id).and_then(|c| c.queue.as_ref()) else {
            return;
        };
        match s.status {
            Status::Goodbye(c) if c == command => {
                self.end_call(now, id, Cause::Normal, EndedBy::System, None);
            }
            _ if s.music == Some(command) && s.waiting() => {
                let key = s.key.clone();
                if let Some(q) = self.queues.get_mut(&key) {
                    q.spec.hold_music = None;
                }
                self.queue_music(id);
            }
            _ => {}
        }
    }

    /// The queue timers due at `now`.
    pub(super) fn queue_timeout(&mut self, now: Ms) {
        while let Some((due, _)) = self.queue_timers.first() {
            if *due > now {
                break;
            }
            let Some((_, t)) = self.queue_timers.pop_first() else {
                break;
            };
            match t {
                Timer::Call(id) => self.queue_call_timer(now, &id),
                Timer::Queue(key) => self.queue_dispatch(now, &key),
            }
        }
    }
}
