//! Taridium's CTI module (vendor-apis.md 2.3), sans-IO: the tenant's settings, URL templates
//! with `%%variable%%` placeholders, and the `<ipbx>` document a control URL answers with.
//!
//! The element names of the reply beyond `acc_code2`, `acc_code3` and `record` are not
//! documented; Patchbay reads the template variables' names (`route` for the destination):
//! compat-specs/taridium/choices.md records why.

use crate::vendors::promptcall::cdr::AsteriskCdr;
use patchbay_api::{AccountCodes, RouteDecision};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

/// The `tenant_configs` kind and name of a tenant's CTI settings.
pub const KIND: &str = "cti";
pub const NAME: &str = "settings";

/// A tenant's CTI settings (`PUT /api/v1/tenants/{t}/cti`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CtiSettings {
    /// The module on: the control URLs (general and per application) are asked before calls
    /// ring, the pop-up URL rides on ringing events, the post-call URL hears every call.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Inbound pop-up URL: rendered per ringing call, carried on the callee's events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popup_url: Option<String>,
    /// General CTI control: asked before every inbound and outbound call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_url: Option<String>,
    /// Post-call CTI: hears every call's CDR after it ends (its reply is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_call_url: Option<String>,
    /// How long a control URL may take before the call proceeds unchanged (100-1000 ms:
    /// the B2BUA waits for its route hook at most `route_hook_timeout_ms`).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

impl Default for CtiSettings {
    /// As a `PUT` of `{}` makes them: on, no URLs, the default timeout.
    fn default() -> Self {
        Self {
            enabled: true,
            popup_url: None,
            control_url: None,
            post_call_url: None,
            timeout_ms: default_timeout(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_timeout() -> u64 {
    800
}

impl CtiSettings {
    /// Check the settings as the native API receives them.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        for (field, u) in [
            ("popup_url", &self.popup_url),
            ("control_url", &self.control_url),
            ("post_call_url", &self.post_call_url),
        ] {
            if u.as_deref().is_some_and(|u| !patchbay_api::cti_url_ok(u)) {
                return Err((field, "an http(s) URL of at most 2048 bytes"));
            }
        }
        if !(100..=1000).contains(&self.timeout_ms) {
            return Err(("timeout_ms", "100-1000"));
        }
        Ok(())
    }
}

/// What a template's value may keep unescaped (RFC 3986 unreserved characters).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `template` with each `%%name%%` of `vars` replaced by its value, percent-encoded (the
/// template is a URL). Placeholders of other names stay as they are.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("%%") {
        let after = &rest[start + 2..];
        let Some(len) = after.find("%%") else {
            break;
        };
        let name = &after[..len];
        out.push_str(&rest[..start]);
        match vars.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                out.extend(utf8_percent_encode(v, VALUE));
                rest = &after[len + 2..];
            }
            None => {
                // Not ours: keep the first `%%` and look again from the second.
                out.push_str("%%");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A call as the control and pop-up templates see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallVars {
    pub calleridname: String,
    pub calleridnumber: String,
    pub accountcode: String,
    pub uniqueid: String,
    pub channel: String,
    pub exten: String,
}

impl CallVars {
    pub fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("calleridname", &self.calleridname),
            ("calleridnumber", &self.calleridnumber),
            ("accountcode", &self.accountcode),
            ("uniqueid", &self.uniqueid),
            ("channel", &self.channel),
            ("exten", &self.exten),
        ]
    }
}

