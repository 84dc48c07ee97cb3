//! `GET /api/v1/cdrs`: CDR search and export for billing (time range of the call's start,
//! party, direction, disposition, cursor pages; JSON or CSV), each record with links to its
//! recordings.

use crate::query::Params;
use crate::{Failure, Request, Response, response};
use patchbay_api::Cdr;
use serde::Serialize;

/// How a call ended, as billing sees it (Asterisk's dispositions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Answered,
    NoAnswer,
    Busy,
    Failed,
}

impl Disposition {
    /// The store's terms: answered or not, and the causes.
    pub fn query(self) -> (bool, &'static [&'static str]) {
        match self {
            Disposition::Answered => (true, &[]),
            Disposition::NoAnswer => (
                false,
                &[
                    "no_answer",
                    "cancelled",
                    "rejected",
                    "not_found",
                    "normal",
                    "transferred",
                ],
            ),
            Disposition::Busy => (false, &["busy"]),
            Disposition::Failed => (false, &["failed", "incompatible_media"]),
        }
    }

    pub fn of(c: &Cdr) -> Disposition {
        use patchbay_api::Cause;
        if c.answered_ms.is_some() {
            return Disposition::Answered;
        }
        match c.cause {
            Cause::Busy => Disposition::Busy,
            Cause::Failed | Cause::IncompatibleMedia | Cause::System => Disposition::Failed,
            _ => Disposition::NoAnswer,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::NoAnswer => "no_answer",
            Disposition::Busy => "busy",
            Disposition::Failed => "failed",
        }
    }
}

/// A CDR search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CdrSearch {
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
    pub party: Option<String>,
    pub direction: Option<String>,
    pub disposition: Option<Disposition>,
    /// The last record of the previous page: its start and call id.
    pub after: Option<(u64, String)>,
    pub limit: u32,
    /// `Accept: text/csv`.
    pub csv: bool,
    /// The query as sent but the cursor (the next page's link repeats it).
    pub params: Vec<(String, String)>,
}

/// Unix milliseconds or an RFC 3339 time.
fn time(field: &str, v: &str) -> Result<u64, Failure> {
    let v = v.trim();
    if let Ok(ms) = v.parse::<u64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .ok()
        .and_then(|t| u64::try_from(t.timestamp_millis()).ok())
        .ok_or_else(|| Failure::bad(field, "unix milliseconds or an RFC 3339 time"))
}

/// A page's cursor: the last record's start and call id.
pub fn cursor(c: &Cdr) -> String {
    format!("{}_{}", c.created_ms, c.call.0)
}

pub fn parse(req: &Request) -> Result<CdrSearch, Failure> {
    let p = Params::from_query(req);
    let text = |k: &str| p.get(k).map(str::trim).filter(|v| !v.is_empty());
    let limit = match text("limit") {
        None => 100,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| Failure::bad("limit", "1-1000"))?,
    };
    let direction = match text("direction") {
        None => None,
        Some(d @ ("inbound" | "originate")) => Some(d.to_string()),
        Some(_) => return Err(Failure::bad("direction", "inbound or originate")),
    };
    let disposition = match text("disposition") {
        None => None,
        Some("answered") => Some(Disposition::Answered),
        Some("no_answer") => Some(Disposition::NoAnswer),
        Some("busy") => Some(Disposition::Busy),
        Some("failed") => Some(Disposition::Failed),
        Some(_) => {
            return Err(Failure::bad(
                "disposition",
                "answered, no_answer, busy or failed",
            ));
        }
    };
    let after = match text("cursor") {
        None => None,
        Some(c) => {
            let (ms, id) = c
                .split_once('_')
                .and_then(|(ms, id)| Some((ms.parse::<u64>().ok()?, id)))
                .filter(|(_, id)| !id.is_empty())
                .ok_or_else(|| Failure::bad("cursor", "as the previous page's Link gave it"))?;
            Some((ms, id.to_string()))
        }
    };
    let csv = req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    Ok(CdrSearch {
        from_ms: text("from").map(|v| time("from", v)).transpose()?,
        to_ms: text("to").map(|v| time("to", v)).transpose()?,
        party: text("party").map(str::to_string),
        direction,
        disposition,
        after,
        limit,
        csv,
        params: p.0.into_iter().filter(|(k, _)| k != "cursor").collect(),
    })
}

