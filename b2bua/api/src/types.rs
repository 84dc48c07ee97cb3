use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifier of one call (both legs), assigned by the B2BUA before any INVITE is sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub String);

impl CallId {
    /// The id a node makes: its start (unix seconds, 10 digits), its number (2 digits), a
    /// counter (at least 6 digits).
    pub fn compose(start_secs: u64, node: u8, counter: u64) -> CallId {
        CallId(format!("{start_secs:010}{node:02}{counter:06}"))
    }

    /// The node that made this id (`None`: not one a node made).
    pub fn node(&self) -> Option<u8> {
        let s = self.0.as_str();
        if s.len() < 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s[10..12].parse().ok()
    }
}

impl From<String> for CallId {
    fn from(s: String) -> Self {
        CallId(s)
    }
}

impl From<&str> for CallId {
    fn from(s: &str) -> Self {
        CallId(s.to_string())
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a 3PCC call rings its parties (RFC 3725).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OriginateMode {
    /// Ring `from` first; ring the callees only once `from` answered.
    #[default]
    CallerFirst,
    /// Ring `from` and every callee at once; bridge when both sides answered.
    Simultaneous,
}

/// A request to place a call between `from` and the first of `to` to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OriginateRequest {
    pub tenant: String,
    /// Extension (or SIP URI) of the A party.
    pub from: String,
    /// Callees; several fork and the first to answer wins.
    pub to: Vec<String>,
    #[serde(default)]
    pub mode: OriginateMode,
    /// Seconds each side may ring before it counts as no answer (default from config).
    #[serde(default)]
    pub ring_timeout_secs: Option<u32>,
    /// Extra headers put on every outgoing INVITE of the call (the gateway checks its
    /// allow-list; the B2BUA refuses names that are not SIP tokens, values with control
    /// characters, and the headers it writes itself).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Intercom: ask the caller's phone to answer by itself (`Call-Info: ...;answer-after=0` and
    /// `Alert-Info: ...;info=alert-autoanswer` on the caller's INVITEs only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_answer: bool,
    /// Ring only the caller's `n`-th registered phone (1 = the one registered first; a refresh
    /// keeps its place, an expired phone leaves the list; a restarted B2BUA numbers phones in
    /// the order they register again) instead of every phone the caller has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_phone: Option<u8>,
    /// Deferred start: create the call and return its id, but send no INVITE until
    /// `POST /v1/calls/{id}/start` or until this many milliseconds have passed, whichever comes
    /// first. A front end uses it to hand the id to its client before anything rings; the
    /// deadline means the call is never lost when the front end goes away in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_within_ms: Option<u32>,
    /// Application call: ring the callees (`to`, as side A) and, on answer, hold the call in
    /// the B2BUA's media engine (no second party); `from` is then only the caller id shown
    /// (may be empty). Driven by the media primitives.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub app: bool,
    /// Record the call from answer to hangup (stereo for two parties: A left, B right); the
    /// tenant's policy may record every call anyway.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record: bool,
    /// The caller ID the callees (side B) see: a number, `Name <number>`, or `anonymous`
    /// (also `unknown`, `private`); see [`CallerId`]. Default: the caller's extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    /// An application call only: when its party answers it joins this conference room of the
    /// tenant (a room inviting someone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference: Option<String>,
    /// A call-centre call of an agent of this queue of the tenant (`from`, rung first): the
    /// CDR names the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The caller's own routing decides which phones ring first: its unconditional
    /// forwarding, do-not-disturb and the first step of its call sequence (sipX's
    /// `isForwardingAllowed`). Its busy / no-answer forwards are not followed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub caller_forwarding: bool,
    /// The client's idempotency key (the native API's `Idempotency-Key`), the tenant's: a
    /// request repeating a key of the last day gets the call the first one made (on any node)
    /// instead of a second call; 409 while that first request is still being served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_key: Option<String>,
}

/// Headers the B2BUA writes itself, that would break the dialog, or that would let an API
/// client act on phones beyond ringing them: an [`OriginateRequest`] may not set them (compact
/// one-letter forms are refused too).
const MANAGED_HEADERS: &[&str] = &[
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "max-forwards",
    "route",
    "record-route",
    "content-type",
    "content-length",
    "content-encoding",
    "content-disposition",
    "user-agent",
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "proxy-authenticate",
    "require",
    "proxy-require",
    "supported",
    "allow",
    "expires",
    "call-info",
    "alert-info",
    "rseq",
    "rack",
    // Would auto-answer a callee, take over or join a call on the target phone, or set the
    // caller identity the B2BUA vouches for.
    "answer-mode",
    "priv-answer-mode",
    "replaces",
    "join",
    "refer-to",
    "referred-by",
    "p-asserted-identity",
    "p-preferred-identity",
    "remote-party-id",
];

/// Why an extra INVITE header (see [`OriginateRequest::headers`]) is refused, or `None` when it
/// may go on the wire: the name must be a SIP token (RFC 3261 25.1) not in the managed set, the
/// value at most 256 bytes without control characters.
pub fn header_refusal(name: &str, value: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c);
    if name.len() < 2 || name.len() > 64 || !name.chars().all(token) {
        return Some(format!("{name:?} is not a header name"));
    }
    if MANAGED_HEADERS.iter().any(|m| m.eq_ignore_ascii_case(name)) {
        return Some(format!("{name} is reserved to the B2BUA"));
    }
    if value.len() > 256 || value.chars().any(|c| c.is_control()) {
        return Some(format!("bad value for {name}"));
    }
    None
}

