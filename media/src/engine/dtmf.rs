//! RFC 4733 telephone-events (DTMF as RTP): the 4-byte payload, a key's packets for sending,
//! and a receiver that reports each key once.
//!
//! An event's packets all carry the RTP timestamp of its start; the duration grows in each;
//! the last three carry the end bit. A receiver sees retransmissions and repeated end packets
//! with the same (SSRC, timestamp): one key per such pair, reported when its first packet
//! arrives (the key "as pressed"), even if that first packet is an end packet (the earlier ones
//! were lost).

/// The sixteen DTMF keys, by RFC 4733 event code (0-15).
const KEYS: &[u8; 16] = b"0123456789*#ABCD";

/// The event code of a key (`0`-`9`, `*`, `#`, `A`-`D`).
pub fn event_of(key: char) -> Option<u8> {
    let k = key.to_ascii_uppercase() as u8;
    KEYS.iter().position(|&c| c == k).map(|i| i as u8)
}

/// The key of an event code, for codes 0-15 (other events, e.g. flash, are not keys).
pub fn key_of(event: u8) -> Option<char> {
    KEYS.get(usize::from(event)).map(|&c| c as char)
}

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    pub event: u8,
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units (samples at 8 kHz).
    pub duration: u16,
}

impl Payload {
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < 4 {
            return None;
        }
        Some(Self {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    pub fn bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }
}

/// One packet of a key being sent: the payload and whether it carries the marker bit (the
/// first of the event). All packets of a key share the RTP timestamp of its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    pub payload: Payload,
    pub marker: bool,
}

/// The packets of `key` held `duration_ms` (at least one 20 ms packet), one per 20 ms, then
/// the end packet three times (RFC 4733 2.5.1.4). `None` for a character that is no key.
pub fn key_packets(key: char, duration_ms: u32, volume: u8) -> Option<Vec<EventPacket>> {
    let event = event_of(key)?;
    let step = (crate::engine::FRAME) as u32; // 20 ms in timestamp units
    let total = (duration_ms.max(20) * crate::engine::RATE / 1000).min(u32::from(u16::MAX));
    let mut out = Vec::new();
    let mut d = step;
    while d < total {
        out.push(EventPacket {
            payload: Payload {
                event,
                end: false,
                volume,
                duration: d as u16,
            },
            marker: out.is_empty(),
        });
        d += step;
    }
    for _ in 0..3 {
        out.push(EventPacket {
            payload: Payload {
                event,
                end: true,
                volume,
                duration: total as u16,
            },
            marker: out.is_empty(),
        });
    }
    Some(out)
}

/// Reports each key of a stream once.
#[derive(Debug, Default)]
pub struct Receiver {
    /// The (SSRC, timestamp) of the last events reported (a late retransmission of an earlier
    /// event is not a new key).
    seen: std::collections::VecDeque<(u32, u32)>,
}

impl Receiver {
    /// A telephone-event packet of `ssrc` with RTP `timestamp`: the key it starts, if it is
    /// the first packet seen of its event.
    pub fn on_packet(&mut self, ssrc: u32, timestamp: u32, payload: &[u8]) -> Option<char> {
        let p = Payload::parse(payload)?;
        let key = key_of(p.event)?;
        if self.seen.contains(&(ssrc, timestamp)) {
            return None;
        }
        if self.seen.len() == 8 {
            self.seen.pop_front();
        }
        self.seen.push_back((ssrc, timestamp));
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_keys_map() {
        let p = Payload {
            event: 11,
            end: true,
            volume: 10,
            duration: 1_600,
        };
        assert_eq!(Payload::parse(&p.bytes()), Some(p));
        assert_eq!(p.bytes(), [11, 0x8a, 0x06, 0x40]);
        assert_eq!(event_of('#'), Some(11));
        assert_eq!(event_of('d'), Some(15));
        assert_eq!(key_of(10), Some('*'));
        assert_eq!(key_of(16), None, "flash is no key");
        assert_eq!(event_of('x'), None);
        assert_eq!(Payload::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn a_key_is_sent_as_growing_durations_then_three_ends() {
        let pkts = key_packets('5', 100, 10).unwrap();
        let durations: Vec<u16> = pkts.iter().map(|p| p.payload.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        assert!(pkts[0].marker && pkts[1..].iter().all(|p| !p.marker));
        assert_eq!(pkts.iter().filter(|p| p.payload.end).count(), 3);
        assert!(pkts.iter().all(|p| p.payload.event == 5));
    }

    #[test]
    fn the_receiver_reports_each_key_once_whatever_is_repeated_or_lost() {
        let mut rx = Receiver::default();
        let mut keys = Vec::new();
        // "1", "2", "1" as three events (timestamps 1000, 3000, 5000); every packet of each,
        // the end packets three times, and one event of which only an end packet arrives.
        for (ts, key) in [(1_000u32, '1'), (3_000, '2'), (5_000, '1')] {
            for p in key_packets(key, 80, 10).unwrap() {
                keys.extend(rx.on_packet(7, ts, &p.payload.bytes()));
            }
        }
        let end_only = key_packets('#', 60, 10).unwrap();
        keys.extend(rx.on_packet(7, 7_000, &end_only.last().unwrap().payload.bytes()));
        assert_eq!(keys, ['1', '2', '1', '#']);
        // Late retransmissions of this event and of an earlier one: not reported twice.
        assert_eq!(rx.on_packet(7, 7_000, &end_only[0].payload.bytes()), None);
        assert_eq!(rx.on_packet(7, 3_000, &end_only[0].payload.bytes()), None);
    }
}
