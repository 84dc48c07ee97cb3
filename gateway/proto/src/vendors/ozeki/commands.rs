//! Ozeki's commands on live calls (vendor-apis.md 5.3): parsed from the request's parameters
//! (names in any case) into [`Command`], and their answers rendered: the plain `200` document,
//! and `ListActiveCalls`'s `<ActiveCalls>`.

use super::{OzekiRequest, ozml, render_response};
use crate::vendors::native::url_ok;
use crate::{Failure, Response, response};
use patchbay_api::{CallInfo, CallState};

/// Who a media command or a transfer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Caller,
    Callee,
    /// Both (media commands only).
    All,
}

/// `Call`: the API extension (or, without one, the tenant) calls `dialed`; on answer the
/// OzML of `url` (`CallConnected`) or `response_ozml` runs on the call.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceCall {
    pub dialed: String,
    pub api_extension: Option<String>,
    pub caller_id: Option<String>,
    pub caller_display_name: Option<String>,
    pub url: Option<String>,
    pub error_url: Option<String>,
    /// Ozeki 10: the OzML to run on answer, given inline (instead of fetching `url`).
    pub response_ozml: Option<ozml::Program>,
    /// Ozeki 10: told when the call ends (`CallFinished`).
    pub finished_url: Option<String>,
    /// Ozeki 10: seconds to ring.
    pub ring_secs: Option<u32>,
}

/// A command Patchbay carries out (the others answer `301`).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    ListActiveCalls,
    Call(Box<PlaceCall>),
    Hangup {
        call: String,
    },
    Hold {
        call: String,
        on: bool,
    },
    /// `transferor` leaves; the other party is connected to `target`.
    BlindTransfer {
        call: String,
        transferor: Party,
        target: String,
    },
    /// The party the two calls share leaves; the parties it talked to are connected.
    AttendedTransfer {
        transferred: String,
        target: String,
    },
    /// A call still ringing its callee rings `destination` instead.
    Forward {
        call: String,
        destination: String,
    },
    /// Record the call (both parties) until it ends; `finished_url` hears `RecordCompleted`.
    Record {
        call: String,
        finished_url: Option<String>,
    },
    SendDtmf {
        call: String,
        party: Party,
        digits: String,
    },
    Play {
        call: String,
        party: Party,
        /// A file name (the tenant's prompts and sounds) or an http(s) URL.
        audio: String,
        repeat: bool,
    },
    Speak {
        call: String,
        party: Party,
        text: String,
        /// Ozeki's `Language` (`en-UK`, ...), as an espeak-ng voice.
        voice: Option<String>,
    },
    /// Create a SIP extension (a user that can REGISTER) or an API extension.
    AddConfig(super::config::ExtensionConfig),
    /// An extension's configuration (`kind`: `SIP` or `API`).
    GetConfig {
        kind: String,
        id: String,
    },
    /// A text to a registered extension of the tenant (SIP MESSAGE), from an API extension.
    SendSms {
        api_extension: String,
        sender: Option<String>,
        recipient: String,
        message: String,
        report_url: Option<String>,
    },
    /// A command not carried out (yet): `301`.
    Other(String),
}

fn missing(field: &'static str, command: &str) -> Failure {
    Failure::BadRequest {
        field: field.to_string(),
        reason: command.to_string(),
    }
}

/// A required parameter, non-empty.
fn required<'a>(r: &'a OzekiRequest, field: &'static str) -> Result<&'a str, Failure> {
    r.params
        .get_ci(field)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(field, &r.command))
}

fn party(r: &OzekiRequest, field: &'static str, all: bool) -> Result<Party, Failure> {
    match r
        .params
        .get_ci(field)
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(Party::Caller),
        Some(v) if v == "caller" || v.is_empty() => Ok(Party::Caller),
        Some(v) if v == "callee" => Ok(Party::Callee),
        Some(v) if v == "all" && all => Ok(Party::All),
        Some(_) => Err(missing(field, &r.command)),
    }
}

