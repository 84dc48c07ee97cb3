//! Request parameters from the query string and form or JSON bodies.

use crate::Request;

/// Decoded `key=value` pairs in order; keys kept as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn from_query(req: &Request) -> Params {
        Params::parse(req.uri().query().unwrap_or(""))
    }

    pub fn parse(s: &str) -> Params {
        Params(
            form_urlencoded::parse(s.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Query plus, for form-encoded POSTs, the body's pairs (the body wins on duplicates, being
    /// later in the list and looked up last-first).
    pub fn from_query_and_form(req: &Request) -> Params {
        let mut p = Params::from_query(req);
        if is_form(req) {
            let body = String::from_utf8_lossy(req.body());
            p.0.extend(Params::parse(&body).0);
        }
        p
    }

    /// Value of `name`, exact case; the last occurrence wins.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Value of `name`, case-insensitive (Ozeki matches parameter names that way).
    pub fn get_ci(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn is_form(req: &Request) -> bool {
    content_type(req).starts_with("application/x-www-form-urlencoded")
}

pub fn is_json(req: &Request) -> bool {
    let ct = content_type(req);
    ct.starts_with("application/json") || ct.ends_with("+json")
}

fn content_type(req: &Request) -> String {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}