/// Which party keeps talking when a call is transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransferMethod {
    /// The B2BUA calls the target itself and re-bridges the kept leg to it (re-INVITE based).
    #[default]
    Bridge,
    /// The B2BUA sends REFER to the transferred leg's phone, which calls the target.
    Refer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Extension or SIP URI of the transfer target.
    pub target: String,
    /// Which side stays in the call and gets connected to `target` (default A).
    #[serde(default = "default_keep")]
    pub keep: Side,
    #[serde(default)]
    pub method: TransferMethod,
}

/// Forward a call still ringing its callee (`POST /v1/calls/{id}/forward`): the ringing
/// phones stop and `target` rings instead (a Diversion with reason `deflection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    pub target: String,
}

/// An attended transfer done by the API (`POST /v1/calls/{id}/join`): one party (the
/// transferor) is `side` of this call and `other_side` of `other`, both answered; its two legs
/// are hung up and the parties it talked to are bridged in this call; `other` ends
/// `transferred`. Both calls are the same tenant's, with a codec in common.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub other: CallId,
    pub side: Side,
    pub other_side: Side,
}

fn default_keep() -> Side {
    Side::A
}

/// The two ends of a call. `A` is the caller (inbound leg, or `from` in 3PCC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    A,
    B,
}

/// Who ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    A,
    B,
    /// The control API (hangup / cancel).
    Api,
    /// The B2BUA itself (timeout, overload, shutdown, internal error).
    System,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Answered and then hung up.
    Normal,
    /// 486 / 600 from a callee.
    Busy,
    /// Nobody answered before the ring timeout (or 408 / 480).
    NoAnswer,
    /// A party declined (603, 403 ...).
    Rejected,
    /// Cancelled before answer (CANCEL from the caller or hangup from the API).
    Cancelled,
    /// Moved away by a transfer (REFER accepted).
    Transferred,
    /// The target does not exist or is not registered (404).
    NotFound,
    /// Signalling or media failure.
    Failed,
    /// No codec in common, or an answer whose SDP cannot be used (488 / 606).
    IncompatibleMedia,
    /// The B2BUA ended it: its node stopped (or crashed, the call ended by the node that
    /// found it dead, or by its own restart) with the call up.
    System,
}

/// Overall state of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Created, no leg ringing yet.
    Created,
    /// Ringing the A side (3PCC) or the B side (inbound / simultaneous).
    Ringing,
    /// One side answered, the other rings (3PCC caller-first).
    Connecting,
    /// Both sides answered and media is bridged.
    Bridged,
    Ended,
}

