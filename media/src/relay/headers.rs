//! RTP header work of the forwarding loop: sequence loss tracking, and carrying a phone's
//! stream on after the engine spoke to it.

/// How the relay carries on a phone's stream after the engine spoke to it: its own SSRC, and
/// the forwarded packets' sequence numbers and timestamps moved by fixed offsets so that the
/// first follows the engine's last packet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rewrite {
    ssrc: u32,
    seq: u16,
    ts: u32,
}

impl Rewrite {
    /// Offsets making `pkt` the packet after `last` (one 20 ms frame later).
    pub(super) fn after(last: crate::engine::rtp::Header, pkt: &[u8]) -> Option<Self> {
        if pkt.len() < 12 || pkt[0] >> 6 != 2 {
            return None;
        }
        let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
        let ts = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]);
        Some(Self {
            ssrc: last.ssrc,
            seq: last.seq.wrapping_add(1).wrapping_sub(seq),
            ts: last
                .ts
                .wrapping_add(crate::engine::FRAME as u32)
                .wrapping_sub(ts),
        })
    }

    pub(super) fn apply(&self, pkt: &mut [u8]) {
        if pkt.len() < 12 || pkt[0] >> 6 != 2 {
            return;
        }
        let seq = u16::from_be_bytes([pkt[2], pkt[3]]).wrapping_add(self.seq);
        let ts = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]).wrapping_add(self.ts);
        pkt[2..4].copy_from_slice(&seq.to_be_bytes());
        pkt[4..8].copy_from_slice(&ts.to_be_bytes());
        pkt[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
    }
}

/// RFC 3550 A.1-style extended sequence tracking: lost = expected - received.
#[derive(Debug, Default)]
pub(super) struct SeqTracker {
    started: bool,
    base: u64,
    max_ext: u64,
    received: u64,
}

impl SeqTracker {
    pub(super) fn push(&mut self, s: u16) -> u64 {
        let s = u64::from(s);
        if !self.started {
            self.started = true;
            self.base = s;
            self.max_ext = s;
            self.received = 1;
            return 0;
        }
        self.received += 1;
        let cycles = self.max_ext & !0xffff;
        let cur = self.max_ext & 0xffff;
        let ext = if s < cur && cur - s > 0x8000 {
            cycles + 0x1_0000 + s // wrapped forward
        } else if s > cur && s - cur > 0x8000 {
            (cycles + s).saturating_sub(0x1_0000) // late packet from before a wrap
        } else {
            cycles + s
        };
        self.max_ext = self.max_ext.max(ext);
        (self.max_ext - self.base + 1).saturating_sub(self.received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_tracker_counts_gaps_and_wraps() {
        let mut t = SeqTracker::default();
        for s in [65533u16, 65534, 65535, 0, 2, 3] {
            t.push(s);
        }
        assert_eq!(t.push(4), 1);
    }

    #[test]
    fn a_rewrite_makes_the_next_packet_follow_the_last_one_sent() {
        let last = crate::engine::rtp::Header {
            pt: 0,
            marker: false,
            ssrc: 77,
            seq: 500,
            ts: 9_000,
        };
        let mut pkt = [0u8; 20];
        pkt[0] = 0x80;
        pkt[2..4].copy_from_slice(&40u16.to_be_bytes());
        pkt[4..8].copy_from_slice(&123_456u32.to_be_bytes());
        pkt[8..12].copy_from_slice(&5u32.to_be_bytes());
        let r = Rewrite::after(last, &pkt).unwrap();
        r.apply(&mut pkt);
        assert_eq!(u16::from_be_bytes([pkt[2], pkt[3]]), 501);
        assert_eq!(u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]), 9_160);
        assert_eq!(u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]), 77);
        // The next one from the same source keeps the offsets.
        pkt[2..4].copy_from_slice(&41u16.to_be_bytes());
        pkt[4..8].copy_from_slice(&123_616u32.to_be_bytes());
        r.apply(&mut pkt);
        assert_eq!(u16::from_be_bytes([pkt[2], pkt[3]]), 502);
        assert_eq!(u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]), 9_320);
        assert!(Rewrite::after(last, &[0u8; 4]).is_none());
    }
}
