//! In-band DTMF detection (for legs without telephone-event): the Goertzel algorithm on
//! blocks of 205 samples at 8 kHz (~25.6 ms), the classic choice for the eight DTMF
//! frequencies. A key is reported once when two consecutive blocks agree on it, and again only
//! after a block without it.

const N: usize = 205;
const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const PAD: [&[u8; 4]; 4] = [b"123A", b"456B", b"789C", b"*0#D"];

/// The power of `f` in `block` (Goertzel).
fn power(block: &[f32], f: f32) -> f32 {
    let k = (0.5 + N as f32 * f / super::RATE as f32).floor();
    let w = 2.0 * std::f32::consts::PI * k / N as f32;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in block {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The key in one block, if its row and column tones stand out.
fn key_in(block: &[f32]) -> Option<char> {
    let rows: Vec<f32> = ROWS.iter().map(|&f| power(block, f)).collect();
    let cols: Vec<f32> = COLS.iter().map(|&f| power(block, f)).collect();
    let best = |v: &[f32]| {
        let (i, &p) = v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        // The strongest must beat every other candidate of its group clearly (x6, ~8 dB).
        v.iter()
            .enumerate()
            .all(|(j, &q)| j == i || q * 6.0 < p)
            .then_some((i, p))
    };
    let (r, pr) = best(&rows)?;
    let (c, pc) = best(&cols)?;
    // Both tones present with the bulk of the block's energy, twist within ~8 dB.
    let total: f32 = block.iter().map(|x| x * x).sum::<f32>() * N as f32 / 2.0;
    if total <= 0.0 || (pr + pc) < 0.4 * total || pr > 6.0 * pc || pc > 6.0 * pr {
        return None;
    }
    Some(PAD[r][c] as char)
}

/// Finds DTMF keys in a stream of samples.
#[derive(Debug, Default)]
pub struct Detector {
    block: Vec<f32>,
    /// The key of the previous block, and whether it was reported.
    prev: Option<char>,
    reported: bool,
}

impl Detector {
    /// Feed samples; the keys that started in them, in order.
    pub fn push(&mut self, samples: &[i16]) -> Vec<char> {
        let mut out = Vec::new();
        for &s in samples {
            self.block.push(f32::from(s));
            if self.block.len() < N {
                continue;
            }
            let key = key_in(&self.block);
            self.block.clear();
            match key {
                Some(k) if self.prev == Some(k) => {
                    if !self.reported {
                        out.push(k);
                        self.reported = true;
                    }
                }
                other => {
                    self.prev = other;
                    self.reported = false;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tone::{Tone, ToneGen, dtmf};

    fn render(tone: Tone, ms: u32) -> Vec<i16> {
        let mut buf = vec![0i16; (ms * 8) as usize];
        ToneGen::new(tone).fill(&mut buf);
        buf
    }

    #[test]
    fn finds_each_key_once_in_a_dialled_sequence() {
        let mut d = Detector::default();
        let mut found = Vec::new();
        for key in "159#*0D".chars() {
            let tone = dtmf(key, 80, 60).unwrap();
            found.extend(d.push(&render(tone, 140)));
        }
        assert_eq!(found.iter().collect::<String>(), "159#*0D");
    }

    #[test]
    fn speech_like_tones_and_silence_are_no_keys() {
        let mut d = Detector::default();
        let single = Tone {
            f1: 1_000.0,
            f2: 0.0,
            amplitude: 8_000.0,
            on_ms: 500,
            off_ms: 0,
        };
        let chord = Tone {
            f1: 440.0,
            f2: 480.0,
            amplitude: 8_000.0,
            on_ms: 500,
            off_ms: 0,
        };
        assert!(d.push(&render(single, 500)).is_empty());
        assert!(d.push(&render(chord, 500)).is_empty());
        assert!(d.push(&vec![0i16; 4_000]).is_empty());
        // A key too short for two blocks (20 ms) is not reported either.
        assert!(d.push(&render(dtmf('7', 20, 100).unwrap(), 120)).is_empty());
    }
}
