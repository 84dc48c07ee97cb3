//! Group features that travel through the APIs: ring groups, conference rooms,
//! auto-attendants.

use serde::{Deserialize, Serialize};

/// How a ring group rings its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupStrategy {
    /// Every member at once (Brekeke `sr`); the group rings as long as its longest member.
    Simultaneous,
    /// One member after another, each for its ring time (Brekeke `rr`); a busy member is
    /// passed over.
    Hunt,
}

/// A member of a ring group: an extension and how long it rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMember {
    pub ext: String,
    #[serde(default = "default_ring")]
    pub ring_secs: u32,
}

fn default_ring() -> u32 {
    20
}

/// A ring group: a number that rings its members, then (nobody answered) its `fallback`: a
/// user, or an outside number the tenant's dial plan routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingGroup {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub name: String,
    pub strategy: GroupStrategy,
    pub members: Vec<GroupMember>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Asked before a call to the group rings (the tenant's CTI, per application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cti_url: Option<String>,
}

impl RingGroup {
    /// Check a group as the admin API receives it; `Err` says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        crate::routing::check_cti_url(&self.cti_url)?;
        if !crate::app_number_ok(&self.number) {
            return Err("number: 1-32 digits, * or #, with an optional leading +".into());
        }
        if self.name.len() > 128 {
            return Err("name: at most 128 bytes".into());
        }
        if self.members.is_empty() || self.members.len() > 32 {
            return Err("members: 1 to 32".into());
        }
        for m in &self.members {
            if m.ext.is_empty() || m.ext.len() > 32 || m.ext == self.number {
                return Err(format!("members: {:?} is no extension", m.ext));
            }
            if !(5..=600).contains(&m.ring_secs) {
                return Err(format!("members: ring_secs of {} is 5-600", m.ext));
            }
        }
        if self
            .fallback
            .as_ref()
            .is_some_and(|f| f.is_empty() || f.len() > 32 || *f == self.number)
        {
            return Err("fallback: an extension or number other than the group's".into());
        }
        Ok(())
    }
}

/// A conference room callers dial into: its extension, the participants' and moderator's
/// PINs (typed by DTMF; none: callers join at once), how many may be in it (0: no cap), and
/// its owner (an extension, for the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceRoom {
    #[serde(default)]
    pub name: String,
    pub extension: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderator_pin: Option<String>,
    #[serde(default)]
    pub max_members: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Nobody else may dial in (invites still join).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
    /// Record the room (one WAV of everyone, from its first dial-in member until it ends).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record: bool,
    /// What the room is for (sipX's conference description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ConferenceRoom {
    /// Check a room as the admin API receives it; `Err` says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !crate::room_name_ok(&self.name) {
            return Err("name: 1-64 of letters, digits, '.', '_', '-'".into());
        }
        if !crate::app_number_ok(&self.extension) {
            return Err("extension: 1-32 digits, * or #, with an optional leading +".into());
        }
        let pin_ok = |p: &Option<String>| {
            p.as_ref().is_none_or(|p| {
                (1..=12).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit())
            })
        };
        if !pin_ok(&self.pin) || !pin_ok(&self.moderator_pin) {
            return Err("pin, moderator_pin: 1-12 digits".into());
        }
        if self.pin.is_some() && self.pin == self.moderator_pin {
            return Err("pin and moderator_pin differ".into());
        }
        if self.max_members > 1_000 {
            return Err("max_members: at most 1000 (0: no cap)".into());
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.len() > 255 || d.chars().any(char::is_control))
        {
            return Err("description: at most 255 bytes".into());
        }
        Ok(())
    }
}

/// What an auto-attendant says: a prompt file (a name under the prompts directory), a WAV at
/// an http(s) URL, or text (spoken when neither plays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendantPrompt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// An auto-attendant: callers of `number` hear `prompt` and press a key of `menu`. A
/// destination is a number (a user, a ring group, a conference room's extension, another
/// attendant's number, an outside number the dial plan routes), `voicemail:<ext>` (that
/// user's mailbox), or `extension` (the caller types an extension, then `#`). No key within
/// `timeout_secs`: `timeout_destination` (none: goodbye); three invalid keys likewise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoAttendant {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub number: String,
    pub prompt: AttendantPrompt,
    #[serde(default)]
    pub menu: std::collections::BTreeMap<String, String>,
    #[serde(default = "five")]
    pub timeout_secs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_destination: Option<String>,
    /// Asked before a call to the attendant is answered (the tenant's CTI, per application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cti_url: Option<String>,
}

fn five() -> u32 {
    5
}

/// A destination of an attendant's menu is well formed.
pub fn attendant_destination_ok(d: &str) -> bool {
    d == "extension"
        || d.strip_prefix("voicemail:").is_some_and(|e| {
            !e.is_empty() && e.len() <= 32 && e.chars().all(|c| c.is_ascii_alphanumeric())
        })
        || crate::app_number_ok(d)
}

impl AutoAttendant {
    /// Check an attendant as the admin API receives it; `Err` says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        crate::routing::check_cti_url(&self.cti_url)?;
        if !crate::trunk_name_ok(&self.id) {
            return Err("id: 1-64 of a-z A-Z 0-9 - _ .".into());
        }
        if !crate::app_number_ok(&self.number) {
            return Err("number: 1-32 digits, * or #, with an optional leading +".into());
        }
        let p = &self.prompt;
        if p.file.is_none() && p.url.is_none() && p.text.is_none() {
            return Err("prompt: a file, a url or a text".into());
        }
        if p.text.as_ref().is_some_and(|t| t.len() > 1_000) {
            return Err("prompt: text up to 1000 bytes".into());
        }
        if p.url.as_ref().is_some_and(|u| {
            !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2_000
        }) {
            return Err("prompt: url is http(s), up to 2000 bytes".into());
        }
        for (key, dest) in &self.menu {
            let key_ok = key.len() == 1
                && key
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
            if !key_ok {
                return Err(format!("menu: {key:?} is not one key (0-9, * or #)"));
            }
            if !attendant_destination_ok(dest) || *dest == self.number {
                return Err(format!("menu: {key} leads nowhere ({dest:?})"));
            }
        }
        if !(1..=60).contains(&self.timeout_secs) {
            return Err("timeout_secs: 1-60".into());
        }
        if let Some(d) = &self.timeout_destination
            && (!attendant_destination_ok(d) || *d == self.number || d == "extension")
        {
            return Err(format!("timeout_destination: {d:?} leads nowhere"));
        }
        Ok(())
    }
}

/// A tenant's special mode (sipX's special attendant): while enabled, every call to any of
/// its attendants hears `attendant` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SpecialMode {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendant: Option<String>,
}
