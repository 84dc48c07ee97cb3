//! The B2BUA's own spoken prompts and key collections (voicemail, room entry, attendants):
//! primitives on side A, like an application's.

use patchbay_api::{CollectRequest, MediaOp, PlayRequest, Side};

/// Speak `text` (`barge_in`: a key ends it).
pub(super) fn say(text: &str, barge_in: bool) -> MediaOp {
    MediaOp::Play(PlayRequest {
        side: Side::A,
        file: None,
        url: None,
        text: Some(text.to_string()),
        recording: None,
        voice: None,
        repeat: false,
        barge_in,
    })
}

/// Collect up to `max` keys (ended by one of `terminators`); the first within
/// `first_timeout_ms` of the prompts before it ending, the next within 5 s.
pub(super) fn keys(max: usize, terminators: &str, first_timeout_ms: u64) -> MediaOp {
    MediaOp::Collect(CollectRequest {
        side: Side::A,
        min_digits: 1,
        max_digits: max,
        terminators: terminators.into(),
        first_timeout_ms,
        inter_timeout_ms: 5_000,
    })
}
