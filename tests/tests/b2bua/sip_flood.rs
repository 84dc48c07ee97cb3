//! A source flooding the B2BUA with new requests is cut off at `sip_source_rate` before any
//! transaction exists (dropped, counted); it is served again once its bucket refills.
use patchbay_tests::*;
use std::net::UdpSocket;
use std::time::Duration;

fn options(sip: &str, port: u16, n: usize) -> String {
    format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKfl{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=f{n}\r\nTo: <sip:{sip}>\r\n\
         Call-ID: flood-{n}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_source_is_dropped_then_served_again() {
    let stack = Stack::start_with(|c| {
        c.sip_source_rate = 5;
        c.sip_source_burst = 5;
    })
    .await;
    let sip = stack.sip();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let port = sock.local_addr().unwrap().port();
    for n in 0..30 {
        sock.send_to(options(&sip, port, n).as_bytes(), &sip)
            .unwrap();
    }
    let mut answered = 0;
    let mut buf = [0u8; 4096];
    while sock.recv_from(&mut buf).is_ok() {
        answered += 1;
    }
    assert!(
        (5..=7).contains(&answered),
        "the burst was served, the rest dropped: {answered}"
    );
    let metrics = stack.b2bua_get("/metrics").await;
    let dropped: f64 = metrics
        .lines()
        .find(|l| l.starts_with("patchbay_b2bua_sip_dropped_total{reason=\"flood\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(dropped >= 23.0, "dropped and counted: {dropped}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = sip_exchange(&sock, &sip, &options(&sip, port, 99));
    assert!(r.starts_with("SIP/2.0 200"), "served again: {r}");
    stack.stop().await;
}
