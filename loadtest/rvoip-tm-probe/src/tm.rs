//! `tm` and `tm-uac` modes: rvoip's TransactionManager.
#![allow(unused_imports)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::measure::*;
use crate::raw::*;
use crate::SDP;
use rvoip_sip_core::builder::{SimpleRequestBuilder, SimpleResponseBuilder};
use rvoip_sip_core::{Message, Method, Request, Response, StatusCode};
use rvoip_sip_dialog::transaction::{TransactionEvent, TransactionKey, TransactionManager};

pub(crate) struct TmKnobs {
    pub(crate) profile: String,
    pub(crate) auto100: Option<bool>,
    pub(crate) parse_workers: Option<usize>,
    pub(crate) dispatch_workers: Option<usize>,
    pub(crate) cmd_cap: Option<usize>,
    pub(crate) capacity: usize,
}

pub(crate) async fn build_tm(
    addr: SocketAddr,
    k: &TmKnobs,
) -> (
    Arc<TransactionManager>,
    tokio::sync::mpsc::Receiver<TransactionEvent>,
) {
    match k.profile.as_str() {
        "default" => {
            let (udp, transport_rx) =
                rvoip_sip_transport::UdpTransport::bind(addr, Some(k.capacity))
                    .await
                    .expect("udp bind");
            let transport: Arc<dyn rvoip_sip_transport::Transport> = Arc::new(udp);
            let (mut tm, events) =
                TransactionManager::new(transport, transport_rx, Some(k.capacity))
                    .await
                    .expect("tm");
            if let Some(a) = k.auto100 {
                tm.set_auto_100_trying(a);
            }
            if let Some(cap) = k.cmd_cap {
                tm.set_transaction_command_channel_capacity(cap);
            }
            (Arc::new(tm), events)
        }
        "hp" | "manager" => {
            use rvoip_sip_dialog::transaction::transport::{
                TransportManager, TransportManagerConfig,
            };
            let hp = k.profile == "hp";
            let cfg = TransportManagerConfig {
                enable_udp: true,
                enable_tcp: false,
                enable_ws: false,
                enable_tls: false,
                bind_addresses: vec![addr],
                default_channel_capacity: k.capacity,
                udp_recv_buffer_size: if hp { Some(8_388_608) } else { None },
                udp_send_buffer_size: if hp { Some(8_388_608) } else { None },
                udp_parse_workers: k.parse_workers.or(if hp { Some(4) } else { None }),
                udp_parse_queue_capacity: if hp { Some(k.capacity) } else { None },
                udp_parse_dispatch: if hp {
                    Some(rvoip_sip_transport::transport::udp::UdpParseDispatch::RoundRobin)
                } else {
                    None
                },
                ..Default::default()
            };
            let (mut tmgr, transport_rx) =
                TransportManager::new(cfg).await.expect("transport manager");
            tmgr.initialize().await.expect("transport init");
            let (mut tm, events) =
                TransactionManager::with_transport_manager_and_index_capacity_and_dispatch(
                    tmgr,
                    transport_rx,
                    Some(k.capacity),
                    Some(k.capacity),
                    k.dispatch_workers.or(if hp { Some(2) } else { None }),
                    None,
                )
                .await
                .expect("tm");
            tm.set_auto_100_trying(k.auto100.unwrap_or(!hp));
            tm.set_transaction_command_channel_capacity(k.cmd_cap.unwrap_or(if hp {
                128
            } else {
                32
            }));
            (Arc::new(tm), events)
        }
        p => panic!("unknown --profile {p} (default|manager|hp)"),
    }
}

