//! POST /api/v1/calls through the gateway: the B2BUA rings SIPp phones 4005 then 4007, bridges
//! them, RTP flows through the relay; the event log (long poll and SSE) is ordered with one
//! terminal event; the id came back before the first INVITE left.
use patchbay_api::{CallId, CallState, Side};
use patchbay_tests::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_click_to_call() {
    // Kernel receive timestamps are switched on system-wide lazily (a deferred static key):
    // turn them on now with a socket held for the whole test, so they are live by the POST.
    let ts_guard = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    nix::sys::socket::setsockopt(
        &ts_guard,
        nix::sys::socket::sockopt::Timestamping,
        &(nix::sys::socket::TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
            | nix::sys::socket::TimestampingFlag::SOF_TIMESTAMPING_RX_SOFTWARE),
    )
    .unwrap();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let rtp5 = RtpPeer::new(false).await;
    let rtp7 = RtpPeer::new(true).await;
    let ring = |port, rtp: &RtpPeer| Sipp::answering(port, 300, rtp.port());
    let a = ring(p5, &rtp5);
    let b = ring(p7, &rtp7);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The request goes over a plain blocking socket with kernel receive timestamps
    // (SO_TIMESTAMPING): the reply's arrival is stamped by the kernel when the bytes reach the
    // socket, not when this (possibly descheduled) thread gets to read them.
    let addr = gw.base.trim_start_matches("http://").to_string();
    let body = r#"{"from":"4005","to":["4007"],"mode":"caller_first","headers":{"X-Crm-Id":"42"}}"#;
    let (sent_ms, replied_ms, raw) = tokio::task::spawn_blocking(move || {
        use nix::sys::socket::{
            ControlMessageOwned, MsgFlags, SockaddrStorage, TimestampingFlag, recvmsg, setsockopt,
            sockopt,
        };
        use std::io::{Read, Write};
        use std::os::fd::AsRawFd;
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        setsockopt(
            &s,
            sockopt::Timestamping,
            &(TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
                | TimestampingFlag::SOF_TIMESTAMPING_RX_SOFTWARE),
        )
        .unwrap();
        let auth = "ZGVtby1rZXk6ZGVtby1zZWNyZXQ="; // demo-key:demo-secret
        let req = format!(
            "POST /api/v1/calls HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let sent = now_ms();
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = vec![0u8; 4096];
        let mut cmsg = nix::cmsg_space!(nix::sys::socket::Timestamps);
        let (n, rx_ms) = {
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let msg = recvmsg::<SockaddrStorage>(
                s.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::empty(),
            )
            .unwrap();
            let mut rx_ms = None;
            for c in msg.cmsgs().unwrap() {
                if let ControlMessageOwned::ScmTimestampsns(t) = c {
                    rx_ms = Some(
                        t.system.tv_sec() as u64 * 1000 + t.system.tv_nsec() as u64 / 1_000_000,
                    );
                }
            }
            (msg.bytes, rx_ms.expect("kernel receive timestamp"))
        };
        let mut raw = buf[..n].to_vec();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        (sent, rx_ms, String::from_utf8(raw).unwrap())
    })
    .await
    .unwrap();
    let (head, json) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 201"), "{raw}");
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let id = CallId(v["id"].as_str().unwrap().to_string());
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("location: /api/v1/calls/{id}\r\n")),
        "{head}"
    );

    // A live SSE stream of the call, read until it ends.
    let sse = gw
        .http
        .get(format!("{}/api/v1/calls/{id}/events/stream", gw.base))
        .basic_auth("demo-key", Some("demo-secret"))
        .send();
    let sse = tokio::spawn(async move { sse.await.unwrap().text().await.unwrap() });

    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.id, id);
    let relay_a = relay_addr(&stack.api, &id, Side::A).await;
    let sent = rtp5.play_pcap(relay_a).await;
    assert_eq!(
        rtp7.wait_received(sent).await,
        sent,
        "4005's RTP reached 4007"
    );

    let del = gw
        .send(
            gw.http
                .delete(format!("{}/api/v1/calls/{id}", gw.base))
                .basic_auth("demo-key", Some("demo-secret")),
        )
        .await;
    assert_eq!(del.status, 200, "{}", del.body);
    let r = gw
        .send(
            gw.http
                .get(format!(
                    "{}/api/v1/calls/{id}/events?after=0&wait_ms=0",
                    gw.base
                ))
                .basic_auth("demo-key", Some("demo-secret")),
        )
        .await;
    let mut events: Vec<patchbay_api::Event> = serde_json::from_str(&r.body).unwrap();
    for _ in 0..50 {
        if kinds(&events).last().map(String::as_str) == Some("ended") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = gw
            .send(
                gw.http
                    .get(format!("{}/api/v1/calls/{id}/events?after=0", gw.base))
                    .basic_auth("demo-key", Some("demo-secret")),
            )
            .await;
        events = serde_json::from_str(&r.body).unwrap();
    }
    assert_one_terminal(&events);
    let k = kinds(&events);
    let pos = |s: &str| {
        k.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} in {k:?}"))
    };
    assert!(
        pos("created") < pos("dialing:a")
            && pos("answered:a") < pos("dialing:b")
            && pos("answered:b") < pos("bridged")
            && pos("bridged") < pos("ended"),
        "{k:?}"
    );

    // The id is returned before any INVITE: the B2BUA assigns it (`created`) and replies
    // before dialing, and the gateway creates the call held and starts it only after its 201
    // is written and flushed. The start came from the gateway, not from the B2BUA's deadline.
    // Whether the client *received* the 201 first is printed, not asserted: the kernel may
    // still pace the flushed segment out (BBR without fq on this box) while the start request
    // overtakes it by a few ms; see docs/call-flow.md.
    let created = events
        .iter()
        .find(|e| kinds(std::slice::from_ref(e))[0] == "created")
        .unwrap();
    let dialing = events
        .iter()
        .find(|e| kinds(std::slice::from_ref(e))[0] == "dialing:a")
        .unwrap();
    assert!(created.at_ms <= dialing.at_ms);
    assert!(
        sent_ms <= created.at_ms && created.at_ms <= replied_ms,
        "sent {sent_ms}, created {}, reply received {replied_ms}",
        created.at_ms
    );
    let start_within = patchbay_gateway::GatewayConfig::default().call_start_within_ms;
    assert!(
        dialing.at_ms < created.at_ms + u64::from(start_within) / 2,
        "started by the gateway after its reply, not by the deadline: created {}, dialing {}",
        created.at_ms,
        dialing.at_ms
    );
    eprintln!(
        "native_call: sent {sent_ms}, created {}, first INVITE {}, reply received {replied_ms}",
        created.at_ms, dialing.at_ms
    );

    let stream = tokio::time::timeout(Duration::from_secs(10), sse)
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<u64> = stream
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "SSE carried every event in order"
    );
    assert!(stream.contains("event: ended"));
    // The allow-listed header of the request went on both INVITEs.
    for (phone, name) in [(a, "4005"), (b, "4007")] {
        let (code, trace) = phone.wait_messages(10).await;
        assert_eq!(code, 0, "{name}'s phone scenario passed");
        let invite = received_invite(&trace);
        assert!(invite.contains("\nX-Crm-Id: 42"), "{name}: {invite}");
    }
    drop(ts_guard);
    gw.stop().await;
    stack.stop().await;
}
