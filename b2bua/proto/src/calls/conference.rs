//! Conferences in the core: which legs are in which room (a `conference` primitive pending
//! on the leg, with its mute state), the rules of joining, muting, and the member list. The
//! rooms' media live in the driver's mixer; leaving is `stop` of the joining command (or the
//! call's end), reported back as the command's `Done`.

use super::Calls;
use super::app::Kind;
use crate::call::Call;
use crate::{CallError, LegAction, Output};
use patchbay_api::{CallId, ConferenceMember, MediaOp, Side};

/// A leg in a room hears only the room: other primitives that play into it or read its keys
/// wait until it left, and it joins once the leg's own primitives ended (recordings excepted).
pub(super) fn check_leg_free(call: &Call, side: Side, op: &MediaOp) -> Result<(), CallError> {
    let busy = call
        .media
        .iter()
        .filter(|p| p.side == side && !matches!(p.kind, Kind::Record { .. }));
    for p in busy {
        let state = match (&p.kind, op) {
            (Kind::Conference { .. }, _) => "in a conference",
            (_, MediaOp::Conference(_)) => "running other media commands (stop them first)",
            _ => continue,
        };
        return Err(CallError::InvalidState {
            action: super::app::action_name(op),
            state,
        });
    }
    Ok(())
}

// === impl Calls ===

impl Calls {
    pub(super) fn handle_conference_mute(
        &mut self,
        id: &CallId,
        side: Side,
        muted: bool,
    ) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let leg = call.winner(side);
        let in_room = call.media.iter_mut().find_map(|p| match &mut p.kind {
            Kind::Conference { muted: m, .. } if p.side == side => Some(m),
            _ => None,
        });
        let (Some(m), Some(leg)) = (in_room, leg) else {
            return Err(CallError::InvalidState {
                action: "mute",
                state: "not in a conference",
            });
        };
        *m = muted;
        self.out
            .push_back(Output::Leg(LegAction::ConferenceMute { leg, muted }));
        Ok(())
    }

    /// The legs in room `room` of `tenant`, by call id and side.
    pub fn conference_members(&self, tenant: &str, room: &str) -> Vec<ConferenceMember> {
        let mut out: Vec<ConferenceMember> = self
            .calls
            .values()
            .filter(|c| c.tenant == tenant)
            .flat_map(|c| {
                c.media.iter().filter_map(move |p| match &p.kind {
                    Kind::Conference { room: r, muted } if r == room => Some(ConferenceMember {
                        call: c.id.clone(),
                        side: p.side,
                        party: c
                            .winner(p.side)
                            .and_then(|l| c.leg(l))
                            .map(|l| l.party.clone())
                            .unwrap_or_default(),
                        command: p.command,
                        muted: *muted,
                        moderator: p.side == Side::A
                            && c.entry.as_ref().is_some_and(|e| e.moderator),
                        energy: 0,
                    }),
                    _ => None,
                })
            })
            .collect();
        out.sort_by_key(|m| m.command);
        out
    }
}
