//! Patchbay's own JSON API under `/api/v1` (described in gateway/openapi.yaml).
//!
//! Errors: `{"error": "<kind>", "message": "..."}` with the matching HTTP status; 401 carries
//! Digest (MD5, SHA-256), Basic and Bearer challenges.

mod bodies;
pub mod cdrs;
mod events;
mod ipps;
mod ozeki;
mod phonebooks;
mod queues;
mod recordings;
mod routing;
mod settings;
mod voicemail;
mod webhooks;

pub use bodies::{
    CallBody, ForwardingBody, KeyBody, OneOrMany, TenantBody, UserBody, VoicemailBody, valid_party,
};
pub use cdrs::CdrSearch;
pub use events::{render_sse_event, render_tenant_sse_event};
pub use ipps::IppsBody;
pub use ozeki::{ApiExtension, OzekiOp, OzekiSettings, url_ok};
pub use phonebooks::{
    EntryBody, Phone, PhonebookBody, PhonebookOp, book_name_ok, check_entry, serial_of,
};
pub use queues::QueueOp;
pub use recordings::RecordingOp;
pub use routing::RoutingOp;
pub use settings::{IP_SCOPES, JWT_ALGS, SettingOp, valid_host};
pub use voicemail::VoicemailOp;
pub use webhooks::WebhookOp;

use crate::{Failure, Request, Response, response};
use patchbay_api::{CallId, MediaOp, StopRequest, TransferRequest};
use serde::{Deserialize, Serialize};

/// What a native request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum NativeOp {
    /// The authenticated principal.
    Me,
    ListTenants,
    CreateTenant(TenantBody),
    DeleteTenant(String),
    ListUsers {
        tenant: String,
    },
    GetUser {
        tenant: String,
        ext: String,
    },
    PutUser {
        tenant: String,
        ext: String,
        body: Box<UserBody>,
    },
    DeleteUser {
        tenant: String,
        ext: String,
    },
    ListKeys {
        tenant: String,
    },
    CreateKey {
        tenant: String,
        body: KeyBody,
    },
    DeleteKey {
        tenant: String,
        key_id: String,
    },
    Originate(CallBody),
    ListCalls,
    GetCall(CallId),
    Hangup(CallId),
    /// Long poll: events with `seq > after`, waiting up to `wait_ms` for the first.
    Events {
        call: CallId,
        after: u64,
        wait_ms: u64,
    },
    /// Server-sent events from `seq > after` until the call ends.
    EventStream {
        call: CallId,
        after: u64,
    },
    /// Long poll of the principal's tenant's feed: every call's events with `gseq > after`.
    TenantEvents {
        after: u64,
        wait_ms: u64,
    },
    /// The tenant's feed as server-sent events (`id` = `gseq`), until the client leaves.
    TenantEventStream {
        after: u64,
    },
    Transfer {
        call: CallId,
        body: TransferRequest,
    },
    /// A media primitive (`play`, `collect`, `dtmf`, `tone`, `record`) on a call.
    Media {
        call: CallId,
        op: MediaOp,
    },
    /// Stop a media primitive.
    StopMedia {
        call: CallId,
        command: u64,
    },
    /// Mute or unmute a leg in its conference.
    Mute {
        call: CallId,
        body: patchbay_api::MuteRequest,
    },
    /// The members of one of the principal's tenant's conference rooms.
    Conference(String),
    /// The principal's tenant's CDRs, newest first (a search, see [`CdrSearch`]).
    Cdrs(CdrSearch),
    /// The principal's tenant's recordings (see [`RecordingOp`]).
    Recording(RecordingOp),
    /// A user's voicemail (see [`VoicemailOp`]).
    Voicemail {
        tenant: String,
        ext: String,
        op: VoicemailOp,
    },
    /// A tenant's settings (see [`SettingOp`]).
    Setting {
        tenant: String,
        op: SettingOp,
    },
}

fn json<T: for<'de> Deserialize<'de>>(req: &Request) -> Result<T, Failure> {
    if req.body().is_empty() {
        return Err(Failure::bad("body", "JSON body required"));
    }
    serde_json::from_slice(req.body()).map_err(|e| Failure::bad("body", e.to_string()))
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency_key(req: &Request) -> Result<Option<String>, Failure> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(Failure::bad(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters",
        )),
    }
}

