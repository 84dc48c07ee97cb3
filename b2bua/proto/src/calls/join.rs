//! Attended transfer (a phone's REFER with Replaces, RFC 5589 7): a phone with two calls
//! through us joins their other parties and leaves both. The call it sent REFER on keeps
//! living with the other call's party in the phone's place; the other call ends
//! `transferred`. Each call says who it was transferred to; one CDR each.

use super::Calls;
use crate::call::{LegState, ended_by, other, state_name};
use crate::{CallError, LegAction, LegId, Output};
use patchbay_api::{CallId, CallState, Cause, EventKind, Side};

// === impl Calls ===

impl Calls {
    /// `leg` (of `id`) and `replaced` (of `other_id`) are one phone's two legs: bridge the
    /// parties they talk to.
    pub(super) fn handle_join(
        &mut self,
        now: crate::Ms,
        id: &CallId,
        leg: LegId,
        other_id: &CallId,
        replaced: LegId,
    ) -> Result<(), CallError> {
        let refused = |state| CallError::InvalidState {
            action: "join",
            state,
        };
        let sides = |c: &crate::call::Call, l: LegId| -> Result<(Side, LegId), CallError> {
            if c.state != CallState::Bridged || c.transfer.is_some() || c.app {
                return Err(refused(if c.app {
                    "an application call"
                } else {
                    state_name(c.state)
                }));
            }
            let side = [Side::A, Side::B]
                .into_iter()
                .find(|s| c.winner(*s) == Some(l))
                .ok_or(refused("not a party"))?;
            let far = c.winner(other(side)).ok_or(refused("not a party"))?;
            Ok((side, far))
        };
        let c1 = self
            .calls
            .get(id)
            .ok_or_else(|| CallError::UnknownCall(id.clone()))?;
        let c2 = self
            .calls
            .get(other_id)
            .ok_or_else(|| CallError::UnknownCall(other_id.clone()))?;
        if id == other_id || c1.tenant != c2.tenant {
            return Err(refused("another tenant's call"));
        }
        let (s1, y) = sides(c1, leg)?;
        let (s2, z) = sides(c2, replaced)?;
        let y_party = c1.leg(y).map(|l| l.party.clone()).unwrap_or_default();
        // The other call's party moves into this call, in the phone's place.
        let Some(c2) = self.calls.get_mut(other_id) else {
            return Ok(());
        };
        let Some(pos) = c2.legs.iter().position(|l| l.id == z) else {
            return Ok(());
        };
        let mut moved = c2.legs.remove(pos);
        match other(s2) {
            Side::A => c2.a = None,
            Side::B => c2.b = None,
        }
        if let Some(l) = c2.leg_mut(replaced) {
            l.state = LegState::Ended;
        }
        c2.transferred_to = Some(y_party.clone());
        let z_party = moved.party.clone();
        moved.side = s1;
        let Some(c1) = self.calls.get_mut(id) else {
            return Ok(());
        };
        c1.legs.push(moved);
        c1.set_winner(s1, z);
        if let Some(l) = c1.leg_mut(leg) {
            l.state = LegState::Ended;
        }
        c1.transferred_to = Some(z_party.clone());
        self.leg_index.insert(z, id.clone());
        for bye in [leg, replaced] {
            self.out.push_back(Output::Leg(LegAction::Bye { leg: bye }));
        }
        let (a, b) = if s1 == Side::A { (z, y) } else { (y, z) };
        self.out.push_back(Output::Leg(LegAction::Bridge { a, b }));
        self.emit(now, id, EventKind::Transferred { target: z_party });
        self.emit(now, other_id, EventKind::Transferred { target: y_party });
        self.end_call(now, other_id, Cause::Transferred, ended_by(s2), None);
        Ok(())
    }
}
