use super::*;
use crate::engine::rtp;
use std::net::UdpSocket as StdUdpSocket;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_each_hear_the_other_two_and_a_leaver_is_let_go_in_order() {
    let relay = crate::relay::test_relay(41300);
    let m = EngineMetrics::new();
    let (tx, mut events) = mpsc::unbounded_channel();
    let room = Room::start(tx, m.clone());
    let levels = [1_000i16, 2_000, 4_000];
    let mut phones = Vec::new();
    for (i, _) in levels.iter().enumerate() {
        let leg = relay.alloc_leg().unwrap();
        let phone = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        phone
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        leg.set_remote(phone.local_addr().unwrap());
        room.join(Member {
            leg: leg.clone(),
            law: Law::Mu,
            te_pt: None,
            tag: i as u64,
            command: 10 + i as u64,
            muted: false,
            bridged: false,
            tones: false,
        });
        phones.push((leg, phone, Sender::new(i as u32, 0, 0)));
    }
    let q = |x: i16| Law::Mu.decode_sample(Law::Mu.encode_sample(x));
    let mut heard = [0i16; 3];
    for _ in 0..25 {
        for (i, (leg, phone, tx)) in phones.iter_mut().enumerate() {
            let mut p = Vec::new();
            Law::Mu.encode(&[levels[i]; FRAME], &mut p);
            let mut out = Vec::new();
            tx.audio(0, false, &p, FRAME as u32, &mut out);
            phone.send_to(&out, leg.local_rtp()).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (i, (_, phone, _)) in phones.iter().enumerate() {
        let mut buf = [0u8; 512];
        let mut last = None;
        // The latest packet (the room has been sending all along).
        phone.set_nonblocking(true).unwrap();
        while let Ok(n) = phone.recv(&mut buf) {
            last = Some(buf[..n].to_vec());
        }
        let pkt = last.expect("the room sends to every member");
        let (h, payload) = rtp::parse(&pkt).unwrap();
        assert_eq!(h.pt, 0);
        heard[i] = Law::Mu.decode_sample(payload[80]);
    }
    let others = |i: usize| {
        q(levels
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, l)| *l)
            .sum())
    };
    for (i, got) in heard.iter().enumerate() {
        let want = others(i);
        assert!(
            (i32::from(*got) - i32::from(want)).abs() <= i32::from(want) / 16,
            "member {i} hears the others ({want}), not itself: {got}"
        );
    }
    assert_eq!(m.conference_members(), 3);

    room.mute(2, true);
    room.leave(0);
    let (tag, ev) = events.recv().await.unwrap();
    assert_eq!(tag, 0);
    assert!(matches!(
        ev,
        Event::Done(Done {
            id: 10,
            reason: Reason::Stopped,
            ..
        })
    ));
    assert_eq!(m.conference_members(), 2);
    // Left: nothing more reaches phone 0.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let mut buf = [0u8; 512];
    while phones[0].1.recv(&mut buf).is_ok() {}
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        phones[0].1.recv(&mut buf).is_err(),
        "no packet after leaving"
    );
    drop(room);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(m.conference_members(), 0, "the room ended with its handle");
}