/// The post-call template's variables: the CDR's Asterisk columns, the extra account codes,
/// and the call's caller ID and called extension under the control templates' names.
pub fn post_call_vars(row: &AsteriskCdr, codes: &AccountCodes) -> Vec<(&'static str, String)> {
    let v = |s: &str| s.to_string();
    vec![
        ("calldate", v(&row.calldate)),
        ("clid", v(&row.clid)),
        ("src", v(&row.src)),
        ("dst", v(&row.dst)),
        ("dcontext", v(&row.dcontext)),
        ("channel", v(&row.channel)),
        ("dstchannel", v(&row.dstchannel)),
        ("lastapp", v(&row.lastapp)),
        ("lastdata", v(&row.lastdata)),
        ("duration", v(&row.duration)),
        ("billsec", v(&row.billsec)),
        ("disposition", v(&row.disposition)),
        ("amaflags", v(&row.amaflags)),
        ("accountcode", v(&row.accountcode)),
        ("acc_code2", v(&codes.acc_code2)),
        ("acc_code3", v(&codes.acc_code3)),
        ("uniqueid", v(&row.uniqueid)),
        ("userfield", v(&row.userfield)),
        ("recordingfile", v(&row.recordingfile)),
        ("calleridname", v(&row.src)),
        ("calleridnumber", v(&row.src)),
        ("exten", v(&row.dst)),
    ]
}

/// Why a control reply is not taken (the call proceeds unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// Not XML, or not rooted at `<ipbx>`.
    NotIpbx,
    /// `<record>` other than empty, `yes`, `1`, `no`, `0`.
    BadRecord(String),
}

