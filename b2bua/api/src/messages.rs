//! SIP requests outside any call (`POST /v1/sip/messages`): a text or an event to a user's
//! phones.

use crate::header_refusal;
use serde::{Deserialize, Serialize};

/// A SIP request outside any call, sent by the B2BUA to every registered phone of a user:
/// `MESSAGE` (RFC 3428: a text) or `NOTIFY` (an unsolicited event, e.g. message waiting,
/// RFC 3842 `Event: message-summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipMessageRequest {
    pub tenant: String,
    /// The user whose phones get it.
    pub to: String,
    pub method: SipMessageMethod,
    /// The body's media type (`text/plain`, `application/simple-message-summary` ...).
    pub content_type: String,
    pub body: String,
    /// Extra headers (`Event` and `Subscription-State` for NOTIFY), checked like a call's.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The sender (the From user): 1-32 of `0-9 A-Z a-z + * # . _ -`; default `patchbay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SipMessageMethod {
    Message,
    Notify,
}

/// What one phone answered (`status` 408 when it did not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipMessageResult {
    pub contact: String,
    pub status: u16,
}

/// Largest body of a SIP message request (RFC 3428 6: 1300 bytes keeps it in one datagram).
pub const SIP_MESSAGE_MAX_BODY: usize = 1300;

/// Why a SIP message request is refused, if it is.
pub fn sip_message_refusal(req: &SipMessageRequest) -> Option<String> {
    if req.body.len() > SIP_MESSAGE_MAX_BODY {
        return Some(format!("body over {SIP_MESSAGE_MAX_BODY} bytes"));
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "-.+_/;= ".contains(c);
    if req.content_type.is_empty() || !req.content_type.chars().all(token) {
        return Some("content_type is not a media type".into());
    }
    if let Some(why) = req.headers.iter().find_map(|(n, v)| header_refusal(n, v)) {
        return Some(why);
    }
    let has = |name: &str| {
        req.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if req.method == SipMessageMethod::Notify && !has("Event") {
        return Some("a NOTIFY needs an Event header".into());
    }
    if let Some(f) = &req.from {
        let ok = !f.is_empty()
            && f.len() <= 32
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c));
        if !ok {
            return Some("from: 1-32 of 0-9 A-Z a-z + * # . _ -".into());
        }
    }
    None
}
