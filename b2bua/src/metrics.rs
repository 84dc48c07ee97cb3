//! Prometheus metrics of the B2BUA (and of the relay it drives). Labels are bounded enums.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Debug, Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub calls_started: IntCounterVec,
    pub calls_ended: IntCounterVec,
    pub calls_active: IntGauge,
    pub setups_in_flight: IntGauge,
    pub sip_requests: IntCounterVec,
    pub sip_rejected: IntCounterVec,
    pub registrations: IntGauge,
    pub auth_failures: IntCounterVec,
    pub rtp_packets: IntCounter,
    pub rtp_bytes: IntCounter,
    pub rtp_lost: IntCounter,
    pub rtp_ports_in_use: IntGauge,
    pub cdr_write_errors: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let cv = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let c = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let g = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        Self {
            calls_started: cv(
                "patchbay_b2bua_calls_started_total",
                "Calls created, by direction.",
                &["direction"],
            ),
            calls_ended: cv(
                "patchbay_b2bua_calls_ended_total",
                "Calls ended, by cause.",
                &["cause"],
            ),
            calls_active: g("patchbay_b2bua_calls_active", "Calls alive (any state)."),
            setups_in_flight: g("patchbay_b2bua_setups_in_flight", "Calls not yet bridged."),
            sip_requests: cv(
                "patchbay_b2bua_sip_requests_total",
                "SIP requests received, by method.",
                &["method"],
            ),
            sip_rejected: cv(
                "patchbay_b2bua_sip_rejected_total",
                "Requests refused by us, by status.",
                &["status"],
            ),
            registrations: g("patchbay_b2bua_registrations", "Registered contacts."),
            auth_failures: cv(
                "patchbay_b2bua_auth_failures_total",
                "SIP digest failures, by reason.",
                &["reason"],
            ),
            rtp_packets: c(
                "patchbay_media_rtp_packets_total",
                "RTP packets relayed (ended calls).",
            ),
            rtp_bytes: c(
                "patchbay_media_rtp_bytes_total",
                "RTP bytes relayed (ended calls).",
            ),
            rtp_lost: c(
                "patchbay_media_rtp_lost_total",
                "RTP packets missing by sequence (ended calls).",
            ),
            rtp_ports_in_use: g(
                "patchbay_media_ports_in_use",
                "RTP port pairs held by legs.",
            ),
            cdr_write_errors: c(
                "patchbay_b2bua_cdr_write_errors_total",
                "CDRs that could not be stored.",
            ),
            registry,
        }
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let enc = prometheus::TextEncoder::new();
        let _ = prometheus::Encoder::encode(&enc, &self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
