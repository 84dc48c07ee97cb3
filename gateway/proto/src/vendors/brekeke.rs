//! Brekeke PBX HTTP 3PCC, `GET`/`POST /pbx/3pcc` (vendor-apis.md 1.4): plain-text
//! `succeeded: <ID>`, errors as `failed: <reason>` (compat-specs/brekeke records the choice).
//! The SOAP service under `/pbx/services/` is [`super::brekeke_soap`].

use crate::auth::{Credentials, from_authorization};
use crate::query::Params;
use crate::vendors::native::valid_party;
use crate::{Failure, Request, Response, response};
use patchbay_api::OriginateMode;

/// Most callees one request may fork to.
pub const MAX_CALLEES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreePcc {
    /// Callees (`to`, comma-separated); the first to answer wins.
    pub to: Vec<String>,
    /// The caller, rung first with `type=2`.
    pub from: String,
    /// The Brekeke user placing the call (`user`, defaults to `from`).
    pub user: String,
    pub mode: OriginateMode,
    /// `tenant` (multi-tenant edition); else the tenant of the Host / listener.
    pub tenant: Option<String>,
    /// Optional credentials; without them the client IP pattern decides.
    pub credentials: Credentials,
    /// `phone=1..4`: ring only that phone of the caller (the n-th it registered).
    pub phone: Option<u8>,
    /// `page=true`: the caller's phone answers by itself (intercom).
    pub page: bool,
}

pub fn parse_3pcc(req: &Request) -> Result<ThreePcc, Failure> {
    let m = req.method();
    if m != http::Method::GET && m != http::Method::POST {
        return Err(Failure::MethodNotAllowed);
    }
    let p = Params::from_query_and_form(req);
    let from = p.get("from").unwrap_or("").trim().to_string();
    if !valid_party(&from) {
        return Err(Failure::bad("from", "required"));
    }
    let to: Vec<String> = p
        .get("to")
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if to.is_empty() || to.len() > MAX_CALLEES || !to.iter().all(|t| valid_party(t)) {
        return Err(Failure::bad("to", "required"));
    }
    let mode = match p.get("type").map(str::trim) {
        None | Some("") | Some("2") => OriginateMode::CallerFirst,
        Some("1") => OriginateMode::Simultaneous,
        Some(_) => return Err(Failure::bad("type", "1 or 2")),
    };
    let user = match p.get("user").map(str::trim) {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => from.clone(),
    };
    let tenant = p
        .get("tenant")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let phone = match p.get("phone").map(str::trim) {
        None | Some("") => None,
        Some(n) => match n.parse::<u8>() {
            Ok(n @ 1..=4) => Some(n),
            _ => return Err(Failure::bad("phone", "1 to 4")),
        },
    };
    // Brekeke is Java: `Boolean.parseBoolean`, so "TRUE" pages and anything but "true" does not.
    let page = p
        .get("page")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    Ok(ThreePcc {
        to,
        from,
        user,
        mode,
        tenant,
        credentials: from_authorization(req),
        phone,
        page,
    })
}

/// `succeeded: <ID>`.
pub fn render_succeeded(id: &str) -> Response {
    response(
        200,
        &[("content-type", "text/plain;charset=UTF-8")],
        format!("succeeded: {id}"),
    )
}

/// `failed: <reason>` as text/plain (see compat-specs/brekeke for the choice of form).
pub fn render_error(f: &Failure) -> Response {
    let (status, reason) = match f {
        Failure::AddressForbidden
        | Failure::Forbidden
        | Failure::NotOwner(_)
        | Failure::WrongUser(_) => (403, "forbidden".to_string()),
        Failure::NotAcceptable(_) => (406, "not acceptable".to_string()),
        // Like the PBX's own call failures: 200 with the reason.
        Failure::DestinationRefused(what) => (200, format!("not allowed: {what}")),
        Failure::AuthRequired { .. } | Failure::AuthFailed { .. } | Failure::UnknownUser(_) => {
            (403, "authentication failed".to_string())
        }
        Failure::NotFound(what) | Failure::EndpointUnavailable(what) => {
            (200, format!("not found: {what}"))
        }
        Failure::ConnectFailed { target, state } => (200, format!("{target}: {state}")),
        Failure::UnknownType(t) | Failure::InvalidDocument(t) => (200, format!("invalid {t}")),
        Failure::AlreadyExists(what) => (200, format!("exists: {what}")),
        Failure::NoDestination => (200, "not found: destination".to_string()),
        Failure::BadRequest { field, reason } => (200, format!("invalid {field}: {reason}")),
        Failure::MethodNotAllowed => (405, "method not allowed".to_string()),
        Failure::NotImplemented(what) => (404, format!("not implemented: {what}")),
        Failure::Unavailable(_) | Failure::Overloaded => (503, "PBX unavailable".to_string()),
        Failure::RateLimited { .. } | Failure::Banned { .. } => (429, "too many requests".into()),
        Failure::TooLarge => (413, "request too large".to_string()),
        Failure::Conflict(what) => (200, what.clone()),
        Failure::Internal(_) => (500, "internal error".to_string()),
    };
    response(
        status,
        &[("content-type", "text/plain;charset=UTF-8")],
        format!("failed: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(q: &str) -> Request {
        http::Request::builder()
            .uri(format!("/pbx/3pcc?{q}"))
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[test]
    fn parses_the_documented_sample_and_forks() {
        let r = parse_3pcc(&get("to=4007&from=4005&user=4005&type=2")).unwrap();
        assert_eq!(
            (r.to, r.from, r.user, r.mode),
            (
                vec!["4007".to_string()],
                "4005".to_string(),
                "4005".to_string(),
                OriginateMode::CallerFirst
            )
        );
        let r = parse_3pcc(&get("to=4007,4009&from=4005&type=1&tenant=t1")).unwrap();
        assert_eq!(r.to.len(), 2);
        assert_eq!(r.mode, OriginateMode::Simultaneous);
        assert_eq!(r.tenant.as_deref(), Some("t1"));
        assert_eq!(
            parse_3pcc(&get("from=4005")).unwrap_err(),
            Failure::bad("to", "required")
        );
        let r = parse_3pcc(&get("to=4007&from=4005&phone=2&page=TRUE")).unwrap();
        assert_eq!((r.phone, r.page), (Some(2), true));
        let r = parse_3pcc(&get("to=4007&from=4005&phone=&page=yes")).unwrap();
        assert_eq!((r.phone, r.page), (None, false), "Boolean.parseBoolean");
        for bad in ["0", "5", "x", "-1"] {
            assert_eq!(
                parse_3pcc(&get(&format!("to=4007&from=4005&phone={bad}"))).unwrap_err(),
                Failure::bad("phone", "1 to 4")
            );
        }
    }

    #[test]
    fn success_and_error_bytes() {
        let r = render_succeeded("17");
        assert_eq!(r.body().as_ref(), b"succeeded: 17");
        let e = render_error(&Failure::AddressForbidden);
        assert_eq!(
            (e.status().as_u16(), e.body().as_ref()),
            (403, &b"failed: forbidden"[..])
        );
    }
}
