//! The pingora side: one `HttpServerApp` that reads each request, answers it itself (nothing is
//! proxied), records its metrics, and hands the connection back to pingora for keep-alive.
//! (Answering from `ProxyHttp::request_filter` worked too, but ran pingora's whole proxy phase
//! machinery per request for nothing: see docs/BENCHMARKS.md.)

use crate::Gateway;
use crate::auth::Origin;
use crate::handlers::{self, Ctx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use patchbay_gateway_proto::route::{self, Vendor};
use patchbay_gateway_proto::vendors::{native, render_error};
use patchbay_gateway_proto::{Failure, Request, Response};
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::protocols::http::ServerSession as Session;
use pingora::server::ShutdownWatch;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one listener does.
#[derive(Debug, Clone)]
pub(crate) enum Role {
    Api {
        profiles: Vec<Vendor>,
        tenant: Option<String>,
    },
    Admin,
}

pub(crate) struct HttpService {
    pub(crate) gw: Arc<Gateway>,
    /// Listener role by local port.
    pub(crate) roles: Vec<(u16, Role)>,
}

pub(crate) struct ReqState {
    started: Instant,
    vendor: &'static str,
    endpoint: &'static str,
    status: u16,
}

#[async_trait]
impl HttpServerApp for HttpService {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: Session,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        // Ok(false): the client closed an idle keep-alive connection.
        if !matches!(session.read_request().await, Ok(true)) {
            return None;
        }
        session.set_keepalive(if *shutdown.borrow() { None } else { Some(60) });
        let mut st = ReqState {
            started: Instant::now(),
            vendor: "none",
            endpoint: "none",
            status: 0,
        };
        let served = self.serve(&mut session, &mut st).await;
        self.record(&st);
        if served.is_err() {
            return None;
        }
        let settings = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(reusable) => reusable.map(|s| ReusedHttpStream::from_reusable_stream(s, settings)),
            Err(_) => None,
        }
    }
}

impl HttpService {
    async fn serve(&self, session: &mut Session, st: &mut ReqState) -> Result<()> {
        let port = session
            .server_addr()
            .and_then(|a| a.as_inet())
            .map_or(0, |a| a.port());
        let role = self
            .roles
            .iter()
            .find(|(p, _)| *p == port)
            .map_or(&Role::Admin, |(_, r)| r);
        match role {
            Role::Admin => {
                st.vendor = "admin";
                let resp = match session.req_header().uri.path() {
                    "/metrics" => {
                        st.endpoint = "metrics";
                        respond(200, "text/plain; version=0.0.4", self.gw.metrics.render())
                    }
                    "/health" => {
                        st.endpoint = "health";
                        respond(200, "application/json", "{\"status\":\"ok\"}".into())
                    }
                    "/internal/v1/route" => {
                        st.endpoint = "route_hook";
                        match read_request(session, &self.gw).await? {
                            Ok(req) => {
                                let (status, body) =
                                    Box::pin(handlers::internal::route(&self.gw, &req)).await;
                                give_back(session, req);
                                respond(status, "application/json", body)
                            }
                            Err(_) => {
                                session.set_keepalive(None);
                                respond(413, "application/json", "{}".into())
                            }
                        }
                    }
                    _ => respond(404, "text/plain", "not found\n".into()),
                };
                st.status = resp.status().as_u16();
                write(session, resp).await
            }
            Role::Api { profiles, tenant } => {
                self.api(session, st, profiles, tenant.as_deref()).await
            }
        }
    }

    /// Per-request metrics (requests that were never answered are not counted).
    fn record(&self, st: &ReqState) {
        if st.status != 0 {
            self.gw.metrics.request_done(
                st.vendor,
                st.endpoint,
                st.status,
                st.started.elapsed().as_secs_f64(),
            );
        }
    }
}

fn respond(status: u16, ct: &str, body: String) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", ct)
        .header("content-length", body.len().to_string())
        .body(Bytes::from(body))
        .unwrap_or_else(|_| http::Response::new(Bytes::new()))
}

/// Write a whole response. Its headers move into pingora's (no copies); names go out in
/// the usual title case (`Content-Type`), as the vendors' servers wrote them.
async fn write(session: &mut Session, resp: Response) -> Result<()> {
    let (parts, body) = resp.into_parts();
    let mut h = ResponseHeader::build_no_case(parts.status, Some(parts.headers.len()))?;
    let mut name = None;
    for (k, v) in parts.headers {
        if k.is_some() {
            name = k;
        }
        if let Some(n) = &name {
            h.append_header(n.clone(), v)?;
        }
    }
    if let Some(r) = parts
        .extensions
        .get::<patchbay_gateway_proto::ReasonPhrase>()
    {
        h.set_reason_phrase(Some(&r.0))?;
    }
    session.write_response_header(Box::new(h)).await?;
    session.write_response_body(body, true).await
}

