//! Control API between the gateway and the B2BUA: plain data types plus an HTTP client.
//!
//! Versioned under `/v1`, JSON over HTTP on a loopback port. The types here are the only
//! thing the gateway knows about calls: no SIP, no SDP, no sockets (except in [`client`]).
//!
//! Endpoints (all JSON):
//! - `POST   /v1/calls`                      [`OriginateRequest`] -> 201 [`CallInfo`] (id assigned before any INVITE)
//! - `GET    /v1/calls`                      -> `Vec<CallInfo>`
//! - `GET    /v1/calls/{id}`                 -> [`CallInfo`]
//! - `DELETE /v1/calls/{id}`                 -> 202 (hangup / cancel, any state)
//! - `POST   /v1/calls/{id}/transfer`        [`TransferRequest`] -> 202
//! - `POST   /v1/calls/{id}/join`            [`JoinRequest`] -> 202 (attended transfer)
//! - `POST   /v1/calls/{id}/forward`         [`ForwardRequest`] -> 202 (a ringing call)
//! - `POST   /v1/calls/{id}/hold`, `/unhold` -> 202
//! - `GET    /v1/calls/{id}/media`           -> `Vec<MediaLeg>` (relay addresses and counters)
//! - `POST   /v1/calls/{id}/play|collect|dtmf|tone` [`PlayRequest`] ... -> 202 [`CommandAccepted`]
//!   (completion as an event: `play_finished`, `digits`, `dtmf_sent`, `tone_finished`)
//! - `POST   /v1/calls/{id}/hold_music`      [`HoldMusicRequest`] -> 202 (a looped `play`)
//! - `POST   /v1/calls/{id}/record`          [`RecordRequest`] -> 202 [`CommandAccepted`]
//!   (completion: `recording_ready`)
//! - `POST   /v1/calls/{id}/conference`      [`ConferenceRequest`] -> 202 [`CommandAccepted`]
//!   (`conference_joined`; completion: `conference_left`)
//! - `POST   /v1/calls/{id}/mute`            [`MuteRequest`] -> 202 (a leg in a conference)
//! - `GET    /v1/conferences/{room}?tenant=T` -> `Vec<ConferenceMember>`
//! - `POST   /v1/calls/{id}/stop`            [`StopRequest`] -> 202
//! - `GET    /v1/recordings?tenant=T&call=C&limit=N` -> `Vec<Recording>` (newest first)
//! - `GET    /v1/recordings/{id}?tenant=T`   -> `audio/wav` (`Range: bytes=` honoured, 206)
//! - `DELETE /v1/recordings/{id}?tenant=T`   -> 204 (the file and its index entry)
//! - `GET|PUT /v1/tenants/{tenant}/recording` [`RecordingPolicy`]
//! - `GET    /v1/calls/{id}/events?after=N&wait_ms=M` -> `Vec<Event>` with `seq > N` (long poll)
//! - `GET    /v1/events?after=N&wait_ms=M`   -> every call's events, global order ([`Event::gseq`])
//! - `GET    /v1/registrations?tenant=T`     -> `Vec<Registration>`
//! - `GET    /v1/cdrs?tenant=T&limit=N`      -> `Vec<Cdr>`
//! - `GET    /v1/trunk-registrations`        -> `Vec<TrunkRegistration>`
//! - `GET    /v1/channels?tenant=T&names=SIP/4003,SIP/4005` -> `Vec<Channel>` (each live leg
//!   on those channels, or a `down` one; without `names`: every live channel of the tenant)
//! - `GET    /v1/tenants/{t}/trunks`          -> `Vec<Trunk>`; `GET|PUT|DELETE .../trunks/{name}`
//!   [`Trunk`] (PUT, DELETE -> 204)
//! - `GET|PUT /v1/tenants/{t}/dialplan`       `Vec<DialRule>` (first match wins)
//! - `GET    /v1/tenants/{t}/dids`            -> `Vec<Did>`; `PUT .../dids/{number}`
//!   `{"destination": ext}` -> [`Did`], `DELETE` -> 204
//! - `GET    /v1/tenants/{t}/groups`          -> `Vec<RingGroup>`; `GET|PUT|DELETE .../groups/{number}`
//!   [`RingGroup`] (PUT, DELETE -> 204)
//! - `GET    /v1/tenants/{t}/conference-rooms` -> `Vec<ConferenceRoom>`;
//!   `GET|PUT|DELETE .../conference-rooms/{name}` [`ConferenceRoom`] (PUT, DELETE -> 204)
//! - `GET    /v1/tenants/{t}/queues`          -> `Vec<Queue>`; `GET|PUT|DELETE .../queues/{name}`
//!   [`Queue`] (PUT, DELETE -> 204); `GET .../queues/{name}/agents` -> `Vec<QueueAgent>`;
//!   `PUT .../queues/{name}/agents/{ext}` [`QueueAgent`] -> 204; `GET .../queues/{name}/calls`
//!   -> `Vec<QueueCall>` (live)
//! - `POST   /v1/sip/messages`               [`SipMessageRequest`] -> `Vec<SipMessageResult>`
//!   (MESSAGE / NOTIFY to every registered phone of a user, once each answered or timed out)
//!
//! Errors are `{"error": <ApiErrorKind>, "message": ...}` with a matching HTTP status.

mod cdr;
mod channels;
#[cfg(feature = "client")]
pub mod client;
mod groups;
mod media;
mod messages;
mod queues;
mod recording;
mod routing;
mod types;

pub use cdr::*;
pub use channels::*;
pub use groups::*;
pub use media::*;
pub use messages::*;
pub use queues::*;
pub use recording::*;
pub use routing::*;
pub use types::*;
