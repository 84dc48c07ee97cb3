//! Taridium ipbx: End-User URL Control (`/user/c/`) and the IPPS pages (`/ipps/...`).
//!
//! Plain text, HTTP 200, exact strings from vendor-apis.md 2.2. URL control authenticates by the
//! user's 6-character `key`, or "generic" HTTP Basic with an API key plus `user=<ext>` (the IPPS
//! credentials of the vendor). One action per request, the first present of `call`, `fwdnr`,
//! `fwd`, `follow`, `vm` (compat-specs/taridium records the choice).

pub mod cti;
pub mod ipps;
pub mod progress;

use crate::auth::{Credentials, from_authorization};
use crate::query::Params;
use crate::vendors::native::valid_party;
use crate::{Failure, Request, Response, response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlAction {
    /// Ring the user's own extension, then bridge to `number`.
    Call {
        number: String,
        cid: Option<String>,
        /// `progress=1|2`: an HTML page once the call connected or failed.
        progress: Option<progress::Progress>,
    },
    /// `fwdnr`: set the number and switch forwarding on; `fwd`: switch it on or off.
    Forwarding {
        on: bool,
        number: Option<String>,
    },
    FollowMe(bool),
    Voicemail(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlControl {
    pub credentials: Credentials,
    /// `user=<ext>` (generic-auth mode).
    pub user: Option<String>,
    pub action: UrlAction,
}

/// The vendor's success texts.
pub const CALL_PLACED: &str = "OK: CALL PLACED";
pub const FORWARDING_UPDATED: &str = "OK: UPDATED FORWARDING SETTINGS";
pub const FOLLOWME_UPDATED: &str = "OK: UPDATED FOLLOWME SETTINGS";
pub const VM_UPDATED: &str = "OK: UPDATED VM SETTINGS";

fn flag(p: &Params, name: &str) -> Result<Option<bool>, Failure> {
    match p.get(name) {
        None => Ok(None),
        Some("1") => Ok(Some(true)),
        Some("0") => Ok(Some(false)),
        Some(_) => Err(Failure::bad(name, "must be 1 or 0")),
    }
}

pub fn parse_url_control(req: &Request) -> Result<UrlControl, Failure> {
    let p = Params::from_query_and_form(req);
    let credentials = match p.get("key") {
        Some(k) if !k.is_empty() => Credentials::UrlKey(k.to_string()),
        _ => from_authorization(req),
    };
    let user = p.get("user").map(str::to_string);
    let action = if let Some(number) = p.get("call") {
        if !valid_party(number) || number.starts_with("sip") {
            return Err(Failure::bad("call", "digits only"));
        }
        let cid = p.get("cid").map(str::to_string);
        if cid
            .as_deref()
            .is_some_and(|c| patchbay_api::CallerId::parse(c).is_none())
        {
            return Err(Failure::bad("cid", "a number, Name <number>, or unknown"));
        }
        UrlAction::Call {
            number: number.to_string(),
            cid,
            progress: progress::Progress::parse(p.get("progress")),
        }
    } else if let Some(nr) = p.get("fwdnr") {
        if !valid_party(nr) {
            return Err(Failure::bad("fwdnr", "a number"));
        }
        UrlAction::Forwarding {
            on: true,
            number: Some(nr.to_string()),
        }
    } else if let Some(on) = flag(&p, "fwd")? {
        UrlAction::Forwarding { on, number: None }
    } else if let Some(on) = flag(&p, "follow")? {
        UrlAction::FollowMe(on)
    } else if let Some(on) = flag(&p, "vm")? {
        UrlAction::Voicemail(on)
    } else {
        return Err(Failure::bad("action", "none given"));
    };
    Ok(UrlControl {
        credentials,
        user,
        action,
    })
}

pub fn render_text(text: &str) -> Response {
    response(
        200,
        &[("content-type", "text/plain; charset=utf-8")],
        text.to_string(),
    )
}

pub fn render_error(f: &Failure) -> Response {
    let text = match f {
        Failure::AuthRequired { .. }
        | Failure::AuthFailed { .. }
        | Failure::AddressForbidden
        | Failure::Forbidden
        | Failure::Banned { .. } => "ERROR: AUTH FAILED".to_string(),
        Failure::BadRequest { field, .. } if field == "action" => {
            "ERROR: NO ACTION SUPPLIED".to_string()
        }
        Failure::BadRequest { field, .. } if field == "channel" => {
            "ERROR: NO CHANNEL SUPPLIED".to_string()
        }
        Failure::BadRequest { field, .. } if field == "queue_name" => {
            "ERROR: NO QUEUE NAME SUPPLIED".to_string()
        }
        Failure::BadRequest { field, .. } if field == "fwd" || field == "fwdnr" => {
            "ERROR: FAILED UPDATING FORWARDING SETTINGS".to_string()
        }
        Failure::BadRequest { field, .. } if field == "follow" => {
            "ERROR: FAILED UPDATING FOLLOWME SETTINGS".to_string()
        }
        Failure::BadRequest { field, .. } if field == "vm" => {
            "ERROR: FAILED UPDATING VM SETTINGS".to_string()
        }
        Failure::NotImplemented(_) => "ERROR: NOT SUPPORTED".to_string(),
        // Everything else ends a `call` that could not be placed (the caller's phone is not
        // registered, the B2BUA refused or is down): the vendor has one text for all of it.
        _ => "ERROR: FAILED PLACING CALL".to_string(),
    };
    render_text(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request {
        http::Request::builder()
            .uri(uri)
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[test]
    fn actions() {
        let c = parse_url_control(&get("/user/c/?key=OB94AU&call=5550000&cid=unknown")).unwrap();
        assert_eq!(c.credentials, Credentials::UrlKey("OB94AU".into()));
        assert!(matches!(c.action, UrlAction::Call { .. }));
        let c = parse_url_control(&get("/user/c/?key=OB94AU&vm=0")).unwrap();
        assert_eq!(c.action, UrlAction::Voicemail(false));
        assert_eq!(
            render_error(&parse_url_control(&get("/user/c/?key=A")).unwrap_err()).body(),
            "ERROR: NO ACTION SUPPLIED"
        );
        assert_eq!(
            render_error(&Failure::AuthFailed { challenges: vec![] }).body(),
            "ERROR: AUTH FAILED"
        );
        assert_eq!(
            render_error(&Failure::NotFound("4005 is not registered".into())).body(),
            "ERROR: FAILED PLACING CALL"
        );
    }
}
