//! Media helpers of the end-to-end tests: a phone's RTP socket that keeps what it receives
//! (to decode and compare), test prompts, audio comparison, and waiting for one event.

use crate::Stack;
use patchbay_api::{CallId, CollectRequest, Event, EventKind, MediaOp, PlayRequest, Side};
use patchbay_media::engine::g711::Law;
use patchbay_media::engine::rtp::{self, Header};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Most packets a capture keeps (10 minutes at 20 ms).
const MAX_PACKETS: usize = 30_000;

/// A phone's RTP socket that keeps every packet it receives.
pub struct RtpCapture {
    pub sock: Arc<UdpSocket>,
    packets: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RtpCapture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RtpCapture {
    pub async fn new() -> Self {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("rtp socket"));
        let packets = Arc::new(Mutex::new(Vec::new()));
        let (s, p) = (sock.clone(), packets.clone());
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok((n, _)) = s.recv_from(&mut buf).await {
                let mut v = p.lock().expect("lock");
                if v.len() < MAX_PACKETS {
                    v.push(buf[..n].to_vec());
                }
            }
        });
        Self {
            sock,
            packets,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.sock.local_addr().expect("addr").port()
    }

    /// Every packet so far.
    pub fn packets(&self) -> Vec<Vec<u8>> {
        self.packets.lock().expect("lock").clone()
    }

    /// The RTP headers of every packet so far, in arrival order.
    pub fn headers(&self) -> Vec<Header> {
        self.packets()
            .iter()
            .filter_map(|p| rtp::parse(p).map(|(h, _)| h))
            .collect()
    }

    /// The G.711 audio received, decoded, in arrival order.
    pub fn audio(&self) -> Vec<i16> {
        let mut out = Vec::new();
        for p in self.packets() {
            if let Some((h, payload)) = rtp::parse(&p)
                && let Some(law) = Law::from_pt(h.pt)
            {
                law.decode(payload, &mut out);
            }
        }
        out
    }
}

/// Write a mono 16-bit WAV of `samples` at `rate`.
pub fn write_wav(path: &std::path::Path, rate: u32, samples: &[i16]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("prompt dir");
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for s in samples {
        w.write_sample(*s).expect("sample");
    }
    w.finalize().expect("wav written");
}

/// `secs` of a distinctive signal at `rate` (a falling chirp over pseudo-random noise), so a
/// shifted or garbled copy does not correlate.
pub fn test_signal(rate: u32, secs: f32) -> Vec<i16> {
    let n = (rate as f32 * secs) as usize;
    let mut x: u32 = 12345;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let f = 1_200.0 - 900.0 * t / secs;
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = ((x >> 16) & 0x7fff) as f32 / 32_768.0 - 0.5;
            ((2.0 * std::f32::consts::PI * f * t).sin() * 6_000.0 + noise * 3_000.0) as i16
        })
        .collect()
}

/// `secs` of noise from `seed`: signals of different seeds do not correlate at any offset
/// (several phones talking at once).
pub fn test_signal_seeded(rate: u32, secs: f32, seed: u32) -> Vec<i16> {
    let n = (rate as f32 * secs) as usize;
    let mut x: u32 = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (((x >> 16) & 0xffff) as i32 - 32_768) as i16 / 5
        })
        .collect()
}

/// The best normalized cross-correlation of `want` within `got` (over every offset), and the
/// offset.
pub fn best_correlation(want: &[i16], got: &[i16]) -> (f64, usize) {
    if got.len() < want.len() || want.is_empty() {
        return (0.0, 0);
    }
    let w: Vec<f64> = want.iter().map(|&s| f64::from(s)).collect();
    let wn = w.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut best = (0.0, 0);
    for off in 0..=got.len() - want.len() {
        let g = &got[off..off + want.len()];
        let (mut dot, mut gn) = (0.0, 0.0);
        for (a, &b) in w.iter().zip(g) {
            let b = f64::from(b);
            dot += a * b;
            gn += b * b;
        }
        if gn > 0.0 {
            let c = dot / (wn * gn.sqrt());
            if c > best.0 {
                best = (c, off);
            }
        }
    }
    best
}

/// A recording of G.711 audio without the silence the recorder put in where the phone's
/// packets came late (A-law and mu-law never decode to an exact 0, so every 0 was inserted):
/// what the phone sent, laid end to end, so that jitter does not pass for a lost piece and a
/// lost piece still shows as a misalignment.
pub fn without_inserted_silence(s: &[i16]) -> Vec<i16> {
    s.iter().copied().filter(|&x| x != 0).collect()
}