/// An optional parameter, trimmed; empty counts as absent.
fn optional(r: &OzekiRequest, field: &'static str) -> Option<String> {
    r.params
        .get_ci(field)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// An optional URL parameter: an http(s) URL, else `302` on it.
fn url(r: &OzekiRequest, field: &'static str) -> Result<Option<String>, Failure> {
    match optional(r, field) {
        Some(u) if !url_ok(&u) => Err(missing(field, &r.command)),
        u => Ok(u),
    }
}

/// A dialled number or extension: digits, `+`, `*`, `#`, or a SIP user part of letters,
/// digits and `.-_`, up to 64.
pub fn dialable(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 64
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+*#.-_".contains(c))
}

fn place_call(r: &OzekiRequest) -> Result<PlaceCall, Failure> {
    let bad = |f: &'static str| missing(f, &r.command);
    let dialed = required(r, "Dialed")?.to_string();
    if !dialable(&dialed) {
        return Err(bad("Dialed"));
    }
    let api_extension = optional(r, "ApiExtension");
    if api_extension
        .as_deref()
        .is_some_and(|e| !patchbay_api::app_number_ok(e))
    {
        return Err(bad("ApiExtension"));
    }
    let caller_id = optional(r, "CallerId");
    if caller_id
        .as_deref()
        .is_some_and(|c| c.len() > 32 || !c.chars().all(|c| c.is_ascii_digit() || c == '+'))
    {
        return Err(bad("CallerId"));
    }
    let caller_display_name = optional(r, "CallerDisplayName");
    if caller_display_name
        .as_deref()
        .is_some_and(|n| n.len() > 64 || n.chars().any(|c| c.is_control() || "\"<>\\".contains(c)))
    {
        return Err(bad("CallerDisplayName"));
    }
    let response_ozml = match optional(r, "ResponseOzML") {
        Some(x) => Some(ozml::parse(x.as_bytes()).map_err(|_| bad("ResponseOzML"))?),
        None => None,
    };
    let connected_url = url(r, "Url")?;
    if connected_url.is_none() && response_ozml.is_none() {
        return Err(bad("Url"));
    }
    let ring_secs = match optional(r, "RingTime") {
        Some(t) => match t.parse::<u32>() {
            Ok(s) if (1..=600).contains(&s) => Some(s),
            _ => return Err(bad("RingTime")),
        },
        None => None,
    };
    Ok(PlaceCall {
        dialed,
        api_extension,
        caller_id,
        caller_display_name,
        url: connected_url,
        error_url: url(r, "ErrorUrl")?,
        response_ozml,
        finished_url: url(r, "FinishedUrl")?,
        ring_secs,
    })
}

fn boolean(r: &OzekiRequest, field: &'static str) -> Result<bool, Failure> {
    match r
        .params
        .get_ci(field)
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" || v.is_empty() => Ok(false),
        Some(_) => Err(missing(field, &r.command)),
    }
}

/// The command `r` asks for (its name in any case).
pub fn command(r: &OzekiRequest) -> Result<Command, Failure> {
    let name = r.command.to_ascii_lowercase();
    let call = || required(r, "CallId").map(str::to_string);
    Ok(match name.as_str() {
        "listactivecalls" => Command::ListActiveCalls,
        "call" => Command::Call(Box::new(place_call(r)?)),
        "hangup" => Command::Hangup { call: call()? },
        "hold" | "unhold" => Command::Hold {
            call: call()?,
            on: name == "hold",
        },
        "blindtransfer" => Command::BlindTransfer {
            call: call()?,
            transferor: party(r, "TransferorParty", false)?,
            target: required(r, "Target")?.to_string(),
        },
        "attendedtransfer" => Command::AttendedTransfer {
            transferred: required(r, "TransferredCallId")?.to_string(),
            target: required(r, "TargetCallId")?.to_string(),
        },
        "forward" => {
            let destination = required(r, "Destination")?.to_string();
            if !dialable(&destination) {
                return Err(missing("Destination", &r.command));
            }
            Command::Forward {
                call: call()?,
                destination,
            }
        }
        "record" => {
            let call = call()?;
            // WAV only: Ozeki's default mp3 would need an MP3 encoder (compat-specs/ozeki).
            match optional(r, "Format").map(|f| f.to_ascii_lowercase()) {
                None => {}
                Some(f) if f == "wav" => {}
                Some(_) => return Err(missing("Format", &r.command)),
            }
            Command::Record {
                call,
                finished_url: url(r, "FinishedUrl")?,
            }
        }
        "addconfig" => {
            let kind = super::config::extension_type(r)?;
            let xml = required(r, "ConfigXML")?;
            Command::AddConfig(super::config::parse_config(&kind, xml)?)
        }
        "getconfig" => Command::GetConfig {
            kind: super::config::extension_type(r)?,
            id: super::config::config_id(r)?,
        },
        "sendsms" => {
            let api_extension = required(r, "ApiExtension")?.to_string();
            if !patchbay_api::app_number_ok(&api_extension) {
                return Err(missing("ApiExtension", &r.command));
            }
            let recipient = required(r, "Recipient")?.to_string();
            if !dialable(&recipient) {
                return Err(missing("Recipient", &r.command));
            }
            let message = r.params.get_ci("Message").unwrap_or("").to_string();
            if message.trim().is_empty() || message.len() > patchbay_api::SIP_MESSAGE_MAX_BODY {
                return Err(missing("Message", &r.command));
            }
            let sender = optional(r, "Sender");
            if sender.as_deref().is_some_and(|s| {
                s.len() > 32
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))
            }) {
                return Err(missing("Sender", &r.command));
            }
            Command::SendSms {
                api_extension,
                sender,
                recipient,
                message,
                report_url: url(r, "DeliveryReportURL")?,
            }
        }
        "senddtmf" => {
            let digits = required(r, "Digits")?.to_string();
            if digits.len() > 64
                || !digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#ABCDabcd".contains(c))
            {
                return Err(missing("Digits", &r.command));
            }
            Command::SendDtmf {
                call: call()?,
                party: party(r, "Party", false)?,
                digits,
            }
        }
        "play" => Command::Play {
            call: call()?,
            party: party(r, "Party", true)?,
            audio: required(r, "AudioFile")?.to_string(),
            repeat: boolean(r, "Repeat")?,
        },
        "speak" => {
            let text = required(r, "Text")?;
            if text.len() > 2_000 {
                return Err(missing("Text", &r.command));
            }
            Command::Speak {
                call: call()?,
                party: party(r, "Party", true)?,
                text: text.to_string(),
                voice: r
                    .params
                    .get_ci("Language")
                    .map(|l| l.trim().to_ascii_lowercase())
                    .filter(|l| !l.is_empty()),
            }
        }
        _ => Command::Other(r.command.clone()),
    })
}

