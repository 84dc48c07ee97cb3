//! Reading and building messages with rvoip-sip-core's types, without cloning header trees:
//! the few fields transactions and dialogs key on, and responses built from their request.

use bytes::Bytes;
use rvoip_sip_core::types::address::Address;
use rvoip_sip_core::types::headers::{HeaderName, HeaderValue, TypedHeader};
use rvoip_sip_core::types::param::Param;
use rvoip_sip_core::types::sip_request::Request;
use rvoip_sip_core::types::sip_response::Response;
use rvoip_sip_core::types::via::ViaHeader;
use rvoip_sip_core::{Method, StatusCode};
use std::io::Write as _;

/// RFC 3261 branch prefix: a branch starting with it is unique per transaction.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The topmost Via value.
pub fn top_via(headers: &[TypedHeader]) -> Option<&ViaHeader> {
    headers.iter().find_map(|h| match h {
        TypedHeader::Via(v) => v.0.first(),
        _ => None,
    })
}

pub fn via_branch(v: &ViaHeader) -> Option<&str> {
    v.params.iter().find_map(|p| match p {
        Param::Branch(b) => Some(b.as_str()),
        _ => None,
    })
}

/// The top Via's branch.
pub fn branch(headers: &[TypedHeader]) -> Option<&str> {
    top_via(headers).and_then(via_branch)
}

pub fn call_id(headers: &[TypedHeader]) -> Option<&str> {
    headers.iter().find_map(|h| match h {
        TypedHeader::CallId(c) => Some(c.0.as_str()),
        _ => None,
    })
}

/// CSeq number and method.
pub fn cseq(headers: &[TypedHeader]) -> Option<(u32, &Method)> {
    headers.iter().find_map(|h| match h {
        TypedHeader::CSeq(c) => Some((c.seq, &c.method)),
        _ => None,
    })
}

/// The `tag` of a From/To address. Written without `<>`, rvoip keeps the header's parameters
/// in the URI (RFC 3261 20.10 says they are the header's): the tag is looked for there too.
pub fn address_tag(a: &Address) -> Option<&str> {
    a.tag().or_else(|| {
        a.uri.parameters.iter().find_map(|p| match p {
            Param::Tag(t) => Some(t.as_str()),
            Param::Other(k, Some(v)) if k.eq_ignore_ascii_case("tag") => v.as_str(),
            _ => None,
        })
    })
}

pub fn from_tag(headers: &[TypedHeader]) -> Option<&str> {
    headers.iter().find_map(|h| match h {
        TypedHeader::From(f) => address_tag(&f.0),
        _ => None,
    })
}

pub fn to_tag(headers: &[TypedHeader]) -> Option<&str> {
    headers.iter().find_map(|h| match h {
        TypedHeader::To(t) => address_tag(&t.0),
        _ => None,
    })
}

/// The first header named `name` (any case), as text: typed headers are rendered.
pub fn header_text(headers: &[TypedHeader], name: &str) -> Option<String> {
    headers.iter().find_map(|h| {
        let n = h.name();
        if !n.as_str().eq_ignore_ascii_case(name) {
            return None;
        }
        Some(match h {
            TypedHeader::Other(_, HeaderValue::Raw(v)) => String::from_utf8_lossy(v).into_owned(),
            other => {
                let s = other.to_string();
                match s.split_once(':') {
                    Some((_, v)) => v.trim().to_string(),
                    None => s,
                }
            }
        })
    })
}

/// Whether `headers` hold a header of this name.
pub fn has_header(headers: &[TypedHeader], name: &HeaderName) -> bool {
    headers.iter().any(|h| &h.name() == name)
}

/// The reason phrase RFC 3261 gives a status (the peer may write its own).
pub fn reason_for(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => "",
    }
}

/// A response to `req` (RFC 3261 8.2.6.2): its Via values, From, Call-ID and CSeq copied, its
/// To with `to_tag` added when the request had none. Statuses outside 100-699 become 500.
pub fn response(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::ServerInternalError);
    let mut resp = Response::new(code);
    let reason = reason_for(status);
    if !reason.is_empty() {
        resp.reason = Some(reason.to_string());
    }
    for h in &req.headers {
        match h {
            TypedHeader::Via(_)
            | TypedHeader::From(_)
            | TypedHeader::CallId(_)
            | TypedHeader::CSeq(_) => resp.headers.push(h.clone()),
            TypedHeader::To(to) => {
                let mut to = to.clone();
                if let (Some(tag), None) = (to_tag, to.0.tag()) {
                    to.0.set_tag(tag);
                }
                resp.headers.push(TypedHeader::To(to));
            }
            _ => {}
        }
    }
    resp
}

/// A header rvoip-sip-core has no type for (or that we write as text).
pub fn raw(name: &str, value: impl Into<String>) -> TypedHeader {
    TypedHeader::Other(
        HeaderName::Other(name.to_string()),
        HeaderValue::Raw(value.into().into_bytes()),
    )
}

