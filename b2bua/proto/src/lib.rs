//! Sans-IO call core of the Patchbay B2BUA: 3PCC flows (RFC 3725), forking, hangup mirroring,
//! transfer, hold, event sequencing and CDR stamping.
//!
//! It does no I/O: no sockets, no clock, no RNG, no SIP parsing. Time is passed in as unix
//! milliseconds, ids are allocated by counters, and SIP is seen one level up, as call *legs*
//! (one SIP dialog each) that ring, answer, fail and end. The rvoip adapter in `patchbay-b2bua`
//! turns SIP into [`Input`] and [`Output`] back into SIP.
//!
//! # Drive contract
//! 1. Feed one [`Input`] with [`Calls::handle_input`] (or a timer with [`Calls::handle_timeout`]).
//! 2. Drain [`Calls::poll_output`] until `None`, executing every [`LegAction`] in order.
//! 3. Re-arm the timer at [`Calls::poll_timeout`].
//!
//! # Legs and sides
//! Side A is the caller: the inbound leg of a SIP call, or the `from` party of a 3PCC call.
//! Side B holds the callees. A side may have several outbound legs at once (forking: several
//! callees, or several registered contacts of one user); the first to answer wins and the
//! others are cancelled.
//!
//! # State x action table
//! | state \ action | hangup (API) | peer hangs up | transfer | hold / unhold |
//! |---|---|---|---|---|
//! | ringing A (3PCC) | CANCEL A legs; `cancelled` by `api` | A rejects: `busy`/`rejected`/`no_answer` by `a` | 409 invalid state | 409 |
//! | ringing B (inbound or 3PCC) | CANCEL B legs, BYE A (3PCC) or 487 to A (inbound); `cancelled` by `api` | A cancels: CANCEL B, `cancelled` by `a`; B rejects: BYE/4xx to A, cause from the status, by `b` | 409 | 409 |
//! | bridged | BYE both; `normal` by `api` | BYE the other; `normal` by that side | `bridge`: call target, on answer BYE the old leg and bridge; `refer`: REFER the kept leg, on NOTIFY 200 BYE both, `transferred` | re-INVITE both legs |
//! | ended | 409 | ignored (late answers get BYE) | 409 | 409 |
//!
//! No answer before the ring timeout counts as `no_answer` (the legs are cancelled). Every call
//! emits exactly one [`EventKind::Ended`] and one [`Cdr`].
//!
//! A 3PCC call may be created *held* (`start_within_ms`): it is `created` with no leg, and
//! starts on [`Input::Start`] or when its start deadline passes; hangup while held ends it as
//! `cancelled` without any SIP.

mod call;
mod calls;
pub mod dialplan;
pub mod orphan;
mod queue;
pub mod routing;

pub use call::{Direction, Leg, LegState};
pub use calls::Calls;
pub use patchbay_api as api;

use patchbay_api::{
    CallId, Cdr, Event, MediaOp, MediaReason, OriginateRequest, RecordLayout, RecordRequest, Side,
    TransferMethod,
};

/// Unix time in milliseconds, always passed in by the driver.
pub type Ms = u64;

/// One SIP dialog of a call, allocated by [`Calls::alloc_leg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// Where an outbound leg goes: `party` names it in events (an extension), `uri` is where the
/// INVITE is sent (a registered contact, resolved by the driver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub party: String,
    pub uri: String,
    /// The tenant's trunk the dial plan chose for this outside number (the driver sends the
    /// INVITE there with the trunk's credentials and caller ID).
    pub trunk: Option<String>,
}

impl Target {
    pub fn new(party: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            party: party.into(),
            uri: uri.into(),
            trunk: None,
        }
    }

    /// An outside number through `trunk`.
    pub fn via_trunk(party: impl Into<String>, uri: impl Into<String>, trunk: &str) -> Self {
        Self {
            trunk: Some(trunk.to_string()),
            ..Self::new(party, uri)
        }
    }
}

impl Forwards {
    /// Whether anything can take the call when the user's own phones do not: a forward with
    /// a registered phone, a call-sequence step with one, or the mailbox.
    pub fn has_fallback(&self) -> bool {
        let rings =
            |f: &Option<(String, Vec<Target>)>| f.as_ref().is_some_and(|(_, t)| !t.is_empty());
        rings(&self.busy)
            || rings(&self.no_answer)
            || self.sequence.iter().any(|(t, _)| !t.is_empty())
            || self.voicemail.is_some()
    }
}

