//! Ozeki Phone System HTTP API (its own listener, default 7780).
//!
//! Always HTTP 200, `application/xml`, `Server: Microsoft-HTTPAPI/2.0`; the outcome is in
//! `<Code>` (vendor-apis.md 5.1, 5.2). Parameter names match case-insensitively. Office-user
//! authentication (`Username`/`Password`) is always on in Patchbay, and the tenant's `ozeki`
//! address list (CIDR or regex) is checked first when it has entries (compat-specs/ozeki).

mod commands;
pub mod config;
pub mod interp;
pub mod notify;
pub mod ozml;
pub mod third_party;

pub use commands::{
    Command, Party, PlaceCall, call_state, command, dialable, render_active_calls, render_ok,
};

use crate::auth::Credentials;
use crate::query::Params;
use crate::{Failure, Request, Response, response};

/// A parsed Ozeki request: the command name as sent, all parameters, and the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OzekiRequest {
    pub command: String,
    pub params: Params,
    pub credentials: Credentials,
}

pub fn parse_request(req: &Request) -> Result<OzekiRequest, Failure> {
    let mut params = Params::from_query_and_form(req);
    // A body sent without the form content type (or as text) is still the command's form.
    if !crate::query::is_form(req) && !req.body().is_empty() {
        params
            .0
            .extend(Params::parse(&String::from_utf8_lossy(req.body())).0);
    }
    // One doc page shows `http://host:7780/command=ListActiveCalls` (no `?`): tolerate it.
    let path = req.uri().path().trim_start_matches('/');
    if path.contains('=') {
        params.0.extend(Params::parse(path).0);
    }
    let credentials = match (params.get_ci("Username"), params.get_ci("Password")) {
        (Some(u), Some(p)) if !u.is_empty() => Credentials::Params {
            user: u.to_string(),
            password: p.to_string(),
        },
        (Some(_), _) | (_, Some(_)) => Credentials::Malformed,
        (None, None) => Credentials::None,
    };
    let command = params.get_ci("command").unwrap_or("").to_string();
    Ok(OzekiRequest {
        command,
        params,
        credentials,
    })
}

/// The `<Response>` document .NET's XmlSerializer writes (CRLF, two-space indent).
pub fn render_response(code: u16, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<Response xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n  <Code>{code}</Code>\r\n  <Message>{}</Message>\r\n</Response>",
        quick_xml::escape::partial_escape(message)
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

/// `200 Command successfully executed` with `extra` (indented elements, CRLF-ended) after
/// the message.
pub fn render_body(extra: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<Response xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n  <Code>200</Code>\r\n  <Message>Command successfully executed</Message>\r\n{extra}</Response>"
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

/// HTTP.sys's 404 for a file it does not serve (an unknown or badly signed `RecordURL`).
pub fn render_file_not_found() -> Response {
    response(
        404,
        &[
            ("content-type", "text/plain"),
            ("server", "Microsoft-HTTPAPI/2.0"),
        ],
        "Not Found".to_string(),
    )
}

pub fn render_error(f: &Failure) -> Response {
    let (code, msg) = match f {
        Failure::AuthRequired { .. } => (304, "Authentication required".to_string()),
        Failure::AuthFailed { .. } => (
            305,
            "Authentication failed, bad username or password".to_string(),
        ),
        Failure::Forbidden => (306, "User is not allowed to use API in ACL".to_string()),
        Failure::AddressForbidden | Failure::Banned { .. } => {
            (307, "Use API from this address is forbidden".to_string())
        }
        Failure::NotImplemented(cmd) => (301, format!("Not implemented command: '{cmd}'")),
        Failure::EndpointUnavailable(ext) => (
            401,
            format!("API extension '{ext}' unavailable, please check configuration or permissions"),
        ),
        Failure::ConnectFailed { target, state } => (
            402,
            format!("Call connect to '{target}' failed with result state '{state}'"),
        ),
        Failure::NoDestination => (501, "Destination of the SMS is not found".to_string()),
        Failure::UnknownType(t) => (701, format!("Configuration for type '{t}' not found")),
        Failure::InvalidDocument(t) => (702, format!("Invalid configuration for type '{t}'")),
        Failure::AlreadyExists(_) => (703, "Extension configuration already exists".to_string()),
        Failure::NotFound(call) => (601, format!("Call not found with ID '{call}'")),
        Failure::Conflict(command) => (303, format!("Command '{command}' cannot be used here")),
        Failure::BadRequest { field, reason } => (
            302,
            format!("Missing or invalid parameter '{field}' for command '{reason}'"),
        ),
        other => (
            300,
            format!("Error occured during parsing message: '{other}'"),
        ),
    };
    render_response(code, &msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_any_case_and_pathless_form() {
        let r = http::Request::builder()
            .uri("/command=Call?USERNAME=4005&password=1")
            .body(bytes::Bytes::new())
            .unwrap();
        let p = parse_request(&r).unwrap();
        assert_eq!(p.command, "Call");
        assert!(matches!(p.credentials, Credentials::Params { .. }));
    }

    #[test]
    fn error_document_bytes() {
        let r = render_error(&Failure::AuthRequired { challenges: vec![] });
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["server"], "Microsoft-HTTPAPI/2.0");
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            "<?xml version=\"1.0\"?>\r\n<Response xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n  <Code>304</Code>\r\n  <Message>Authentication required</Message>\r\n</Response>"
        );
    }
}
