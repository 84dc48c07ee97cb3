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
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let rtp5 = RtpPeer::new(false).await;
    let rtp7 = RtpPeer::new(true).await;
    let ring = |port, rtp: &RtpPeer| {
        Sipp::phone(
            "uas_answer.xml",
            port,
            &[
                "-set",
                "ring_ms",
                "300",
                "-set",
                "rtpport",
                &rtp.port().to_string(),
            ],
        )
    };
    let a = ring(p5, &rtp5);
    let b = ring(p7, &rtp7);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The request goes over a plain blocking socket on its own thread, so the arrival of the
    // reply's first byte is stamped as the kernel delivers it (no async wake-up chain between).
    let addr = gw.base.trim_start_matches("http://").to_string();
    let body = r#"{"from":"4005","to":["4007"],"mode":"caller_first","headers":{"X-Crm-Id":"42"}}"#;
    let (sent_ms, replied_ms, raw) = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let auth = "ZGVtby1rZXk6ZGVtby1zZWNyZXQ="; // demo-key:demo-secret
        let req = format!(
            "POST /api/v1/calls HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let sent = now_ms();
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let first_byte = now_ms();
        let mut raw = buf[..n].to_vec();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        (sent, first_byte, String::from_utf8(raw).unwrap())
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

    // The id reached the client before any INVITE: the gateway creates the call held and
    // starts it only once the 201 is flushed, so `created` < reply received <= first `dialing`.
    let created = events
        .iter()
        .find(|e| kinds(std::slice::from_ref(e))[0] == "created")
        .unwrap();
    let dialing = events
        .iter()
        .find(|e| kinds(std::slice::from_ref(e))[0] == "dialing:a")
        .unwrap();
    assert!(created.at_ms <= dialing.at_ms);
    assert!(sent_ms <= created.at_ms && created.at_ms <= replied_ms);
    assert!(
        replied_ms <= dialing.at_ms,
        "reply received at {replied_ms}, first INVITE at {}",
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
    assert_eq!(a.wait(10).await, 0, "phone scenario passed");
    assert_eq!(b.wait(10).await, 0, "phone scenario passed");
    gw.stop().await;
    stack.stop().await;
}