/// Where an inbound call to a user goes beside the user's phones (see [`routing`]): the
/// forwards on busy and on no answer, with their contacts, each used at most once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forwards {
    /// The user whose phones ring (the one busy / no-answer forwarding applies to).
    pub ring: String,
    /// The user dialled, when unconditional forwarding moved the call to `ring`.
    pub diverted_from: Option<String>,
    /// A ring group's: a busy step passes to the next step like an unanswered one.
    pub hunt: bool,
    /// (user, contacts) to ring when `ring` is busy (486, 600, 603, or do-not-disturb).
    pub busy: Option<(String, Vec<Target>)>,
    /// (user, contacts) to ring when `ring` does not answer in time or is not registered.
    pub no_answer: Option<(String, Vec<Target>)>,
    /// When no forward takes the call (busy, no answer): the caller leaves a message here.
    pub voicemail: Option<Voicemail>,
    /// The rest of `ring`'s call sequence (follow-me): when a step rings unanswered, the next
    /// one rings (its contacts, for its time) before any no-answer forward.
    pub sequence: std::collections::VecDeque<(Vec<Target>, Ms)>,
}

/// A mailbox that takes a caller's message: the greeting, a beep, then the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voicemail {
    /// The user whose mailbox it is.
    pub mailbox: String,
    /// The user's greeting (a prompt name), played if recorded; else `greeting_text` spoken.
    /// Neither (sipX's `none`): the beep at once.
    pub greeting: Option<String>,
    pub greeting_text: Option<String>,
    /// Longest message.
    pub max_ms: u64,
}

/// A message left in a mailbox (the driver indexes it and tells the user's phones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailMessage {
    pub call: CallId,
    pub tenant: String,
    pub mailbox: String,
    /// Who left it (the caller).
    pub from: String,
    /// The recording holding it.
    pub recording: String,
    pub duration_ms: u64,
    pub at_ms: Ms,
}

/// What the SIP side reports about a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegEvent {
    /// 180 / 183 on an outbound leg.
    Ringing,
    /// 200 OK on an outbound leg.
    Answered,
    /// Final non-2xx on an outbound leg (486, 603, 487 ...), or a transport failure (status 0 -> 503).
    Failed { status: u16 },
    /// The peer hung up: BYE on an answered leg, CANCEL on an unanswered inbound leg.
    Ended,
    /// Outcome of a REFER we sent on this leg (NOTIFY sipfrag, or the REFER's own failure).
    ReferResult { ok: bool, status: u16 },
}

/// What the media engine reports about a leg it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A primitive ended (`digits` and `ok` for a collection; `key`: the barge-in or
    /// terminator key; `error`: why a prompt could not be played).
    Done {
        command: u64,
        reason: MediaReason,
        played_ms: u64,
        digits: Option<String>,
        ok: bool,
        key: Option<char>,
        error: Option<String>,
    },
    /// The phone pressed a key.
    Key(char),
}