impl HttpService {
    async fn api(
        &self,
        session: &mut Session,
        st: &mut ReqState,
        profiles: &[Vendor],
        listener_tenant: Option<&str>,
    ) -> Result<()> {
        let gw = &self.gw;
        let path = session.req_header().uri.path().to_string();
        let Some(vendor) = route::route(profiles, &path) else {
            st.status = 404;
            return write(session, respond(404, "text/plain", "not found\n".into())).await;
        };
        st.vendor = vendor.as_str();
        // The in-flight slot is held while the request is read and handled, and given back before
        // the reply is written: a client that has the reply may send its next request at once.
        let Some(guard) = gw
            .in_flight
            .try_enter(gw.cfg.limits.max_in_flight, &gw.metrics.in_flight)
        else {
            gw.metrics.rejected.with_label_values(&["in_flight"]).inc();
            let r = render_error(vendor, &Failure::Overloaded);
            st.status = r.status().as_u16();
            return write(session, r).await;
        };
        let req = match read_request(session, gw).await? {
            Ok(r) => r,
            Err(f) => {
                gw.metrics.rejected.with_label_values(&["size"]).inc();
                let r = render_error(vendor, &f);
                st.status = r.status().as_u16();
                // The rest of an oversized body is not read: do not reuse the connection.
                session.set_keepalive(None);
                drop(guard);
                return write(session, r).await;
            }
        };
        let ip = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok());
        let tenant = gw.authn.tenant_for(host, listener_tenant).await;
        let mut ctx = Ctx {
            origin: Origin { ip, tenant },
            endpoint: "none",
            start_call: None,
            tls: session.digest().is_some_and(|d| d.ssl_digest.is_some()),
        };
        // Each vendor's handler future is boxed: only the one in use is allocated, and this
        // future (which pingora boxes and moves per request) stays small.
        let out = match vendor {
            Vendor::Native => Box::pin(handlers::native::handle(gw, &mut ctx, &req)).await,
            Vendor::Ozeki => Box::pin(handlers::ozeki::handle(gw, &mut ctx, &req)).await,
            Vendor::Taridium => Box::pin(handlers::taridium::handle(gw, &mut ctx, &req)).await,
            Vendor::Promptcall => Box::pin(handlers::promptcall::handle(gw, &mut ctx, &req)).await,
            Vendor::Brekeke => Box::pin(handlers::brekeke::handle_3pcc(gw, &mut ctx, &req)).await,
            Vendor::BrekekeSoap => {
                Box::pin(handlers::brekeke::handle_soap(gw, &mut ctx, &req)).await
            }
            Vendor::Sipx => Box::pin(handlers::sipx::handle(gw, &mut ctx, &req)).await,
            Vendor::SipxCallController => {
                Box::pin(handlers::sipx::callcontroller::handle(gw, &mut ctx, &req)).await
            }
        };
        st.endpoint = ctx.endpoint;
        drop(guard);
        give_back(session, req);
        match out {
            Ok(Reply::Full(r)) => {
                st.status = r.status().as_u16();
                let written = write(session, r).await;
                // The reply (with the call id) is flushed: now the call may ring. Started even
                // if the client went away: it asked for the call.
                if let Some(id) = ctx.start_call.take() {
                    Box::pin(gw.start_call(&id)).await;
                }
                written
            }
            Ok(Reply::Events { call, after }) => {
                st.status = 200;
                Box::pin(self.stream_feed(session, Feed::Call(call), after)).await
            }
            Ok(Reply::TenantEvents { tenant, after }) => {
                st.status = 200;
                Box::pin(self.stream_feed(session, Feed::Tenant(tenant), after)).await
            }
            Ok(Reply::Download(resp)) => {
                st.status = resp.status().as_u16();
                Box::pin(stream_download(session, resp, None)).await
            }
            Ok(Reply::DownloadAs(resp, content_type)) => {
                st.status = resp.status().as_u16();
                Box::pin(stream_download(session, resp, Some(content_type))).await
            }
            Err(f) => {
                if let Failure::Internal(e) = &f {
                    tracing::warn!(vendor = vendor.as_str(), error = %e, "internal error");
                }
                let r = render_error(vendor, &f);
                st.status = r.status().as_u16();
                write(session, r).await
            }
        }
    }

    /// Server-sent events of a call (`id` = `seq`, until its `ended` event) or of the
    /// tenant (`id` = `gseq`, until the client leaves); a comment line every 15 s of silence
    /// keeps proxies from closing the stream.
    async fn stream_feed(&self, session: &mut Session, feed: Feed, mut after: u64) -> Result<()> {
        let mut h = ResponseHeader::build(200, Some(3))?;
        h.append_header("content-type", "text/event-stream")?;
        h.append_header("cache-control", "no-cache")?;
        session.write_response_header(Box::new(h)).await?;
        let wait = Duration::from_secs(15);
        loop {
            let evs = match &feed {
                Feed::Call(call) => self.gw.events.call(call, after, wait).await,
                Feed::Tenant(t) => self.gw.events.after(after, Some(t), wait).await,
            };
            let evs = match evs {
                Ok(evs) => evs,
                Err(e) => {
                    let f = self.gw.store_failure("events", e);
                    let msg = format!(
                        "event: error\ndata: {}\n\n",
                        serde_json::json!({"error": f.label()})
                    );
                    session.write_response_body(Bytes::from(msg), true).await?;
                    return Ok(());
                }
            };
            if evs.is_empty() {
                session
                    .write_response_body(Bytes::from_static(b": keepalive\n\n"), false)
                    .await?;
                continue;
            }
            let mut ended = false;
            for ev in &evs {
                let chunk = match &feed {
                    Feed::Call(_) => {
                        after = after.max(ev.seq);
                        ended |= matches!(ev.kind, patchbay_api::EventKind::Ended { .. });
                        native::render_sse_event(ev)
                    }
                    Feed::Tenant(_) => {
                        after = after.max(ev.gseq);
                        native::render_tenant_sse_event(ev)
                    }
                };
                session.write_response_body(chunk, false).await?;
            }
            if ended {
                return session.write_response_body(Bytes::new(), true).await;
            }
        }
    }
}

