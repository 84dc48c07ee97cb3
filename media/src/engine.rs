//! The media engine's building blocks, sans-IO: audio in and out of a leg as 16-bit linear
//! samples at 8 kHz, G.711 on the wire, RFC 4733 telephone-events and in-band DTMF, tones.
//! No sockets and no clock: the pacing loop that sends packets lives with the relay's I/O.
//!
//! - [`audio`]: WAV prompts (any rate, PCM / float / G.711) to 8 kHz mono samples.
//! - [`capture`]: what a phone sends as 20 ms frames (timestamps placed, losses as silence,
//!   a small jitter cushion), and its keys: the input of recordings and conferences.
//! - [`g711`]: PCMU / PCMA frames to and from linear samples (rvoip-codec-core's G.711).
//! - [`collect`]: digit collection: max digits, terminators, first and inter-digit timeouts.
//! - [`dtmf`]: RFC 4733 telephone-event payloads: sending (an event's packets, end packets
//!   sent three times) and receiving (each key once, whatever the retransmissions).
//! - [`goertzel`]: in-band DTMF detection for legs that did not agree on telephone-event.
//! - [`leg`]: the application end of one leg: prompts, tones and keys out, keys in, digit
//!   collection, paced by a 20 ms tick.
//! - [`mixer`]: conference frames, each member hearing the others, with a soft limit.
//! - [`playback`]: a prompt (or looped hold music) as 20 ms G.711 RTP packets.
//! - [`record`]: a leg or a call to WAV (mono, stereo A/B or mixed), stopping on length,
//!   silence or a key.
//! - [`rtp`]: RTP headers in and out; a leg's outgoing stream, continuous across prompts and
//!   across a move from the relay to the engine.
//! - [`tone`]: dual-frequency tones with cadences: DTMF keys, ringback, busy, a beep.

pub mod audio;
pub mod capture;
pub mod collect;
pub mod dtmf;
pub mod g711;
pub mod goertzel;
pub mod leg;
pub mod mixer;
pub mod playback;
pub mod record;
pub mod rtp;
pub mod tone;

/// Samples a second of everything the engine handles (narrowband telephony).
pub const RATE: u32 = 8_000;
/// Samples in one 20 ms packet (the ptime every phone takes).
pub const FRAME: usize = 160;