/// Inputs of the call core.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A phone called in (INVITE already authenticated). `leg` was allocated by the driver.
    /// `targets` are the resolved contacts of the callee; when empty the caller gets
    /// `no_target_status` (404 unknown user, 480 not registered).
    Inbound {
        call: CallId,
        leg: LegId,
        tenant: String,
        from: String,
        to: String,
        targets: Vec<Target>,
        no_target_status: u16,
        ring_timeout_ms: Ms,
        /// Record the call from answer to hangup (the tenant's policy).
        record: bool,
        /// `to` is one of the tenant's application numbers: answer it here and attach the
        /// caller to the media engine (`targets` unused).
        app: bool,
        /// The callee's forwarding (empty for numbers that are no user).
        forwards: Forwards,
        /// The B2BUA answers the caller and serves it itself (`app` is set too).
        service: Option<Service>,
    },
    /// Where an attendant's destination ([`Output::Route`]) leads.
    Routed {
        call: CallId,
        outcome: RouteOutcome,
    },
    /// 3PCC from the control API, with the contacts of `from` (`a`) and of every callee (`b`).
    /// With `req.start_within_ms` the call is created *held*: nothing rings until
    /// [`Input::Start`] or until that many milliseconds have passed.
    Originate {
        call: CallId,
        req: OriginateRequest,
        a: Vec<Target>,
        b: Vec<Target>,
        ring_timeout_ms: Ms,
        /// The callee's forwarding when it is one user (empty otherwise), as for inbound
        /// calls; `b` may then be empty (none of its phones rings at once: `no_target_status`,
        /// 480 or 486 on do-not-disturb, decides which forward, once the caller answered).
        forwards: Forwards,
        no_target_status: u16,
    },
    /// A phone with two calls through us joins their other parties (attended transfer:
    /// REFER with Replaces): `leg` of `call` sent the REFER, `replaced` of `other` is the
    /// phone's leg in the call its Replaces names. Both of its legs are sent BYE; `call`
    /// continues with `other`'s party in its place, `other` ends `transferred`.
    Join {
        call: CallId,
        leg: LegId,
        other: CallId,
        replaced: LegId,
    },
    /// Start a held 3PCC call now (no-op when it already started).
    Start {
        call: CallId,
    },
    Hangup {
        call: CallId,
    },
    /// `targets` are the contacts of the target (`bridge`), or the one URI the phone must
    /// call (`refer`).
    Transfer {
        call: CallId,
        target: String,
        targets: Vec<Target>,
        keep: Side,
        method: TransferMethod,
    },
    /// Send a call still ringing its callee (side B) to `to` instead (deflection: the ringing
    /// phones stop, `targets` ring).
    Deflect {
        call: CallId,
        to: String,
        targets: Vec<Target>,
    },
    Hold {
        call: CallId,
        on: bool,
    },
    Leg {
        leg: LegId,
        event: LegEvent,
    },
    /// A media primitive on an application call; `command` from [`Calls::alloc_command`].
    Media {
        call: CallId,
        command: u64,
        op: MediaOp,
    },
    /// Stop a primitive that has not ended yet.
    MediaStop {
        call: CallId,
        command: u64,
    },
    /// The media engine's report on a leg it serves.
    MediaEvent {
        leg: LegId,
        event: MediaEvent,
    },
    /// Mute or unmute a leg in its conference room.
    ConferenceMute {
        call: CallId,
        side: Side,
        muted: bool,
    },
    /// The answer to a [`MailboxAction::Login`]: whether the PIN was right, and then the
    /// new messages (id, recording), oldest first.
    VoicemailLogin {
        call: CallId,
        ok: bool,
        messages: Vec<(String, String)>,
    },
    /// The answer to [`Output::QueueOffer`]: those of the offered agents who can ring now
    /// (logged in at a phone, in no call), in the order offered, with their contacts.
    QueueTargets {
        call: CallId,
        agents: Vec<(String, Vec<Target>)>,
    },
    /// An agent's state in a queue changed (the admin API, a feature code).
    QueueAgent {
        tenant: String,
        queue: String,
        agent: String,
        state: patchbay_api::AgentState,
    },
    /// A queue was changed (`Some`) or deleted (`None`) in the admin API: its callers go on
    /// with the new settings.
    QueueChanged {
        tenant: String,
        name: String,
        entry: Option<Box<QueueEntry>>,
    },
    /// A recording ([`LegAction::Record`]) is closed and indexed, or failed.
    RecordingDone {
        call: CallId,
        command: u64,
        done: RecordingDone,
    },
}

/// What the B2BUA does with a caller it answers itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Service {
    /// The voicemail number: the caller listens to this mailbox (its own) after its PIN.
    VoicemailAccess(String),
    /// A conference room's extension: its PIN, then the room.
    Room(Box<patchbay_api::ConferenceRoom>),
    /// An auto-attendant's menu.
    Attendant(Box<patchbay_api::AutoAttendant>),
    /// A queue: hold music until an agent answers.
    Queue(Box<QueueEntry>),
    /// Say this, then hang up (a feature code's confirmation).
    Notice(String),
}

/// A queue as a caller enters it: its settings and its agents' states (from the store; an
/// agent missing there is logged out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub tenant: String,
    pub queue: patchbay_api::Queue,
    pub states: std::collections::HashMap<String, patchbay_api::AgentState>,
}

/// How a recording ended (see [`Input::RecordingDone`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingDone {
    pub reason: MediaReason,
    pub duration_ms: u64,
    pub bytes: u64,
    /// The stop key.
    pub key: Option<char>,
    pub error: Option<String>,
}

