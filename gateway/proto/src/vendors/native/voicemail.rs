//! `/api/v1/tenants/{tenant}/users/{ext}/voicemail[/{id}]`: a user's voicemail messages (list
//! by folder, the audio with `Range`, move between folders, delete). Parsing only.

use crate::query::Params;
use crate::{Failure, Request};

/// A mailbox's folders.
const FOLDERS: [&str; 3] = ["inbox", "saved", "deleted"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicemailOp {
    List { folder: Option<String> },
    Get { id: String, range: Option<String> },
    Move { id: String, folder: String },
    Delete { id: String },
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    folder: String,
}

fn folder(f: &str) -> Result<String, Failure> {
    FOLDERS
        .contains(&f)
        .then(|| f.to_string())
        .ok_or_else(|| Failure::bad("folder", "inbox, saved or deleted"))
}

/// Parse `segs` after `voicemail`.
pub(super) fn parse(method: &str, segs: &[&str], req: &Request) -> Result<VoicemailOp, Failure> {
    let q = Params::from_query(req);
    let id = |s: &str| -> Result<String, Failure> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        ok.then(|| s.to_string())
            .ok_or_else(|| Failure::NotFound(format!("message {s}")))
    };
    Ok(match (method, segs) {
        ("GET", []) => VoicemailOp::List {
            folder: q.get("folder").map(folder).transpose()?,
        },
        ("GET", [m]) => VoicemailOp::Get {
            id: id(m)?,
            range: req
                .headers()
                .get(http::header::RANGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        },
        ("PUT", [m]) => {
            let b: MoveBody = serde_json::from_slice(req.body())
                .map_err(|e| Failure::bad("body", e.to_string()))?;
            VoicemailOp::Move {
                id: id(m)?,
                folder: folder(&b.folder)?,
            }
        }
        ("DELETE", [m]) => VoicemailOp::Delete { id: id(m)? },
        ("GET" | "PUT" | "DELETE", _) => {
            return Err(Failure::NotFound(req.uri().path().to_string()));
        }
        _ => return Err(Failure::MethodNotAllowed),
    })
}
