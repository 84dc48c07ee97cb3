//! Tones: one or two frequencies, on and off in a cadence, as 8 kHz linear samples.

use super::RATE;

/// A tone: frequencies (the second 0 for a single one), level, cadence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    pub f1: f32,
    pub f2: f32,
    /// Peak amplitude of each frequency (the sum stays below i16's range).
    pub amplitude: f32,
    /// Milliseconds on, then off; `off_ms` 0 means continuous.
    pub on_ms: u32,
    pub off_ms: u32,
}

/// North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
pub const RINGBACK: Tone = Tone {
    f1: 440.0,
    f2: 480.0,
    amplitude: 4_000.0,
    on_ms: 2_000,
    off_ms: 4_000,
};

/// Busy: 480 + 620 Hz, 0.5 s on, 0.5 s off.
pub const BUSY: Tone = Tone {
    f1: 480.0,
    f2: 620.0,
    amplitude: 4_000.0,
    on_ms: 500,
    off_ms: 500,
};

/// The beep before a recording: 1 kHz for 250 ms (then silence).
pub const BEEP: Tone = Tone {
    f1: 1_000.0,
    f2: 0.0,
    amplitude: 6_000.0,
    on_ms: 250,
    off_ms: u32::MAX,
};

/// A conference member joined: 660 Hz for 150 ms.
pub const JOINED: Tone = Tone {
    f1: 660.0,
    f2: 0.0,
    amplitude: 4_000.0,
    on_ms: 150,
    off_ms: u32::MAX,
};

/// A conference member left: 440 Hz for 150 ms.
pub const LEFT: Tone = Tone {
    f1: 440.0,
    f2: 0.0,
    amplitude: 4_000.0,
    on_ms: 150,
    off_ms: u32::MAX,
};

/// The DTMF tone of a key (row + column frequency), `on_ms` long then `off_ms` of silence.
pub fn dtmf(key: char, on_ms: u32, off_ms: u32) -> Option<Tone> {
    const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const PAD: [&[u8; 4]; 4] = [b"123A", b"456B", b"789C", b"*0#D"];
    let k = key.to_ascii_uppercase() as u8;
    let (r, c) = PAD
        .iter()
        .enumerate()
        .find_map(|(r, row)| row.iter().position(|&x| x == k).map(|c| (r, c)))?;
    Some(Tone {
        f1: ROWS[r],
        f2: COLS[c],
        amplitude: 6_000.0,
        on_ms,
        off_ms,
    })
}

/// Generates a tone's samples, continuing where the last call stopped.
#[derive(Debug, Clone)]
pub struct ToneGen {
    tone: Tone,
    /// Samples generated so far.
    n: u64,
}

impl ToneGen {
    pub fn new(tone: Tone) -> Self {
        Self { tone, n: 0 }
    }

    /// Whether a tone that does not repeat (`off_ms` `u32::MAX`) is over.
    pub fn done(&self) -> bool {
        self.tone.off_ms == u32::MAX
            && self.n >= u64::from(self.tone.on_ms) * u64::from(RATE) / 1000
    }

    /// Fill `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        let t = self.tone;
        let on = u64::from(t.on_ms) * u64::from(RATE) / 1000;
        let period = if t.off_ms == 0 || t.off_ms == u32::MAX {
            None
        } else {
            Some(on + u64::from(t.off_ms) * u64::from(RATE) / 1000)
        };
        let w1 = 2.0 * std::f64::consts::PI * f64::from(t.f1) / f64::from(RATE);
        let w2 = 2.0 * std::f64::consts::PI * f64::from(t.f2) / f64::from(RATE);
        for s in out.iter_mut() {
            let pos = period.map_or(self.n, |p| self.n % p);
            let sounding = t.off_ms == 0 || pos < on;
            *s = if sounding {
                let n = self.n as f64;
                let mut v = (w1 * n).sin();
                if t.f2 > 0.0 {
                    v += (w2 * n).sin();
                }
                (v * f64::from(t.amplitude)) as i16
            } else {
                0
            };
            self.n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy(s: &[i16]) -> f64 {
        s.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / s.len() as f64
    }

    #[test]
    fn cadence_sounds_then_falls_silent() {
        let mut g = ToneGen::new(BUSY);
        let mut buf = vec![0i16; 8_000]; // one second: 0.5 s on, 0.5 s off
        g.fill(&mut buf);
        assert!(energy(&buf[..4_000]) > 1e6);
        assert_eq!(energy(&buf[4_000..]), 0.0);
        let mut beep = ToneGen::new(BEEP);
        let mut b = vec![0i16; 4_000];
        beep.fill(&mut b);
        assert!(beep.done());
        assert!(energy(&b[..2_000]) > 1e6 && energy(&b[2_000..]) == 0.0);
        assert!(dtmf('5', 100, 50).is_some_and(|t| t.f1 == 770.0 && t.f2 == 1336.0));
        assert!(dtmf('x', 100, 50).is_none());
    }
}
