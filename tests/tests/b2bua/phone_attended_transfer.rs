//! A phone's attended transfer (RFC 5589 7): 4005 (a scripted phone) talks to 4007 (call 1)
//! and to 4009 (call 2), then sends REFER on call 1 with `Replaces` naming its dialog of call
//! 2. The B2BUA answers 202, joins 4007 and 4009 (RTP flows between them through the relay),
//! tells 4005 200 in a NOTIFY and sends BYE on both of its dialogs; call 2 ends
//! `transferred`, and call 1's CDR names 4009.
use patchbay_api::{CallState, Cause, OriginateMode, Side};
use patchbay_tests::*;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// A SIP message as text: its first line and headers (first value of each name).
struct Msg(String);

impl Msg {
    fn first(&self) -> &str {
        self.0.lines().next().unwrap_or("")
    }

    fn header(&self, name: &str) -> String {
        self.0
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    }

    fn vias(&self) -> Vec<String> {
        self.0
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.to_ascii_lowercase().starts_with("via:"))
            .map(str::to_string)
            .collect()
    }

    fn tag(value: &str) -> String {
        value
            .split(";tag=")
            .nth(1)
            .map(|t| t.split(';').next().unwrap_or(t).to_string())
            .unwrap_or_default()
    }
}

/// Phone 4005 on a bare socket: answers, accepts NOTIFY and BYE, sends one REFER.
struct Phone {
    sock: UdpSocket,
    rtp: u16,
}

/// One of the phone's dialogs: (Call-ID, our tag, the B2BUA's tag, its From, its Contact).
struct Dialog {
    call_id: String,
    ours: String,
    theirs: String,
    their_from: String,
    contact: String,
}

impl Phone {
    fn recv(&self) -> Option<(Msg, std::net::SocketAddr)> {
        let mut buf = [0u8; 8192];
        let (n, from) = self.sock.recv_from(&mut buf).ok()?;
        Some((Msg(String::from_utf8_lossy(&buf[..n]).to_string()), from))
    }

    fn reply(&self, req: &Msg, to: std::net::SocketAddr, status: &str, extra: &str) {
        let resp = format!(
            "SIP/2.0 {status}\r\n{}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}",
            req.vias().join("\r\n"),
            req.header("from"),
            req.header("to"),
            req.header("call-id"),
            req.header("cseq"),
        );
        self.sock.send_to(resp.as_bytes(), to).unwrap();
    }