/// `200 Command successfully executed`.
pub fn render_ok() -> Response {
    render_response(200, "Command successfully executed")
}

/// Ozeki's `CallState` of a call (vendor-apis.md 5.3).
pub fn call_state(c: &CallInfo) -> &'static str {
    match c.state {
        CallState::Created | CallState::Ringing | CallState::Connecting => "Ringing",
        CallState::Bridged if c.held => "Hold",
        CallState::Bridged => "InCall",
        CallState::Ended => "Completed",
    }
}

/// `h:mm:ss` (.NET's TimeSpan text).
fn span(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// UTC, as .NET's XmlSerializer writes a `DateTime` (seven fractional digits, `Z`).
fn stamp(ms: u64) -> String {
    let t =
        chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0)).unwrap_or_default();
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        (ms % 1000) * 10_000
    )
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::partial_escape(s)
}

/// `ListActiveCalls`: `200` with `<ActiveCalls>` (one `<CallInfo>` per call, in start order).
pub fn render_active_calls(calls: &[CallInfo], now_ms: u64) -> Response {
    let mut list = String::new();
    for c in calls {
        let answered = c.answered_ms;
        let ring = answered.unwrap_or(now_ms).saturating_sub(c.created_ms);
        let talk = answered.map_or(0, |a| now_ms.saturating_sub(a));
        let dest = c
            .connected
            .clone()
            .or_else(|| c.to.first().cloned())
            .unwrap_or_default();
        list.push_str(&format!(
            "\r\n    <CallInfo>\r\n      <CallState>{}</CallState>\r\n      <CallId>{}</CallId>\r\n      <Source>{}</Source>\r\n      <CallerId>{}</CallerId>\r\n      <Destination>{}</Destination>\r\n      <StartTime>{}</StartTime>\r\n      <RingDuration>{}</RingDuration>\r\n      <TalkDuration>{}</TalkDuration>\r\n    </CallInfo>",
            call_state(c),
            esc(&c.id.0),
            esc(&c.from),
            esc(&c.from),
            esc(&dest),
            stamp(c.created_ms),
            span(ring),
            span(talk),
        ));
    }
    let calls = if list.is_empty() {
        "  <ActiveCalls />".to_string()
    } else {
        format!("  <ActiveCalls>{list}\r\n  </ActiveCalls>")
    };
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<Response xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n  <Code>200</Code>\r\n  <Message>Command successfully executed</Message>\r\n{calls}\r\n</Response>"
    );
    response(
        200,
        &[
            ("content-type", "application/xml"),
            ("server", "Microsoft-HTTPAPI/2.0"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_spans_as_dotnet_writes_them() {
        assert_eq!(stamp(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(stamp(1_795_921_768_123), "2026-11-29T03:09:28.1230000Z");
        assert_eq!(stamp(951_782_400_000), "2000-02-29T00:00:00.0000000Z");
        assert_eq!(span(3_725_999), "01:02:05");
    }
}