/// Read a control URL's `<ipbx>` reply: `route` (where the call goes: an extension, a group,
/// queue or attendant number, an outside number), `calleridname` / `calleridnumber` (what the
/// called party sees), `accountcode`, `acc_code2`, `acc_code3` (on the CDR), `record` (`yes`
/// or `1`: record the call; `no` or `0`: do not, whatever the tenant's policy; empty: the
/// policy). `original` is the caller's number (a new name alone keeps it). An empty body is
/// an empty decision. Unknown elements are ignored.
pub fn parse_reply(body: &[u8], original: &str) -> Result<RouteDecision, ReplyError> {
    use quick_xml::events::Event;
    if body.trim_ascii().is_empty() {
        return Ok(RouteDecision::default());
    }
    let mut r = quick_xml::Reader::from_reader(body);
    r.config_mut().trim_text(true);
    let mut depth = 0usize;
    let mut current: Option<String> = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase();
                if depth == 0 && name != "ipbx" {
                    return Err(ReplyError::NotIpbx);
                }
                depth += 1;
                current = (depth == 2).then_some(name);
                if depth == 2
                    && let Some(n) = &current
                {
                    fields.push((n.clone(), String::new()));
                }
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase();
                match depth {
                    0 if name == "ipbx" => return Ok(RouteDecision::default()),
                    0 => return Err(ReplyError::NotIpbx),
                    1 => fields.push((name, String::new())),
                    _ => {}
                }
            }
            Ok(Event::Text(t)) if depth == 2 && current.is_some() => {
                let text = t.unescape().map_err(|_| ReplyError::NotIpbx)?;
                if let Some(last) = fields.last_mut() {
                    last.1.push_str(text.trim());
                }
            }
            Ok(Event::CData(t)) if depth == 2 && current.is_some() => {
                if let Some(last) = fields.last_mut() {
                    last.1.push_str(String::from_utf8_lossy(&t).trim());
                }
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                current = None;
                if depth == 0 {
                    break;
                }
            }
            Ok(Event::Eof) => {
                if depth == 0 && fields.is_empty() {
                    return Err(ReplyError::NotIpbx);
                }
                break;
            }
            Err(_) => return Err(ReplyError::NotIpbx),
            _ => {}
        }
        buf.clear();
    }
    let get = |n: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, v)| k == n && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let record = match get("record").as_deref().map(str::to_ascii_lowercase) {
        None => None,
        Some(v) if v == "yes" || v == "1" => Some(true),
        Some(v) if v == "no" || v == "0" => Some(false),
        Some(v) => return Err(ReplyError::BadRecord(v)),
    };
    let caller_id = match (get("calleridname"), get("calleridnumber")) {
        (None, None) => None,
        (name, number) => {
            let number = number.unwrap_or_else(|| original.to_string());
            if number.eq_ignore_ascii_case("anonymous") || number.eq_ignore_ascii_case("unknown") {
                Some("anonymous".to_string())
            } else {
                Some(match name {
                    Some(n) => format!("{} <{number}>", n.replace(['<', '>', '"'], "")),
                    None => number,
                })
            }
        }
    };
    Ok(RouteDecision {
        route: get("route"),
        caller_id,
        record,
        account_codes: AccountCodes {
            accountcode: get("accountcode").unwrap_or_default(),
            acc_code2: get("acc_code2").unwrap_or_default(),
            acc_code3: get("acc_code3").unwrap_or_default(),
        },
        popup_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_take_encoded_values_and_leave_strangers() {
        let vars = CallVars {
            calleridname: "Jane Doe & Co".into(),
            calleridnumber: "+41441234567".into(),
            uniqueid: "1700000000000001".into(),
            channel: "SIP/4005".into(),
            exten: "4007".into(),
            ..Default::default()
        };
        assert_eq!(
            render(
                "http://crm/?n=%%calleridname%%&num=%%calleridnumber%%&a=%%accountcode%%&x=%%other%%&c=%%channel%%&e=%%exten%%&100%%",
                &vars.pairs()
            ),
            "http://crm/?n=Jane%20Doe%20%26%20Co&num=%2B41441234567&a=&x=%%other%%&c=SIP%2F4005&e=4007&100%%"
        );
        assert_eq!(render("http://crm/%%", &vars.pairs()), "http://crm/%%");
    }

    #[test]
    fn replies() {
        let d = parse_reply(
            b"<?xml version=\"1.0\"?>\n<ipbx>\n <route>4009</route>\n <calleridname>VIP Jane</calleridname>\n <acc_code2>PROJ-7</acc_code2>\n <acc_code3/>\n <record>yes</record>\n <other><route>1</route></other>\n</ipbx>",
            "4005",
        )
        .unwrap();
        assert_eq!(d.route.as_deref(), Some("4009"));
        assert_eq!(d.caller_id.as_deref(), Some("VIP Jane <4005>"));
        assert_eq!(d.record, Some(true));
        assert_eq!(d.account_codes.acc_code2, "PROJ-7");
        assert_eq!(d.account_codes.acc_code3, "");
        let d = parse_reply(
            b"<IPBX><calleridnumber>0441234567</calleridnumber><record>no</record><accountcode>77</accountcode></IPBX>",
            "4005",
        )
        .unwrap();
        assert_eq!(d.caller_id.as_deref(), Some("0441234567"));
        assert_eq!(d.record, Some(false));
        assert_eq!(d.account_codes.accountcode, "77");
        assert_eq!(d.route, None);
        assert_eq!(parse_reply(b"", "1"), Ok(RouteDecision::default()));
        assert_eq!(parse_reply(b"<ipbx/>", "1"), Ok(RouteDecision::default()));
        assert_eq!(
            parse_reply(b"<ipbx><record></record></ipbx>", "1"),
            Ok(RouteDecision::default())
        );
        assert_eq!(
            parse_reply(b"<html>no</html>", "1"),
            Err(ReplyError::NotIpbx)
        );
        assert_eq!(parse_reply(b"OK", "1"), Err(ReplyError::NotIpbx));
        assert_eq!(
            parse_reply(b"<ipbx><route>1</ipbx>", "1"),
            Err(ReplyError::NotIpbx)
        );
        assert_eq!(
            parse_reply(b"<ipbx><record>maybe</record></ipbx>", "1"),
            Err(ReplyError::BadRecord("maybe".into()))
        );
        assert_eq!(
            parse_reply(
                b"<ipbx><calleridnumber>unknown</calleridnumber></ipbx>",
                "1"
            )
            .unwrap()
            .caller_id
            .as_deref(),
            Some("anonymous")
        );
    }

    #[test]
    fn settings_are_checked() {
        let mut s: CtiSettings = serde_json::from_str(r#"{"control_url":"http://crm/c"}"#).unwrap();
        assert!(s.enabled);
        assert_eq!(s.timeout_ms, 800);
        assert_eq!(s.check(), Ok(()));
        s.post_call_url = Some("mailto:x".into());
        assert_eq!(s.check().unwrap_err().0, "post_call_url");
        assert!(serde_json::from_str::<CtiSettings>(r#"{"x":1}"#).is_err());
    }
}