/// One step in the life of a call. `seq` is per call, starting at 1, without gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub call: CallId,
    pub seq: u64,
    /// Global sequence: over all calls of one B2BUA node in its own `/v1/events`; over every
    /// node's calls in the store's durable log (what the gateway's feeds carry). 0 until
    /// published.
    #[serde(default)]
    pub gseq: u64,
    /// Unix time in milliseconds.
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        tenant: String,
        from: String,
        to: Vec<String>,
    },
    /// A call to one of the tenant's application numbers: the B2BUA answered it itself
    /// (side A is the caller); drive it with the media primitives.
    Incoming {
        tenant: String,
        from: String,
        /// The application number dialled.
        number: String,
    },
    /// The call went to another user than the one dialled (or rung): `reason` is
    /// `unconditional`, `user-busy` or `no-answer` (RFC 5806).
    Forwarded {
        from: String,
        to: String,
        reason: String,
    },
    /// An INVITE went out to a party.
    Dialing {
        side: Side,
        party: String,
    },
    Ringing {
        side: Side,
        party: String,
        /// A callee's ringing: the tenant's CTI pop-up URL rendered for this call (its CRM's
        /// screen for the caller), when the tenant has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        popup_url: Option<String>,
    },
    Answered {
        side: Side,
        party: String,
    },
    Bridged,
    Held,
    Resumed,
    TransferStarted {
        target: String,
    },
    Transferred {
        target: String,
    },
    TransferFailed {
        target: String,
        status: u16,
    },
    /// A `play` ended.
    PlayFinished {
        command: u64,
        side: Side,
        reason: crate::MediaReason,
        played_ms: u64,
        /// The key that barged in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Why the prompt could not be played (reason `error`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A `collect` ended with these digits (`ok`: at least `min_digits` of them).
    Digits {
        command: u64,
        side: Side,
        digits: String,
        reason: crate::MediaReason,
        ok: bool,
        /// The terminator key that ended it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// A key pressed on a leg's phone (RFC 4733 or in-band), each once, as it is pressed.
    Dtmf {
        side: Side,
        key: String,
    },
    /// A `dtmf` send ended.
    DtmfSent {
        command: u64,
        side: Side,
        reason: crate::MediaReason,
    },
    /// A `tone` ended.
    ToneFinished {
        command: u64,
        side: Side,
        reason: crate::MediaReason,
        played_ms: u64,
    },
    /// A `record` ended: the file is closed and indexed (`recording`: its id). A recording
    /// the hangup stopped ends here too, before `ended`.
    RecordingReady {
        command: u64,
        recording: String,
        /// The leg recorded; absent: the whole call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        side: Option<Side>,
        layout: crate::RecordLayout,
        reason: crate::MediaReason,
        duration_ms: u64,
        bytes: u64,
        /// The key that stopped it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Why nothing (or not everything) was written (reason `error`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A leg joined a conference room (by `command`).
    ConferenceJoined {
        command: u64,
        side: Side,
        room: String,
    },
    /// A leg left its room: `stop` (reason `stopped`) or the call's end (`hangup`).
    ConferenceLeft {
        command: u64,
        side: Side,
        room: String,
        reason: crate::MediaReason,
    },
    /// The caller entered a queue (it hears hold music).
    QueueEntered {
        queue: String,
    },
    /// The caller left its queue: `connected` to `agent` after `waited_ms`, or `overflow`
    /// (max wait, full queue), or `hangup`.
    QueueLeft {
        queue: String,
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        waited_ms: u64,
    },
    /// The one terminal event of every call.
    Ended {
        cause: Cause,
        by: EndedBy,
        /// SIP status that ended it, when there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
}

impl EventKind {
    pub fn is_terminal(&self) -> bool {
        matches!(self, EventKind::Ended { .. })
    }
}

/// Summary of a call for listing and detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    pub id: CallId,
    pub tenant: String,
    pub from: String,
    pub to: Vec<String>,
    pub state: CallState,
    /// The callee that answered, once known.
    #[serde(default)]
    pub connected: Option<String>,
    pub created_ms: u64,
    #[serde(default)]
    pub answered_ms: Option<u64>,
    #[serde(default)]
    pub ended_ms: Option<u64>,
    /// An application call (held by the B2BUA's media engine, not bridged to a party).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub app: bool,
    /// Put on hold (the API's hold).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
}

/// One registered contact of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub tenant: String,
    pub user: String,
    pub contact: String,
    pub source: String,
    pub transport: String,
    pub expires_in_s: u64,
}

/// Machine-readable error kinds of the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// Malformed request (400).
    BadRequest,
    /// Unknown call, tenant or user (404).
    NotFound,
    /// Action not valid in the call's state (409).
    InvalidState,
    /// Too many call set-ups in flight (503, retry later).
    Overloaded,
    /// B2BUA not reachable or failing (client-side, or 500).
    Unavailable,
    /// Missing or wrong control-API bearer token (401).
    Unauthorized,
    /// A call destination the tenant may not reach (403): a SIP URI whose domain is not on
    /// the tenant's `allowed_sip_domains`, or a number no dial plan of the tenant routes.
    Forbidden,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: ApiErrorKind,
    pub message: String,
}

impl ApiErrorKind {
    pub fn http_status(self) -> u16 {
        match self {
            ApiErrorKind::BadRequest => 400,
            ApiErrorKind::NotFound => 404,
            ApiErrorKind::InvalidState => 409,
            ApiErrorKind::Overloaded => 503,
            ApiErrorKind::Unavailable => 500,
            ApiErrorKind::Unauthorized => 401,
            ApiErrorKind::Forbidden => 403,
        }
    }
}

/// Relay state of one leg of a live call (`GET /v1/calls/{id}/media`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaLeg {
    pub side: Side,
    pub party: String,
    /// Our RTP address for this leg (what its phone was told in SDP).
    pub local_rtp: String,
    /// The phone's RTP address: announced in SDP, or latched from its first packet.
    pub remote_rtp: Option<String>,
    pub latched: bool,
    /// RTP packets received from this leg's phone.
    pub rtp_in: u64,
    /// RTP packets sent to this leg's phone.
    pub rtp_out: u64,
    /// RTP packets from this leg's phone missing by sequence number.
    pub rtp_lost: u64,
}

/// A registration the B2BUA keeps up at another registrar (a trunk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrunkRegistration {
    pub aor: String,
    /// `registered`, `registering` or `failed`.
    pub state: String,
    /// The refusing status when failed (408: no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Seconds left of the binding when registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::CallId;

    #[test]
    fn call_ids_name_their_node() {
        let id = CallId::compose(1_795_968_561, 7, 42);
        assert_eq!(id.0, "179596856107000042");
        assert_eq!(id.node(), Some(7));
        assert_eq!(
            CallId::compose(1_795_968_561, 12, 1_234_567).node(),
            Some(12)
        );
        assert_eq!(CallId("1795968561000002".into()).node(), None, "too short");
        assert_eq!(CallId("demo-c1".into()).node(), None);
    }
}
