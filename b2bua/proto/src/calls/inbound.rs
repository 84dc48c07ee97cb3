//! A phone calls in: the inbound leg and its callees, or (an application number) the
//! B2BUA itself.

use super::Calls;
use crate::call::{Call, Leg, LegState, Role, cause_of_status};
use crate::{CallError, LegAction, LegId, Ms, Output, Service, Target};
use patchbay_api::{EndedBy, Side};

// === impl Calls ===

impl Calls {
    pub(super) fn handle_inbound(
        &mut self,
        now: Ms,
        mut call: Call,
        leg: LegId,
        (targets, no_target_status, ring_timeout_ms): (Vec<Target>, u16, Ms),
        service: Option<Service>,
    ) -> Result<(), CallError> {
        let id = call.id.clone();
        if self.calls.contains_key(&id) {
            return Err(CallError::DuplicateCall(id));
        }
        let from = call.from.clone();
        call.ring_timeout_ms = ring_timeout_ms;
        call.legs.push(Leg {
            id: leg,
            side: Side::A,
            party: from,
            inbound: true,
            state: LegState::Inviting,
            role: Role::Party,
            deadline: None,
        });
        call.a = Some(leg);
        self.leg_index.insert(leg, id.clone());
        let app = call.app;
        self.calls.insert(id.clone(), call);
        self.emit_created(now, &id);
        if app {
            match service {
                Some(Service::Queue(entry)) => {
                    self.start_queue(now, &id, leg, *entry);
                    return Ok(());
                }
                Some(Service::Notice(text)) => {
                    self.start_notice(now, &id, leg, &text);
                    return Ok(());
                }
                _ => {}
            }
            if self.calls.get(&id).is_some_and(|c| c.access.is_some()) {
                self.start_access(now, &id, leg);
            } else if self.calls.get(&id).is_some_and(|c| c.entry.is_some()) {
                self.start_room_entry(now, &id, leg);
            } else if self.calls.get(&id).is_some_and(|c| c.attendant.is_some()) {
                self.start_attendant(now, &id, leg);
            } else {
                self.answer_app_number(now, &id, leg);
            }
            return Ok(());
        }
        self.emit_unconditional(now, &id);
        if targets.is_empty() && self.forward_on_failure(now, &id, no_target_status) {
            return Ok(());
        }
        if targets.is_empty() {
            let status = no_target_status;
            self.out
                .push_back(Output::Leg(LegAction::Reject { leg, status }));
            if let Some(l) = self.calls.get_mut(&id).and_then(|c| c.leg_mut(leg)) {
                l.state = LegState::Ended;
            }
            self.end_call(
                now,
                &id,
                cause_of_status(status),
                EndedBy::System,
                Some(status),
            );
            return Ok(());
        }
        self.invite_all(now, &id, Side::B, targets, Role::Party);
        Ok(())
    }
}