/// Wait (up to 5 s) until the B2BUA writes a recording (its `patchbay_media_recordings`).
pub async fn wait_recording(stack: &Stack) {
    for _ in 0..100 {
        let text = stack.b2bua_get("/metrics").await;
        if crate::metric(&text, "patchbay_media_recordings").is_some_and(|n| n >= 1.0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no recording started within 5 s");
}

/// Root mean square of samples.
pub fn rms(s: &[i16]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
}

impl Stack {
    /// Wait (up to `secs`) for the first event of call `id` after `after` that `pick` accepts.
    pub async fn wait_event(
        &self,
        id: &CallId,
        secs: u64,
        pick: impl Fn(&EventKind) -> bool,
    ) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut after = 0;
        let mut seen = Vec::new();
        while tokio::time::Instant::now() < deadline {
            let evs = self
                .api
                .events(id, after, Duration::from_millis(500))
                .await
                .expect("events");
            for e in evs {
                after = e.seq;
                if pick(&e.kind) {
                    return e;
                }
                seen.push(e);
            }
        }
        panic!("no such event of {id} in {secs} s; saw {seen:?}");
    }
}

/// An application call from the demo tenant to `user`, whose phone is SIPp `scenario` with
/// `args` (ringing 200 ms): the call once answered, and the phone.
pub async fn app_call(
    stack: &Stack,
    user: &str,
    scenario: &str,
    args: &[&str],
) -> (patchbay_api::CallInfo, crate::Sipp) {
    let port = crate::free_port();
    stack.register(user, port).await;
    let mut all = vec!["-set", "ring_ms", "200"];
    all.extend_from_slice(args);
    let phone = crate::Sipp::phone(scenario, port, &all);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let call = stack
        .api
        .originate(&patchbay_api::OriginateRequest {
            tenant: "demo".into(),
            to: vec![user.into()],
            app: true,
            ..Default::default()
        })
        .await
        .expect("application call");
    stack
        .wait_event(&call.id, 10, |k| matches!(k, EventKind::Answered { .. }))
        .await;
    (call, phone)
}

/// [`app_call`] to 4007 whose phone (SIPp `scenario`) has its RTP on a [`RtpCapture`].
pub async fn app_call_captured(
    stack: &Stack,
    scenario: &str,
) -> (patchbay_api::CallInfo, crate::Sipp, RtpCapture) {
    let rtp = RtpCapture::new().await;
    let port = rtp.port().to_string();
    let (call, phone) = app_call(stack, "4007", scenario, &["-set", "rtpport", &port]).await;
    (call, phone, rtp)
}

/// A phone's outgoing stream: PCMA audio every 20 ms, continuous sequence numbers.
pub struct PhoneStream {
    sender: rtp::Sender,
    talking: bool,
}

impl Default for PhoneStream {
    fn default() -> Self {
        Self {
            sender: rtp::Sender::new(0x5eed, 1_000, 160_000),
            talking: false,
        }
    }
}

impl PhoneStream {
    /// 20 ms of `pcm` as one PCMA packet.
    pub fn audio(&mut self, pcm: &[i16; 160]) -> Vec<u8> {
        let mut payload = Vec::new();
        Law::A.encode(pcm, &mut payload);
        let mut out = Vec::new();
        self.sender.audio(8, !self.talking, &payload, 160, &mut out);
        self.talking = true;
        out
    }

    /// The packets of `keys` as a phone sends them: 100 ms of silence, then each key as RFC
    /// 4733 events (payload type 101; the end packet three times) followed by 100 ms of
    /// silence, all in one stream.
    pub fn rfc4733(&mut self, keys: &str) -> Vec<Vec<u8>> {
        use patchbay_media::engine::dtmf;
        let silence = [0i16; 160];
        let mut out: Vec<Vec<u8>> = (0..5).map(|_| self.audio(&silence)).collect();
        for key in keys.chars() {
            let start = self.sender.ts();
            for p in dtmf::key_packets(key, 100, 10).expect("a key") {
                let mut pkt = Vec::new();
                self.sender
                    .event(101, p.marker, start, &p.payload.bytes(), &mut pkt);
                if !p.payload.end {
                    self.sender.skip(160);
                }
                out.push(pkt);
            }
            self.talking = false;
            out.extend((0..5).map(|_| self.audio(&silence)));
        }
        out
    }

    /// `keys` as tones in the audio (100 ms each, 100 ms apart).
    pub fn inband(&mut self, keys: &str) -> Vec<Vec<u8>> {
        use patchbay_media::engine::tone::{ToneGen, dtmf};
        let mut out = Vec::new();
        for key in keys.chars() {
            let mut g = ToneGen::new(dtmf(key, 100, 100).expect("a key"));
            for _ in 0..10 {
                let mut pcm = [0i16; 160];
                g.fill(&mut pcm);
                out.push(self.audio(&pcm));
            }
        }
        out
    }
}

/// Send `packets` from the phone's socket to `to`, 20 ms apart.
pub async fn send_paced(sock: &UdpSocket, to: std::net::SocketAddr, packets: &[Vec<u8>]) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for p in packets {
        tick.tick().await;
        sock.send_to(p, to).await.expect("send rtp");
    }
}

