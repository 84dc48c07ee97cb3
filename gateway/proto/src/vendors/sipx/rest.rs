//! sipXconfig REST (`/sipxconfig/rest/...`, vendor-apis.md 3.1-3.5): which resource a path
//! names and who may use it, the bodies action requests arrive with, and content negotiation
//! by `Accept` as Restlet does it.

use crate::{Failure, Request};

pub const PREFIX: &str = "/sipxconfig/rest/";

/// Who may use a resource (spring security's URL rules, first match wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The authenticated user's own resources (`/my/...`, `/call/...`).
    User,
    /// `/private/{key}/...`: the user whose private key is in the URL, no credentials.
    Private { key: String },
    /// The tenant's administrators (an admin API key, or a user given the admin role).
    Admin,
    /// Auto-attendant administration: administrators too.
    AttendantAdmin,
}

/// A resource of the REST API (the path's variable parts decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `/my/call/{to}`, `/call/{to}`: click-to-call.
    Call {
        to: String,
    },
    VoicemailPin {
        pin: String,
    },
    PortalPassword {
        password: String,
    },
    /// `/my/forward`: the call sequence, XML or JSON.
    Forward,
    /// `/my/callfwd`: the same, Jackson JSON.
    CallFwd,
    /// `/my/redirect/callcontroller/{calling}/{called}`.
    RedirectCallController {
        tail: String,
    },
    /// `/my/redirect/...` anything else.
    Redirect,
    /// `/my/mailbox/{user}/preferences/activegreeting[/{greeting}]`.
    ActiveGreeting {
        user: String,
        greeting: Option<String>,
    },
    Phonebook,
    PhonebookEntry {
        id: String,
    },
    PagedPhonebook,
    SearchPhonebook,
    ContactInformation,
    Conferences,
    Conference {
        name: String,
    },
    ConferenceCommand {
        name: String,
        command: String,
    },
    ConferenceDetails {
        name: String,
    },
    VoicemailFeed {
        folder: String,
    },
    VoicemailMessage {
        folder: String,
        id: String,
    },
    ActiveCdrs {
        user: Option<String>,
    },
    SpeedDial,
    LoginDetails,
    /// Admin: `/phonebook`, `/phonebook/{name}`.
    Phonebooks,
    SharedPhonebook {
        name: String,
    },
    /// Admin: `POST /phone`.
    Phones,
    AutoAttendants,
    SpecialMode,
    SpecialAttendant {
        id: String,
    },
    /// A path sipXconfig routes but Patchbay does not serve (404).
    Unknown,
}

fn seg(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The resource and access rule of a path under [`PREFIX`].
pub fn route(path: &str) -> (Access, Resource) {
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        // The private key stands for the user only where its URLs are handed out: the
        // voicemail feed and the messages it links to (a feed reader's URL must not be
        // a key to the whole account).
        ["private", key, tail @ ..] => (
            Access::Private { key: seg(key) },
            match my(tail) {
                r @ (Resource::VoicemailFeed { .. } | Resource::VoicemailMessage { .. }) => r,
                _ => Resource::Unknown,
            },
        ),
        ["my", tail @ ..] => (Access::User, my(tail)),
        ["call", to] => (Access::User, Resource::Call { to: to.to_string() }),
        ["auto-attendant"] => (Access::AttendantAdmin, Resource::AutoAttendants),
        ["auto-attendant", "specialmode"] => (Access::AttendantAdmin, Resource::SpecialMode),
        ["auto-attendant", id, "special"] => (
            Access::AttendantAdmin,
            Resource::SpecialAttendant { id: seg(id) },
        ),
        ["phonebook"] => (Access::Admin, Resource::Phonebooks),
        ["phonebook", name] => (Access::Admin, Resource::SharedPhonebook { name: seg(name) }),
        ["phone"] => (Access::Admin, Resource::Phones),
        ["activecdrs", user] => (
            Access::Admin,
            Resource::ActiveCdrs {
                user: Some(seg(user)),
            },
        ),
        _ if parts.first() == Some(&"auto-attendant") => {
            (Access::AttendantAdmin, Resource::Unknown)
        }
        _ => (Access::Admin, Resource::Unknown),
    }
}

