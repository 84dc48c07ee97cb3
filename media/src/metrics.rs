//! Prometheus metrics of the relay, updated live by the forwarding loops.
//!
//! Per packet the loop touches two counters (packets, bytes: one relaxed atomic add each). The
//! histograms are sampled so the hot path stays cheap: relay-added latency (receive returned ->
//! send returned, i.e. the time the packet spent in this process) on every 16th RTP packet of a
//! stream, interarrival jitter (RFC 3550 6.4.1) once every 50 RTP packets of a stream (once a
//! second at 20 ms packetisation). No per-call or per-tenant labels.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

/// Every RTP packet counts; latency is observed on one packet in this many.
pub(crate) const LATENCY_SAMPLE_EVERY: u64 = 16;
/// A stream's jitter estimate is observed once every this many RTP packets.
pub(crate) const JITTER_SAMPLE_EVERY: u64 = 50;

#[derive(Debug, Clone)]
pub struct RelayMetrics {
    pub(crate) packets: IntCounterVec,
    pub(crate) bytes: IntCounterVec,
    pub(crate) rtp_lost: IntCounter,
    dropped: IntCounterVec,
    pub(crate) foreign: IntCounter,
    pub(crate) undeliverable: IntCounter,
    pub(crate) latency: Histogram,
    pub(crate) jitter: Histogram,
    rtp_packets: IntCounter,
    rtcp_packets: IntCounter,
    rtp_bytes: IntCounter,
    rtcp_bytes: IntCounter,
}

impl RelayMetrics {
    pub(crate) fn new() -> Self {
        let packets = IntCounterVec::new(
            Opts::new(
                "patchbay_media_packets_relayed_total",
                "Packets forwarded by the relay, by protocol (rtp, rtcp).",
            ),
            &["proto"],
        )
        .expect("valid metric");
        let bytes = IntCounterVec::new(
            Opts::new(
                "patchbay_media_bytes_relayed_total",
                "Bytes forwarded by the relay, by protocol (rtp, rtcp).",
            ),
            &["proto"],
        )
        .expect("valid metric");
        let dropped = IntCounterVec::new(
            Opts::new(
                "patchbay_media_packets_dropped_total",
                "Packets not forwarded, by reason (foreign_source, undeliverable).",
            ),
            &["reason"],
        )
        .expect("valid metric");
        Self {
            foreign: dropped.with_label_values(&["foreign_source"]),
            undeliverable: dropped.with_label_values(&["undeliverable"]),
            rtp_packets: packets.with_label_values(&["rtp"]),
            rtcp_packets: packets.with_label_values(&["rtcp"]),
            rtp_bytes: bytes.with_label_values(&["rtp"]),
            rtcp_bytes: bytes.with_label_values(&["rtcp"]),
            packets,
            bytes,
            rtp_lost: IntCounter::new(
                "patchbay_media_rtp_lost_total",
                "RTP packets missing by sequence number, as seen arriving at the relay.",
            )
            .expect("valid metric"),
            dropped,
            latency: Histogram::with_opts(
                HistogramOpts::new(
                    "patchbay_media_relay_latency_seconds",
                    "Time an RTP packet spends in the relay (receive returned to send returned), sampled.",
                )
                .buckets(vec![
                    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001,
                    0.002_5, 0.005, 0.01,
                ]),
            )
            .expect("valid metric"),
            jitter: Histogram::with_opts(
                HistogramOpts::new(
                    "patchbay_media_rtp_jitter_seconds",
                    "RFC 3550 interarrival jitter of RTP streams arriving at the relay, sampled per stream.",
                )
                .buckets(vec![
                    0.000_1, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16,
                ]),
            )
            .expect("valid metric"),
        }
    }

