//! promptCall's `cdrapi` and `recapi` (vendor-apis.md 4): Asterisk's CDR columns from
//! Patchbay's CDRs, and which recording a `recapi` request names.

use crate::{Failure, Response, response};
use patchbay_api::{Cause, Cdr};
use serde::Serialize;

/// `yyyy-mm-dd hh:mm:ss` (UTC) as unix ms.
pub fn parse_time(field: &str, s: &str) -> Result<u64, Failure> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .and_then(|t| u64::try_from(t.and_utc().timestamp_millis()).ok())
        .ok_or_else(|| Failure::bad(field, "yyyy-mm-dd hh:mm:ss"))
}

/// Unix ms as `yyyy-mm-dd hh:mm:ss` (UTC).
pub fn format_time(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// One row of Asterisk's `cdr` table, in its column order, every value a string (as PHP
/// hands MySQL rows to `json_encode`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsteriskCdr {
    pub calldate: String,
    pub clid: String,
    pub src: String,
    pub dst: String,
    pub dcontext: String,
    pub channel: String,
    pub dstchannel: String,
    pub lastapp: String,
    pub lastdata: String,
    pub duration: String,
    pub billsec: String,
    pub disposition: String,
    pub amaflags: String,
    pub accountcode: String,
    pub uniqueid: String,
    pub userfield: String,
    pub recordingfile: String,
}

/// Asterisk's disposition of a call.
pub fn disposition(c: &Cdr) -> &'static str {
    if c.answered_ms.is_some() {
        return "ANSWERED";
    }
    match c.cause {
        Cause::Busy => "BUSY",
        Cause::Failed | Cause::IncompatibleMedia | Cause::System => "FAILED",
        _ => "NO ANSWER",
    }
}

/// A channel name as Asterisk writes one: technology, peer, and a per-call suffix.
fn channel(party: &str, call: &str) -> String {
    let suffix: String = call
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("SIP/{party}-{suffix:0>8}")
}

/// The file name `recapi` serves a recording under.
pub fn recording_file(id: &str) -> String {
    format!("{id}.wav")
}

pub fn asterisk(c: &Cdr, recording: Option<&str>) -> AsteriskCdr {
    let answered = c.answered_ms.is_some();
    AsteriskCdr {
        calldate: format_time(c.created_ms),
        clid: format!("\"{}\" <{}>", c.from, c.from),
        src: c.from.clone(),
        dst: c.to.clone(),
        dcontext: "from-internal".into(),
        channel: channel(&c.from, &c.call.0),
        dstchannel: if answered {
            channel(&c.to, &c.call.0)
        } else {
            String::new()
        },
        lastapp: "Dial".into(),
        lastdata: format!("SIP/{}", c.to),
        duration: c.duration_s.to_string(),
        billsec: c.billsec.to_string(),
        disposition: disposition(c).into(),
        amaflags: "3".into(),
        accountcode: c.account_codes.accountcode.clone(),
        uniqueid: c.call.0.clone(),
        userfield: c.queue.clone().unwrap_or_default(),
        recordingfile: recording.map(recording_file).unwrap_or_default(),
    }
}

#[derive(Serialize)]
struct Value<'a> {
    success: bool,
    value: &'a [AsteriskCdr],
}

/// `cdrapi`'s answer.
pub fn render_cdrs(rows: &[AsteriskCdr]) -> Response {
    let body = serde_json::to_vec(&Value {
        success: true,
        value: rows,
    })
    .unwrap_or_default();
    response(200, &[("content-type", "application/json")], body)
}

/// What `recapi` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordingRef {
    /// `recordingfile` as `cdrapi` gave it.
    File(String),
    /// The call's `uniqueid`.
    Call(String),
    /// `src`, `dst` and `calldate` of the call.
    Parties {
        src: String,
        dst: String,
        at_ms: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_api::{CallId, EndedBy};

    #[test]
    fn asterisk_columns() {
        let c = Cdr {
            call: CallId("1795960690904".into()),
            tenant: "demo".into(),
            from: "4005".into(),
            to: "4007".into(),
            direction: "originate".into(),
            created_ms: 1_795_960_690_904,
            ringing_ms: None,
            answered_ms: Some(1_795_960_692_000),
            ended_ms: 1_795_960_700_000,
            duration_s: 9,
            billsec: 8,
            cause: Cause::Normal,
            ended_by: EndedBy::A,
            status: None,
            transferred_to: None,
            queue: None,
            account_codes: Default::default(),
        };
        let a = asterisk(&c, Some("r1"));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"calldate":"2026-11-29 13:58:10","clid":"\"4005\" <4005>","src":"4005","dst":"4007","dcontext":"from-internal","channel":"SIP/4005-60690904","dstchannel":"SIP/4007-60690904","lastapp":"Dial","lastdata":"SIP/4007","duration":"9","billsec":"8","disposition":"ANSWERED","amaflags":"3","accountcode":"","uniqueid":"1795960690904","userfield":"","recordingfile":"r1.wav"}"#
        );
        assert_eq!(
            parse_time("t", "2026-11-29 13:58:10").unwrap(),
            1_795_960_690_000
        );
        assert!(parse_time("t", "29/11/2026").is_err());
        let busy = Cdr {
            answered_ms: None,
            cause: Cause::Busy,
            ..c
        };
        assert_eq!(disposition(&busy), "BUSY");
    }
}
