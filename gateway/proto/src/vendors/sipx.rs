//! sipXconfig REST (`/sipxconfig/rest/...`) and sipXcallController (`callcontroller`).

pub mod callcontroller;
pub mod contact;
pub mod docs;
pub mod feed;
pub mod forward;
pub mod phonebook;
pub mod profile;
pub mod rest;
pub mod xstream;

use crate::{Failure, ReasonPhrase, Response, response};

/// Restlet's descriptions of the statuses it sets without a text of the resource's own.
pub const BAD_REQUEST: &str =
    "The request could not be understood by the server due to malformed syntax";
pub const NOT_FOUND: &str = "The server has not found anything matching the request URI";
pub const METHOD_NOT_ALLOWED: &str = "The method specified in the request is not allowed for the resource identified by the request URI";
pub const NOT_ACCEPTABLE: &str = "The resource identified by the request is only capable of generating response entities which have content characteristics not acceptable according to the accept headers sent in the request";

/// A successful action: 200 with an empty body (clients treat anything else, 204 included,
/// as failure).
pub fn render_ok() -> Response {
    response(200, &[], bytes::Bytes::new())
}

/// `204`, where sipX answers it (the auto-attendant special mode).
pub fn render_no_content() -> Response {
    response(204, &[], bytes::Bytes::new())
}

/// A representation (`content_type` as sipX sends it).
pub fn render_body(content_type: &str, body: impl Into<bytes::Bytes>) -> Response {
    response(200, &[("content-type", content_type)], body)
}

/// Status, reason phrase and, for sipXconfig's servlet-level failures, a JSON body.
fn status_of(f: &Failure) -> (u16, String, Option<String>) {
    match f {
        Failure::AuthRequired { .. } => (
            401,
            "Full authentication is required to access this resource".into(),
            None,
        ),
        Failure::AuthFailed { .. } | Failure::UnknownUser(_) => {
            (401, "Bad credentials".into(), None)
        }
        Failure::WrongUser(what) => (401, what.clone(), None),
        Failure::NotAcceptable(what) => {
            let r = if what.is_empty() { NOT_ACCEPTABLE } else { what };
            (406, r.into(), None)
        }
        Failure::BadRequest { reason, .. } => (400, reason.clone(), None),
        Failure::AddressForbidden | Failure::Forbidden | Failure::Banned { .. } => {
            (403, "Access is denied".into(), None)
        }
        Failure::DestinationRefused(what) => (403, format!("Destination not allowed: {what}"), None),
        Failure::NotOwner(what) => (403, what.clone(), None),
        Failure::NotFound(what) if what.is_empty() => (404, NOT_FOUND.into(), None),
        Failure::NotFound(what) | Failure::EndpointUnavailable(what) => {
            (404, what.clone(), None)
        }
        Failure::NoDestination => (404, NOT_FOUND.into(), None),
        Failure::MethodNotAllowed => (405, METHOD_NOT_ALLOWED.into(), None),
        Failure::Conflict(what) => (409, what.clone(), None),
        Failure::AlreadyExists(_) => (747, "747".into(), None),
        Failure::TooLarge => (413, "Request Entity Too Large".into(), None),
        Failure::NotImplemented(_) => (501, "Not Implemented".into(), None),
        Failure::Unavailable(_) | Failure::Overloaded | Failure::RateLimited { .. } => {
            (503, "Service Unavailable".into(), None)
        }
        // What sipXconfig's servlet answers for an exception: 500 and a JSON line.
        Failure::InvalidDocument(what) | Failure::UnknownType(what) => (
            500,
            "Server Error".into(),
            Some(format!(
                "{{\"error\":\"Internal error: {}\",\"type\":\"com.thoughtworks.xstream.io.StreamException\"}} ",
                what.replace(['"', '\\', '\n', '\r'], "")
            )),
        ),
        Failure::ConnectFailed { .. } | Failure::Internal(_) => (
            500,
            "Server Error".into(),
            Some(
                "{\"error\":\"Internal error: the PBX could not do it\",\"type\":\"java.lang.RuntimeException\"} "
                    .into(),
            ),
        ),
    }
}

