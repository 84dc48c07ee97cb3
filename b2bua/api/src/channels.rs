//! Call legs as PBX channels (Asterisk's view, which wallboards read: Taridium IPPS).

use crate::CallId;
use serde::{Deserialize, Serialize};

/// Where a channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelState {
    /// No call on it.
    Down,
    /// The calling side, before answer.
    Ring,
    /// The called side, ringing.
    Ringing,
    /// Answered.
    Up,
}

/// One channel: `SIP/<ext>` for a user's phone, `SIP/<trunk>` for a leg on a carrier trunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub name: String,
    pub state: ChannelState,
    /// The caller ID on the channel's call: number and name (the number again when no name
    /// is known).
    pub clid_num: String,
    pub clid_name: String,
    /// Empty: no account codes are set on calls yet.
    pub account_code: String,
    /// `<call id>.<leg>`; empty when down.
    pub unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallId>,
}

impl Channel {
    /// An idle channel.
    pub fn down(name: &str) -> Self {
        Self {
            name: name.to_string(),
            state: ChannelState::Down,
            clid_num: String::new(),
            clid_name: String::new(),
            account_code: String::new(),
            unique_id: String::new(),
            call: None,
        }
    }
}