/// Set a message body and its Content-Type (Content-Length is written by [`encode_request`] /
/// [`encode_response`]).
pub fn set_body(
    headers: &mut Vec<TypedHeader>,
    body: &mut Bytes,
    content_type: &str,
    data: impl Into<Bytes>,
) {
    headers.retain(|h| {
        !matches!(
            h,
            TypedHeader::ContentType(_) | TypedHeader::ContentLength(_)
        ) && !h.name().as_str().eq_ignore_ascii_case("content-type")
    });
    headers.push(raw("Content-Type", content_type));
    *body = data.into();
}

/// Wire form of a request, with a Content-Length that matches its body whatever its headers
/// said.
pub fn encode_request(req: &Request) -> Bytes {
    let mut out = Vec::with_capacity(96 + req.headers.len() * 48 + req.body.len());
    let _ = write!(out, "{} {} SIP/2.0\r\n", req.method, req.uri);
    finish(&mut out, &req.headers, &req.body);
    out.into()
}

/// Wire form of a response, as [`encode_request`].
pub fn encode_response(resp: &Response) -> Bytes {
    let mut out = Vec::with_capacity(64 + resp.headers.len() * 48 + resp.body.len());
    let reason = resp
        .reason
        .as_deref()
        .unwrap_or_else(|| resp.status.reason_phrase());
    let _ = write!(out, "SIP/2.0 {} {}\r\n", resp.status.as_u16(), reason);
    finish(&mut out, &resp.headers, &resp.body);
    out.into()
}

fn finish(out: &mut Vec<u8>, headers: &[TypedHeader], body: &[u8]) {
    for h in headers {
        if !matches!(h, TypedHeader::ContentLength(_)) {
            let _ = write!(out, "{h}\r\n");
        }
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    out.extend_from_slice(body);
}

/// Why a parsed request cannot be processed (answered 400, or 416 for a Request-URI scheme
/// we do not serve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    #[error("missing or repeated {0}")]
    Header(&'static str),
    #[error("CSeq method differs from the request method")]
    CSeqMethod,
    #[error("Request-URI scheme is not sip or sips")]
    Scheme,
    #[error("Content-Length does not match the body")]
    ContentLength,
    #[error("a header we need could not be parsed")]
    Unparsed,
    #[error("the Request-URI could not be parsed")]
    RequestUri,
    #[error("SIP version other than 2.0")]
    Version,
    #[error("a branch of just the magic cookie")]
    Branch,
    #[error("Require names an extension we do not support")]
    Extension,
    #[error("an INVITE body that is not SDP")]
    MediaType,
    #[error("Accept does not take SDP")]
    NotAcceptable,
}

impl Invalid {
    /// The status RFC 3261 gives the refusal.
    pub fn status(self) -> u16 {
        match self {
            Invalid::Scheme => 416,
            Invalid::Version => 505,
            Invalid::Extension => 420,
            Invalid::MediaType => 415,
            Invalid::NotAcceptable => 406,
            _ => 400,
        }
    }

    /// Headers the refusal carries (RFC 3261 8.2.2.3, 8.2.3): `Unsupported` with the option
    /// tags of `req`'s Require, `Accept` for a media type we do not take.
    pub fn headers(self, req: &Request) -> Vec<TypedHeader> {
        match self {
            Invalid::Extension => {
                let tags = header_text(&req.headers, "require").unwrap_or_default();
                let unsupported: Vec<&str> = tags
                    .split(',')
                    .map(str::trim)
                    .filter(|t| {
                        !t.is_empty() && !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t))
                    })
                    .collect();
                vec![raw("Unsupported", unsupported.join(", "))]
            }
            Invalid::MediaType | Invalid::NotAcceptable => vec![raw("Accept", "application/sdp")],
            _ => Vec::new(),
        }
    }
}

/// A Contact rvoip left as text that is still a usable one: it names a SIP URI (rvoip does not
/// parse URIs with escaped headers, RFC 4475 3.3.14) and has no empty parameter (`;;`).
fn raw_names_uri(v: &HeaderValue) -> bool {
    match v {
        HeaderValue::Raw(b) => {
            let t = String::from_utf8_lossy(b).to_ascii_lowercase();
            let t = t.trim();
            let empty_param = t.contains(";;") || t.ends_with(';') || t.contains(";,");
            t == "*" || ((t.contains("sip:") || t.contains("sips:")) && !empty_param)
        }
        _ => true,
    }
}

/// Option tags we support (RFC 3262 reliable provisionals, RFC 4028 session timers).
pub const SUPPORTED: [&str; 2] = ["100rel", "timer"];

/// Whether a `Require`/`Supported` header list names `tag`.
pub fn lists(headers: &[TypedHeader], name: &str, tag: &str) -> bool {
    headers.iter().any(|h| {
        h.name().as_str().eq_ignore_ascii_case(name)
            && header_value_text(h)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(tag))
    }) || (name.eq_ignore_ascii_case("supported")
        && header_text(headers, "k")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(tag))))
}

