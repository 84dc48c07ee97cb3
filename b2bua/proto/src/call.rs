//! One call: its legs, timestamps and event counter.

use crate::{LegId, Ms, Target};
use patchbay_api::{CallId, CallInfo, CallState, Cause, Cdr, EndedBy, Side};

/// Whether the call came from a phone or from the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Originate,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Originate => "originate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegState {
    /// INVITE sent (outbound) or received (inbound), no answer yet.
    Inviting,
    /// 180/183 seen (outbound) or sent (inbound).
    Ringing,
    Answered,
    /// We sent CANCEL; waiting for the 487 (or a racing 200, which gets a BYE).
    Cancelling,
    Ended,
}

impl LegState {
    pub fn is_unanswered(self) -> bool {
        matches!(self, LegState::Inviting | LegState::Ringing)
    }
}

/// What a leg is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Ringing a party of the call (possibly one fork of several).
    Party,
    /// Calling a transfer target; replaces the other side's leg once answered.
    TransferTarget,
}

#[derive(Debug, Clone)]
pub struct Leg {
    pub id: LegId,
    pub side: Side,
    pub party: String,
    pub inbound: bool,
    pub state: LegState,
    pub(crate) role: Role,
    /// No-answer deadline while unanswered.
    pub(crate) deadline: Option<Ms>,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingTransfer {
    pub(crate) target: String,
    pub(crate) keep: Side,
    /// For REFER transfers: the leg the REFER went to.
    pub(crate) refer_leg: Option<LegId>,
}

#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) id: CallId,
    pub(crate) tenant: String,
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) direction: Direction,
    pub(crate) caller_first: bool,
    pub(crate) state: CallState,
    pub(crate) legs: Vec<Leg>,
    /// The leg that carries each side once answered (inbound: A from the start).
    pub(crate) a: Option<LegId>,
    pub(crate) b: Option<LegId>,
    /// Callees not yet rung (3PCC caller-first, until A answers).
    pub(crate) pending_b: Vec<Target>,
    /// A held 3PCC call's parties, until it starts (the A contacts; B goes to `pending_b`).
    pub(crate) held_a: Option<Vec<Target>>,
    pub(crate) ring_timeout_ms: Ms,
    pub(crate) created_ms: Ms,
    pub(crate) ringing_ms: Option<Ms>,
    pub(crate) answered_ms: Option<Ms>,
    pub(crate) seq: u64,
    pub(crate) ringing_sent: [bool; 2],
    pub(crate) transfer: Option<PendingTransfer>,
    pub(crate) transferred_to: Option<String>,
    pub(crate) held: bool,
    /// The final status of the last failed leg of each side (for the cause when all fail).
    pub(crate) last_status: Option<u16>,
    /// Extra headers for every outbound INVITE of the call (3PCC requests).
    pub(crate) headers: Vec<(String, String)>,
    /// Intercom: the caller's (A) INVITEs ask the phone to answer by itself.
    pub(crate) auto_answer: bool,
    /// An application call: its party (side A) is served by the media engine on answer.
    pub(crate) app: bool,
    /// Record the call from answer to hangup.
    pub(crate) record: bool,
    /// The callee's forwards still unused (inbound calls, and API calls to one user).
    pub(crate) forwards: crate::Forwards,
    /// An API call's status for its callee when none of its phones rings at once.
    pub(crate) no_target_status: u16,
    /// Side B's INVITEs carry this Diversion (forwarded from, reason).
    pub(crate) diversion: Option<(String, &'static str)>,
    /// A caller leaving a message (see `calls::voicemail`).
    pub(crate) voicemail: Option<crate::calls::voicemail::Session>,
    /// A user listening to its mailbox (see `calls::voicemail_access`).
    pub(crate) access: Option<crate::calls::voicemail_access::Access>,
    /// A caller dialling into a conference room (see `calls::room_entry`).
    pub(crate) entry: Option<crate::calls::room_entry::Entry>,
    /// A caller in an auto-attendant's menus (see `calls::attendant`).
    pub(crate) attendant: Option<crate::calls::attendant::Session>,
    /// A caller in a queue (see `calls::queue`).
    pub(crate) queue: Option<crate::calls::queue::Session>,
    /// The queue the call went through (its CDR names it).
    pub(crate) queue_tag: Option<String>,
    /// A feature code's confirmation being said (then the call ends).
    pub(crate) notice: Option<u64>,
    /// An application call that joins this room when its party answers (an invite).
    pub(crate) join_room: Option<String>,
    /// Media primitives not ended yet.
    pub(crate) media: Vec<crate::calls::app::Pending>,
}

