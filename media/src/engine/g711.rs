//! G.711 frames: μ-law (PCMU, payload type 0) and A-law (PCMA, 8), one byte a sample, with
//! rvoip-codec-core's reference conversions (library name `codec_core`).

use codec_core::codecs::g711::{alaw_compress, alaw_expand, ulaw_compress, ulaw_expand};

/// A G.711 law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    Mu,
    A,
}

impl Law {
    /// The law of a static RTP payload type (0 PCMU, 8 PCMA).
    pub fn from_pt(pt: u8) -> Option<Self> {
        match pt {
            0 => Some(Law::Mu),
            8 => Some(Law::A),
            _ => None,
        }
    }

    pub fn pt(self) -> u8 {
        match self {
            Law::Mu => 0,
            Law::A => 8,
        }
    }

    /// The byte a silent sample encodes to (for comfort frames).
    pub fn silence(self) -> u8 {
        self.encode_sample(0)
    }

    pub fn encode_sample(self, s: i16) -> u8 {
        match self {
            Law::Mu => ulaw_compress(s),
            Law::A => alaw_compress(s),
        }
    }

    pub fn decode_sample(self, b: u8) -> i16 {
        match self {
            Law::Mu => ulaw_expand(b),
            Law::A => alaw_expand(b),
        }
    }

    /// Encode `samples` onto the end of `out` (no allocation when `out` has room).
    pub fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        out.extend(samples.iter().map(|&s| self.encode_sample(s)));
    }

    /// Decode `bytes` onto the end of `out`.
    pub fn decode(self, bytes: &[u8], out: &mut Vec<i16>) {
        out.extend(bytes.iter().map(|&b| self.decode_sample(b)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_laws_round_trip_within_their_quantisation() {
        let samples: Vec<i16> = (-32_000..32_000).step_by(997).map(|s| s as i16).collect();
        for law in [Law::Mu, Law::A] {
            let mut bytes = Vec::new();
            law.encode(&samples, &mut bytes);
            let mut back = Vec::new();
            law.decode(&bytes, &mut back);
            for (a, b) in samples.iter().zip(&back) {
                let err = (i32::from(*a) - i32::from(*b)).abs();
                // Logarithmic steps: the error grows with the magnitude, ~3 % at most.
                assert!(
                    err <= i32::from(a.unsigned_abs() / 16).max(16),
                    "{law:?}: {a} -> {b}"
                );
            }
            assert!(law.decode_sample(law.silence()).abs() < 16);
            assert_eq!(Law::from_pt(law.pt()), Some(law));
        }
        assert_eq!(Law::from_pt(18), None);
    }
}