/// Jetty's error page (sipXconfig's errors on GET and POST): the reason escaped, the path
/// without the query.
fn jetty_page(status: u16, reason: &str, path: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let body = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"/>\n<title>Error {status} {reason}</title>\n</head>\n<body><h2>HTTP ERROR {status}</h2>\n<p>Problem accessing {path}. Reason:\n<pre>    {reason}</pre></p><hr><i><small>Powered by Jetty://</small></i><hr/>\n\n</body>\n</html>\n",
        reason = esc(reason),
        path = esc(path),
    );
    response(
        status,
        &[
            ("content-type", "text/html; charset=ISO-8859-1"),
            ("cache-control", "must-revalidate,no-cache,no-store"),
        ],
        body,
    )
}

/// sipXconfig REST's error form for a request with `method` on `path` (vendor-apis.md 3.1,
/// compat-specs/sipx): the text in the reason phrase; GET and POST get Jetty's error page,
/// PUT and DELETE an empty body; 401 carries sipXconfig's Digest challenge.
pub fn render_rest_error(f: &Failure, method: &str, path: &str) -> Response {
    let (status, reason, json) = status_of(f);
    let mut r = match json {
        Some(j) => response(status, &[("content-type", "application/json")], j),
        // 747 is no error to Restlet: Jetty writes the status alone.
        None if status != 747 && matches!(method, "GET" | "POST" | "HEAD") => {
            jetty_page(status, &reason, path)
        }
        None => response(status, &[], bytes::Bytes::new()),
    };
    if !reason.is_empty() && reason.chars().all(|c| c == '\t' || !c.is_control()) {
        r.extensions_mut().insert(ReasonPhrase(reason));
    }
    if let Failure::AuthRequired { challenges } | Failure::AuthFailed { challenges } = f {
        for c in challenges {
            if let Ok(v) = http::HeaderValue::from_str(c) {
                r.headers_mut().append(http::header::WWW_AUTHENTICATE, v);
            }
        }
    }
    r
}

/// Restlet's description of a status (what the redirector's answers carry).
pub fn restlet_description(status: u16) -> &'static str {
    match status {
        400 => BAD_REQUEST,
        401 => "The request requires user authentication",
        403 => "The server understood the request, but is refusing to fulfill it",
        404 => NOT_FOUND,
        405 => METHOD_NOT_ALLOWED,
        406 => NOT_ACCEPTABLE,
        503 => {
            "The server is currently unable to handle the request due to a temporary overloading or maintenance of the server"
        }
        _ => {
            "The server encountered an unexpected condition which prevented it from fulfilling the request"
        }
    }
}

/// What `/my/redirect/callcontroller/...` answers for the call controller's reply `inner`
/// (vendor-apis.md 3.5): a POST gets the status alone (200 empty, or the error page with
/// Restlet's description); a GET gets the bytes as `*/*` with a byte range.
pub fn render_redirected(inner: &Response, method: &str, path: &str) -> Response {
    let status = inner.status().as_u16();
    if method == "GET" {
        let body = inner.body().clone();
        let len = body.len();
        let range = format!("bytes 0-{}/{len}", len.saturating_sub(1));
        let mut headers = vec![
            ("content-type", "*/*"),
            ("accept-ranges", "bytes"),
            (
                "vary",
                "Accept-Charset, Accept-Encoding, Accept-Language, Accept",
            ),
        ];
        if status == 200 && len > 0 {
            headers.push(("content-range", range.as_str()));
        }
        return response(status, &headers, body);
    }
    if (200..300).contains(&status) {
        return render_ok();
    }
    let reason = restlet_description(status);
    let mut out = jetty_page(status, reason, path);
    out.extensions_mut()
        .insert(ReasonPhrase(reason.to_string()));
    out
}

/// The error form where the request is not at hand (size and overload checks before the
/// handler): as for a PUT, status and reason only.
pub fn render_error(f: &Failure) -> Response {
    render_rest_error(f, "PUT", "")
}
