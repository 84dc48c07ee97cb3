//! Recordings: the `record` primitive (`POST /v1/calls/{id}/record`), what its completion
//! event carries, and the index entries of finished recordings (`GET /v1/recordings`).

use crate::{CallId, Side};
use serde::{Deserialize, Serialize};

/// Longest recording, in milliseconds (4 hours).
pub const MAX_RECORD_MS: u64 = 4 * 3_600_000;

/// How a recording's channels are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordLayout {
    /// One channel: one leg, or both legs summed.
    Mono,
    /// Leg A on the left channel, leg B on the right.
    Stereo,
}

/// Record what the phones of a call say, to a WAV file (8 kHz, 16-bit).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// One leg (`a` or `b`: what that leg's phone sends); absent: the whole call (both legs
    /// of a bridged call; the one leg of an application call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// Default: `stereo` for a whole bridged call, else `mono`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<RecordLayout>,
    /// Stop after this long (default and at most 4 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
    /// Stop after this long of silence (200 to 60000 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence_ms: Option<u64>,
    /// Keys (RFC 4733) that stop it, e.g. `#`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_keys: String,
}

impl RecordRequest {
    /// Why the request cannot be carried out as given (`None`: it can).
    pub fn refusal(&self) -> Option<String> {
        if self.max_ms.is_some_and(|m| m == 0 || m > MAX_RECORD_MS) {
            return Some(format!("max_ms must be 1 to {MAX_RECORD_MS}"));
        }
        if self
            .silence_ms
            .is_some_and(|s| !(200..=60_000).contains(&s))
        {
            return Some("silence_ms must be 200 to 60000".into());
        }
        if self.stop_keys.len() > 16
            || !self
                .stop_keys
                .chars()
                .all(|c| "0123456789*#ABCDabcd".contains(c))
        {
            return Some("stop_keys must be keys (0-9 * # A-D)".into());
        }
        if self.side.is_some() && self.layout == Some(RecordLayout::Stereo) {
            return Some("a stereo recording takes the whole call (no side)".into());
        }
        None
    }
}

/// A finished recording, as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub id: String,
    pub call: CallId,
    pub tenant: String,
    /// `a`, `b` (one leg) or `call` (both legs).
    pub side: String,
    pub layout: RecordLayout,
    /// When recording started (Unix ms).
    pub started_ms: u64,
    pub duration_ms: u64,
    /// Size of the WAV file.
    pub bytes: u64,
}

/// A tenant's recording policy (`PUT /v1/tenants/{tenant}/recording`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingPolicy {
    /// Record every answered call of the tenant (stereo, from answer to hangup).
    #[serde(default)]
    pub record_calls: bool,
    /// Delete recordings older than this many days (0: keep them).
    #[serde(default)]
    pub retention_days: u32,
}
