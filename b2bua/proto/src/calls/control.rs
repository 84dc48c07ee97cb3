//! Hangup and hold from the control API.

use super::Calls;
use crate::call::state_name;
use crate::{CallError, LegAction, Ms, Output};
use patchbay_api::{CallId, CallState, Cause, EndedBy, EventKind};

// === impl Calls ===

impl Calls {
    pub(super) fn handle_hangup(&mut self, now: Ms, id: &CallId) -> Result<(), CallError> {
        let call = self
            .calls
            .get(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let cause = if call.state == CallState::Bridged {
            Cause::Normal
        } else {
            Cause::Cancelled
        };
        self.end_call(now, id, cause, EndedBy::Api, None);
        Ok(())
    }

    pub(super) fn handle_hold(&mut self, now: Ms, id: &CallId, on: bool) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        if call.state != CallState::Bridged {
            let action = if on { "hold" } else { "unhold" };
            return Err(CallError::InvalidState {
                action,
                state: state_name(call.state),
            });
        }
        if call.held == on {
            return Ok(());
        }
        call.held = on;
        for leg in [call.a, call.b].into_iter().flatten() {
            self.out.push_back(Output::Leg(LegAction::Hold { leg, on }));
        }
        self.emit(
            now,
            id,
            if on {
                EventKind::Held
            } else {
                EventKind::Resumed
            },
        );
        Ok(())
    }
}
