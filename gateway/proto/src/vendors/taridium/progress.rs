//! URL control's `progress=1` (text) and `progress=2` (graphic) pages (vendor-apis.md 2.2):
//! `call` answers with an HTML page once the call connected or failed, instead of the plain
//! text at once. The vendor's page is not documented beyond that; compat-specs/taridium
//! records the shape chosen (its result line is the plain-text reply's).

use super::CALL_PLACED;
use crate::{Response, response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Text,
    Graphic,
}

impl Progress {
    /// `progress=1` or `2`; anything else: no page (the plain reply).
    pub fn parse(v: Option<&str>) -> Option<Self> {
        match v {
            Some("1") => Some(Self::Text),
            Some("2") => Some(Self::Graphic),
            _ => None,
        }
    }
}

/// How the call ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Both parties talk.
    Connected,
    /// The called party's voicemail took the call.
    Voicemail,
    /// It was placed, then ended before they talked (`why`: busy, no answer ...).
    Ended { why: String },
    /// It could not be placed at all.
    NotPlaced,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for a call to `number`.
pub fn render(mode: Progress, number: &str, outcome: &Outcome) -> Response {
    let number = escape(number);
    let (ok, result, detail) = match outcome {
        Outcome::Connected => (true, CALL_PLACED, "Call connected.".to_string()),
        Outcome::Voicemail => (true, CALL_PLACED, "Call went to voicemail.".to_string()),
        Outcome::Ended { why } => (
            false,
            CALL_PLACED,
            format!("Call ended before it connected: {}.", escape(why)),
        ),
        Outcome::NotPlaced => (
            false,
            "ERROR: FAILED PLACING CALL",
            "The call could not be placed.".to_string(),
        ),
    };
    let body = match mode {
        Progress::Text => format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Call {number}</title></head>\n\
             <body>\n<p>Calling {number} ...</p>\n<p>{result}</p>\n<p>{detail}</p>\n</body></html>\n"
        ),
        Progress::Graphic => {
            let (colour, label) = if *outcome == Outcome::Voicemail {
                ("#2e7d32", "Voicemail")
            } else if ok {
                ("#2e7d32", "Connected")
            } else {
                ("#c62828", "Failed")
            };
            format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Call {number}</title>\n\
                 <style>body{{font-family:sans-serif}}.bar{{width:20em;border:1px solid #999;border-radius:4px}}\
                 .fill{{width:100%;padding:.3em 0;text-align:center;color:#fff;background:{colour}}}</style></head>\n\
                 <body>\n<h3>Calling {number}</h3>\n<div class=\"bar\"><div class=\"fill\">{label}</div></div>\n\
                 <p>{result}</p>\n<p>{detail}</p>\n</body></html>\n"
            )
        }
    };
    response(200, &[("content-type", "text/html; charset=utf-8")], body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        assert_eq!(Progress::parse(Some("1")), Some(Progress::Text));
        assert_eq!(Progress::parse(Some("2")), Some(Progress::Graphic));
        assert_eq!(Progress::parse(Some("3")), None);
        let r = render(Progress::Text, "4007", &Outcome::Connected);
        let body = String::from_utf8_lossy(r.body());
        assert!(body.contains("<p>OK: CALL PLACED</p>\n<p>Call connected.</p>"));
        let r = render(
            Progress::Graphic,
            "<4007>",
            &Outcome::Ended { why: "busy".into() },
        );
        let body = String::from_utf8_lossy(r.body());
        assert!(body.contains("Calling &lt;4007&gt;"));
        assert!(body.contains(">Failed</div>"));
        assert!(body.contains("before it connected: busy."));
        let body = String::from_utf8_lossy(render(Progress::Text, "1", &Outcome::NotPlaced).body())
            .to_string();
        assert!(body.contains("ERROR: FAILED PLACING CALL"));
    }
}
