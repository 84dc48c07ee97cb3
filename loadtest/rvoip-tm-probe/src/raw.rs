//! `raw` mode: a bare tokio socket and rvoip-sip-core.
#![allow(unused_imports)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::measure::*;
use crate::SDP;
use rvoip_sip_core::builder::{SimpleRequestBuilder, SimpleResponseBuilder};
use rvoip_sip_core::{Message, Method, Request, Response, StatusCode};
use rvoip_sip_dialog::transaction::{TransactionEvent, TransactionKey, TransactionManager};

pub(crate) fn build_invite_ok(req: &Request, contact: &str, tag: &str) -> Response {
    let mut b = SimpleResponseBuilder::response_from_request(req, StatusCode::Ok, None);
    if let Some(to) = req.to() {
        let dn = to.address().display_name().unwrap_or_default().to_string();
        let uri = to.address().uri.to_string();
        b = b.to(&dn, &uri, Some(tag));
    }
    b.contact(contact, None)
        .content_type("application/sdp")
        .body(SDP)
        .build()
}

pub(crate) fn build_simple(req: &Request, status: StatusCode) -> Response {
    SimpleResponseBuilder::response_from_request(req, status, None).build()
}

pub(crate) fn call_id_of(req: &Request) -> String {
    req.call_id().map(|c| c.to_string()).unwrap_or_default()
}

pub(crate) struct CallState {
    #[allow(dead_code)]
    pub(crate) ok_bytes: Option<Vec<u8>>, // raw mode: cached 200 for INVITE retransmissions
    pub(crate) acked: bool,
}

// ----------------------------------------------------------------------------
// raw mode
// ----------------------------------------------------------------------------

pub(crate) async fn run_raw(addr: SocketAddr, c: Arc<Counters>) {
    let sock = tokio::net::UdpSocket::bind(addr).await.expect("bind");
    let contact = format!("sip:probe@{addr}");
    let mut calls: HashMap<String, CallState> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    let mut tag_seq: u64 = 0;
    loop {
        let (n, src) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(_) => continue,
        };
        let msg = match rvoip_sip_core::parse_message(&buf[..n]) {
            Ok(m) => m,
            Err(_) => {
                c.errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let req = match msg {
            Message::Request(r) => r,
            Message::Response(_) => continue,
        };
        let out: Option<Vec<u8>> = match req.method() {
            Method::Invite => {
                let cid = call_id_of(&req);
                if let Some(st) = calls.get(&cid) {
                    c.invite_retrans.fetch_add(1, Ordering::Relaxed);
                    st.ok_bytes.clone()
                } else {
                    tag_seq += 1;
                    let tag = format!("p{tag_seq:x}");
                    let resp = build_invite_ok(&req, &contact, &tag);
                    let bytes = Message::Response(resp).to_bytes();
                    calls.insert(
                        cid,
                        CallState {
                            ok_bytes: Some(bytes.clone()),
                            acked: false,
                        },
                    );
                    c.invites.fetch_add(1, Ordering::Relaxed);
                    Some(bytes)
                }
            }
            Method::Ack => {
                let cid = call_id_of(&req);
                if let Some(st) = calls.get_mut(&cid) {
                    if !st.acked {
                        st.acked = true;
                        st.ok_bytes = None;
                        c.acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None
            }
            Method::Bye => {
                let cid = call_id_of(&req);
                let resp = build_simple(&req, StatusCode::Ok);
                if calls.remove(&cid).is_some() {
                    c.byes.fetch_add(1, Ordering::Relaxed);
                }
                Some(Message::Response(resp).to_bytes())
            }
            _ => {
                c.other.fetch_add(1, Ordering::Relaxed);
                Some(Message::Response(build_simple(&req, StatusCode::NotImplemented)).to_bytes())
            }
        };
        if let Some(b) = out {
            if sock.send_to(&b, src).await.is_err() {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

// ----------------------------------------------------------------------------
// tm mode (UAS)
// ----------------------------------------------------------------------------