pub(crate) fn ev_name(e: &TransactionEvent) -> &'static str {
    use TransactionEvent::*;
    match e {
        AckReceived { .. } => "AckReceived",
        CancelReceived { .. } => "CancelReceived",
        ProvisionalResponse { .. } => "ProvisionalResponse",
        SuccessResponse { .. } => "SuccessResponse",
        FailureResponse { .. } => "FailureResponse",
        ProvisionalResponseSent { .. } => "ProvisionalResponseSent",
        FinalResponseSent { .. } => "FinalResponseSent",
        TransactionTimeout { .. } => "TransactionTimeout",
        AckTimeout { .. } => "AckTimeout",
        TransportError { .. } => "TransportError",
        Error { .. } => "Error",
        StrayRequest { .. } => "StrayRequest",
        StrayResponse { .. } => "StrayResponse",
        StrayAck { .. } => "StrayAck",
        StrayCancel { .. } => "StrayCancel",
        TransactionTerminated { .. } => "TransactionTerminated",
        StateChanged { .. } => "StateChanged",
        TimerTriggered { .. } => "TimerTriggered",
        CancelRequest { .. } => "CancelRequest",
        AckRequest { .. } => "AckRequest",
        InviteRequest { .. } => "InviteRequest",
        NonInviteRequest { .. } => "NonInviteRequest",
        StrayAckRequest { .. } => "StrayAckRequest",
        _ => "Shutdown*",
    }
}

