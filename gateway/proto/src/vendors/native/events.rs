//! Event feeds: a call's (`/calls/{id}/events[/stream]`, `seq` order) and the tenant's
//! (`/events[/stream]`, every call of the tenant in global `gseq` order: `incoming` for calls
//! to application numbers, and everything after). Streams resume from `?after=` or from the
//! `Last-Event-ID` header a reconnecting EventSource sends.

use super::NativeOp;
use crate::query::Params;
use crate::{Failure, Request};
use patchbay_api::{CallId, Event};

/// Where a feed resumes: `?after=N`, else `Last-Event-ID: N`, else the start.
fn after(req: &Request, q: &Params) -> Result<u64, Failure> {
    let from_header = || {
        req.headers()
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    match q.get("after").map(str::to_string).or_else(from_header) {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Failure::bad("after", "must be a non-negative integer")),
    }
}

fn wait_ms(q: &Params) -> Result<u64, Failure> {
    match q.get("wait_ms") {
        None => Ok(0),
        Some(v) => v
            .parse::<u64>()
            .map(|w| w.min(30_000))
            .map_err(|_| Failure::bad("wait_ms", "must be a non-negative integer")),
    }
}

/// The feed a GET names, if it names one.
pub(super) fn parse(
    method: &str,
    segs: &[&str],
    req: &Request,
) -> Result<Option<NativeOp>, Failure> {
    if method != "GET" {
        return Ok(None);
    }
    let q = Params::from_query(req);
    Ok(Some(match segs {
        ["calls", id, "events"] => NativeOp::Events {
            call: CallId(id.to_string()),
            after: after(req, &q)?,
            wait_ms: wait_ms(&q)?,
        },
        ["calls", id, "events", "stream"] => NativeOp::EventStream {
            call: CallId(id.to_string()),
            after: after(req, &q)?,
        },
        ["events"] => NativeOp::TenantEvents {
            after: after(req, &q)?,
            wait_ms: wait_ms(&q)?,
        },
        ["events", "stream"] => NativeOp::TenantEventStream {
            after: after(req, &q)?,
        },
        _ => return Ok(None),
    }))
}

/// One server-sent event of a call's stream: `id` is the per-call sequence.
pub fn render_sse_event(ev: &Event) -> bytes::Bytes {
    render(ev, ev.seq)
}

/// One server-sent event of the tenant's stream: `id` is the global sequence.
pub fn render_tenant_sse_event(ev: &Event) -> bytes::Bytes {
    render(ev, ev.gseq)
}

fn render(ev: &Event, id: u64) -> bytes::Bytes {
    let data = serde_json::to_string(ev).unwrap_or_default();
    let kind = serde_json::to_value(&ev.kind)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_else(|| "event".to_string());
    bytes::Bytes::from(format!("id: {id}\nevent: {kind}\ndata: {data}\n\n"))
}
