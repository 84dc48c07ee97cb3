//! sipXconfig REST (`/sipxconfig/rest/...`) and sipXcallController (`callcontroller`).

pub mod callcontroller;

use crate::{Failure, Response, response};

pub fn render_error(f: &Failure) -> Response {
    let status = match f {
        Failure::AuthRequired { .. } | Failure::AuthFailed { .. } => 401,
        Failure::AddressForbidden | Failure::Forbidden => 403,
        Failure::NotFound(_) => 404,
        Failure::MethodNotAllowed => 405,
        Failure::NotImplemented(_) => 501,
        Failure::Unavailable(_) | Failure::Overloaded => 503,
        Failure::BadRequest { .. } => 400,
        _ => 500,
    };
    let mut headers = vec![("content-type", "text/plain;charset=UTF-8")];
    let challenges = match f {
        Failure::AuthRequired { challenges } | Failure::AuthFailed { challenges } => {
            challenges.clone()
        }
        _ => Vec::new(),
    };
    for c in &challenges {
        headers.push(("www-authenticate", c.as_str()));
    }
    response(status, &headers, f.to_string())
}
