//! Credentials, as plain data and pure checks. The gateway looks up secrets and calls these.

pub mod basic;
pub mod digest;
pub mod ip;
pub mod jwt;

pub use basic::{BasicCredentials, parse_basic, parse_token};
pub use digest::{Algorithm, DigestResponse, NonceCheck, NonceKey};
pub use ip::{IpPattern, IpPatternError};

/// The credentials a request carries, as the vendor's rules find them. Only one is used per
/// request; the vendor module decides which forms it looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    /// `Authorization: Basic`: an extension + web PIN, or an API key + secret.
    Basic(BasicCredentials),
    Digest(DigestResponse),
    Bearer(String),
    /// An API key + secret given as a promptCall `token` (query or JSON body).
    Token(BasicCredentials),
    /// Vendor parameters naming a user and its web PIN (Ozeki `Username`/`Password`).
    Params {
        user: String,
        password: String,
    },
    /// A per-user key in the URL (Taridium `key`).
    UrlKey(String),
    /// Present but unreadable (bad base64, bad digest syntax): fails like wrong credentials.
    Malformed,
}

/// The `Authorization` header split into scheme and the rest.
pub fn authorization(req: &crate::Request) -> Option<(&str, &str)> {
    let v = req
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let v = v.trim();
    match v.split_once(' ') {
        Some((scheme, rest)) => Some((scheme, rest.trim())),
        None => Some((v, "")),
    }
}

/// Credentials from the `Authorization` header (Basic, Digest, Bearer).
pub fn from_authorization(req: &crate::Request) -> Credentials {
    let Some((scheme, rest)) = authorization(req) else {
        return Credentials::None;
    };
    if scheme.eq_ignore_ascii_case("basic") {
        parse_basic(rest).map_or(Credentials::Malformed, Credentials::Basic)
    } else if scheme.eq_ignore_ascii_case("digest") {
        DigestResponse::parse(rest).map_or(Credentials::Malformed, Credentials::Digest)
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Credentials::Bearer(rest.to_string())
    } else {
        Credentials::Malformed
    }
}

/// Whether two secrets are equal, in time that does not depend on where they differ (their
/// lengths aside).
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