fn header_value_text(h: &TypedHeader) -> String {
    match h {
        TypedHeader::Other(_, HeaderValue::Raw(v)) => String::from_utf8_lossy(v).into_owned(),
        other => {
            let s = other.to_string();
            match s.split_once(':') {
                Some((_, v)) => v.trim().to_string(),
                None => s,
            }
        }
    }
}

/// Core headers rvoip keeps as raw text when it cannot parse them (full and compact names).
const CORE: [&str; 14] = [
    "via",
    "v",
    "from",
    "f",
    "to",
    "t",
    "call-id",
    "i",
    "cseq",
    "contact",
    "m",
    "max-forwards",
    "content-length",
    "l",
];

/// The checks RFC 3261 8.2 asks of a UAS before any processing: SIP/2.0; a Request-URI that
/// parses and is sip/sips (tel: is not served here); exactly one To, From, Call-ID and CSeq,
/// at least one Via, none of them (nor Contact, Max-Forwards, Content-Length) left unparsed; a
/// CSeq method equal to the request's; a branch that is more than the magic cookie; a
/// Content-Length that fits the body; no Require naming an extension we do not support
/// ([`SUPPORTED`]);
/// for an INVITE, an SDP body if any, and an Accept that takes SDP.
pub fn validate_request(req: &Request) -> Result<(), Invalid> {
    use rvoip_sip_core::types::uri::Scheme;
    if req.version != rvoip_sip_core::types::version::Version::new(2, 0) {
        return Err(Invalid::Version);
    }
    if let Some(raw_uri) = &req.uri.raw_uri {
        let lower = raw_uri.trim().to_ascii_lowercase();
        return Err(if lower.contains("sip:") || lower.contains("sips:") {
            Invalid::RequestUri
        } else {
            Invalid::Scheme
        });
    }
    if req.headers.iter().any(|h| match h {
        TypedHeader::Other(name, value) => {
            let n = name.as_str();
            let contact = n.eq_ignore_ascii_case("contact") || n.eq_ignore_ascii_case("m");
            CORE.iter().any(|c| n.eq_ignore_ascii_case(c))
                // rvoip leaves a Contact with URI headers as text: fine if it names a URI.
                && !(contact && raw_names_uri(value))
        }
        _ => false,
    }) {
        return Err(Invalid::Unparsed);
    }
    let count = |f: fn(&TypedHeader) -> bool| req.headers.iter().filter(|h| f(h)).count();
    if count(|h| matches!(h, TypedHeader::To(_))) != 1 {
        return Err(Invalid::Header("To"));
    }
    if count(|h| matches!(h, TypedHeader::From(_))) != 1 {
        return Err(Invalid::Header("From"));
    }
    if count(|h| matches!(h, TypedHeader::CallId(_))) != 1 {
        return Err(Invalid::Header("Call-ID"));
    }
    if count(|h| matches!(h, TypedHeader::CSeq(_))) != 1 {
        return Err(Invalid::Header("CSeq"));
    }
    if top_via(&req.headers).is_none() {
        return Err(Invalid::Header("Via"));
    }
    match cseq(&req.headers) {
        Some((_, m)) if *m == req.method => {}
        _ => return Err(Invalid::CSeqMethod),
    }
    if branch(&req.headers) == Some(MAGIC_COOKIE) {
        return Err(Invalid::Branch);
    }
    if !matches!(req.uri.scheme, Scheme::Sip | Scheme::Sips) {
        return Err(Invalid::Scheme);
    }
    let lengths: Vec<u64> = req
        .headers
        .iter()
        .filter_map(|h| match h {
            TypedHeader::ContentLength(l) => Some(u64::from(l.0)),
            _ => None,
        })
        .collect();
    match lengths.as_slice() {
        [] => {}
        [n] if *n == req.body.len() as u64 => {}
        _ => return Err(Invalid::ContentLength),
    }
    if !matches!(req.method, Method::Ack | Method::Cancel)
        && let Some(r) = header_text(&req.headers, "require")
        && r.split(',')
            .map(str::trim)
            .any(|t| !t.is_empty() && !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
    {
        return Err(Invalid::Extension);
    }
    if req.method == Method::Invite {
        if !req.body.is_empty()
            && let Some(ct) = header_text(&req.headers, "content-type")
            && !ct
                .to_ascii_lowercase()
                .trim_start()
                .starts_with("application/sdp")
        {
            return Err(Invalid::MediaType);
        }
        if let Some(accept) = header_text(&req.headers, "accept") {
            let a = accept.to_ascii_lowercase();
            if !(a.contains("application/sdp") || a.contains("application/*") || a.contains("*/*"))
            {
                return Err(Invalid::NotAcceptable);
            }
        }
    }
    Ok(())
}