/// Parse a request under `/api/v1`.
pub fn parse_request(req: &Request) -> Result<NativeOp, Failure> {
    let path = req.uri().path();
    let rest = path
        .strip_prefix("/api/v1")
        .ok_or_else(|| Failure::NotFound(path.to_string()))?;
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let m = req.method().as_str();
    let s = |i: usize| segs[i].to_string();
    if let ["tenants", tenant, "users", ext, "voicemail", rest @ ..] = segs.as_slice() {
        return Ok(NativeOp::Voicemail {
            tenant: tenant.to_string(),
            ext: ext.to_string(),
            op: voicemail::parse(m, rest, req)?,
        });
    }
    if let ["tenants", tenant, rest @ ..] = segs.as_slice()
        && let Some(op) = settings::parse(m, rest, req.body())?
    {
        return Ok(NativeOp::Setting {
            tenant: tenant.to_string(),
            op,
        });
    }
    if let Some(op) = events::parse(m, &segs, req)? {
        return Ok(op);
    }
    if let ["recordings", rest @ ..] = segs.as_slice() {
        return Ok(NativeOp::Recording(recordings::parse(m, rest, req)?));
    }
    let op = match (m, segs.as_slice()) {
        ("GET", ["me"]) => NativeOp::Me,
        ("GET", ["tenants"]) => NativeOp::ListTenants,
        ("POST", ["tenants"]) => NativeOp::CreateTenant(json(req)?),
        ("DELETE", ["tenants", _]) => NativeOp::DeleteTenant(s(1)),
        ("GET", ["tenants", _, "users"]) => NativeOp::ListUsers { tenant: s(1) },
        ("GET", ["tenants", _, "users", _]) => NativeOp::GetUser {
            tenant: s(1),
            ext: s(3),
        },
        ("PUT", ["tenants", _, "users", _]) => NativeOp::PutUser {
            tenant: s(1),
            ext: s(3),
            body: Box::new(json(req)?),
        },
        ("DELETE", ["tenants", _, "users", _]) => NativeOp::DeleteUser {
            tenant: s(1),
            ext: s(3),
        },
        ("GET", ["tenants", _, "api-keys"]) => NativeOp::ListKeys { tenant: s(1) },
        ("POST", ["tenants", _, "api-keys"]) => NativeOp::CreateKey {
            tenant: s(1),
            body: json(req)?,
        },
        ("DELETE", ["tenants", _, "api-keys", _]) => NativeOp::DeleteKey {
            tenant: s(1),
            key_id: s(3),
        },
        ("POST", ["calls"]) => {
            let mut body: CallBody = json(req)?;
            body.idempotency_key = idempotency_key(req)?;
            NativeOp::Originate(body)
        }
        ("GET", ["calls"]) => NativeOp::ListCalls,
        ("GET", ["calls", _]) => NativeOp::GetCall(CallId(s(1))),
        ("DELETE", ["calls", _]) => NativeOp::Hangup(CallId(s(1))),
        ("POST", ["calls", _, "transfer"]) => {
            let body: TransferRequest = json(req)?;
            if !valid_party(&body.target) {
                return Err(Failure::bad("target", "an extension, number or sip: URI"));
            }
            NativeOp::Transfer {
                call: CallId(s(1)),
                body,
            }
        }
        (
            "POST",
            [
                "calls",
                _,
                verb @ ("play" | "hold_music" | "collect" | "dtmf" | "tone" | "record"
                | "conference"),
            ],
        ) => {
            let op = match *verb {
                "play" => MediaOp::Play(json(req)?),
                "hold_music" => MediaOp::Play(json::<patchbay_api::HoldMusicRequest>(req)?.into()),
                "collect" => MediaOp::Collect(json(req)?),
                "dtmf" => MediaOp::Dtmf(json(req)?),
                "tone" => MediaOp::Tone(json(req)?),
                "conference" => MediaOp::Conference(json(req)?),
                // Every field has a default: no body records the whole call.
                _ if req.body().is_empty() => MediaOp::Record(Default::default()),
                _ => MediaOp::Record(json(req)?),
            };
            if let Some(why) = op.refusal() {
                return Err(Failure::bad(*verb, why));
            }
            NativeOp::Media {
                call: CallId(s(1)),
                op,
            }
        }
        ("POST", ["calls", _, "mute"]) => NativeOp::Mute {
            call: CallId(s(1)),
            body: json(req)?,
        },
        ("GET", ["conferences", room]) => {
            if !patchbay_api::room_name_ok(room) {
                return Err(Failure::NotFound(format!("room {room}")));
            }
            NativeOp::Conference(room.to_string())
        }
        ("POST", ["calls", _, "stop"]) => {
            let body: StopRequest = json(req)?;
            NativeOp::StopMedia {
                call: CallId(s(1)),
                command: body.command,
            }
        }
        ("GET", ["cdrs"]) => NativeOp::Cdrs(cdrs::parse(req)?),
        (
            _,
            [
                "me" | "tenants" | "calls" | "cdrs" | "conferences" | "events",
                ..,
            ],
        ) => {
            return Err(Failure::MethodNotAllowed);
        }
        _ => return Err(Failure::NotFound(path.to_string())),
    };
    if let NativeOp::CreateTenant(t) = &op
        && !valid_name(&t.name)
    {
        return Err(Failure::bad("name", "1-64 of a-z, 0-9, '-', '_', '.'"));
    }
    let mut op = op;
    if let NativeOp::PutUser { body, .. } = &mut op {
        body.fold()?;
        for (name, t) in [
            ("forward_to", &body.forward_to),
            ("forward_busy", &body.forward_busy),
            ("forward_no_answer", &body.forward_no_answer),
        ] {
            if let Some(t) = t
                && !t.is_empty()
                && !valid_party(t)
            {
                return Err(Failure::bad(name, "an extension, number or sip: URI"));
            }
        }
        let seq = body.call_sequence.as_deref().unwrap_or(&[]);
        if seq.len() > 10
            || seq
                .iter()
                .any(|r| !valid_party(&r.number) || !(5..=600).contains(&r.ring_secs))
        {
            return Err(Failure::bad(
                "call_sequence",
                "at most 10 rings, each a number and 5-600 ring_secs",
            ));
        }
    }
    Ok(op)
}

