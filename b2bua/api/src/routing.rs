//! Per-user routing settings that travel through the APIs.

use serde::{Deserialize, Serialize};

/// One ring of a call sequence (sipX's model; Taridium follow-me): `number` (an extension)
/// rings for `ring_secs`, together with the ring before it (`parallel`: "at the same time") or
/// after it ("if no response"); disabled rings are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceRing {
    pub number: String,
    pub ring_secs: u32,
    #[serde(default)]
    pub parallel: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}