/// The resources under `/my/` (and `/private/{key}/`).
fn my(tail: &[&str]) -> Resource {
    match tail {
        // Raw, as Restlet hands path variables over: each resource decodes as sipX's does.
        ["call", to] => Resource::Call { to: to.to_string() },
        ["voicemail", "pin", pin] => Resource::VoicemailPin {
            pin: pin.to_string(),
        },
        ["portal", "password", pw] => Resource::PortalPassword {
            password: form_urlencoded::parse(format!("p={pw}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default(),
        },
        ["forward"] => Resource::Forward,
        ["callfwd"] => Resource::CallFwd,
        ["redirect", "callcontroller", rest @ ..] if !rest.is_empty() => {
            Resource::RedirectCallController {
                tail: rest.join("/"),
            }
        }
        ["redirect", ..] => Resource::Redirect,
        ["mailbox", user, "preferences", "activegreeting"] => Resource::ActiveGreeting {
            user: seg(user),
            greeting: None,
        },
        ["mailbox", user, "preferences", "activegreeting", g] => Resource::ActiveGreeting {
            user: seg(user),
            greeting: Some(seg(g)),
        },
        ["phonebook"] => Resource::Phonebook,
        ["phonebook", "entry", id] => Resource::PhonebookEntry { id: seg(id) },
        ["pagedphonebook"] => Resource::PagedPhonebook,
        ["search", "phonebook"] => Resource::SearchPhonebook,
        ["contact-information"] => Resource::ContactInformation,
        ["conferences"] => Resource::Conferences,
        ["conferences", name] => Resource::Conference { name: seg(name) },
        ["conference", name, command] => Resource::ConferenceCommand {
            name: seg(name),
            command: seg(command),
        },
        ["conferencedetails", name] => Resource::ConferenceDetails { name: seg(name) },
        ["feed", "voicemail", folder] => Resource::VoicemailFeed {
            folder: seg(folder),
        },
        ["voicemail", folder, id] => Resource::VoicemailMessage {
            folder: seg(folder),
            id: seg(id),
        },
        ["activecdrs"] => Resource::ActiveCdrs { user: None },
        ["speeddial"] => Resource::SpeedDial,
        ["logindetails"] => Resource::LoginDetails,
        _ => Resource::Unknown,
    }
}

/// A representation a resource can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Xml,
    Json,
    /// `text/comma-separated-values` (admin phonebooks) or `text/plain` (the CSV export).
    Csv,
    VCard,
    Rss,
    Text,
}

impl Variant {
    /// The media types that select this variant.
    fn media(self) -> &'static [&'static str] {
        match self {
            Variant::Xml => &["text/xml", "application/xml", "application/*+xml"],
            Variant::Json => &["application/json"],
            Variant::Csv => &["text/comma-separated-values"],
            Variant::VCard => &["text/x-vcard"],
            Variant::Rss => &["application/rss+xml"],
            Variant::Text => &["text/plain"],
        }
    }
}

/// The variant of `offered` (the resource's order) the request's `Accept` prefers: the
/// highest `q` wins, then the resource's order; `*/*`, `type/*` and no `Accept` match the
/// resource's first variant first. `None`: nothing acceptable.
pub fn negotiate(req: &Request, offered: &[Variant]) -> Option<Variant> {
    let accept = req
        .headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if accept.trim().is_empty() {
        return offered.first().copied();
    }
    let mut best: Option<(u32, usize, Variant)> = None;
    for range in accept.split(',') {
        let mut it = range.split(';');
        let media = it.next().unwrap_or("").trim().to_ascii_lowercase();
        if media.is_empty() {
            continue;
        }
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let q = (q.clamp(0.0, 1.0) * 1000.0) as u32;
        for (i, v) in offered.iter().enumerate() {
            let hit = media == "*/*"
                || v.media().iter().any(|m| {
                    *m == media
                        || media
                            .strip_suffix("/*")
                            .is_some_and(|t| m.starts_with(&format!("{t}/")))
                });
            if hit && best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, *v));
            }
        }
    }
    best.map(|(_, _, v)| v)
}

/// `/my/call/{to}`'s number as sipXconfig's `CallResource` reads it: `+` kept, `%XX`
/// decoded, `[ ] ( ) . { } -` deleted, then only the characters of a SIP user part (so a
/// `user@domain.tld` never passes: its dots are gone first). Otherwise 400 with Restlet's
/// default text.
pub fn call_target(to: &str) -> Result<String, Failure> {
    let decoded = percent_encoding::percent_decode_str(to).decode_utf8_lossy();
    let t: String = decoded
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '(' | ')' | '.' | '{' | '}' | '-'))
        .collect();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '_' | '!' | '~' | '*' | '\'' | '&' | '=' | '+' | '$' | ',' | ';' | '?' | '/'
                )
        });
    if ok {
        Ok(t)
    } else {
        Err(Failure::bad("to", super::BAD_REQUEST))
    }
}

