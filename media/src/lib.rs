//! RTP relay of Patchbay: media of every call is anchored here.
//!
//! Per call leg a pair of UDP sockets (RTP on an even port, RTCP on the next) is taken from a
//! configured range. Two legs are bridged by four forwarding tasks (RTP and RTCP, each way).
//! Latching is symmetric: a leg learns its peer from the first packet it receives and ignores
//! packets from any other source afterwards; until then it sends to the address the peer
//! announced in its SDP. Counters (packets, bytes, drops, RTP sequence loss) are atomics per leg;
//! [`RelayMetrics`] (prometheus: packets and bytes relayed, loss, drops, sampled relay latency
//! and jitter) is updated live by the loops. The forwarding loop neither allocates nor locks:
//! the buffer lives on the task's stack and peer addresses are packed into atomics.
//!
//! [`sdp`] holds the pure SDP functions (parse an offer/answer, render our side).
//! [`engine`] holds the sans-IO pieces of the media engine (G.711, RFC 4733 DTMF, in-band
//! DTMF detection, tones) that playback, collection and recording are built from; [`tts`]
//! renders text to prompts with espeak-ng.
//! This crate knows nothing of SIP or calls.

pub mod conference;
pub mod endpoint;
pub mod engine;
mod metrics;
pub mod prompts;
pub mod recording;
mod relay;
pub mod sdp;
pub mod tts;

pub use metrics::RelayMetrics;
pub use relay::{Bridge, LegMedia, LegStats, MediaConfig, MediaError, Relay};
