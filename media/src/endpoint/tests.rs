use super::*;
use crate::engine::leg::{Done, Reason};
use crate::engine::{dtmf, rtp};
use std::net::UdpSocket as StdUdpSocket;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leg_gets_a_paced_prompt_continuing_the_relayed_stream_and_its_keys_are_heard() {
    let relay = crate::relay::test_relay(41100);
    let leg = relay.alloc_leg().unwrap();
    let phone = StdUdpSocket::bind("127.0.0.1:0").unwrap();
    phone
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    leg.set_remote(phone.local_addr().unwrap());
    // The relay sent the phone seq 500 / ts 9000 of SSRC 77 last.
    let mut last = Vec::new();
    Sender::new(77, 500, 9_000).audio(0, false, &[0xff; 160], 160, &mut last);
    leg.note_sent(&last);

    let m = EngineMetrics::new();
    let (tx, mut events) = mpsc::unbounded_channel();
    let ep = Endpoint::start(leg.clone(), Law::Mu, Some(101), 7, tx, m.clone(), false);
    let samples: Arc<[i16]> = vec![1000i16; 8 * 200].into();
    ep.command(Command::Play {
        id: 1,
        samples,
        repeat: false,
        barge_in: false,
    });
    let started = std::time::Instant::now();
    let mut buf = [0u8; 512];
    let mut headers = Vec::new();
    for _ in 0..10 {
        let (n, from) = phone.recv_from(&mut buf).unwrap();
        assert_eq!(from, leg.local_rtp());
        headers.push(rtp::parse(&buf[..n]).unwrap().0);
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(150),
        "paced, not burst: {took:?}"
    );
    assert_eq!(headers[0].ssrc, 77);
    assert_eq!(headers[0].seq, 501);
    assert!(headers[0].marker);
    assert!(
        headers
            .windows(2)
            .all(|w| w[1].seq == w[0].seq + 1 && w[1].ts == w[0].ts + 160)
    );
    let (tag, ev) = events.recv().await.unwrap();
    assert_eq!(tag, 7);
    assert!(matches!(
        ev,
        Event::Done(Done {
            id: 1,
            reason: Reason::Finished,
            played_ms: 200,
            ..
        })
    ));
    assert_eq!(m.packets_sent(), 10);
    assert_eq!(m.legs(), 1);

    // The phone presses 9 (RFC 4733, end packet repeated).
    for (seq, end) in [(1u16, false), (2, true), (3, true), (4, true)] {
        let p = dtmf::Payload {
            event: 9,
            end,
            volume: 10,
            duration: 800,
        };
        let mut pkt = Vec::new();
        Sender::new(5, seq, 4_000).event(101, seq == 1, 4_000, &p.bytes(), &mut pkt);
        phone.send_to(&pkt, leg.local_rtp()).unwrap();
    }
    let (_, ev) = tokio::time::timeout(Duration::from_secs(2), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev, Event::Key('9'));
    assert!(leg.is_latched());
    drop(ep);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(m.legs(), 0, "the task ended with its endpoint");
    assert!(
        tokio::time::timeout(Duration::from_millis(100), events.recv())
            .await
            .map_or(true, |e| e.is_none()),
        "no key twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_leg_hears_a_prompt_inside_the_relayed_stream_as_one_stream() {
    let relay = crate::relay::test_relay(41400);
    let (a, b) = (relay.alloc_leg().unwrap(), relay.alloc_leg().unwrap());
    let (pa, pb) = (
        StdUdpSocket::bind("127.0.0.1:0").unwrap(),
        StdUdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    pa.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    a.set_remote(pa.local_addr().unwrap());
    b.set_remote(pb.local_addr().unwrap());
    let _bridge = relay.bridge(&a, &b);
    // Phone B talks all along (SSRC 99); phone A keys a digit during the prompt.
    let talk = tokio::spawn({
        let b = b.clone();
        async move {
            let pb = tokio::net::UdpSocket::from_std({
                pb.set_nonblocking(true).unwrap();
                pb
            })
            .unwrap();
            let mut tx = Sender::new(99, 7_000, 50_000);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            for _ in 0..60 {
                tick.tick().await;
                let mut out = Vec::new();
                tx.audio(0, false, &[0x7f; 160], 160, &mut out);
                pb.send_to(&out, b.local_rtp()).await.unwrap();
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m = EngineMetrics::new();
    let (tx, mut events) = mpsc::unbounded_channel();
    let ep = Endpoint::start(a.clone(), Law::Mu, Some(101), 3, tx, m.clone(), true);
    ep.command(Command::Play {
        id: 1,
        samples: vec![1000i16; 8 * 300].into(),
        repeat: false,
        barge_in: false,
    });
    let (_, ev) = tokio::time::timeout(Duration::from_secs(3), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        ev,
        Event::Done(Done {
            id: 1,
            reason: Reason::Finished,
            ..
        })
    ));
    talk.await.unwrap();
    let mut buf = [0u8; 512];
    let mut headers = Vec::new();
    let mut engine_packets = 0;
    while let Ok(n) = pa.recv(&mut buf) {
        let (h, payload) = rtp::parse(&buf[..n]).unwrap();
        if payload[0] != 0x7f {
            engine_packets += 1;
        }
        headers.push(h);
    }
    assert_eq!(engine_packets, 15, "300 ms of prompt");
    assert!(headers.len() >= 55, "{} packets", headers.len());
    for w in headers.windows(2) {
        assert_eq!(w[1].ssrc, 99, "one SSRC: the stream the phone had");
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "no gap, no repeat: {headers:?}"
        );
    }
    assert!(a.stats.rtp_out.load(Relaxed) >= 55);
    drop(ep);
}