/// sipX's voicemail PIN rule (`AbstractUser.VOICEMAIL_PIN_LEN`).
pub fn check_voicemail_pin(pin: &str) -> Result<(), Failure> {
    if pin.chars().count() < 4 {
        return Err(Failure::bad(
            "pin",
            "Voicemail PIN must be at least 4 characters long",
        ));
    }
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(Failure::bad("pin", "Voicemail PIN must be numeric"));
    }
    Ok(())
}

/// sipX's portal password rule.
pub fn check_portal_password(pw: &str) -> Result<(), Failure> {
    if pw.chars().count() < 8 {
        return Err(Failure::bad(
            "password",
            "Password must be at least 8 characters long",
        ));
    }
    Ok(())
}

/// An action request's body as sipX clients send it: `+`, nothing, one NUL byte and `{}`
/// all mean "no body".
pub fn no_body(body: &[u8]) -> bool {
    matches!(body.trim_ascii(), b"" | b"+" | b"\0" | b"{}")
}

/// Whether a body holds JSON (by content, whatever `Content-Type` says).
pub fn looks_json(body: &[u8]) -> bool {
    matches!(body.trim_ascii().first(), Some(b'{' | b'['))
}

/// `GET` or `HEAD`, `PUT`, `POST`, `DELETE`; anything else is refused by every resource.
pub fn method(req: &Request) -> Result<&str, Failure> {
    match req.method().as_str() {
        m @ ("GET" | "PUT" | "POST" | "DELETE") => Ok(m),
        "HEAD" => Ok("GET"),
        _ => Err(Failure::MethodNotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(accept: Option<&str>) -> Request {
        let mut b = http::Request::builder().uri("/x");
        if let Some(a) = accept {
            b = b.header("accept", a);
        }
        b.body(bytes::Bytes::new()).unwrap()
    }

    #[test]
    fn routes_and_access() {
        let r = |p: &str| route(&format!("{PREFIX}{p}"));
        assert_eq!(
            r("my/call/%2B1555"),
            (
                Access::User,
                Resource::Call {
                    to: "%2B1555".into()
                }
            )
        );
        assert_eq!(r("call/4007").1, Resource::Call { to: "4007".into() });
        assert_eq!(
            r("private/abc/feed/voicemail/inbox"),
            (
                Access::Private { key: "abc".into() },
                Resource::VoicemailFeed {
                    folder: "inbox".into()
                }
            )
        );
        assert_eq!(
            r("my/redirect/callcontroller/4005/4007").1,
            Resource::RedirectCallController {
                tail: "4005/4007".into()
            }
        );
        assert_eq!(r("private/abc/portal/password/x").1, Resource::Unknown);
        assert_eq!(r("auto-attendant/aa1/special").0, Access::AttendantAdmin);
        assert_eq!(r("phonebook/sales").0, Access::Admin);
        assert_eq!(r("user/5").1, Resource::Unknown);
        assert_eq!(r("my/nothing").1, Resource::Unknown);
    }

    #[test]
    fn negotiation_as_restlet() {
        use Variant::*;
        let both = [Xml, Json];
        assert_eq!(negotiate(&req(None), &both), Some(Xml));
        assert_eq!(negotiate(&req(Some("*/*")), &both), Some(Xml));
        assert_eq!(negotiate(&req(Some("application/json")), &both), Some(Json));
        assert_eq!(
            negotiate(&req(Some("text/xml;q=0.5, application/json")), &both),
            Some(Json)
        );
        assert_eq!(negotiate(&req(Some("text/*")), &[Csv, Xml]), Some(Csv));
        assert_eq!(negotiate(&req(Some("image/png")), &both), None);
        assert!(no_body(b"+") && no_body(b"\0") && no_body(b" {} ") && no_body(b""));
        assert!(!no_body(b"<x/>"));
        assert_eq!(call_target("%2B1(555)123-4567").unwrap(), "+15551234567");
        assert_eq!(call_target("+1555").unwrap(), "+1555");
        assert!(call_target("bob@example.com").is_err());
        assert!(call_target("1%20555").is_err());
    }
}
