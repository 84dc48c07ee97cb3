use super::*;
use crate::engine::collect::CollectSpec;
use crate::engine::tone::BEEP;

const TE: u8 = 101;

fn engine(te: Option<u8>) -> LegEngine {
    LegEngine::new(Law::Mu, te, Sender::new(0x1234, 100, 8_000))
}

fn prompt(ms: usize) -> Arc<[i16]> {
    (0..ms * 8)
        .map(|i| ((i as f32 * 0.2).sin() * 8_000.0) as i16)
        .collect::<Vec<_>>()
        .into()
}

/// Run `slots` ticks of 20 ms from `t0`: the packets sent.
fn run(e: &mut LegEngine, t0: u64, slots: u64) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    for i in 0..slots {
        let mut out = Vec::new();
        if e.tick(t0 + i * 20, &mut out) {
            sent.push(out);
        }
    }
    sent
}

fn events(e: &mut LegEngine) -> Vec<Event> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

fn key_packet(key: char, seq: u16, ts: u32, end: bool) -> Vec<u8> {
    let payload = dtmf::Payload {
        event: dtmf::event_of(key).unwrap(),
        end,
        volume: 10,
        duration: 800,
    };
    let mut out = Vec::new();
    Sender::new(0x99, seq, ts).event(TE, !end, ts, &payload.bytes(), &mut out);
    out
}