/// An event feed streamed as server-sent events.
enum Feed {
    Call(patchbay_api::CallId),
    Tenant(String),
}

/// A file from the B2BUA as it streams in: its status and download headers, then the body.
async fn stream_download(
    session: &mut Session,
    mut resp: reqwest::Response,
    content_type: Option<&'static str>,
) -> Result<()> {
    const PASSED: [&str; 7] = [
        "content-type",
        "content-length",
        "content-range",
        "accept-ranges",
        "etag",
        "last-modified",
        "cache-control",
    ];
    let mut h = ResponseHeader::build(resp.status().as_u16(), Some(PASSED.len()))?;
    for name in PASSED {
        if let (Some(ct), "content-type") = (content_type, name) {
            h.append_header(name, ct)?;
        } else if let Some(v) = resp.headers().get(name) {
            h.append_header(name, v.as_bytes())?;
        }
    }
    session.write_response_header(Box::new(h)).await?;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => session.write_response_body(chunk, false).await?,
            Ok(None) => return session.write_response_body(Bytes::new(), true).await,
            // The B2BUA went away mid-file: cut the response short (the length tells).
            Err(e) => {
                tracing::warn!(error = %e, "recording download interrupted");
                return Ok(());
            }
        }
    }
}

/// Head + whole body as a [`Request`], within the size caps.
async fn read_request(
    session: &mut Session,
    gw: &Gateway,
) -> Result<std::result::Result<Request, Failure>> {
    let h = session.req_header();
    let header_bytes: usize = h
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + h.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if header_bytes > gw.cfg.limits.max_header_bytes {
        return Ok(Err(Failure::TooLarge));
    }
    let declared = h
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > gw.cfg.limits.max_body_bytes) {
        return Ok(Err(Failure::TooLarge));
    }
    let expects = h
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects {
        session.write_continue_response().await?;
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = session.read_request_body().await? {
        if body.len() + chunk.len() > gw.cfg.limits.max_body_bytes {
            return Ok(Err(Failure::TooLarge));
        }
        body.extend_from_slice(&chunk);
    }
    // The head moves into the request (pingora has read the body, the last use it makes of
    // it before the response); [`give_back`] returns it before anything is written.
    let empty = RequestHeader::from(http::Request::new(()).into_parts().0);
    let head = std::mem::replace(session.req_header_mut(), empty);
    let parts: http::request::Parts = head.into();
    Ok(Ok(http::Request::from_parts(parts, body.freeze())))
}

/// The request's head back to pingora (it decides keep-alive and framing from it; the
/// header names' case is not kept: nothing is forwarded).
fn give_back(session: &mut Session, req: Request) {
    let (parts, _) = req.into_parts();
    *session.req_header_mut() = RequestHeader::from(parts);
}