/// The next page's link: the search's query with the cursor set.
pub fn next_link(s: &CdrSearch, cursor: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(s.params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .append_pair("cursor", cursor)
        .finish();
    format!("</api/v1/cdrs?{query}>; rel=\"next\"")
}

/// One record with its disposition and the recordings' links.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    cdr: &'a Cdr,
    disposition: &'static str,
    recordings: Vec<RecordingLink>,
}

#[derive(Serialize)]
struct RecordingLink {
    id: String,
    url: String,
}

fn links(ids: &[String]) -> Vec<RecordingLink> {
    ids.iter()
        .map(|id| RecordingLink {
            id: id.clone(),
            url: format!("/api/v1/recordings/{id}"),
        })
        .collect()
}

fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The page: JSON (records with their recordings) or CSV; `next`: the Link header.
pub fn render(rows: &[(Cdr, Vec<String>)], csv: bool, next: Option<String>) -> Response {
    let mut r = if csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "call",
            "from",
            "to",
            "direction",
            "start",
            "answer",
            "end",
            "duration_s",
            "billsec",
            "disposition",
            "cause",
            "queue",
            "recordings",
        ];
        let mut ok = w.write_record(header).is_ok();
        for (c, recs) in rows {
            let cause = serde_json::to_value(c.cause)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            ok &= w
                .write_record([
                    c.call.0.as_str(),
                    &c.from,
                    &c.to,
                    &c.direction,
                    &rfc3339(c.created_ms),
                    &c.answered_ms.map(rfc3339).unwrap_or_default(),
                    &rfc3339(c.ended_ms),
                    &c.duration_s.to_string(),
                    &c.billsec.to_string(),
                    Disposition::of(c).as_str(),
                    &cause,
                    c.queue.as_deref().unwrap_or(""),
                    &recs.join(" "),
                ])
                .is_ok();
        }
        match (ok, w.into_inner()) {
            (true, Ok(body)) => response(200, &[("content-type", "text/csv; charset=utf-8")], body),
            _ => return super::render_error(&Failure::Internal("csv".into())),
        }
    } else {
        let out: Vec<Row<'_>> = rows
            .iter()
            .map(|(c, recs)| Row {
                cdr: c,
                disposition: Disposition::of(c).as_str(),
                recordings: links(recs),
            })
            .collect();
        super::render_json(200, &out)
    };
    if let Some(l) = next
        && let Ok(v) = http::HeaderValue::from_str(&l)
    {
        r.headers_mut().insert(http::header::LINK, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str) -> Request {
        http::Request::builder()
            .uri(uri)
            .header("accept", "text/csv")
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[test]
    fn parameters() {
        let r = parse(&req(
            "/api/v1/cdrs?from=2026-11-01T00:00:00Z&to=1795960690904&party=4005&direction=inbound&disposition=busy&cursor=17_c9&limit=5",
        ))
        .unwrap();
        assert_eq!(r.from_ms, Some(1_793_491_200_000));
        assert_eq!(r.after, Some((17, "c9".to_string())));
        assert_eq!(r.disposition, Some(Disposition::Busy));
        assert!(r.csv && r.limit == 5);
        assert!(parse(&req("/api/v1/cdrs?limit=0")).is_err());
        assert!(parse(&req("/api/v1/cdrs?cursor=x")).is_err());
        assert!(parse(&req("/api/v1/cdrs?disposition=maybe")).is_err());
        let s = parse(&req("/api/v1/cdrs?party=4005&cursor=1_a")).unwrap();
        assert_eq!(
            next_link(&s, "2_b"),
            "</api/v1/cdrs?party=4005&cursor=2_b>; rel=\"next\""
        );
    }
}
