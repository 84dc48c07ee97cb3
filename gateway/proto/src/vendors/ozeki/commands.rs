//! Ozeki's commands on live calls (vendor-apis.md 5.3): parsed from the request's parameters
//! (names in any case) into [`Command`], and their answers rendered: the plain `200` document,
//! and `ListActiveCalls`'s `<ActiveCalls>`.

use super::{OzekiRequest, render_response};
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

/// A command Patchbay carries out (the others answer `301`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    ListActiveCalls,
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