#[test]
fn prompts_play_in_order_with_continuous_headers_and_one_done_each() {
    let mut e = engine(Some(TE));
    let play = |id| Command::Play {
        id,
        samples: prompt(100),
        repeat: false,
        barge_in: false,
    };
    e.command(play(1));
    e.command(play(2));
    let pkts = run(&mut e, 0, 12);
    assert_eq!(pkts.len(), 10, "2 x 100 ms = 10 packets of 20 ms");
    let hs: Vec<rtp::Header> = pkts.iter().map(|p| rtp::parse(p).unwrap().0).collect();
    for (i, h) in hs.iter().enumerate() {
        assert_eq!(h.seq, 100 + i as u16);
        assert_eq!(h.ts, 8_000 + 160 * i as u32);
        assert_eq!((h.pt, h.ssrc), (0, 0x1234));
    }
    assert!(
        hs[0].marker && hs[1..].iter().all(|h| !h.marker),
        "one talkspurt"
    );
    let done: Vec<(CmdId, Reason, u64)> = events(&mut e)
        .into_iter()
        .map(|ev| match ev {
            Event::Done(d) => (d.id, d.reason, d.played_ms),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        done,
        [(1, Reason::Finished, 100), (2, Reason::Finished, 100)]
    );
    // Silence does not send, but the clock runs: the next sound is a new talkspurt.
    e.command(Command::Tone {
        id: 3,
        tone: BEEP,
        max_ms: None,
        barge_in: false,
    });
    let pkts = run(&mut e, 240, 20);
    let h = rtp::parse(&pkts[0]).unwrap().0;
    assert_eq!((h.seq, h.ts, h.marker), (110, 8_000 + 160 * 12, true));
    assert_eq!(pkts.len(), 13, "a 250 ms beep is 13 packets");
}

#[test]
fn a_key_barges_in_and_feeds_the_collection_started_with_the_prompt() {
    let mut e = engine(Some(TE));
    e.command(Command::Play {
        id: 1,
        samples: prompt(2_000),
        repeat: false,
        barge_in: true,
    });
    e.command(Command::Collect {
        id: 2,
        spec: CollectSpec {
            min_digits: 1,
            max_digits: 3,
            terminators: "#".into(),
            first_timeout_ms: 1_000,
            inter_timeout_ms: 500,
        },
    });
    run(&mut e, 0, 10);
    // "4" (every packet, ends three times), then "2", then "#".
    let mut seq = 1;
    for (i, key) in ['4', '2', '#'].into_iter().enumerate() {
        let ts = 1_000 + 2_000 * i as u32;
        for end in [false, false, true, true, true] {
            e.on_packet(300 + 100 * i as u64, &key_packet(key, seq, ts, end));
            seq += 1;
        }
    }
    let evs = events(&mut e);
    let keys: Vec<char> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Key(k) => Some(*k),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ['4', '2', '#'], "each key once");
    let dones: Vec<&Done> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Done(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(dones.len(), 2);
    assert_eq!((dones[0].id, dones[0].reason), (1, Reason::BargeIn('4')));
    assert_eq!(dones[0].played_ms, 200);
    assert_eq!(
        (
            dones[1].id,
            dones[1].reason,
            dones[1].digits.as_deref(),
            dones[1].ok
        ),
        (2, Reason::Terminator('#'), Some("42"), true)
    );
    assert!(!e.busy());
}

#[test]
fn the_first_digit_timeout_starts_when_the_prompt_ends() {
    let mut e = engine(Some(TE));
    e.command(Command::Play {
        id: 1,
        samples: prompt(1_000),
        repeat: false,
        barge_in: false,
    });
    e.command(Command::Collect {
        id: 2,
        spec: CollectSpec {
            min_digits: 1,
            max_digits: 1,
            terminators: String::new(),
            first_timeout_ms: 500,
            inter_timeout_ms: 500,
        },
    });
    run(&mut e, 0, 70); // 1.4 s: the prompt (1 s) + 400 ms
    assert_eq!(events(&mut e).len(), 1, "only the prompt ended");
    run(&mut e, 1_400, 10);
    match events(&mut e).as_slice() {
        [Event::Done(d)] => {
            assert_eq!((d.id, d.reason, d.ok), (2, Reason::Timeout, false));
            assert_eq!(d.digits.as_deref(), Some(""));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keys_are_sent_as_rfc4733_events_or_in_band() {
    let mut e = engine(Some(TE));
    e.command(Command::SendDtmf {
        id: 9,
        digits: "1#".into(),
        duration_ms: 100,
    });
    let pkts = run(&mut e, 0, 40);
    let mut rx = dtmf::Receiver::default();
    let keys: Vec<char> = pkts
        .iter()
        .filter_map(|p| {
            let (h, pl) = rtp::parse(p).unwrap();
            assert_eq!(h.pt, TE);
            rx.on_packet(h.ssrc, h.ts, pl)
        })
        .collect();
    assert_eq!(keys, ['1', '#']);
    let seqs: Vec<u16> = pkts.iter().map(|p| rtp::parse(p).unwrap().0.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
    assert!(matches!(
        events(&mut e).as_slice(),
        [Event::Done(Done {
            id: 9,
            reason: Reason::Finished,
            ..
        })]
    ));

    // Without telephone-event: tones another in-band detector hears.
    let mut e = engine(None);
    e.command(Command::SendDtmf {
        id: 1,
        digits: "73".into(),
        duration_ms: 80,
    });
    let pkts = run(&mut e, 0, 40);
    let mut heard = engine(None);
    for (i, p) in pkts.iter().enumerate() {
        heard.on_packet(i as u64 * 20, p);
    }
    let keys: Vec<Event> = events(&mut heard);
    assert_eq!(keys, [Event::Key('7'), Event::Key('3')]);
}

#[test]
fn stop_ends_one_command_and_stop_all_ends_the_rest() {
    let mut e = engine(Some(TE));
    e.command(Command::Play {
        id: 1,
        samples: prompt(500),
        repeat: true,
        barge_in: false,
    });
    e.command(Command::Tone {
        id: 2,
        tone: crate::engine::tone::RINGBACK,
        max_ms: Some(100),
        barge_in: false,
    });
    e.command(Command::Collect {
        id: 3,
        spec: CollectSpec {
            min_digits: 1,
            max_digits: 4,
            terminators: String::new(),
            first_timeout_ms: 10_000,
            inter_timeout_ms: 10_000,
        },
    });
    run(&mut e, 0, 100); // hold music loops on
    assert!(events(&mut e).is_empty());
    assert!(e.stop(1));
    assert!(!e.stop(1), "already over");
    run(&mut e, 2_000, 10);
    let evs = events(&mut e);
    assert!(
        matches!(&evs[0], Event::Done(d) if d.id == 1 && d.reason == Reason::Stopped && d.played_ms == 2_000)
    );
    assert!(
        matches!(&evs[1], Event::Done(d) if d.id == 2 && d.reason == Reason::Timeout && d.played_ms == 100)
    );
    e.stop_all();
    assert!(matches!(
        events(&mut e).as_slice(),
        [Event::Done(d)] if d.id == 3 && d.reason == Reason::Stopped
    ));
    assert!(!e.busy());
}

#[test]
fn garbage_from_the_phone_is_ignored() {
    let mut e = engine(Some(TE));
    assert!(e.on_packet(0, &[]).is_empty());
    assert!(e.on_packet(0, &[0x80, 99, 0, 1]).is_empty());
    assert!(
        e.on_packet(0, &[0x80, TE, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 77])
            .is_empty()
    );
    let mut pkt = Vec::new();
    Sender::new(1, 1, 1).audio(8, false, &[0xd5; 160], 160, &mut pkt);
    assert_eq!(e.on_packet(0, &pkt).len(), 160, "PCMA decoded too");
    assert!(events(&mut e).is_empty());
}
