//! What a phone sends, as 20 ms frames for a recording or a mix: RTP packets in (G.711 audio
//! decoded, placed by their timestamps so that a lost packet becomes silence of its length
//! and a late or repeated one is dropped; telephone-events reported as keys, each once),
//! one frame out per tick. A small cushion (two frames) absorbs arrival jitter; a backlog
//! beyond the channel's limit (a burst, or a clock running fast) is cut back to the cushion:
//! [`MAX_BACKLOG`] for a mix, where delay is heard, [`RECORDING_BACKLOG`] for a recording,
//! where only losing audio matters (a stalled phone or recorder catches up without a cut).

use super::g711::Law;
use super::{FRAME, dtmf, rtp};
use std::collections::VecDeque;

/// Frames buffered before output starts (and again after running dry).
const CUSHION: usize = 2 * FRAME;
/// Most samples kept waiting for a mix (300 ms).
pub const MAX_BACKLOG: usize = 15 * FRAME;
/// Most samples kept waiting for a recording (3 s).
pub const RECORDING_BACKLOG: usize = 150 * FRAME;
/// Longest gap filled with silence (1 s); a longer jump is a new talkspurt, not a loss.
const MAX_GAP: u32 = 8_000;

/// One phone's stream.
#[derive(Debug, Default)]
pub struct Channel {
    te_pt: Option<u8>,
    buf: VecDeque<i16>,
    /// The timestamp the next audio packet should carry.
    next_ts: Option<u32>,
    ssrc: u32,
    primed: bool,
    keys: dtmf::Receiver,
    decoded: Vec<i16>,
    max_backlog: usize,
}

impl Channel {
    /// A channel for a mix whose phone agreed on telephone-event with payload type `te_pt`.
    pub fn new(te_pt: Option<u8>) -> Self {
        Self::with_backlog(te_pt, MAX_BACKLOG)
    }

    /// A channel keeping up to `max_backlog` samples waiting.
    pub fn with_backlog(te_pt: Option<u8>, max_backlog: usize) -> Self {
        Self {
            te_pt,
            max_backlog: max_backlog.max(CUSHION),
            ..Self::default()
        }
    }

    /// An RTP packet from the phone; the key it starts, if it is a new telephone-event.
    pub fn push(&mut self, pkt: &[u8]) -> Option<char> {
        let (h, payload) = rtp::parse(pkt)?;
        if Some(h.pt) == self.te_pt {
            return self.keys.on_packet(h.ssrc, h.ts, payload);
        }
        let law = Law::from_pt(h.pt)?;
        if let Some(next) = self.next_ts.filter(|_| h.ssrc == self.ssrc) {
            let ahead = h.ts.wrapping_sub(next);
            if ahead > u32::MAX / 2 {
                return None; // late or repeated
            }
            if ahead > 0 && ahead <= MAX_GAP {
                self.buf.extend(std::iter::repeat_n(0, ahead as usize));
            }
        }
        self.decoded.clear();
        law.decode(payload, &mut self.decoded);
        self.ssrc = h.ssrc;
        self.next_ts = Some(h.ts.wrapping_add(self.decoded.len() as u32));
        self.buf.extend(self.decoded.iter().copied());
        if self.buf.len() > self.max_backlog {
            let cut = self.buf.len() - CUSHION;
            self.buf.drain(..cut);
        }
        None
    }

    /// The next 20 ms (silence while nothing has arrived).
    pub fn frame(&mut self, out: &mut [i16; FRAME]) {
        if !self.primed && self.buf.len() >= CUSHION {
            self.primed = true;
        }
        if !self.primed || self.buf.len() < FRAME {
            // Not started, or ran dry: silence until the cushion is back.
            self.primed = false;
            out.fill(0);
            return;
        }
        for (o, s) in out.iter_mut().zip(self.buf.drain(..FRAME)) {
            *o = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rtp::Sender;

    fn packets(n: usize, start: i16) -> Vec<Vec<u8>> {
        let mut tx = Sender::new(1, 100, 8_000);
        (0..n)
            .map(|i| {
                let pcm = [start + i as i16 * 100; FRAME];
                let mut payload = Vec::new();
                Law::A.encode(&pcm, &mut payload);
                let mut out = Vec::new();
                tx.audio(8, i == 0, &payload, FRAME as u32, &mut out);
                out
            })
            .collect()
    }

    fn level(f: &[i16; FRAME]) -> i16 {
        f[80]
    }

    #[test]
    fn frames_come_out_in_order_after_a_cushion_with_losses_as_silence() {
        let p = packets(6, 1_000);
        let mut ch = Channel::new(Some(101));
        let mut f = [0i16; FRAME];
        ch.frame(&mut f);
        assert_eq!(level(&f), 0, "nothing yet");
        ch.push(&p[0]);
        ch.frame(&mut f);
        assert_eq!(level(&f), 0, "one frame is not a cushion yet");
        ch.push(&p[1]);
        ch.push(&p[1]); // repeated: dropped
        ch.push(&p[3]); // p[2] lost: silence in its place
        ch.push(&p[2]); // arrives too late: dropped
        let mut got = Vec::new();
        for _ in 0..4 {
            ch.frame(&mut f);
            got.push(level(&f));
        }
        let a = |x: i16| Law::A.decode_sample(Law::A.encode_sample(x));
        assert_eq!(got, [a(1_000), a(1_100), 0, a(1_300)]);
        ch.frame(&mut f);
        assert_eq!(level(&f), 0, "ran dry: silence, then a new cushion");
    }

    #[test]
    fn a_backlog_is_cut_and_keys_are_reported_once() {
        let p = packets(40, 0);
        let mut ch = Channel::new(Some(101));
        for pkt in &p {
            ch.push(pkt);
        }
        assert!(ch.buf.len() <= MAX_BACKLOG);
        let key = crate::engine::dtmf::key_packets('#', 100, 10).unwrap();
        let mut tx = Sender::new(1, 500, 90_000);
        let mut keys = Vec::new();
        for k in &key {
            let mut out = Vec::new();
            tx.event(101, k.marker, 90_000, &k.payload.bytes(), &mut out);
            keys.extend(ch.push(&out));
        }
        assert_eq!(keys, ['#']);
    }

    #[test]
    fn a_recording_channel_keeps_a_burst_after_a_stall() {
        // One second of audio arriving at once (the phone or the recorder stalled): a
        // recording keeps every frame, in order.
        let p = packets(50, 0);
        let mut ch = Channel::with_backlog(None, RECORDING_BACKLOG);
        for pkt in &p {
            ch.push(pkt);
        }
        let a = |x: i16| Law::A.decode_sample(Law::A.encode_sample(x));
        let mut f = [0i16; FRAME];
        let got: Vec<i16> = (0..50)
            .map(|_| {
                ch.frame(&mut f);
                level(&f)
            })
            .collect();
        let want: Vec<i16> = (0..50).map(|i| a(i * 100)).collect();
        assert_eq!(got, want);
    }
}
