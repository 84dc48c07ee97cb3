//! RTP packets of the engine (RFC 3550 5.1): reading the header of what a phone sends, and
//! writing what the engine plays, with sequence numbers and timestamps that continue across
//! everything played into a leg, and across a move from the relay to the engine (the phone
//! must see one stream: same SSRC, no jump).

/// The header fields the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub pt: u8,
    pub marker: bool,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
}

/// The header and payload of an RTP packet; `None` for anything that is not RTP version 2 or
/// is cut short (CSRCs, header extension and padding are skipped).
pub fn parse(pkt: &[u8]) -> Option<(Header, &[u8])> {
    if pkt.len() < 12 || pkt[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(pkt[0] & 0x0f);
    let mut start = 12 + 4 * cc;
    if pkt[0] & 0x10 != 0 {
        let ext = pkt.get(start + 2..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    let mut end = pkt.len();
    if pkt[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*pkt.last()?))?;
    }
    let payload = pkt.get(start..end)?;
    let h = Header {
        pt: pkt[1] & 0x7f,
        marker: pkt[1] & 0x80 != 0,
        seq: u16::from_be_bytes([pkt[2], pkt[3]]),
        ts: u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]),
        ssrc: u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]),
    };
    Some((h, payload))
}

/// The stream the engine sends on one leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    ssrc: u32,
    /// Sequence number and timestamp of the next packet.
    seq: u16,
    ts: u32,
}

impl Sender {
    /// A new stream (random SSRC, sequence and timestamp come from the caller: no RNG here).
    pub fn new(ssrc: u32, seq: u16, ts: u32) -> Self {
        Self { ssrc, seq, ts }
    }

    /// The stream carried on after the last packet the phone got (`last`, e.g. forwarded by
    /// the relay), `elapsed` samples later: same SSRC, the next sequence number, the timestamp
    /// moved on by the time that passed.
    pub fn following(last: Header, elapsed: u32) -> Self {
        Self {
            ssrc: last.ssrc,
            seq: last.seq.wrapping_add(1),
            ts: last.ts.wrapping_add(elapsed.max(1)),
        }
    }

    /// The header the next packet will carry (with `pt` and `marker`).
    pub fn next_header(&self, pt: u8, marker: bool) -> Header {
        Header {
            pt,
            marker,
            seq: self.seq,
            ts: self.ts,
            ssrc: self.ssrc,
        }
    }

    /// Write an audio packet of `samples` samples (G.711: its payload length) into `out`;
    /// the stream moves on by one packet and that many samples.
    pub fn audio(&mut self, pt: u8, marker: bool, payload: &[u8], samples: u32, out: &mut Vec<u8>) {
        let h = self.next_header(pt, marker);
        write(h, payload, out);
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(samples);
    }

    /// Write a telephone-event packet: its timestamp is the event's start (`start`), the
    /// sequence moves on, the stream's clock does not (the caller moves it with
    /// [`Sender::skip`] as the event's time passes).
    pub fn event(&mut self, pt: u8, marker: bool, start: u32, payload: &[u8], out: &mut Vec<u8>) {
        let mut h = self.next_header(pt, marker);
        h.ts = start;
        write(h, payload, out);
        self.seq = self.seq.wrapping_add(1);
    }

    /// Let `samples` of time pass without a packet (silence not sent, or an event's span).
    pub fn skip(&mut self, samples: u32) {
        self.ts = self.ts.wrapping_add(samples);
    }

    pub fn ts(&self) -> u32 {
        self.ts
    }
}

fn write(h: Header, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(12 + payload.len());
    out.push(0x80);
    out.push((u8::from(h.marker) << 7) | (h.pt & 0x7f));
    out.extend_from_slice(&h.seq.to_be_bytes());
    out.extend_from_slice(&h.ts.to_be_bytes());
    out.extend_from_slice(&h.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_and_odd_ones_are_refused() {
        let mut s = Sender::new(0xdead_beef, 65_535, u32::MAX - 100);
        let mut buf = Vec::new();
        s.audio(8, true, &[0xd5; 160], 160, &mut buf);
        let (h, p) = parse(&buf).unwrap();
        assert_eq!(
            h,
            Header {
                pt: 8,
                marker: true,
                seq: 65_535,
                ts: u32::MAX - 100,
                ssrc: 0xdead_beef
            }
        );
        assert_eq!(p.len(), 160);
        s.audio(8, false, &[0xd5; 160], 160, &mut buf);
        let (h, _) = parse(&buf).unwrap();
        assert_eq!((h.seq, h.ts, h.marker), (0, 59, false), "both wrap");
        // CSRCs, an extension and padding are skipped.
        let mut odd = vec![0xb1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        odd.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        odd.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // extension, one word
        odd.extend_from_slice(&[1, 2, 3, 0, 0, 2]); // payload 1 2 3 0, 2 bytes of padding
        odd[0] |= 0x20;
        let (_, p) = parse(&odd).unwrap();
        assert_eq!(p, [1, 2, 3, 0]);
        assert_eq!(parse(&[0x40; 20]), None, "version 1");
        assert_eq!(parse(&[0x80; 8]), None, "too short");
        let mut lie = vec![0x80 | 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        lie.extend_from_slice(&[0; 8]);
        assert_eq!(parse(&lie), None, "15 CSRCs announced, 2 there");
    }

    #[test]
    fn a_stream_taken_over_from_the_relay_continues_it() {
        let last = Header {
            pt: 0,
            marker: false,
            seq: 41,
            ts: 16_000,
            ssrc: 77,
        };
        // 60 ms after the last forwarded packet.
        let mut s = Sender::following(last, 480);
        let mut buf = Vec::new();
        s.audio(0, true, &[0xff; 160], 160, &mut buf);
        let (h, _) = parse(&buf).unwrap();
        assert_eq!((h.ssrc, h.seq, h.ts, h.marker), (77, 42, 16_480, true));
        // A DTMF key: every packet at the event's start; time moves on separately.
        let start = s.ts();
        s.event(101, true, start, &[5, 0x0a, 0, 160], &mut buf);
        s.event(101, false, start, &[5, 0x0a, 1, 64], &mut buf);
        let (h, _) = parse(&buf).unwrap();
        assert_eq!((h.seq, h.ts), (44, 16_640));
        s.skip(320);
        assert_eq!(s.ts(), 16_960);
    }
}
