//! Prometheus metrics of the B2BUA (and of the relay it drives). Labels are bounded enums.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

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
    pub sip_requests_sent: IntCounterVec,
    pub sip_responses: IntCounterVec,
    pub api_to_invite: Histogram,
    pub invite_to_answer: Histogram,
    pub rtp_ports_in_use: IntGauge,
    pub cdr_write_errors: IntCounter,
    pub control_unauthorized: IntCounterVec,
    pub destinations_refused: IntCounterVec,
    pub sip_transactions: IntGauge,
    pub sip_dropped: IntCounterVec,
    pub trunk_registrations: prometheus::IntGaugeVec,
    pub sip_retransmissions: IntCounterVec,
    pub recordings_expired: IntCounter,
    pub voicemail_messages: IntCounter,
    pub calls_forwarded: IntCounterVec,
    pub trunk_calls: IntCounterVec,
    pub attendant_routes: IntCounterVec,
    pub trunk_channels: IntGauge,
    pub queue_callers: prometheus::IntGaugeVec,
    pub queue_outcomes: IntCounterVec,
    pub queue_wait: Histogram,
    pub queue_agent_changes: IntCounterVec,
    /// Events appended to the store's durable log, and appends that failed (retried).
    pub events_stored: IntCounter,
    pub event_store_errors: IntCounter,
    /// Calls of dead nodes (or of this node's earlier run) this node ended.
    pub calls_orphaned: IntCounter,
    /// Events waiting to be appended.
    pub events_pending: IntGauge,
}

impl Metrics {
    /// Series that exist before their first event (so dashboards show 0, not nothing).
    fn with_series(self) -> Self {
        for reason in ["unconditional", "user-busy", "no-answer"] {
            for to in ["user", "voicemail"] {
                self.calls_forwarded.with_label_values(&[reason, to]);
            }
        }
        self
    }

    pub fn new() -> Self {
        Self::build().with_series()
    }

