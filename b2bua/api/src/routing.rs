//! Routing settings that travel through the APIs: a user's call sequence, a call's caller ID,
//! a tenant's trunks, dial plan and inbound numbers (DIDs).

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

/// How a trunk's SIP travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrunkTransport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl TrunkTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            TrunkTransport::Udp => "udp",
            TrunkTransport::Tcp => "tcp",
            TrunkTransport::Tls => "tls",
        }
    }
}

/// A tenant's SIP trunk to a carrier: where its calls go, the Digest credentials the carrier
/// asks for (the password is kept as given: a Digest client needs it), whether to REGISTER
/// there, the caller ID its calls carry, and how many calls it may carry at once (0: no cap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    #[serde(default)]
    pub name: String,
    pub host: String,
    #[serde(default = "sip_port")]
    pub port: u16,
    #[serde(default)]
    pub transport: TrunkTransport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub register: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    #[serde(default)]
    pub max_channels: u32,
}

fn sip_port() -> u16 {
    5060
}

/// One rule of a tenant's dial plan: numbers matching `pattern` (see
/// `patchbay_proto::dialplan`) lose `strip` leading characters, gain `prepend`, and leave
/// through `trunk`; or, with `refuse`, are refused (emergency or premium-rate numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialRule {
    pub pattern: String,
    #[serde(default)]
    pub strip: u32,
    #[serde(default)]
    pub prepend: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuse: bool,
}

/// An inbound number of a tenant (from its trunks) and where its calls go: an extension or an
/// application number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Did {
    #[serde(default)]
    pub number: String,
    pub destination: String,
    /// Asked before a call to this number rings (the tenant's CTI, Taridium's inbound
    /// routing CTI control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cti_url: Option<String>,
}

/// A CTI URL template (`cti_url` of a queue, group, attendant or DID; the tenant's CTI
/// URLs): `http(s)://`, at most 2048 bytes, no spaces or control characters.
pub fn cti_url_ok(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://"))
        && u.len() <= 2048
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(crate) fn check_cti_url(u: &Option<String>) -> Result<(), String> {
    match u {
        Some(u) if !cti_url_ok(u) => Err("cti_url: an http(s) URL of at most 2048 bytes".into()),
        _ => Ok(()),
    }
}

impl Did {
    /// Check a DID's own fields as the admin API receives them.
    pub fn check(&self) -> Result<(), String> {
        check_cti_url(&self.cti_url)
    }
}

/// A trunk or DID name, a path segment: 1-64 of `a-z A-Z 0-9 - _ .`.
pub fn trunk_name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

impl Trunk {
    /// Check a trunk as the admin API receives it; `Err` says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let host = self.host.trim();
        let host_ok = host.parse::<std::net::IpAddr>().is_ok()
            || (!host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }));
        if !host_ok {
            return Err("host: a host name or an IP address".into());
        }
        if self.port == 0 {
            return Err("port: 1-65535".into());
        }
        let cred_ok = |s: &Option<String>| {
            s.as_ref()
                .is_none_or(|v| !v.is_empty() && v.len() <= 128 && !v.chars().any(char::is_control))
        };
        if !cred_ok(&self.username) || !cred_ok(&self.password) {
            return Err("username and password: 1-128 characters, no control characters".into());
        }
        if self.username.is_some() != self.password.is_some() {
            return Err("username and password go together".into());
        }
        if self.register && self.username.is_none() {
            return Err("register needs a username and password".into());
        }
        if let Some(c) = &self.caller_id
            && CallerId::parse(c).is_none()
        {
            return Err("caller_id: a number, `Name <number>` or anonymous".into());
        }
        if self.max_channels > 100_000 {
            return Err("max_channels: at most 100000 (0: no cap)".into());
        }
        Ok(())
    }
}

/// The B2BUA's question to its route hook (`POST b2bua.route_hook_url`, the control token as
/// bearer) before a call rings anything (every call from a tenant's phones and trunks to its
/// own domain): where should the call from `caller` to `dialed` go? Asked only for tenants
/// whose `routing`/`hook` config says `{"enabled": true}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteQuery {
    pub tenant: String,
    pub caller: String,
    pub dialed: String,
    /// `calling` (before anything rings).
    pub state: String,
    /// The id the call will have.
    #[serde(default)]
    pub call: String,
    /// The caller's display name (its From header's), when it sent one.
    #[serde(default)]
    pub caller_name: String,
    /// The caller's channel as the IPPS pages name it (`SIP/4005`, `SIP/<trunk>`).
    #[serde(default)]
    pub channel: String,
    /// `inbound` (from a carrier trunk) or `outbound` (from one of the tenant's phones).
    #[serde(default)]
    pub direction: String,
    /// The number the carrier called (an inbound call's DID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
}

/// The hook's answer, each part optional: `route` (an extension or number of the tenant)
/// sends the call there; `caller_id` (`Name <number>`, a number, `anonymous`) is what the
/// called party sees; `record` turns recording of this call on or off whatever the tenant's
/// policy; `account_codes` go on its CDR; `popup_url` rides on the callee's `ringing` events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDecision {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<bool>,
    #[serde(default, skip_serializing_if = "crate::AccountCodes::is_empty")]
    pub account_codes: crate::AccountCodes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popup_url: Option<String>,
}

impl RouteDecision {
    /// `later`'s parts replace this one's, part by part.
    pub fn merge(&mut self, later: RouteDecision) {
        if later.route.is_some() {
            self.route = later.route;
        }
        if later.caller_id.is_some() {
            self.caller_id = later.caller_id;
        }
        if later.record.is_some() {
            self.record = later.record;
        }
        if later.popup_url.is_some() {
            self.popup_url = later.popup_url;
        }
        self.account_codes.merge(later.account_codes);
    }
}

/// The `tenant_configs` kind and name of a tenant's route-hook switch (`{"enabled": bool}`).
pub const ROUTE_HOOK_KIND: &str = "routing";
pub const ROUTE_HOOK_NAME: &str = "hook";