    /// Answer the next INVITE (PCMA) and return its dialog.
    fn answer(&self, tag: &str) -> Dialog {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let Some((m, from)) = self.recv() else {
                continue;
            };
            if !m.first().starts_with("INVITE ") {
                continue;
            }
            let port = self.sock.local_addr().unwrap().port();
            let sdp = format!(
                "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
                self.rtp
            );
            let to = format!("{};tag={tag}", m.header("to"));
            let resp = format!(
                "SIP/2.0 200 OK\r\n{}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n\
                 Contact: <sip:4005@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\n\
                 Content-Length: {}\r\n\r\n{sdp}",
                m.vias().join("\r\n"),
                m.header("from"),
                m.header("call-id"),
                m.header("cseq"),
                sdp.len(),
            );
            self.sock.send_to(resp.as_bytes(), from).unwrap();
            let contact = m.header("contact");
            return Dialog {
                call_id: m.header("call-id"),
                ours: tag.into(),
                theirs: Msg::tag(&m.header("from")),
                their_from: m.header("from"),
                contact: contact.trim_matches(|c| c == '<' || c == '>').to_string(),
            };
        }
        panic!("4005 was never called");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_joins_its_two_calls_and_leaves() {
    let stack = Stack::start().await;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let p5 = sock.local_addr().unwrap().port();
    let (p7, p9) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let (rtp7, rtp9) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let y = Sipp::answering(p7, 100, rtp7.port());
    let z = Sipp::answering(p9, 100, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let x = std::sync::Arc::new(Phone {
        sock,
        rtp: free_port(),
    });

    let mut calls = Vec::new();
    let mut dialogs = Vec::new();
    for (to, tag) in [("4007", "x1"), ("4009", "x2")] {
        let id = stack
            .api
            .originate(&click_to_call("4005", &[to], OriginateMode::CallerFirst))
            .await
            .unwrap()
            .id;
        let ph = x.clone();
        let tag = tag.to_string();
        dialogs.push(
            tokio::task::spawn_blocking(move || ph.answer(&tag))
                .await
                .unwrap(),
        );
        for _ in 0..100 {
            if stack.api.call(&id).await.unwrap().state == CallState::Bridged {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(stack.api.call(&id).await.unwrap().state, CallState::Bridged);
        calls.push(id);
    }

    // REFER on call 1, replacing the dialog of call 2.
    let (d1, d2) = (&dialogs[0], &dialogs[1]);
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('@', "%40")
            .replace(';', "%3B")
            .replace('=', "%3D")
    };
    let replaces = format!(
        "{}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
        esc(&d2.call_id),
        esc(&d2.theirs),
        esc(&d2.ours)
    );
    let refer = format!(
        "REFER {contact} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p5};branch=z9hG4bKatx1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:4005@127.0.0.1>;tag={ours}\r\nTo: {their_from}\r\n\
         Call-ID: {cid}\r\nCSeq: 7 REFER\r\nContact: <sip:4005@127.0.0.1:{p5}>\r\n\
         Refer-To: <sip:4009@127.0.0.1?Replaces={replaces}>\r\nContent-Length: 0\r\n\r\n",
        contact = d1.contact,
        ours = d1.ours,
        their_from = d1.their_from,
        cid = d1.call_id,
    );
    let ph = x.clone();
    let sip: std::net::SocketAddr = stack.sip().parse().unwrap();
    let (accepted, notified, byes) = tokio::task::spawn_blocking(move || {
        ph.sock.send_to(refer.as_bytes(), sip).unwrap();
        let (mut accepted, mut notified, mut byes) = (None, Vec::new(), Vec::new());
        let deadline = Instant::now() + Duration::from_secs(8);
        while Instant::now() < deadline && byes.len() < 2 {
            let Some((m, from)) = ph.recv() else { continue };
            let first = m.first().to_string();
            if first.starts_with("SIP/2.0 ") && m.header("cseq").ends_with("REFER") {
                accepted = first.split(' ').nth(1).map(str::to_string);
            } else if first.starts_with("NOTIFY ") {
                ph.reply(&m, from, "200 OK", "Content-Length: 0\r\n\r\n");
                let body = m.0.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
                notified.push(body.lines().next().unwrap_or("").to_string());
            } else if first.starts_with("BYE ") {
                ph.reply(&m, from, "200 OK", "Content-Length: 0\r\n\r\n");
                let cid = m.header("call-id");
                if !byes.contains(&cid) {
                    byes.push(cid);
                }
            }
        }
        (accepted, notified, byes)
    })
    .await
    .unwrap();
    assert_eq!(accepted.as_deref(), Some("202"));
    assert_eq!(
        notified.last().map(String::as_str),
        Some("SIP/2.0 200 OK"),
        "{notified:?}"
    );
    assert!(
        byes.contains(&d1.call_id) && byes.contains(&d2.call_id),
        "4005 was sent BYE on both dialogs: {byes:?}"
    );

    // 4007 and 4009 talk through the relay.
    let relay = relay_addr(&stack.api, &calls[0], Side::B).await;
    let sent = rtp7.play_pcap(relay).await;
    assert_eq!(
        rtp9.wait_received(sent).await,
        sent,
        "4007's RTP reached 4009"
    );
    assert_eq!(rtp7.wait_received(sent).await, sent, "and 4009's came back");
    let events = stack.events_until_end(&calls[1]).await;
    assert_eq!(assert_one_terminal(&events).0, Cause::Transferred);
    stack.api.hangup(&calls[0]).await.unwrap();
    assert_eq!(y.wait(10).await, 0, "4007 stayed until the hangup");
    assert_eq!(z.wait(10).await, 0, "4009 too");
    let c1 = cdr(&stack, &calls[0]).await;
    assert_eq!(c1.transferred_to.as_deref(), Some("4009"), "{c1:?}");
    let c2 = cdr(&stack, &calls[1]).await;
    assert_eq!(
        (c2.cause, c2.transferred_to.as_deref()),
        (Cause::Transferred, Some("4007")),
        "{c2:?}"
    );
    stack.stop().await;
}