    fn build() -> Self {
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
        let h = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("unique metric");
            h
        };
        let m = Self {
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
            sip_requests_sent: cv(
                "patchbay_b2bua_sip_requests_sent_total",
                "SIP requests sent, by method.",
                &["method"],
            ),
            sip_responses: cv(
                "patchbay_b2bua_sip_responses_total",
                "SIP responses, by direction (received, sent), method (INVITE, REGISTER) and class (1xx..6xx).",
                &["direction", "method", "class"],
            ),
            api_to_invite: h(
                "patchbay_b2bua_setup_api_to_invite_seconds",
                "Call set-up: control API accepted the call (or started a held one) to first INVITE sent.",
                vec![
                    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                ],
            ),
            invite_to_answer: h(
                "patchbay_b2bua_setup_invite_to_answer_seconds",
                "Call set-up: INVITE sent to 200 OK received, per outbound leg.",
                vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
            ),
            rtp_ports_in_use: g(
                "patchbay_media_ports_in_use",
                "RTP port pairs held by legs.",
            ),
            calls_forwarded: cv(
                "patchbay_b2bua_calls_forwarded_total",
                "Inbound calls forwarded, by reason (unconditional, user-busy, no-answer) and \
                 destination (user, voicemail).",
                &["reason", "to"],
            ),
            voicemail_messages: c(
                "patchbay_b2bua_voicemail_messages_total",
                "Voicemail messages left (calls that found no one and were recorded).",
            ),
            recordings_expired: c(
                "patchbay_b2bua_recordings_expired_total",
                "Recordings deleted by their tenant's retention policy.",
            ),
            cdr_write_errors: c(
                "patchbay_b2bua_cdr_write_errors_total",
                "CDRs whose write to the store failed (each is retried until stored).",
            ),
            events_stored: c(
                "patchbay_b2bua_events_stored_total",
                "Call events appended to the store's durable event log.",
            ),
            event_store_errors: c(
                "patchbay_b2bua_event_store_errors_total",
                "Appends of events to the store that failed (the batch is retried).",
            ),
            calls_orphaned: c(
                "patchbay_b2bua_calls_orphaned_total",
                "Calls left live by a dead node (or this node's earlier run) that this node \
                 ended: CDR and ended event written, BYEs sent.",
            ),
            events_pending: g(
                "patchbay_b2bua_events_pending",
                "Call events waiting to be appended to the store.",
            ),
            control_unauthorized: cv(
                "patchbay_b2bua_control_unauthorized_total",
                "Control API requests refused for their bearer token (missing or wrong).",
                &["reason"],
            ),
            attendant_routes: cv(
                "patchbay_b2bua_attendant_routes_total",
                "Auto-attendant callers' choices, by where they led (connect, voicemail, room, \
                 attendant, queue, unavailable).",
                &["outcome"],
            ),
            queue_callers: {
                let g = prometheus::IntGaugeVec::new(
                    Opts::new(
                        "patchbay_b2bua_queue_callers",
                        "Queue callers now, by status (waiting, connected to an agent).",
                    ),
                    &["status"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(g.clone()))
                    .expect("unique metric");
                g
            },
            queue_outcomes: cv(
                "patchbay_b2bua_queue_outcomes_total",
                "Queue callers leaving the wait, by outcome (connected to an agent, overflow after \
                 the max wait, full queue, hangup while waiting).",
                &["outcome"],
            ),
            queue_wait: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "patchbay_b2bua_queue_wait_seconds",
                        "How long queue callers waited before an agent answered.",
                    )
                    .buckets(vec![1.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
                )
                .expect("valid metric");
                registry
                    .register(Box::new(h.clone()))
                    .expect("unique metric");
                h
            },
            queue_agent_changes: cv(
                "patchbay_b2bua_queue_agent_changes_total",
                "Queue agents' state changes, by new state (available, paused, logged_out) and \
                 origin (api, phone: a feature code).",
                &["state", "via"],
            ),
            trunk_calls: cv(
                "patchbay_b2bua_trunk_calls_total",
                "Call legs on carrier trunks, by direction (out, in) and result (placed, full: \
                 refused at the trunk's max_channels, no_did: an inbound number nobody has).",
                &["direction", "result"],
            ),
            trunk_channels: g(
                "patchbay_b2bua_trunk_channels",
                "Call legs on carrier trunks now.",
            ),
            destinations_refused: cv(
                "patchbay_b2bua_destinations_refused_total",
                "Call destinations refused before any INVITE, by origin (api, sip) and reason.",
                &["origin", "reason"],
            ),
            sip_transactions: g(
                "patchbay_b2bua_sip_transactions",
                "Live SIP transactions (client and server).",
            ),
            sip_dropped: cv(
                "patchbay_b2bua_sip_dropped_total",
                "SIP requests dropped before any transaction state, by reason (flood: over the per-source rate).",
                &["reason"],
            ),
            trunk_registrations: {
                let g = prometheus::IntGaugeVec::new(
                    Opts::new(
                        "patchbay_b2bua_trunk_registrations",
                        "Registrations this node keeps up at other registrars, by state.",
                    ),
                    &["state"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(g.clone()))
                    .expect("unique metric");
                g
            },
            sip_retransmissions: cv(
                "patchbay_b2bua_sip_retransmissions_total",
                "SIP messages retransmitted on a timer (sent) and retransmissions absorbed (received).",
                &["direction"],
            ),
            registry,
        };
        for d in ["sent", "received"] {
            m.sip_retransmissions.with_label_values(&[d]);
        }
        m.sip_dropped.with_label_values(&["flood"]);
        for s in ["registered", "registering", "failed"] {
            m.trunk_registrations.with_label_values(&[s]);
        }
        for (d, r) in [
            ("out", "placed"),
            ("out", "full"),
            ("in", "placed"),
            ("in", "full"),
            ("in", "no_did"),
        ] {
            m.trunk_calls.with_label_values(&[d, r]);
        }
        for r in ["missing", "wrong"] {
            m.control_unauthorized.with_label_values(&[r]);
        }
        for o in [
            "connect",
            "voicemail",
            "room",
            "attendant",
            "queue",
            "unavailable",
        ] {
            m.attendant_routes.with_label_values(&[o]);
        }
        for s in ["waiting", "connected"] {
            m.queue_callers.with_label_values(&[s]);
        }
        for o in ["connected", "overflow", "full", "hangup"] {
            m.queue_outcomes.with_label_values(&[o]);
        }
        for s in ["available", "paused", "logged_out"] {
            for v in ["api", "phone"] {
                m.queue_agent_changes.with_label_values(&[s, v]);
            }
        }
        for o in ["api", "sip"] {
            for r in REFUSALS {
                m.destinations_refused.with_label_values(&[o, r]);
            }
        }
        // Bounded label values start at 0, so every series exists from the first scrape
        // (dashboards and rate() see them before the first event).
        for d in ["originate", "inbound"] {
            m.calls_started.with_label_values(&[d]);
        }
        for c in CAUSES {
            m.calls_ended.with_label_values(&[c]);
        }
        for r in [
            "bad_credentials",
            "blocked",
            "unknown_realm",
            "aor_mismatch",
        ] {
            m.auth_failures.with_label_values(&[r]);
        }
        for meth in ["INVITE", "REGISTER"] {
            m.sip_requests.with_label_values(&[meth]);
        }
        for meth in ["INVITE", "BYE", "CANCEL", "REFER"] {
            m.sip_requests_sent.with_label_values(&[meth]);
        }
        for d in ["received", "sent"] {
            for meth in ["INVITE", "REGISTER"] {
                for c in ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx"] {
                    m.sip_responses.with_label_values(&[d, meth, c]);
                }
            }
        }
        m
    }

    /// Count a response (`direction` is `received` or `sent`, `method` INVITE or REGISTER).
    pub fn response(&self, direction: &str, method: &str, status: u16) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "6xx",
        };
        self.sip_responses
            .with_label_values(&[direction, method, class])
            .inc();
    }

    /// Bring the retransmission counters up to the transaction layer's totals.
    pub fn set_retransmissions(&self, sent: u64, received: u64) {
        for (d, total) in [("sent", sent), ("received", received)] {
            let c = self.sip_retransmissions.with_label_values(&[d]);
            let now = c.get();
            if total > now {
                c.inc_by(total - now);
            }
        }
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let enc = prometheus::TextEncoder::new();
        let _ = prometheus::Encoder::encode(&enc, &self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Every value of the `reason` label of `destinations_refused`: a SIP URI whose domain is not
/// on the tenant's `allowed_sip_domains`; a user of another tenant; a number no dial plan of
/// the tenant routes.
pub const REFUSALS: [&str; 4] = ["sip_domain", "foreign_tenant", "no_route", "dialplan"];

/// Every value of the `cause` label (see `driver::cause_label`).
pub const CAUSES: [&str; 10] = [
    "normal",
    "busy",
    "no_answer",
    "rejected",
    "cancelled",
    "transferred",
    "not_found",
    "failed",
    "incompatible_media",
    "system",
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
