//! sipXcallController (`/callcontroller/{callingParty}/{calledParty}`, vendor-apis.md 3.6):
//! the request's parameters, the status document of a call from the B2BUA's events, and the
//! `<processing-status>` error table.

use crate::auth::{Credentials, from_authorization};
use crate::query::Params;
use crate::{Failure, Request, Response, response};
use patchbay_api::{Cause, Event, EventKind, Side};

const NS: &str = "http://www.sipfoundry.org/sipX/schema/xml/call-status-00-00";

/// How the controller sets the call up (`sipMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupMethod {
    /// sipX INVITEs the calling party, then REFERs it to the called party; the status
    /// document is the list of status lines.
    Refer,
    /// sipX stays in the path (RFC 3725 flow); the status document lists the dialogs.
    Invite,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CcAction {
    Call,
    /// Move the call's called party to `target` (the calling party stays).
    Transfer {
        target: String,
    },
}

/// One request to the call controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcRequest {
    /// POST acts, GET asks for the status.
    pub post: bool,
    pub calling: String,
    pub called: String,
    /// The user on whose behalf the call is placed (and who authenticates).
    pub agent: String,
    pub method: SetupMethod,
    /// `sipMethod` was given (a GET's empty answer follows it).
    pub method_given: bool,
    pub action: CcAction,
    pub forwarding_allowed: bool,
    pub subject: Option<String>,
    pub timeout_secs: u32,
    pub cache_secs: u32,
    pub confpin: Option<String>,
    pub credentials: Credentials,
}

/// Parse a request whose path, after the service's prefix, is `tail`
/// (`{callingParty}/{calledParty}`).
pub fn parse(req: &Request, tail: &str) -> Result<CcRequest, Failure> {
    let post = match req.method().as_str() {
        "POST" => true,
        "GET" => false,
        _ => return Err(Failure::MethodNotAllowed),
    };
    let mut parts = tail.trim_end_matches('/').split('/');
    let (calling, called) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => (decode(a), decode(b)),
        _ => return Err(Failure::bad("parties", "both are required")),
    };
    let p = Params::from_query(req);
    let number = |name: &str, default: u32| -> Result<u32, Failure> {
        match p.get(name) {
            None | Some("") => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
                _ => Err(Failure::bad(name, v)),
            },
        }
    };
    let timeout_secs = number("timeout", 180)?;
    let cache_secs = number("resultCacheTime", 180)?;
    let (method, method_given) = match p.get("sipMethod") {
        None | Some("") => (SetupMethod::Refer, false),
        Some(m) if m.eq_ignore_ascii_case("refer") => (SetupMethod::Refer, true),
        Some(m) if m.eq_ignore_ascii_case("invite") => (SetupMethod::Invite, true),
        Some(m) => return Err(Failure::bad("sipMethod", m)),
    };
    let action = match p.get("action") {
        None | Some("") => CcAction::Call,
        Some(a) if a.eq_ignore_ascii_case("call") => CcAction::Call,
        Some(a) if a.eq_ignore_ascii_case("transfer") => match p.get("target") {
            Some(t) if !t.trim().is_empty() => CcAction::Transfer {
                target: t.trim().to_string(),
            },
            _ => return Err(Failure::bad("target", "required")),
        },
        Some(a) => return Err(Failure::bad("action", a)),
    };
    let agent = match p.get("agent") {
        Some(a) if !a.trim().is_empty() => a.trim().to_string(),
        _ => calling.clone(),
    };
    let flag = |name: &str| {
        p.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    let text = |name: &str| p.get(name).map(str::trim).filter(|v| !v.is_empty());
    Ok(CcRequest {
        post,
        calling,
        called,
        agent,
        method,
        method_given,
        action,
        forwarding_allowed: flag("isForwardingAllowed"),
        subject: text("subject").map(str::to_string),
        timeout_secs,
        cache_secs,
        confpin: text("confpin").map(str::to_string),
        credentials: from_authorization(req),
    })
}

/// `%XX` decoding of a path segment (`+` stays: `+1555...` is a number).
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A party as sipX names it: `user` or `user@domain` (a leading `sip:` dropped); the domain
/// defaults to the PBX's.
pub fn address(party: &str, domain: &str) -> String {
    let p = party.trim();
    let p = p
        .strip_prefix("sip:")
        .or_else(|| p.strip_prefix("sips:"))
        .unwrap_or(p);
    if p.contains('@') {
        p.to_string()
    } else {
        format!("{p}@{domain}")
    }
}

