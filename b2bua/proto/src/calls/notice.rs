//! Feature codes' confirmations: the B2BUA answers, says what was done, and hangs up.

use super::Calls;
use super::prompts::say;
use crate::{LegAction, LegId, Ms, Output};
use patchbay_api::{CallId, Cause, EndedBy};

// === impl Calls ===

impl Calls {
    /// Answer `leg` of `id` and say `text`; the call ends when it was said.
    pub(super) fn start_notice(&mut self, now: Ms, id: &CallId, leg: LegId, text: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if let Some(l) = call.leg_mut(leg) {
            l.state = crate::call::LegState::Answered;
        }
        self.out
            .push_back(Output::Leg(LegAction::AnswerApp { leg }));
        self.app_answered(now, id, leg);
        let command = self.run_op(id, say(text, false));
        if let Some(call) = self.calls.get_mut(id) {
            call.notice = Some(command);
        }
    }

    /// A primitive ended: the notice's end hangs up.
    pub(super) fn notice_after(&mut self, now: Ms, id: &CallId, command: u64) {
        if self.calls.get(id).and_then(|c| c.notice) == Some(command) {
            self.end_call(now, id, Cause::Normal, EndedBy::System, None);
        }
    }
}