/// A `play` on side A: a prompt `file` by name, or `text` to speak.
pub fn play(file: Option<&str>, text: Option<&str>, repeat: bool, barge_in: bool) -> MediaOp {
    MediaOp::Play(PlayRequest {
        side: Side::A,
        file: file.map(str::to_string),
        url: None,
        text: text.map(str::to_string),
        recording: None,
        voice: None,
        repeat,
        barge_in,
    })
}

/// A `collect` on side A (5 s for the first key, 3 s between keys).
pub fn collect(min_digits: usize, max_digits: usize, terminators: &str) -> MediaOp {
    MediaOp::Collect(CollectRequest {
        side: Side::A,
        min_digits,
        max_digits,
        terminators: terminators.into(),
        first_timeout_ms: 5_000,
        inter_timeout_ms: 3_000,
    })
}

impl Stack {
    /// Run a primitive on call `id`; its command id.
    pub async fn command(&self, id: &CallId, op: &MediaOp) -> u64 {
        self.api
            .primitive(id, op)
            .await
            .unwrap_or_else(|e| panic!("{op:?} refused: {e}"))
            .command
    }

    /// The completion event of `command` (waiting up to `secs`).
    pub async fn done(&self, id: &CallId, command: u64, secs: u64) -> Event {
        self.wait_event(id, secs, |k| match k {
            EventKind::PlayFinished { command: c, .. }
            | EventKind::Digits { command: c, .. }
            | EventKind::DtmfSent { command: c, .. }
            | EventKind::ToneFinished { command: c, .. } => *c == command,
            _ => false,
        })
        .await
    }
}

/// `s` as one phone's stream of PCMA packets (20 ms each).
pub fn phone_packets(s: &[i16]) -> Vec<Vec<u8>> {
    let mut ps = PhoneStream::default();
    s.chunks_exact(160)
        .map(|c| ps.audio(c.try_into().expect("160 samples")))
        .collect()
}

/// `s` as a phone hears it after PCMA (encoded, decoded).
pub fn pcma(s: &[i16]) -> Vec<i16> {
    let mut enc = Vec::new();
    Law::A.encode(s, &mut enc);
    let mut dec = Vec::new();
    Law::A.decode(&enc, &mut dec);
    dec
}

/// A caller-first click-to-call from 4005 to 4007 (SIPp phones answering after 200 ms, their
/// RTP on captures), `record`ed if asked, once bridged: the call, the phones and the captures
/// of A (4005) and B (4007).
pub async fn bridged_call_captured(
    stack: &Stack,
    record: bool,
) -> (
    patchbay_api::CallInfo,
    [crate::Sipp; 2],
    RtpCapture,
    RtpCapture,
) {
    let (p5, p7) = (crate::free_port(), crate::free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let (rtp5, rtp7) = (RtpCapture::new().await, RtpCapture::new().await);
    let phones = [
        crate::Sipp::answering(p5, 200, rtp5.port()),
        crate::Sipp::answering(p7, 200, rtp7.port()),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let call = stack
        .api
        .originate(&patchbay_api::OriginateRequest {
            record,
            ..crate::click_to_call("4005", &["4007"], patchbay_api::OriginateMode::CallerFirst)
        })
        .await
        .expect("click-to-call");
    stack
        .wait_event(&call.id, 10, |k| matches!(k, EventKind::Bridged))
        .await;
    (call, phones, rtp5, rtp7)
}

/// Phones that all talked at once (`signals[i]` from phone `i`, 1 s at 8 kHz) in one room:
/// what each received since `starts[i]` correlates with the sum of the others' signals
/// (> 0.85) and not with its own (< 0.3).
pub fn assert_each_hears_the_others(caps: &[&RtpCapture], starts: &[usize], signals: &[Vec<i16>]) {
    for (i, cap) in caps.iter().enumerate() {
        let got = &cap.audio()[starts[i]..];
        let others: Vec<i16> = (0..signals[i].len())
            .map(|n| {
                (0..signals.len())
                    .filter(|j| *j != i)
                    .map(|j| i32::from(signals[j][n]))
                    .sum::<i32>()
                    .clamp(-32_768, 32_767) as i16
            })
            .collect();
        let (c_others, _) = best_correlation(&pcma(&others), got);
        let (c_own, _) = best_correlation(&pcma(&signals[i]), got);
        assert!(c_others > 0.85, "phone {i} hears the others: {c_others:.3}");
        assert!(c_own < 0.3, "phone {i} does not hear itself: {c_own:.3}");
    }
}
