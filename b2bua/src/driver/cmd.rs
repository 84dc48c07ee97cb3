//! Commands from the control API to the driver loop, each with where its reply goes.

use super::CmdError;
use patchbay_api::{CallId, CallInfo, OriginateRequest, TransferRequest};
use patchbay_proto::Target;
use tokio::sync::oneshot;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, CmdError>>;

/// Commands from the control API.
pub(crate) enum Cmd {
    /// A call to place (with its id when the API named it already: an idempotency key's);
    /// the callees the dial plan sends out through trunks; the routing plan of its callee when
    /// that is one user, and of its caller when its forwarding applies.
    Originate(
        Box<OriginateRequest>,
        Option<CallId>,
        Vec<Target>,
        Option<Box<patchbay_proto::routing::Plan>>,
        Option<Box<patchbay_proto::routing::Plan>>,
        Reply<CallInfo>,
    ),
    /// Start a held 3PCC call (see `OriginateRequest::start_within_ms`).
    Start(CallId, Reply<()>),
    Hangup(CallId, Reply<()>),
    /// A transfer; its target when the dial plan sends it out through a trunk.
    Transfer(CallId, TransferRequest, Option<Target>, Reply<()>),
    Hold(CallId, bool, Reply<()>),
    /// Forward a ringing call to a party (its target when a trunk takes it).
    Forward(CallId, String, Option<Target>, Reply<()>),
    /// Join two calls' parties (an attended transfer by the API).
    Join(CallId, patchbay_api::JoinRequest, Reply<()>),
    List(Reply<Vec<CallInfo>>),
    Get(CallId, Reply<CallInfo>),
    Media(CallId, Reply<Vec<patchbay_api::MediaLeg>>),
    TrunkRegistrations(Reply<Vec<patchbay_api::TrunkRegistration>>),
    /// MESSAGE / NOTIFY to a user's phones; the reply is where the results go once every
    /// phone answered.
    SipMessage(
        patchbay_api::SipMessageRequest,
        Reply<oneshot::Receiver<Vec<patchbay_api::SipMessageResult>>>,
    ),
    /// A media primitive on a call; the reply is its command id.
    Primitive(CallId, patchbay_api::MediaOp, Reply<u64>),
    /// Stop a primitive.
    StopPrimitive(CallId, u64, Reply<()>),
    /// Mute or unmute a leg in its conference.
    Mute(CallId, patchbay_api::MuteRequest, Reply<()>),
    /// A tenant's channels by name (all its live ones when `None`).
    Channels(
        String,
        Option<Vec<String>>,
        Reply<Vec<patchbay_api::Channel>>,
    ),
    /// A queue's live calls (tenant, queue); `None` when no caller has entered it here.
    QueueCalls(String, String, Reply<Option<Vec<patchbay_api::QueueCall>>>),
    /// An input for the core from the admin API (a queue or an agent changed).
    Core(Box<patchbay_proto::Input>, Reply<()>),
    /// The members of a tenant's room (tenant, room).
    Conference(String, String, Reply<Vec<patchbay_api::ConferenceMember>>),
}
