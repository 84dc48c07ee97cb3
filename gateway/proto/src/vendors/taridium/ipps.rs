//! Taridium's IPPS pages (vendor-apis.md 2.1): `/ipps/channelinfo.php` (one CSV line per
//! channel) and `/ipps/queueactive.php` (one per queued call), plain text, polled by
//! wallboards; the settings a tenant gives them; the country of a caller id (`res_cc=1`).

use crate::query::Params;
use crate::{Failure, Request, Response, response};
use patchbay_api::{Channel, ChannelState, QueueCall, QueueCallStatus};
use serde::{Deserialize, Serialize};

/// A tenant's IPPS settings (`tenant_configs` kind `ipps`, name `settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IppsSettings {
    #[serde(default)]
    pub enabled: bool,
    /// HTTP Basic user and password (`$cfg['IPPSUser']` / `IPPSPassword`); the password is
    /// kept as its argon2 hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub require_ssl: bool,
    /// Numbers of at most this many digits are domestic (`DomesticNumberMaxLen`).
    #[serde(default = "six")]
    pub domestic_number_max_len: u8,
    /// The tenant's country, ISO 3166 alpha-2 (`DefaultCountryID` names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
    /// The dial-plan context of generic-auth calls (`IPPSDPContext`).
    #[serde(default = "inside")]
    pub context: String,
}

fn six() -> u8 {
    6
}

fn inside() -> String {
    "inside".into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IppsRequest {
    Channels { names: Vec<String>, useid: bool },
    Queues { names: Vec<String>, res_cc: bool },
}

fn list(p: &Params, name: &str) -> Vec<String> {
    p.get(name)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn parse(req: &Request) -> Result<IppsRequest, Failure> {
    let p = Params::from_query(req);
    let flag = |n: &str| p.get(n).is_some_and(|v| v.trim() == "1");
    match req.uri().path() {
        "/ipps/channelinfo.php" => {
            let names = list(&p, "channel");
            if names.is_empty() || names.len() > 1000 {
                return Err(Failure::bad("channel", "none"));
            }
            Ok(IppsRequest::Channels {
                names,
                useid: flag("useid"),
            })
        }
        "/ipps/queueactive.php" => {
            let names = list(&p, "queue_name");
            if names.is_empty() || names.len() > 100 {
                return Err(Failure::bad("queue_name", "none"));
            }
            Ok(IppsRequest::Queues {
                names,
                res_cc: flag("res_cc"),
            })
        }
        other => Err(Failure::NotImplemented(other.to_string())),
    }
}

fn text(body: String) -> Response {
    response(200, &[("content-type", "text/html; charset=UTF-8")], body)
}

fn state(s: ChannelState) -> &'static str {
    match s {
        ChannelState::Down => "down",
        ChannelState::Ring => "ring",
        ChannelState::Ringing => "ringing",
        ChannelState::Up => "up",
    }
}

/// `channelinfo.php`: `CHANNEL_NAME,STATE,CLID_NUM,CLID_NAME,ACCOUNT_CODE[,UNIQUE_ID]` per
/// channel, in the order asked.
pub fn render_channels(channels: &[Channel], useid: bool) -> Response {
    let mut out = String::new();
    for c in channels {
        out.push_str(&format!(
            "{},{},{},{},{}",
            c.name,
            state(c.state),
            c.clid_num,
            c.clid_name,
            c.account_code
        ));
        if useid {
            out.push(',');
            out.push_str(&c.unique_id);
        }
        out.push('\n');
    }
    text(out)
}

/// `queueactive.php`: `UNIQUE_CALL_ID,CALLER_ID,COUNTRY_NAME,STATUS,ENTERED,WAITED,AGENT` per
/// call (`ENTERED` as `hh:mm:ss` UTC); `country` names the caller id's country when asked.
pub fn render_queue(calls: &[QueueCall], country: impl Fn(&str) -> String) -> Response {
    let mut out = String::new();
    for c in calls {
        let entered = chrono::DateTime::from_timestamp(i64::try_from(c.entered).unwrap_or(0), 0)
            .unwrap_or_default()
            .format("%H:%M:%S");
        let (status, agent) = match c.status {
            QueueCallStatus::Waiting => ("WAITING", String::new()),
            QueueCallStatus::Connected => (
                "CONNECTED",
                c.agent
                    .as_ref()
                    .map(|a| format!("SIP/{a}"))
                    .unwrap_or_default(),
            ),
        };
        out.push_str(&format!(
            "{},{},{},{status},{entered},{},{agent}\n",
            c.unique_id,
            c.caller_id,
            country(&c.caller_id),
            c.waited
        ));
    }
    text(out)
}

/// The country of a caller id: none for names (`unknown`, `private`, `restricted` ...); the
/// tenant's own for numbers of at most `domestic_max_len` digits; else libphonenumber's
/// region (national numbers read as the tenant's country's), by its ISO 3166 name.
pub fn country(caller_id: &str, domestic_max_len: u8, default_country: Option<&str>) -> String {
    let id = caller_id.trim();
    let digits = id.strip_prefix('+').unwrap_or(id);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return String::new();
    }
    let name = |alpha2: &str| {
        isocountry::CountryCode::for_alpha2_caseless(alpha2)
            .map(|c| c.name().to_string())
            .unwrap_or_default()
    };
    if !id.starts_with('+') && digits.len() <= usize::from(domestic_max_len) {
        return default_country.map(name).unwrap_or_default();
    }
    let international =
        if let Some(rest) = digits.strip_prefix("00").filter(|_| !id.starts_with('+')) {
            format!("+{rest}")
        } else if id.starts_with('+') {
            id.to_string()
        } else {
            digits.to_string()
        };
    let region = default_country.and_then(|c| {
        c.to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .ok()
    });
    let parsed = if international.starts_with('+') {
        phonenumber::parse(None, &international)
    } else {
        phonenumber::parse(region, &international)
    };
    parsed
        .ok()
        .and_then(|n| n.country().id())
        .map(|id| name(id.as_ref()))
        .unwrap_or_default()
}

