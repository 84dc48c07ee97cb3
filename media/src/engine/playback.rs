//! Playing a prompt into a leg: 20 ms frames of its samples (the last one padded with
//! silence), once or looped (hold music), encoded in the leg's G.711 law and packed by the
//! leg's [`Sender`](super::rtp::Sender): the talkspurt's first packet carries the marker bit.
//! The pacing (a packet every 20 ms) belongs to the I/O loop that calls [`Playback::packet`].

use super::FRAME;
use super::g711::Law;
use super::rtp::Sender;
use std::sync::Arc;

/// A prompt being played.
#[derive(Debug, Clone)]
pub struct Playback {
    samples: Arc<[i16]>,
    pos: usize,
    repeat: bool,
    started: bool,
    frame: Vec<u8>,
}

impl Playback {
    /// `samples` at 8 kHz, shared (a cached prompt is played to many legs at once).
    pub fn new(samples: Arc<[i16]>, repeat: bool) -> Self {
        Self {
            samples,
            pos: 0,
            repeat,
            started: false,
            frame: Vec::with_capacity(FRAME),
        }
    }

    /// Whether a prompt played once is over (a looped one never is).
    pub fn done(&self) -> bool {
        !self.repeat && self.pos >= self.samples.len()
    }

    /// Milliseconds played so far (of the current loop).
    pub fn position_ms(&self) -> u64 {
        self.pos as u64 * 1000 / u64::from(super::RATE)
    }

    /// The next 20 ms of samples into `out` (silence past the end); `false` once a prompt
    /// played once is over.
    pub fn next_frame(&mut self, out: &mut [i16; FRAME]) -> bool {
        if self.samples.is_empty() || self.done() {
            return false;
        }
        for s in out.iter_mut() {
            if self.pos >= self.samples.len() {
                if self.repeat {
                    self.pos = 0;
                } else {
                    *s = 0;
                    continue;
                }
            }
            *s = self.samples[self.pos];
            self.pos += 1;
        }
        true
    }

    /// The next RTP packet of the prompt for a leg speaking `law`, written into `out` by the
    /// leg's `sender`; `false` (nothing written) once the prompt is over.
    pub fn packet(&mut self, sender: &mut Sender, law: Law, out: &mut Vec<u8>) -> bool {
        let mut pcm = [0i16; FRAME];
        if !self.next_frame(&mut pcm) {
            return false;
        }
        self.frame.clear();
        law.encode(&pcm, &mut self.frame);
        let marker = !self.started;
        self.started = true;
        sender.audio(law.pt(), marker, &self.frame, FRAME as u32, out);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rtp;

    fn prompt(n: usize) -> Arc<[i16]> {
        (0..n)
            .map(|i| ((i as f32 * 0.3).sin() * 10_000.0) as i16)
            .collect::<Vec<_>>()
            .into()
    }

    #[test]
    fn a_prompt_becomes_paced_frames_that_decode_back_to_it() {
        let samples = prompt(1_000);
        let mut p = Playback::new(samples.clone(), false);
        let mut s = rtp::Sender::new(9, 100, 8_000);
        let (mut buf, mut decoded, mut headers) = (Vec::new(), Vec::new(), Vec::new());
        while p.packet(&mut s, Law::A, &mut buf) {
            let (h, payload) = rtp::parse(&buf).unwrap();
            headers.push(h);
            Law::A.decode(payload, &mut decoded);
        }
        assert_eq!(
            headers.len(),
            7,
            "1,000 samples: six full frames and a padded one"
        );
        assert!(headers[0].marker && headers[1..].iter().all(|h| !h.marker));
        assert!(
            headers
                .windows(2)
                .all(|w| w[1].seq == w[0].seq + 1 && w[1].ts == w[0].ts + 160)
        );
        assert_eq!(headers[0].pt, 8);
        for (a, b) in samples.iter().zip(&decoded) {
            assert!((i32::from(*a) - i32::from(*b)).abs() <= 400, "{a} vs {b}");
        }
        assert!(
            decoded[1_000..].iter().all(|&x| x.abs() < 16),
            "padding is silence"
        );
        assert!(p.done());
    }

    #[test]
    fn hold_music_loops_and_empty_prompts_end_at_once() {
        let mut p = Playback::new(prompt(200), true);
        let mut f = [0i16; FRAME];
        for _ in 0..50 {
            assert!(p.next_frame(&mut f));
        }
        assert!(!p.done());
        let mut empty = Playback::new(Vec::new().into(), true);
        assert!(!empty.next_frame(&mut f));
    }
}
