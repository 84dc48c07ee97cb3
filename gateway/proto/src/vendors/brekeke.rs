//! Brekeke PBX (`/pbx/...`). The SOAP service and `/pbx/3pcc` come with their own issue; until
//! then every path answers in the 3PCC plain-text error form.

use crate::{Failure, Response, response};

/// `failed: <reason>` as text/plain (see compat-specs/brekeke for the choice of form).
pub fn render_error(f: &Failure) -> Response {
    let (status, reason) = match f {
        Failure::AddressForbidden | Failure::Forbidden => (403, "forbidden".to_string()),
        Failure::AuthRequired { .. } | Failure::AuthFailed { .. } => {
            (403, "authentication failed".to_string())
        }
        Failure::NotFound(_) => (404, "not found".to_string()),
        Failure::NotImplemented(what) => (501, format!("not implemented: {what}")),
        other => (500, other.to_string()),
    };
    response(
        status,
        &[("content-type", "text/plain;charset=UTF-8")],
        format!("failed: {reason}"),
    )
}
