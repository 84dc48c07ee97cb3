//! Sans-IO half of the Patchbay gateway.
//!
//! Everything here is plain functions and structs over [`Request`]/[`Response`] values: what
//! credentials a request carries ([`auth`]), how digest nonces are minted and checked, which
//! vendor a path belongs to ([`route`]), and each vendor's translator ([`vendors`]):
//! `parse_request` into an operation, `render_*` of outcomes, and `render_error`, the one place
//! a vendor's error form is produced.
//!
//! It refuses to do I/O: no sockets, no store, no clock, no RNG. Time (`now_ms`), randomness
//! and looked-up secrets are passed in by the `patchbay-gateway` crate, which owns all of that.

pub mod auth;
pub mod failure;
pub mod principal;
pub mod query;
pub mod route;
pub mod vendors;
mod xml;

pub use failure::Failure;
pub use principal::{Principal, Role, Scheme};

/// A request as the translators see it: head plus the whole (size-capped) body.
pub type Request = http::Request<bytes::Bytes>;
/// A response as the translators produce it.
pub type Response = http::Response<bytes::Bytes>;

/// A response extension: the reason phrase of the status line, where a vendor puts its text
/// there (sipXconfig's error texts); the gateway writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonPhrase(pub String);

/// Build a response; the status and headers are static facts of each vendor form, so a builder
/// error here is a programming error and yields a bare 500 instead of a panic.
pub(crate) fn response(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<bytes::Bytes>,
) -> Response {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = body.into();
    b = b.header("content-length", body.len().to_string());
    b.body(body).unwrap_or_else(|_| {
        let mut r = http::Response::new(bytes::Bytes::new());
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

#[cfg(test)]
mod robustness_tests;