/// Tenant names: they appear in URLs, realms and metrics-free logs.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// A JSON response.
pub fn render_json<T: Serialize>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => response(status, &[("content-type", "application/json")], body),
        Err(e) => render_error(&Failure::Internal(e.to_string())),
    }
}

/// 201 for a new call, with its `Location`.
pub fn render_created_call<T: Serialize>(id: &CallId, info: &T) -> Response {
    let mut r = render_json(201, info);
    if let Ok(v) = http::HeaderValue::from_str(&format!("/api/v1/calls/{id}")) {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    r
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

pub fn render_error(f: &Failure) -> Response {
    let status = match f {
        Failure::AuthRequired { .. } | Failure::AuthFailed { .. } | Failure::UnknownUser(_) => 401,
        Failure::AddressForbidden
        | Failure::Forbidden
        | Failure::DestinationRefused(_)
        | Failure::NotOwner(_)
        | Failure::WrongUser(_) => 403,
        Failure::NotAcceptable(_) => 406,
        Failure::NotFound(_) | Failure::EndpointUnavailable(_) => 404,
        Failure::MethodNotAllowed => 405,
        Failure::ConnectFailed { .. } => 502,
        Failure::UnknownType(_) | Failure::InvalidDocument(_) => 400,
        Failure::AlreadyExists(_) => 409,
        Failure::NoDestination => 404,
        Failure::Conflict(_) => 409,
        Failure::TooLarge => 413,
        Failure::Banned { .. } | Failure::RateLimited { .. } => 429,
        Failure::BadRequest { .. } => 400,
        Failure::NotImplemented(_) => 501,
        Failure::Overloaded | Failure::Unavailable(_) => 503,
        Failure::Internal(_) => 500,
    };
    let message = match f {
        // Never say why: unknown user and wrong password read the same.
        Failure::AuthFailed { .. } | Failure::UnknownUser(_) => "authentication failed".to_string(),
        Failure::Internal(_) => "internal error".to_string(),
        other => other.to_string(),
    };
    let body = serde_json::to_vec(&ErrorBody {
        error: f.label(),
        message,
    })
    .unwrap_or_default();
    let mut headers: Vec<(&str, String)> = vec![("content-type", "application/json".into())];
    match f {
        Failure::AuthRequired { challenges } | Failure::AuthFailed { challenges } => {
            for c in challenges {
                headers.push(("www-authenticate", c.clone()));
            }
        }
        Failure::Banned { retry_after_secs } | Failure::RateLimited { retry_after_secs } => {
            headers.push(("retry-after", retry_after_secs.to_string()));
        }
        Failure::Overloaded | Failure::Unavailable(_) => {
            headers.push(("retry-after", "1".into()));
        }
        _ => {}
    }
    let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    response(status, &hs, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_api::OriginateMode;

    fn req(method: &str, uri: &str, body: &str) -> Request {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .body(bytes::Bytes::from(body.to_string()))
            .unwrap()
    }

    #[test]
    fn parses_calls_and_events() {
        let op = parse_request(&req(
            "POST",
            "/api/v1/calls",
            r#"{"from":"4005","to":["4007"],"mode":"simultaneous"}"#,
        ))
        .unwrap();
        let NativeOp::Originate(b) = op else { panic!() };
        assert_eq!(
            (b.callees(), b.mode),
            (vec!["4007".to_string()], OriginateMode::Simultaneous)
        );
        assert_eq!(b.idempotency_key, None);
        let keyed = |key: &str| {
            let mut r = req("POST", "/api/v1/calls", r#"{"from":"4005","to":"4007"}"#);
            r.headers_mut()
                .insert("idempotency-key", key.parse().unwrap());
            parse_request(&r)
        };
        let Ok(NativeOp::Originate(b)) = keyed("order-17/retry") else {
            panic!()
        };
        assert_eq!(b.idempotency_key.as_deref(), Some("order-17/retry"));
        assert!(keyed("two words").is_err());
        assert!(keyed(&"k".repeat(256)).is_err());
        assert_eq!(
            parse_request(&req(
                "GET",
                "/api/v1/calls/c1/events?after=3&wait_ms=99999",
                ""
            ))
            .unwrap(),
            NativeOp::Events {
                call: "c1".into(),
                after: 3,
                wait_ms: 30_000
            }
        );
        assert_eq!(
            parse_request(&req("PATCH", "/api/v1/calls", "")),
            Err(Failure::MethodNotAllowed)
        );
        assert!(matches!(
            parse_request(&req("POST", "/api/v1/calls", "{")),
            Err(Failure::BadRequest { .. })
        ));
        assert!(matches!(
            parse_request(&req("GET", "/api/v1/calls/c1/events?after=x", "")),
            Err(Failure::BadRequest { .. })
        ));
    }

    #[test]
    fn header_allow_list_and_parties() {
        let mut b: CallBody =
            serde_json::from_str(r#"{"from":"4005","to":"4007","headers":{"X-Crm-Id":"42"}}"#)
                .unwrap();
        assert!(b.validate(&["x-crm-id".into()]).is_ok());
        assert!(b.validate(&[]).is_err());
        // Allow-listed by a careless operator, still refused: the B2BUA writes these.
        for name in ["Via", "call-info", "Contact", "X Bad"] {
            b.headers = [(name.to_string(), "1".to_string())].into();
            assert!(b.validate(&[name.into()]).is_err(), "{name}");
        }
        b.headers.clear();
        b.from_phone = Some(17);
        assert!(b.validate(&[]).is_err());
        b.from_phone = Some(2);
        assert!(b.validate(&[]).is_ok());
        b.from = "40 05".into();
        assert!(b.validate(&[]).is_err());
        assert!(valid_party("sip:4007@demo") && valid_party("+6686123") && !valid_party(""));
    }

    #[test]
    fn errors_carry_status_and_challenges() {
        let r = render_error(&Failure::AuthFailed {
            challenges: vec!["Basic realm=\"x\"".into()],
        });
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"x\"");
        assert_eq!(
            &r.body()[..],
            br#"{"error":"auth_failed","message":"authentication failed"}"#
        );
        assert_eq!(
            render_error(&Failure::Unavailable("down".into())).status(),
            503
        );
    }
}
