//! Routing settings that travel through the APIs: a user's call sequence, a call's caller ID.

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

/// A caller ID as shown to a called phone (the From header's user and display name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerId {
    Shown {
        number: String,
        name: Option<String>,
    },
    /// RFC 3323: `"Anonymous" <sip:anonymous@...>` with `Privacy: id`.
    Anonymous,
}

impl CallerId {
    /// `number`, `Name <number>`, or `anonymous` / `unknown` / `private`; `None` if malformed
    /// (a number is 1-32 of `0-9 A-Z a-z + * # . _ -`; a name up to 64 printable characters
    /// without `"`, `<`, `>`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if ["anonymous", "unknown", "private"]
            .iter()
            .any(|a| s.eq_ignore_ascii_case(a))
        {
            return Some(CallerId::Anonymous);
        }
        let number_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 32
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))
        };
        if let Some(open) = s.find('<') {
            let number = s[open + 1..].strip_suffix('>')?.trim();
            let name = s[..open].trim().trim_matches('"').trim();
            let name_ok =
                name.len() <= 64 && !name.chars().any(|c| c.is_control() || "\"<>".contains(c));
            return (number_ok(number) && name_ok).then(|| CallerId::Shown {
                number: number.to_string(),
                name: (!name.is_empty()).then(|| name.to_string()),
            });
        }
        number_ok(s).then(|| CallerId::Shown {
            number: s.to_string(),
            name: None,
        })
    }
}