    /// Add the relay's metrics to `registry` (once per registry).
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.packets.clone()))?;
        registry.register(Box::new(self.bytes.clone()))?;
        registry.register(Box::new(self.rtp_lost.clone()))?;
        registry.register(Box::new(self.dropped.clone()))?;
        registry.register(Box::new(self.latency.clone()))?;
        registry.register(Box::new(self.jitter.clone()))?;
        Ok(())
    }

    pub(crate) fn relayed(&self, rtcp: bool, n: usize) {
        if rtcp {
            self.rtcp_packets.inc();
            self.rtcp_bytes.inc_by(n as u64);
        } else {
            self.rtp_packets.inc();
            self.rtp_bytes.inc_by(n as u64);
        }
    }

    /// Total RTP packets relayed so far (for tests and the bench).
    pub fn rtp_packets(&self) -> u64 {
        self.rtp_packets.get()
    }
}

/// RFC 3550 6.4.1 interarrival jitter of one stream, in RTP timestamp units. The clock rate
/// comes from the codec agreed in SDP (see `LegMedia::set_audio_codecs`), else from the static
/// payload-type table; telephone-event packets are skipped (DTMF repeats timestamps by design).
#[derive(Debug, Default)]
pub(crate) struct Jitter {
    last: Option<(f64, u32)>,
    /// Estimate in timestamp units, and the clock it is in.
    j: f64,
    clock: u32,
}

impl Jitter {
    /// RTP clock of the static audio payload types (RFC 3551 table 4; G.722's RTP clock is
    /// 8 kHz by that table's historical error).
    pub(crate) fn static_clock(pt: u8) -> Option<u32> {
        match pt {
            0 | 3 | 4 | 5 | 7 | 8 | 9 | 12 | 13 | 15 | 18 => Some(8000),
            6 => Some(16000),
            10 | 11 => Some(44100),
            _ => None,
        }
    }

    /// Feed one packet: arrival time in seconds (any fixed origin), its RTP timestamp, and the
    /// stream's clock rate (a change of clock starts the estimate over).
    pub(crate) fn push(&mut self, arrival_s: f64, ts: u32, clock: u32) {
        if clock != self.clock {
            *self = Self {
                clock,
                ..Self::default()
            };
        }
        let r = arrival_s * f64::from(clock);
        if let Some((r0, ts0)) = self.last {
            let d = (r - r0) - f64::from(ts.wrapping_sub(ts0) as i32);
            self.j += (d.abs() - self.j) / 16.0;
        }
        self.last = Some((r, ts));
    }

    pub(crate) fn seconds(&self) -> f64 {
        if self.clock == 0 {
            return 0.0;
        }
        self.j / f64::from(self.clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_zero_for_a_steady_stream_and_grows_with_variation() {
        let mut j = Jitter::default();
        for i in 0..100u32 {
            j.push(f64::from(i) * 0.02, i * 160, 8000);
        }
        assert!(j.seconds() < 1e-9, "{}", j.seconds());
        // Every other packet 5 ms late: |D| = 40 units each step; J -> 40 units = 5 ms.
        for i in 100..1000u32 {
            let late = if i % 2 == 0 { 0.005 } else { 0.0 };
            j.push(f64::from(i) * 0.02 + late, i * 160, 8000);
        }
        assert!((j.seconds() - 0.005).abs() < 0.0005, "{}", j.seconds());
    }

    #[test]
    fn jitter_on_a_48_khz_clock() {
        // Opus: 960 timestamp units per 20 ms; every other packet 2 ms late -> 2 ms.
        let mut j = Jitter::default();
        for i in 0..1000u32 {
            let late = if i % 2 == 0 { 0.002 } else { 0.0 };
            j.push(f64::from(i) * 0.02 + late, i * 960, 48_000);
        }
        assert!((j.seconds() - 0.002).abs() < 0.0002, "{}", j.seconds());
    }

    #[test]
    fn jitter_survives_timestamp_wrap() {
        let mut j = Jitter::default();
        let base = u32::MAX - 320;
        for i in 0..10u32 {
            j.push(f64::from(i) * 0.02, base.wrapping_add(i * 160), 8000);
        }
        assert!(j.seconds() < 1e-9);
    }
}