/// The call's key: agent, calling and called party addresses (a GET must name the same).
pub fn key(agent: &str, calling: &str, called: &str, domain: &str) -> String {
    format!(
        "{}:{}:{}",
        address(agent, domain),
        address(calling, domain),
        address(called, domain)
    )
}

/// One line of a REFER-mode status document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub at_ms: u64,
    /// `INVITE` (the calling party's answers) or `NOTIFY` (the transfer's progress).
    pub method: &'static str,
    pub status: u16,
}

/// The status lines a sipX controller would have collected for this call: the calling
/// party's INVITE responses, then the progress of the call to the called party as the
/// transfer's NOTIFYs report it.
pub fn status_lines(events: &[Event]) -> Vec<StatusLine> {
    let mut out = Vec::new();
    let mut a_answered = false;
    let mut b_answered = false;
    let mut b_started = false;
    for ev in events {
        let mut line = |method, status| {
            out.push(StatusLine {
                at_ms: ev.at_ms,
                method,
                status,
            })
        };
        match &ev.kind {
            EventKind::Ringing { side: Side::A, .. } if !a_answered => line("INVITE", 180),
            EventKind::Answered { side: Side::A, .. } if !a_answered => {
                a_answered = true;
                line("INVITE", 200)
            }
            EventKind::Dialing { side: Side::B, .. } if a_answered && !b_started => {
                b_started = true;
                line("NOTIFY", 100)
            }
            EventKind::Ringing { side: Side::B, .. } if a_answered && !b_answered => {
                line("NOTIFY", 180)
            }
            EventKind::Answered { side: Side::B, .. } if !b_answered => {
                b_answered = true;
                line("NOTIFY", 200)
            }
            // The calling party sent into a conference room: the transfer's progress.
            EventKind::ConferenceJoined { .. } if a_answered && !b_answered => {
                b_answered = true;
                line("NOTIFY", 100);
                line("NOTIFY", 200)
            }
            EventKind::Ended { cause, status, .. } => {
                let failed = status.filter(|s| *s >= 300).or(match cause {
                    Cause::NoAnswer | Cause::Cancelled => Some(487),
                    Cause::Busy => Some(486),
                    Cause::Rejected => Some(603),
                    Cause::NotFound => Some(404),
                    Cause::IncompatibleMedia => Some(488),
                    Cause::Failed => Some(500),
                    // The PBX went away before the call was up: Service Unavailable.
                    Cause::System => Some(503),
                    Cause::Normal | Cause::Transferred => None,
                });
                if let Some(s) = failed {
                    if !a_answered {
                        line("INVITE", s)
                    } else if !b_answered {
                        line("NOTIFY", s)
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// One dialog of an INVITE-mode status document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogLine {
    pub side: Side,
    pub party: String,
    /// JAIN-SIP's `DialogState` text: `Early`, `Confirmed`, `Terminated`.
    pub state: &'static str,
}

/// The controller's two dialogs (calling party, called party) once each has one.
pub fn dialogs(events: &[Event]) -> Vec<DialogLine> {
    let mut out: Vec<DialogLine> = Vec::new();
    fn set(out: &mut Vec<DialogLine>, side: Side, party: &str, state: &'static str) {
        match out.iter_mut().find(|d| d.side == side) {
            Some(d) => {
                d.state = state;
                d.party = party.to_string();
            }
            None => out.push(DialogLine {
                side,
                party: party.to_string(),
                state,
            }),
        }
    }
    for ev in events {
        match &ev.kind {
            EventKind::Ringing { side, party, .. } => set(&mut out, *side, party, "Early"),
            EventKind::Answered { side, party } => set(&mut out, *side, party, "Confirmed"),
            EventKind::Ended { .. } => {
                for d in &mut out {
                    d.state = "Terminated";
                }
            }
            _ => {}
        }
    }
    out
}

/// The status document of a REFER-mode call (`call_id` names the call as its `<call-id>`).
pub fn render_status_lines(lines: &[StatusLine], call_id: &str) -> Response {
    let mut s =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status-lines xmlns=\"{NS}\">");
    for l in lines {
        s.push_str(&format!(
            "\n<status>\n\t<timestamp>{}</timestamp>\n\t<call-id>{}</call-id>\n\t<method>{}</method>\n\t<status-line>SIP/2.0 {} {}</status-line>\n</status>",
            l.at_ms,
            esc(call_id),
            l.method,
            l.status,
            reason(l.status)
        ));
    }
    s.push_str("\n</status-lines>\n");
    xml(200, s)
}

/// The status document of an INVITE-mode call: `local` is the controller's address,
/// `domain` completes the parties' addresses.
pub fn render_dialogs(
    dialogs: &[DialogLine],
    call_id: &str,
    local: &str,
    domain: &str,
) -> Response {
    let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dialogs xmlns=\"{NS}\">\n");
    for d in dialogs {
        let tag = match d.side {
            Side::A => "a",
            Side::B => "b",
        };
        s.push_str(&format!(
            "\t<dialog>\n\t\t<dialog-id>{}:{tag}</dialog-id>\n\t\t<local-party>sip:{}</local-party>\n\t\t<remote-party>sip:{}</remote-party>\n\t\t<dialog-state>{}</dialog-state>\n\t</dialog>\n",
            esc(call_id),
            esc(&address(local, domain)),
            esc(&address(&d.party, domain)),
            d.state
        ));
    }
    s.push_str("</dialogs>\n");
    xml(200, s)
}

/// POST's success: 200 with an empty body.
pub fn render_placed() -> Response {
    response(200, &[], bytes::Bytes::new())
}

fn xml(status: u16, body: String) -> Response {
    response(status, &[("content-type", "text/xml")], body)
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The SIP reason phrase of the statuses a call's end can carry.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => "Unknown",
    }
}

/// `<processing-status>` (HTTP status, error code, text).
fn processing_status(http: u16, code: u16, text: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<processing-status xmlns=\"{NS}\">\n<error-flag>ERROR</error-flag>\n<error-code>{code}</error-code>\n<error-text>{}</error-text>\n</processing-status>\n",
        esc(&text.replace(|c: char| c.is_control(), " "))
    );
    xml(http, body)
}

/// The call controller's error forms (vendor-apis.md 3.6).
pub fn render_error(f: &Failure) -> Response {
    let plain = |status: u16, text: &str| {
        response(status, &[("content-type", "text/plain")], text.to_string())
    };
    match f {
        Failure::BadRequest { field, reason } => match field.as_str() {
            "timeout" | "resultCacheTime" => {
                processing_status(400, 400, &format!("Bad parameter {field} = {reason}"))
            }
            "sipMethod" => processing_status(
                406,
                406,
                &format!("Call Setup Method {reason} not supported"),
            ),
            "target" => processing_status(400, 400, "Need a transfer target parameter"),
            "parties" => processing_status(
                400,
                400,
                "Missing a required parameter - need both callingParty and calledParty URL Parameters",
            ),
            _ => processing_status(400, 400, &format!("Bad parameter {field} = {reason}")),
        },
        Failure::Conflict(_) => {
            processing_status(406, 403, "Call in progress INVITE not supported")
        }
        Failure::NotFound(_) => processing_status(406, 403, "Call not found."),
        Failure::UnknownUser(agent) => plain(403, &format!("User Not found {agent}")),
        Failure::Forbidden | Failure::AddressForbidden => plain(
            403,
            "Authenticated user does not match the agent that places the call, or the caller",
        ),
        Failure::AuthRequired { challenges } => with_challenges(plain(401, ""), challenges),
        Failure::AuthFailed { challenges } => {
            with_challenges(plain(401, "pin mismatch"), challenges)
        }
        Failure::MethodNotAllowed => plain(405, "Method Not Allowed"),
        Failure::Banned { .. } => plain(403, "Forbidden"),
        Failure::TooLarge => plain(413, "Request Entity Too Large"),
        Failure::NotOwner(text) => processing_status(403, 403, text),
        Failure::RateLimited { .. } | Failure::Overloaded | Failure::Unavailable(_) => {
            plain(503, "Service Unavailable")
        }
        other => plain(500, &format!("Processing Error {other}")),
    }
}

fn with_challenges(mut r: Response, challenges: &[String]) -> Response {
    for c in challenges {
        if let Ok(v) = http::HeaderValue::from_str(c) {
            r.headers_mut().append(http::header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_api::{CallId, EndedBy};

    fn req(method: &str, uri: &str) -> Request {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .body(bytes::Bytes::new())
            .unwrap()
    }

    fn ev(at_ms: u64, kind: EventKind) -> Event {
        Event {
            call: CallId("c1".into()),
            seq: 0,
            gseq: 0,
            at_ms,
            kind,
        }
    }

    #[test]
    fn parameters_and_their_errors() {
        let r = parse(
            &req(
                "POST",
                "/callcontroller/5001/101?isForwardingAllowed=true&subject=c2c",
            ),
            "5001/101",
        )
        .unwrap();
        assert_eq!((r.agent.as_str(), r.called.as_str()), ("5001", "101"));
        assert!(r.forwarding_allowed && r.post);
        assert_eq!(r.method, SetupMethod::Refer);
        assert_eq!((r.timeout_secs, r.cache_secs), (180, 180));
        let bad = |q: &str| parse(&req("POST", &format!("/x?{q}")), "a/b").unwrap_err();
        let body = |f: &Failure| String::from_utf8(render_error(f).body().to_vec()).unwrap();
        assert!(body(&bad("timeout=-5")).contains("<error-text>Bad parameter timeout = -5<"));
        let m = render_error(&bad("sipMethod=INFO"));
        assert_eq!(m.status(), 406);
        assert!(body(&bad("sipMethod=INFO")).contains("Call Setup Method INFO not supported"));
        assert!(body(&bad("action=transfer")).contains("Need a transfer target parameter"));
        let missing = parse(&req("POST", "/x"), "5001").unwrap_err();
        assert!(body(&missing).contains("need both callingParty and calledParty"));
        assert_eq!(
            parse(&req("PUT", "/x"), "a/b").unwrap_err(),
            Failure::MethodNotAllowed
        );
        assert_eq!(
            key("5001", "5001", "sip:101@pbx", "pbx"),
            "5001@pbx:5001@pbx:101@pbx"
        );
    }

    #[test]
    fn refer_mode_lines_follow_the_call() {
        use EventKind::*;
        let evs = [
            ev(
                1,
                Dialing {
                    side: Side::A,
                    party: "4005".into(),
                },
            ),
            ev(
                2,
                Ringing {
                    side: Side::A,
                    party: "4005".into(),
                    popup_url: None,
                },
            ),
            ev(
                3,
                Answered {
                    side: Side::A,
                    party: "4005".into(),
                },
            ),
            ev(
                4,
                Dialing {
                    side: Side::B,
                    party: "4007".into(),
                },
            ),
            ev(
                5,
                Ringing {
                    side: Side::B,
                    party: "4007".into(),
                    popup_url: None,
                },
            ),
            ev(
                6,
                Answered {
                    side: Side::B,
                    party: "4007".into(),
                },
            ),
            ev(
                7,
                Ended {
                    cause: Cause::Normal,
                    by: EndedBy::A,
                    status: None,
                },
            ),
        ];
        let got: Vec<_> = status_lines(&evs)
            .iter()
            .map(|l| (l.method, l.status))
            .collect();
        assert_eq!(
            got,
            [
                ("INVITE", 180),
                ("INVITE", 200),
                ("NOTIFY", 100),
                ("NOTIFY", 180),
                ("NOTIFY", 200)
            ]
        );
        let busy = [
            ev(
                1,
                Ringing {
                    side: Side::A,
                    party: "4005".into(),
                    popup_url: None,
                },
            ),
            ev(
                2,
                Ended {
                    cause: Cause::Busy,
                    by: EndedBy::A,
                    status: Some(486),
                },
            ),
        ];
        assert_eq!(status_lines(&busy)[1].status, 486);
        let doc = render_status_lines(&status_lines(&busy), "c1@pbx");
        let text = String::from_utf8(doc.body().to_vec()).unwrap();
        assert!(text.contains("<status-line>SIP/2.0 486 Busy Here</status-line>"));
        let d = dialogs(&evs);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.state == "Terminated"));
    }
}
