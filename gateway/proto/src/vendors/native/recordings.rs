//! `/api/v1/recordings[/{id}]`: a tenant's finished recordings (list, download with `Range`,
//! delete). Parsing only; the gateway runs them against the B2BUA's control API.

use crate::query::Params;
use crate::{Failure, Request};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordingOp {
    /// Newest first; of one call if given.
    List {
        call: Option<String>,
        limit: u32,
    },
    /// The WAV, or the byte range the client's `Range` header asks for.
    Get {
        id: String,
        range: Option<String>,
    },
    Delete {
        id: String,
    },
}

/// A recording id as the B2BUA makes them (`<call id>-r<n>`): letters, digits, `-`, `_`, `.`.
fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parse `segs` after `recordings`.
pub(super) fn parse(method: &str, segs: &[&str], req: &Request) -> Result<RecordingOp, Failure> {
    let q = Params::from_query(req);
    let id = |s: &str| {
        valid_id(s)
            .then(|| s.to_string())
            .ok_or_else(|| Failure::NotFound(format!("recording {s}")))
    };
    Ok(match (method, segs) {
        ("GET", []) => {
            let limit = match q.get("limit") {
                None => 100,
                Some(v) => v
                    .parse::<u32>()
                    .map_err(|_| Failure::bad("limit", "must be a non-negative integer"))?
                    .clamp(1, 1_000),
            };
            let call = match q.get("call") {
                Some(c) if !valid_id(c) => return Err(Failure::bad("call", "not a call id")),
                c => c.map(str::to_string),
            };
            RecordingOp::List { call, limit }
        }
        ("GET", [rid]) => RecordingOp::Get {
            id: id(rid)?,
            range: req
                .headers()
                .get(http::header::RANGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        },
        ("DELETE", [rid]) => RecordingOp::Delete { id: id(rid)? },
        ("GET" | "DELETE", _) => return Err(Failure::NotFound(req.uri().path().to_string())),
        _ => return Err(Failure::MethodNotAllowed),
    })
}