pub(crate) async fn run_tm(
    addr: SocketAddr,
    c: Arc<Counters>,
    k: TmKnobs,
    ev_hist: Arc<Mutex<HashMap<&'static str, u64>>>,
) {
    let (tm, mut events) = build_tm(addr, &k).await;
    eprintln!(
        "tm up on {addr}: profile={} cmd_cap={} threads={}",
        k.profile,
        tm.transaction_command_channel_capacity(),
        proc_threads()
    );
    let contact = format!("sip:probe@{addr}");
    let mut calls: HashMap<String, CallState> = HashMap::new();
    let mut tag_seq: u64 = 0;
    let mut local_hist: HashMap<&'static str, u64> = HashMap::new();
    let mut n = 0u64;
    while let Some(ev) = events.recv().await {
        *local_hist.entry(ev_name(&ev)).or_insert(0) += 1;
        n += 1;
        if n % 256 == 0 {
            let mut h = ev_hist.lock().unwrap();
            for (k, v) in local_hist.drain() {
                *h.entry(k).or_insert(0) += v;
            }
        }
        match ev {
            TransactionEvent::InviteRequest {
                transaction_id,
                request,
                ..
            } => {
                tag_seq += 1;
                let tag = format!("p{tag_seq:x}");
                let resp = build_invite_ok(&request, &contact, &tag);
                calls.insert(
                    call_id_of(&request),
                    CallState {
                        ok_bytes: None,
                        acked: false,
                    },
                );
                match tm.send_response(&transaction_id, resp).await {
                    Ok(()) => {
                        c.invites.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("send 200/INVITE failed: {e}");
                    }
                }
            }
            TransactionEvent::NonInviteRequest {
                transaction_id,
                request,
                ..
            } => {
                let status = match request.method() {
                    Method::Bye => StatusCode::Ok,
                    Method::Cancel => StatusCode::Ok,
                    _ => StatusCode::NotImplemented,
                };
                let is_bye = request.method() == Method::Bye;
                if is_bye {
                    calls.remove(&call_id_of(&request));
                } else {
                    c.other.fetch_add(1, Ordering::Relaxed);
                }
                let resp = build_simple(&request, status);
                match tm.send_response(&transaction_id, resp).await {
                    Ok(()) => {
                        if is_bye {
                            c.byes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("send 200/{} failed: {e}", request.method());
                    }
                }
            }
            TransactionEvent::AckRequest { request, .. }
            | TransactionEvent::StrayAckRequest { request, .. } => {
                if let Some(st) = calls.get_mut(&call_id_of(&request)) {
                    if !st.acked {
                        st.acked = true;
                        c.acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            TransactionEvent::CancelRequest {
                transaction_id,
                request,
                ..
            } => {
                // CANCEL arrives as its own server transaction; answer 200 (the
                // INVITE would then need a 487 from the TU).
                let _ = tm
                    .send_response(&transaction_id, build_simple(&request, StatusCode::Ok))
                    .await;
                c.other.fetch_add(1, Ordering::Relaxed);
            }
            TransactionEvent::TransactionTimeout { .. }
            | TransactionEvent::AckTimeout { .. }
            | TransactionEvent::TransportError { .. }
            | TransactionEvent::Error { .. } => {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

// ----------------------------------------------------------------------------
// tm-uac mode: probe is the UAC through client transactions, toward `sipp -sn uas`
// ----------------------------------------------------------------------------

pub(crate) async fn run_tm_uac(
    addr: SocketAddr,
    target: SocketAddr,
    rate: u64,
    total: u64,
    c: Arc<Counters>,
    k: TmKnobs,
    ev_hist: Arc<Mutex<HashMap<&'static str, u64>>>,
) {
    let (tm, mut events) = build_tm(addr, &k).await;
    let local = addr.to_string();
    let tgt = target.to_string();
    // Call state by INVITE client tx id; BYE tx -> call.
    let inflight: Arc<Mutex<HashMap<TransactionKey, (String, String, String)>>> =
        Default::default();
    // generator
    {
        let tm = tm.clone();
        let inflight = inflight.clone();
        let local = local.clone();
        let tgt = tgt.clone();
        let c = c.clone();
        tokio::spawn(async move {
            let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
            let mut iv = tokio::time::interval(period);
            iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for i in 0..total {
                iv.tick().await;
                let call_id = format!("probe-{i}@{local}");
                let ftag = format!("f{i:x}");
                let branch = format!("z9hG4bK-pi{i:x}");
                let req = SimpleRequestBuilder::invite(&format!("sip:service@{tgt}"))
                    .unwrap()
                    .from("probe", &format!("sip:probe@{local}"), Some(&ftag))
                    .to("", &format!("sip:service@{tgt}"), None)
                    .call_id(&call_id)
                    .cseq(1)
                    .via(&local, "UDP", Some(&branch))
                    .max_forwards(70)
                    .contact(&format!("sip:probe@{local}"), None)
                    .content_type("application/sdp")
                    .body(SDP)
                    .build();
                match tm.create_invite_client_transaction(req, target).await {
                    Ok(tx) => {
                        inflight
                            .lock()
                            .unwrap()
                            .insert(tx.clone(), (call_id, ftag, String::new()));
                        if tm.send_request(&tx).await.is_err() {
                            c.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("create INVITE ctx: {e}");
                    }
                }
            }
        });
    }
    let mut bye_seq = 0u64;
    let mut bye_tx: HashMap<TransactionKey, ()> = HashMap::new();
    while let Some(ev) = events.recv().await {
        *ev_hist.lock().unwrap().entry(ev_name(&ev)).or_insert(0) += 1;
        match ev {
            TransactionEvent::SuccessResponse {
                transaction_id,
                response,
                ..
            } => {
                if bye_tx.remove(&transaction_id).is_some() {
                    c.byes.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let Some((call_id, ftag, _)) = inflight.lock().unwrap().remove(&transaction_id)
                else {
                    continue;
                };
                c.invites.fetch_add(1, Ordering::Relaxed);
                // ACK for 2xx: TU's job.
                if let Err(e) = tm.send_ack_for_2xx(&transaction_id, &response).await {
                    c.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("ack: {e}");
                    continue;
                }
                c.acks.fetch_add(1, Ordering::Relaxed);
                // BYE immediately (SIPp uas has no pause).
                bye_seq += 1;
                let to_tag = response.to().and_then(|t| t.tag().map(|s| s.to_string()));
                // SIPp uas Contact is its own address; target it directly.
                let remote = format!("sip:service@{tgt}");
                let bye = SimpleRequestBuilder::new(Method::Bye, &remote)
                    .unwrap()
                    .from("probe", &format!("sip:probe@{local}"), Some(&ftag))
                    .to("", &format!("sip:service@{tgt}"), to_tag.as_deref())
                    .call_id(&call_id)
                    .cseq(2)
                    .via(&local, "UDP", Some(&format!("z9hG4bK-pb{bye_seq:x}")))
                    .max_forwards(70)
                    .build();
                match tm.create_non_invite_client_transaction(bye, target).await {
                    Ok(tx) => {
                        bye_tx.insert(tx.clone(), ());
                        if tm.send_request(&tx).await.is_err() {
                            c.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("create BYE ctx: {e}");
                    }
                }
            }
            TransactionEvent::FailureResponse { transaction_id, .. } => {
                inflight.lock().unwrap().remove(&transaction_id);
                bye_tx.remove(&transaction_id);
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
            TransactionEvent::TransactionTimeout { .. }
            | TransactionEvent::TransportError { .. }
            | TransactionEvent::Error { .. } => {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

// ----------------------------------------------------------------------------
