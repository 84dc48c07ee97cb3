//! promptCall PBX API: `/pbxws.php/<action>`, query string or JSON body, token auth in three
//! forms (Basic header, `?token=`, JSON `token`), JSON `{"success": bool, "msg": text}` replies
//! with HTTP 200 (vendor-apis.md 4; compat-specs/promptcall records the choices).

pub mod cdr;

use crate::auth::{BasicCredentials, Credentials, authorization, parse_basic, parse_token};
use crate::query::{Params, is_json};
use crate::vendors::native::valid_party;
use crate::{Failure, Request, Response, response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptcallOp {
    /// Ring extension `ext`, then bridge to `tel`.
    Dial { ext: String, tel: String },
    /// Callcenter dial: ring agent `agent`, then bridge to `tel` (an agent's call).
    DialQm { agent: String, tel: String },
    /// CDRs of calls started in `[start, end)`, oldest first, at most `num`.
    Cdrs {
        num: u32,
        start_ms: Option<u64>,
        end_ms: Option<u64>,
    },
    /// A recording's WAV.
    Recording(cdr::RecordingRef),
    /// An action the vendor has that Patchbay does not (yet).
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptcallRequest {
    pub credentials: Credentials,
    pub op: PromptcallOp,
}

fn token_creds(c: Option<BasicCredentials>) -> Credentials {
    c.map_or(Credentials::Malformed, Credentials::Token)
}

pub fn parse_request(req: &Request) -> Result<PromptcallRequest, Failure> {
    let mut p = Params::from_query_and_form(req);
    if is_json(req) && !req.body().is_empty() {
        let v: serde_json::Value =
            serde_json::from_slice(req.body()).map_err(|_| Failure::bad("body", "invalid JSON"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Failure::bad("body", "JSON object expected"))?;
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            p.0.push((k.clone(), s));
        }
    }
    let credentials = match authorization(req) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => {
            token_creds(parse_basic(rest))
        }
        Some(_) => Credentials::Malformed,
        None => match p.get("token") {
            Some(t) => token_creds(parse_token(t)),
            None => Credentials::None,
        },
    };
    let action = req
        .uri()
        .path()
        .strip_prefix("/pbxws.php")
        .unwrap_or("")
        .trim_matches('/');
    let party = |name: &str| -> Result<String, Failure> {
        match p.get(name).map(str::trim) {
            Some(v) if !v.is_empty() && valid_party(v) => Ok(v.to_string()),
            _ => Err(Failure::bad(name, "required")),
        }
    };
    // The bare URL some clients are configured with: the action its parameters make.
    let action = match action {
        "" if p.get("agent").is_some() => "dialqm",
        "" => "dial",
        a => a,
    };
    let op = match action {
        "dial" => PromptcallOp::Dial {
            ext: party("ext")?,
            tel: party("tel")?,
        },
        "dialqm" => PromptcallOp::DialQm {
            agent: party("agent")?,
            tel: party("tel")?,
        },
        "cdrapi" => {
            let num = match p.get("numRecords").map(str::trim) {
                None | Some("") => 100,
                Some(n) => n
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1_000).contains(n))
                    .ok_or_else(|| Failure::bad("numRecords", "1-1000"))?,
            };
            let time = |name: &str| -> Result<Option<u64>, Failure> {
                match p.get(name).map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(t) => cdr::parse_time(name, t).map(Some),
                }
            };
            PromptcallOp::Cdrs {
                num,
                start_ms: time("startTime")?,
                end_ms: time("endTime")?,
            }
        }
        "recapi" => {
            let text = |name: &str| p.get(name).map(str::trim).filter(|v| !v.is_empty());
            let r = if let Some(f) = text("filename") {
                cdr::RecordingRef::File(f.to_string())
            } else if let Some(u) = text("uniqueid") {
                cdr::RecordingRef::Call(u.to_string())
            } else if let (Some(src), Some(dst), Some(at)) =
                (text("src"), text("dst"), text("calldate"))
            {
                cdr::RecordingRef::Parties {
                    src: src.to_string(),
                    dst: dst.to_string(),
                    at_ms: cdr::parse_time("calldate", at)?,
                }
            } else {
                return Err(Failure::bad(
                    "filename",
                    "filename, uniqueid or src, dst and calldate",
                ));
            };
            PromptcallOp::Recording(r)
        }
        other => PromptcallOp::Other(other.to_string()),
    };
    Ok(PromptcallRequest { credentials, op })
}

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniqueid: Option<&'a str>,
}

fn reply(success: bool, msg: &str, uniqueid: Option<&str>) -> Response {
    let body = serde_json::to_vec(&Reply {
        success,
        msg,
        uniqueid,
    })
    .unwrap_or_default();
    response(200, &[("content-type", "application/json")], body)
}

/// Dial accepted: the call id goes in `uniqueid` (Asterisk's name for it).
pub fn render_dialed(call_id: &str) -> Response {
    reply(true, "Dial success", Some(call_id))
}

pub fn render_error(f: &Failure) -> Response {
    let msg = match f {
        Failure::AuthRequired { .. } => "Token required".to_string(),
        Failure::AuthFailed { .. } | Failure::Banned { .. } => "Invalid token".to_string(),
        Failure::AddressForbidden | Failure::Forbidden => "Permission denied".to_string(),
        Failure::BadRequest { field, .. } => format!("Missing or invalid parameter {field}"),
        Failure::NotImplemented(a) => format!("Unknown action {a}"),
        Failure::NotFound(what) if what.starts_with("recording") => {
            "Recording not found".to_string()
        }
        Failure::NotFound(what) => format!("Dial failed: {what}"),
        Failure::DestinationRefused(_) => "Dial failed: destination not allowed".to_string(),
        Failure::RateLimited { .. } | Failure::Overloaded => "Too many requests".to_string(),
        Failure::Unavailable(_) => "PBX unavailable".to_string(),
        other => format!("Dial failed: {}", other.label()),
    };
    reply(false, &msg, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_token_forms() {
        let tok = "ZGVtby1rZXk6ZGVtby1zZWNyZXQ="; // demo-key:demo-secret
        let want = Credentials::Token(parse_basic(tok).unwrap());
        let q = http::Request::builder()
            .uri(format!("/pbxws.php/dial?tel=4007&ext=4005&token={tok}"))
            .body(bytes::Bytes::new())
            .unwrap();
        assert_eq!(parse_request(&q).unwrap().credentials, want);
        let h = http::Request::builder()
            .uri("/pbxws.php/dial?tel=4007&ext=4005")
            .header("authorization", format!("Basic {tok}"))
            .body(bytes::Bytes::new())
            .unwrap();
        assert_eq!(parse_request(&h).unwrap().credentials, want);
        let j = http::Request::builder()
            .method("POST")
            .uri("/pbxws.php/dial")
            .header("content-type", "application/json")
            .body(bytes::Bytes::from(format!(
                r#"{{"ext":"4005","tel":"+664007","token":"{tok}"}}"#
            )))
            .unwrap();
        let r = parse_request(&j).unwrap();
        assert_eq!(r.credentials, want);
        assert_eq!(
            r.op,
            PromptcallOp::Dial {
                ext: "4005".into(),
                tel: "+664007".into()
            }
        );
        assert_eq!(
            render_error(&Failure::AuthFailed { challenges: vec![] }).body(),
            r#"{"success":false,"msg":"Invalid token"}"#
        );
    }
}
