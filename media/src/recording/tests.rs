use super::*;
use crate::engine::g711::Law;
use crate::engine::rtp::Sender;
use crate::engine::{dtmf, record};

fn frame(tx: &mut Sender, level: i16) -> Vec<u8> {
    let mut payload = Vec::new();
    Law::A.encode(&[level; FRAME], &mut payload);
    let mut out = Vec::new();
    tx.audio(8, false, &payload, FRAME as u32, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_call_is_recorded_in_stereo_off_the_relay_and_a_key_stops_it() {
    let relay = crate::relay::test_relay(41200);
    let (a, b) = (relay.alloc_leg().unwrap(), relay.alloc_leg().unwrap());
    let (pa, pb) = (crate::relay::test_phone(&a), crate::relay::test_phone(&b));
    let _bridge = relay.bridge(&a, &b);
    let dir = std::env::temp_dir().join(format!("pb-rec-{}", std::process::id()));
    let path = dir.join("t/rec.wav");
    let m = EngineMetrics::new();
    let (mut handle, task) = start(
        RecordingSpec {
            path: path.clone(),
            layout: Layout::Stereo,
            limits: record::Limits::default(),
            legs: vec![(a.clone(), Some(101)), (b.clone(), None)],
        },
        m.clone(),
    );
    assert_eq!(m.recordings(), 1);
    let (mut ta, mut tb) = (Sender::new(1, 1, 0), Sender::new(2, 1, 0));
    let t0 = std::time::Instant::now();
    for _ in 0..50 {
        pa.send_to(&frame(&mut ta, 1_000), a.local_rtp()).unwrap();
        pb.send_to(&frame(&mut tb, -2_000), b.local_rtp()).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop();
    let out = task.await.unwrap();
    let elapsed = t0.elapsed().as_millis() as u64;
    assert_eq!(out.ending, Ending::Stopped);
    assert!(
        out.duration_ms.abs_diff(elapsed) <= 60,
        "{} ms recorded in {elapsed} ms",
        out.duration_ms
    );
    assert_eq!(out.bytes, std::fs::metadata(&path).unwrap().len());
    assert_eq!(out.bytes, 44 + out.duration_ms * 8 * 2 * 2);
    let rd = hound::WavReader::open(&path).unwrap();
    assert_eq!(rd.spec().channels, 2);
    let s: Vec<i16> = rd.into_samples::<i16>().map(Result::unwrap).collect();
    let q = |x: i16| Law::A.decode_sample(Law::A.encode_sample(x));
    let left: Vec<i16> = s.iter().step_by(2).copied().collect();
    let right: Vec<i16> = s.iter().skip(1).step_by(2).copied().collect();
    assert!(left.iter().all(|&x| x == 0 || x == q(1_000)));
    assert!(right.iter().all(|&x| x == 0 || x == q(-2_000)));
    assert!(left.iter().filter(|&&x| x != 0).count() >= 45 * FRAME);
    assert!(right.iter().filter(|&&x| x != 0).count() >= 45 * FRAME);
    // Each phone still heard the other (recording is a copy).
    assert!(b.stats.rtp_out.load(Relaxed) >= 45);
    assert_eq!(m.recordings(), 0);

    // One leg, stopped by '#' from its phone.
    let (_h, task) = start(
        RecordingSpec {
            path: dir.join("t/key.wav"),
            layout: Layout::Mono,
            limits: record::Limits {
                stop_keys: "#".into(),
                ..Default::default()
            },
            legs: vec![(a.clone(), Some(101))],
        },
        m.clone(),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    for k in dtmf::key_packets('#', 60, 10).unwrap() {
        let mut out = Vec::new();
        ta.event(101, k.marker, 99_000, &k.payload.bytes(), &mut out);
        pa.send_to(&out, a.local_rtp()).unwrap();
    }
    let out = tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.ending, Ending::Limit(Stop::Key('#')));
    // A file that cannot be created: an error at once.
    let (_h, task) = start(
        RecordingSpec {
            path: "/proc/none/x.wav".into(),
            layout: Layout::Mono,
            limits: record::Limits::default(),
            legs: vec![(a.clone(), None)],
        },
        m.clone(),
    );
    assert!(matches!(task.await.unwrap().ending, Ending::Error(_)));
    assert_eq!(m.recordings(), 0);
    let _ = std::fs::remove_dir_all(dir);
}
