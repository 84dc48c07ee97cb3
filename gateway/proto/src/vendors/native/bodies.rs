//! The JSON bodies of the native API's resources (tenants, users, keys, calls) and their
//! checks.

use crate::Failure;
use patchbay_api::OriginateMode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantBody {
    pub name: String,
    /// SIP and HTTP Digest realm (default: the name).
    #[serde(default)]
    pub realm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    #[serde(default)]
    pub display_name: Option<String>,
    /// Required when the user is created.
    #[serde(default)]
    pub sip_password: Option<String>,
    #[serde(default)]
    pub web_pin: Option<String>,
    #[serde(default)]
    pub vm_pin: Option<String>,
    /// Taridium-style URL key (6 characters).
    #[serde(default)]
    pub url_key: Option<String>,
    /// Taridium's authorized client IP: URL control from this address needs no key (`""`
    /// clears it).
    #[serde(default)]
    pub url_ip: Option<String>,
    #[serde(default)]
    pub forward_to: Option<String>,
    #[serde(default)]
    pub forward_on: Option<bool>,
    #[serde(default)]
    pub vm_on: Option<bool>,
    #[serde(default)]
    pub ring_secs: Option<u32>,
    /// Where calls go when the user is busy (`""` clears it).
    #[serde(default)]
    pub forward_busy: Option<String>,
    /// Where calls go after `ring_secs` unanswered, or when no phone is registered.
    #[serde(default)]
    pub forward_no_answer: Option<String>,
    /// Do not disturb: the phones do not ring (busy forwarding applies).
    #[serde(default)]
    pub dnd: Option<bool>,
    /// Follow-me: the call sequence rung after (or with) the user's phones.
    #[serde(default)]
    pub followme_on: Option<bool>,
    #[serde(default)]
    pub call_sequence: Option<Vec<patchbay_api::SequenceRing>>,
    /// Forwarding in one object (folded into the fields above by [`UserBody::fold`]).
    #[serde(default)]
    pub forwarding: Option<ForwardingBody>,
    /// Voicemail in one object: `enabled` is `vm_on`; `greeting` the active greeting.
    #[serde(default)]
    pub voicemail: Option<VoicemailBody>,
    /// The active voicemail greeting (`standard`, `outofoffice`, `extendedabsence`, `none`).
    #[serde(default)]
    pub vm_greeting: Option<String>,
    /// The caller ID the user's calls carry out through trunks (`""` clears it).
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Roles beyond `user`: `admin` (sipX's ROLE_ADMIN: the tenant's sipXconfig admin
    /// resources); `[]` removes them.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// `forwarding`: `always` (unconditional; `""` switches it off), `busy`, `no_answer` (`""`
/// clears), `no_answer_secs` (the ring time before no-answer handling).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ForwardingBody {
    #[serde(default)]
    pub always: Option<String>,
    #[serde(default)]
    pub busy: Option<String>,
    #[serde(default)]
    pub no_answer: Option<String>,
    #[serde(default)]
    pub no_answer_secs: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VoicemailBody {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub greeting: Option<String>,
}

/// sipX's voicemail greetings.
const GREETINGS: [&str; 4] = ["standard", "outofoffice", "extendedabsence", "none"];

impl UserBody {
    /// Fold `forwarding` and `voicemail` into the flat fields (the nested form wins) and
    /// check the values that need it.
    pub fn fold(&mut self) -> Result<(), Failure> {
        if let Some(f) = self.forwarding.take() {
            if let Some(a) = f.always {
                self.forward_on = Some(!a.is_empty());
                if !a.is_empty() {
                    self.forward_to = Some(a);
                }
            }
            self.forward_busy = f.busy.or(self.forward_busy.take());
            self.forward_no_answer = f.no_answer.or(self.forward_no_answer.take());
            self.ring_secs = f.no_answer_secs.or(self.ring_secs);
        }
        if let Some(v) = self.voicemail.take() {
            self.vm_on = v.enabled.or(self.vm_on);
            self.vm_greeting = v.greeting.or(self.vm_greeting.take());
        }
        if let Some(g) = &self.vm_greeting
            && !GREETINGS.contains(&g.as_str())
        {
            return Err(Failure::bad("greeting", GREETINGS.join(", ")));
        }
        if let Some(ip) = &self.url_ip
            && !ip.is_empty()
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            return Err(Failure::bad("url_ip", "an IP address"));
        }
        if let Some(r) = &self.roles
            && r.iter().any(|r| r != "admin")
        {
            return Err(Failure::bad("roles", "admin"));
        }
        if self.ring_secs.is_some_and(|s| !(5..=600).contains(&s)) {
            return Err(Failure::bad("no_answer_secs", "5-600"));
        }
        if let Some(c) = &self.caller_id
            && !c.is_empty()
            && patchbay_api::CallerId::parse(c).is_none()
        {
            return Err(Failure::bad(
                "caller_id",
                "a number, `Name <number>` or anonymous",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    #[serde(default = "default_roles")]
    pub roles: Vec<String>,
    #[serde(default)]
    pub label: String,
}

fn default_roles() -> Vec<String> {
    vec!["user".to_string()]
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    /// The caller (an application call: the caller id its party sees, may be empty).
    #[serde(default)]
    pub from: String,
    pub to: OneOrMany,
    #[serde(default)]
    pub mode: OriginateMode,
    #[serde(default)]
    pub ring_timeout_secs: Option<u32>,
    /// Extra SIP headers; names must be on the gateway's allow-list.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Intercom: the caller's phone is asked to answer by itself.
    #[serde(default)]
    pub auto_answer: bool,
    /// Ring only the caller's n-th registered phone (1 = registered first).
    #[serde(default)]
    pub from_phone: Option<u8>,
    /// Application call: ring `to` and hold the answered call in Patchbay's media engine,
    /// driven by `/calls/{id}/play|collect|dtmf|tone|stop`.
    #[serde(default)]
    pub app: bool,
    /// Record the call from answer to hangup (`/recordings` lists it afterwards).
    #[serde(default)]
    pub record: bool,
    /// The caller ID the callees see: a number, `Name <number>`, or `anonymous`.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// A call-centre call: `from` is an agent of this queue (the CDR names the queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The request's `Idempotency-Key` header (not a body field).
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl CallBody {
    pub fn callees(&self) -> Vec<String> {
        match &self.to {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }

    /// Checks the call is well formed and its headers allowed (case-insensitive names).
    pub fn validate(&self, allowed_headers: &[String]) -> Result<(), Failure> {
        if self
            .caller_id
            .as_deref()
            .is_some_and(|c| patchbay_api::CallerId::parse(c).is_none())
        {
            return Err(Failure::bad(
                "caller_id",
                "a number, Name <number>, or anonymous",
            ));
        }
        if self.app {
            let caller_id = self.from.len() <= 32
                && self
                    .from
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c));
            if !caller_id {
                return Err(Failure::bad(
                    "from",
                    "an application call's caller id: up to 32 of 0-9 A-Z a-z + * # . _ -",
                ));
            }
            if self.from_phone.is_some() || self.auto_answer {
                return Err(Failure::bad(
                    "app",
                    "from_phone and auto_answer need a calling party",
                ));
            }
        } else if !valid_party(&self.from) {
            return Err(Failure::bad(
                "from",
                "must be an extension, number or SIP URI",
            ));
        }
        let to = self.callees();
        if to.is_empty() || to.len() > 16 {
            return Err(Failure::bad("to", "one to sixteen callees"));
        }
        if let Some(bad) = to.iter().find(|t| !valid_party(t)) {
            return Err(Failure::bad("to", format!("bad callee {bad:?}")));
        }
        if self.from_phone.is_some_and(|n| n == 0 || n > 16) {
            return Err(Failure::bad("from_phone", "1..=16"));
        }
        if self.ring_timeout_secs.is_some_and(|s| s == 0 || s > 600) {
            return Err(Failure::bad("ring_timeout_secs", "1..=600"));
        }
        for (name, value) in &self.headers {
            let ok_name = allowed_headers.iter().any(|a| a.eq_ignore_ascii_case(name));
            if !ok_name {
                return Err(Failure::bad("headers", format!("{name} is not allowed")));
            }
            if let Some(why) = patchbay_api::header_refusal(name, value) {
                return Err(Failure::bad("headers", why));
            }
        }
        Ok(())
    }
}

/// Digits (with an optional leading `+`, `*` and `#`), or a `sip:` URI without spaces or
/// control characters.
pub fn valid_party(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || s.len() > 128 {
        return false;
    }
    if let Some(rest) = s.strip_prefix("sip:").or_else(|| s.strip_prefix("sips:")) {
        return !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control());
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '#' | '.' | '-' | '_'))
}