/// What the driver must do on the SIP / media side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegAction {
    /// Send an INVITE for a new outbound leg. `peer` is the leg it will be bridged with, when
    /// that leg already answered (the driver offers that leg's codec), or `None`. `headers` go
    /// on the INVITE as they are; `auto_answer` asks the phone to answer by itself (intercom).
    Invite {
        call: CallId,
        leg: LegId,
        side: Side,
        target: Target,
        peer: Option<LegId>,
        headers: Vec<(String, String)>,
        auto_answer: bool,
        /// The call was forwarded from this user for this reason (RFC 5806 Diversion).
        diversion: Option<(String, &'static str)>,
    },
    /// Send 180 Ringing on an inbound leg.
    Ring { leg: LegId },
    /// Answer an inbound leg (200 OK) with media bridged to `peer`.
    Answer { leg: LegId, peer: LegId },
    /// Answer an inbound leg (200 OK) for the media engine (an application number), with a
    /// codec of the caller's offer.
    AnswerApp { leg: LegId },
    /// Final error response on an unanswered inbound leg.
    Reject { leg: LegId, status: u16 },
    /// CANCEL an unanswered outbound leg.
    Cancel { leg: LegId },
    /// BYE an answered leg.
    Bye { leg: LegId },
    /// Relay media between two answered legs.
    Bridge { a: LegId, b: LegId },
    /// Send REFER on `leg` asking its phone to call `uri`.
    Refer { leg: LegId, uri: String },
    /// re-INVITE `leg` to put it on hold (`on`) or take it off hold.
    Hold { leg: LegId, on: bool },
    /// Serve an answered leg from the media engine (an application call's party).
    Attach { leg: LegId },
    /// The engine stops serving `leg` (an application call's caller is connected to a party:
    /// the relay carries it from now on). Its primitives were reported stopped.
    Detach { leg: LegId },
    /// Run a primitive on a leg the engine serves (`call` names the tenant's prompts).
    Media {
        call: CallId,
        leg: LegId,
        command: u64,
        op: MediaOp,
    },
    /// Stop a primitive on a leg the engine serves.
    MediaStop { leg: LegId, command: u64 },
    /// Record what the phones of `legs` send (one leg; or A and B, in that order, for a whole
    /// call) as recording `recording`, until [`LegAction::RecordStop`] or a limit; report with
    /// [`Input::RecordingDone`].
    Record {
        call: CallId,
        command: u64,
        recording: String,
        legs: Vec<LegId>,
        layout: RecordLayout,
        req: RecordRequest,
    },
    /// Stop a recording (it still reports [`Input::RecordingDone`]).
    RecordStop { command: u64 },
    /// Mute or unmute a leg in its conference room (a `conference` [`LegAction::Media`]).
    ConferenceMute { leg: LegId, muted: bool },
    /// The call ended: free its media and bookkeeping. Always after every other action of it.
    Release { call: CallId },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Leg(LegAction),
    Event(Event),
    Cdr(Cdr),
    /// Work on a mailbox the driver does with the store.
    Mailbox(MailboxAction),
    /// Resolve an attendant caller's choice (a number, `voicemail:<ext>`), or a queue's
    /// overflow: answer with [`Input::Routed`].
    Route {
        call: CallId,
        destination: String,
    },
    /// Which of these agents of a queue can ring for `call` now: answer with
    /// [`Input::QueueTargets`] (at once: the core waits for it before offering them again).
    QueueOffer {
        call: CallId,
        tenant: String,
        agents: Vec<String>,
    },
}

/// Where an attendant's destination leads (the driver resolves it: users' and groups'
/// routing, rooms, attendants, the dial plan).
#[derive(Debug, Clone, PartialEq)]
pub enum RouteOutcome {
    /// Ring these (a user's phones, a group's first members, a trunk); `target` names it.
    Connect {
        target: String,
        targets: Vec<Target>,
    },
    /// That user's mailbox.
    Voicemail(Voicemail),
    /// Another attendant's menu.
    Attendant(patchbay_api::AutoAttendant),
    /// A conference room's entry.
    Room(patchbay_api::ConferenceRoom),
    /// A queue.
    Queue(Box<QueueEntry>),
    /// Nothing there.
    Unavailable,
}

/// What the core asks of a mailbox (the driver answers logins with
/// [`Input::VoicemailLogin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxAction {
    /// Keep a message left by a caller.
    Store(VoicemailMessage),
    /// Check a PIN typed on `call` for `mailbox`; on success list its new messages.
    Login {
        call: CallId,
        tenant: String,
        mailbox: String,
        pin: String,
    },
    /// Move message `id` to `folder` (`saved`, `deleted`).
    Move {
        tenant: String,
        mailbox: String,
        id: String,
        folder: &'static str,
    },
    /// The user recorded `greeting` (`standard`, `outofoffice`, `extendedabsence`) by phone:
    /// `recording` becomes it.
    Greeting {
        tenant: String,
        mailbox: String,
        greeting: &'static str,
        recording: String,
    },
}

/// Misuse of the core or a command that does not fit the call's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error("unknown call {0}")]
    UnknownCall(CallId),
    #[error("call id {0} is already in use")]
    DuplicateCall(CallId),
    #[error("{action} is not possible while the call is {state}")]
    InvalidState {
        action: &'static str,
        state: &'static str,
    },
    #[error("no callee given")]
    NoCallee,
    #[error("no media command {0} is running on this call")]
    UnknownCommand(u64),
}