/// IPPS's error texts (the seed's list); a tenant without IPPS: `ERROR: NOT SUPPORTED`.
pub fn render_error(f: &Failure) -> Response {
    let t = match f {
        Failure::BadRequest { field, .. } if field == "channel" => "ERROR: NO CHANNEL SUPPLIED",
        Failure::BadRequest { field, .. } if field == "queue_name" => {
            "ERROR: NO QUEUE NAME SUPPLIED"
        }
        Failure::BadRequest { field, .. } if field == "ssl" => "ERROR: SSL QUERY REQUIRED",
        Failure::AuthRequired { .. } | Failure::AuthFailed { .. } | Failure::Banned { .. } => {
            "ERROR: AUTHENTICATION FAILED"
        }
        Failure::NotImplemented(_) | Failure::NotFound(_) => "ERROR: NOT SUPPORTED",
        _ => "ERROR: TEMPORARILY UNAVAILABLE",
    };
    let mut r = text(t.to_string());
    if let Failure::AuthRequired { challenges } | Failure::AuthFailed { challenges } = f {
        // What a PHP page asking for Basic answers: 401 with the challenge.
        *r.status_mut() = http::StatusCode::UNAUTHORIZED;
        for c in challenges {
            if let Ok(v) = http::HeaderValue::from_str(c) {
                r.headers_mut().append(http::header::WWW_AUTHENTICATE, v);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries() {
        assert_eq!(country("+6681234567", 6, Some("CH")), "Thailand");
        assert_eq!(country("0041441234567", 6, None), "Switzerland");
        assert_eq!(country("0441234567", 6, Some("CH")), "Switzerland");
        assert_eq!(country("4005", 6, Some("TH")), "Thailand");
        assert_eq!(country("4005", 6, None), "");
        assert_eq!(country("unknown", 6, Some("CH")), "");
        assert_eq!(country("restricted", 6, Some("CH")), "");
    }

    #[test]
    fn lines() {
        let req = |u: &str| {
            http::Request::builder()
                .uri(u)
                .body(bytes::Bytes::new())
                .unwrap()
        };
        assert_eq!(
            parse(&req(
                "/ipps/channelinfo.php?channel=SIP/4005,SIP/4007&useid=1"
            ))
            .unwrap(),
            IppsRequest::Channels {
                names: vec!["SIP/4005".into(), "SIP/4007".into()],
                useid: true
            }
        );
        assert_eq!(
            render_error(&parse(&req("/ipps/channelinfo.php")).unwrap_err()).body(),
            "ERROR: NO CHANNEL SUPPLIED"
        );
        assert_eq!(
            render_error(&parse(&req("/ipps/queueactive.php?queue_name=")).unwrap_err()).body(),
            "ERROR: NO QUEUE NAME SUPPLIED"
        );
        let down = render_channels(&[Channel::down("SIP/4003")], true);
        assert_eq!(down.body(), "SIP/4003,down,,,,\n");
    }
}
