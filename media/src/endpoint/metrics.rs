//! Prometheus metrics of the media engine's legs.

use prometheus::{Counter, IntCounter, IntGauge, Registry};

#[derive(Debug, Clone)]
pub struct EngineMetrics {
    pub(crate) legs: IntGauge,
    pub(crate) packets: IntCounter,
    pub(crate) late: IntCounter,
    pub(crate) keys: IntCounter,
    pub(crate) recordings: IntGauge,
    pub(crate) recorded_seconds: Counter,
    pub(crate) recording_errors: IntCounter,
    pub(crate) conference_members: IntGauge,
    pub(crate) mixed_frames: IntCounter,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineMetrics {
    pub fn new() -> Self {
        Self {
            legs: IntGauge::new(
                "patchbay_media_engine_legs",
                "Legs the media engine serves now (prompts, digits, recording), not the relay.",
            )
            .expect("valid metric"),
            packets: IntCounter::new(
                "patchbay_media_engine_packets_sent_total",
                "RTP packets the media engine sent (prompts, tones, keys).",
            )
            .expect("valid metric"),
            late: IntCounter::new(
                "patchbay_media_engine_late_packets_total",
                "Packets the media engine sent more than 10 ms after their 20 ms slot.",
            )
            .expect("valid metric"),
            keys: IntCounter::new(
                "patchbay_media_engine_keys_received_total",
                "DTMF keys the media engine heard from phones (RFC 4733 or in-band), each once.",
            )
            .expect("valid metric"),
            recordings: IntGauge::new("patchbay_media_recordings", "Recordings being written now.")
                .expect("valid metric"),
            recorded_seconds: Counter::new(
                "patchbay_media_recorded_seconds_total",
                "Seconds of audio written to recordings (finished recordings).",
            )
            .expect("valid metric"),
            conference_members: IntGauge::new(
                "patchbay_media_conference_members",
                "Legs in conference rooms now.",
            )
            .expect("valid metric"),
            mixed_frames: IntCounter::new(
                "patchbay_media_conference_frames_mixed_total",
                "20 ms frames mixed for conference members (one per member per tick).",
            )
            .expect("valid metric"),
            recording_errors: IntCounter::new(
                "patchbay_media_recording_errors_total",
                "Recordings that could not be (completely) written.",
            )
            .expect("valid metric"),
        }
    }

    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.legs.clone()))?;
        registry.register(Box::new(self.packets.clone()))?;
        registry.register(Box::new(self.late.clone()))?;
        registry.register(Box::new(self.keys.clone()))?;
        registry.register(Box::new(self.recordings.clone()))?;
        registry.register(Box::new(self.recorded_seconds.clone()))?;
        registry.register(Box::new(self.recording_errors.clone()))?;
        registry.register(Box::new(self.conference_members.clone()))?;
        registry.register(Box::new(self.mixed_frames.clone()))?;
        Ok(())
    }

    /// Legs served now.
    pub fn legs(&self) -> i64 {
        self.legs.get()
    }

    pub fn packets_sent(&self) -> u64 {
        self.packets.get()
    }

    pub fn late_packets(&self) -> u64 {
        self.late.get()
    }

    /// Legs in conference rooms.
    pub fn conference_members(&self) -> i64 {
        self.conference_members.get()
    }

    /// Recordings being written.
    pub fn recordings(&self) -> i64 {
        self.recordings.get()
    }
}