pub(crate) fn side_index(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

pub(crate) fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

/// Cause of a failed set-up from the final status of the side that failed.
pub(crate) fn cause_of_status(status: u16) -> Cause {
    match status {
        486 | 600 => Cause::Busy,
        408 | 480 => Cause::NoAnswer,
        404 | 484 | 604 => Cause::NotFound,
        403 | 603 => Cause::Rejected,
        487 => Cause::Cancelled,
        488 | 606 => Cause::IncompatibleMedia,
        _ => Cause::Failed,
    }
}

pub(crate) fn ended_by(side: Side) -> EndedBy {
    match side {
        Side::A => EndedBy::A,
        Side::B => EndedBy::B,
    }
}

pub(crate) fn state_name(state: CallState) -> &'static str {
    match state {
        CallState::Created => "created",
        CallState::Ringing => "ringing",
        CallState::Connecting => "connecting",
        CallState::Bridged => "bridged",
        CallState::Ended => "ended",
    }
}

impl Call {
    pub(crate) fn leg(&self, id: LegId) -> Option<&Leg> {
        self.legs.iter().find(|l| l.id == id)
    }

    pub(crate) fn leg_mut(&mut self, id: LegId) -> Option<&mut Leg> {
        self.legs.iter_mut().find(|l| l.id == id)
    }

    pub(crate) fn winner(&self, side: Side) -> Option<LegId> {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }

    pub(crate) fn set_winner(&mut self, side: Side, leg: LegId) {
        match side {
            Side::A => self.a = Some(leg),
            Side::B => self.b = Some(leg),
        }
    }

    /// Unanswered outbound legs of `side` with the given role, other than `except`.
    pub(crate) fn ringing_legs(&self, side: Side, role: Role, except: Option<LegId>) -> Vec<LegId> {
        self.legs
            .iter()
            .filter(|l| {
                l.side == side
                    && l.role == role
                    && !l.inbound
                    && l.state.is_unanswered()
                    && Some(l.id) != except
            })
            .map(|l| l.id)
            .collect()
    }

    /// The call's CDR were it to end at `now` this way.
    pub(crate) fn cdr(&self, now: Ms, cause: Cause, by: EndedBy, status: Option<u16>) -> Cdr {
        let answered_party = self.b.and_then(|b| self.leg(b)).map(|l| l.party.clone());
        let mut cdr = Cdr {
            call: self.id.clone(),
            tenant: self.tenant.clone(),
            from: self.from.clone(),
            to: answered_party.unwrap_or_else(|| self.to.first().cloned().unwrap_or_default()),
            direction: self.direction.as_str().to_string(),
            created_ms: self.created_ms,
            ringing_ms: self.ringing_ms,
            answered_ms: self.answered_ms,
            ended_ms: now,
            duration_s: 0,
            billsec: 0,
            cause,
            ended_by: by,
            status,
            transferred_to: self.transferred_to.clone(),
            queue: self.queue_tag.clone(),
            account_codes: Default::default(),
        };
        crate::orphan::end_at(&mut cdr, now);
        cdr
    }

    pub(crate) fn info(&self) -> CallInfo {
        let connected = self.b.and_then(|b| self.leg(b)).map(|l| l.party.clone());
        CallInfo {
            id: self.id.clone(),
            tenant: self.tenant.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            state: self.state,
            connected,
            created_ms: self.created_ms,
            answered_ms: self.answered_ms,
            ended_ms: None,
            app: self.app,
            held: self.held,
        }
    }
}
