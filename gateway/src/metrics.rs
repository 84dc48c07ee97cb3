//! Prometheus metrics of the gateway. Label values are bounded: vendor, endpoint (a fixed name
//! per operation), status class, scheme and reason enums; never users, numbers or paths.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Series of `requests` and `latency` by (metrics id, vendor, endpoint, status), per thread.
/// (A name is its address and length: two static names never share both.)
type SeriesKey = (u64, (usize, usize), (usize, usize), u16);
thread_local! {
    static REQUEST_SERIES: RefCell<HashMap<SeriesKey, (IntCounter, Histogram)>> =
        RefCell::new(HashMap::new());
}
/// Entries kept per thread before the cache starts over (the label space is a few hundred).
const REQUEST_SERIES_CAP: usize = 4_096;

#[derive(Debug, Clone)]
pub struct Metrics {
    /// Tells this set of metrics from another one in the same process (tests run several
    /// gateways): the key of the per-thread request series cache.
    id: u64,
    pub registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub auth_failures: IntCounterVec,
    pub b2bua_errors: IntCounterVec,
    /// Whether each B2BUA node answers its health check (1) or not (0).
    pub b2bua_node_up: prometheus::IntGaugeVec,
    pub in_flight: IntGauge,
    pub rejected: IntCounterVec,
    pub webhook_queued: IntCounterVec,
    pub webhook_attempts: IntCounterVec,
    pub webhook_deliveries: IntCounterVec,
    pub webhook_depth: IntGauge,
    pub webhook_oldest: IntGauge,
    pub ozml_steps: IntCounterVec,
    pub ozml_errors: IntCounterVec,
    pub ozml_sessions: IntGauge,
    pub ozml_action: prometheus::Histogram,
    pub ozeki_routing: IntCounterVec,
    pub cti: IntCounterVec,
    pub sipx_cc_calls: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "patchbay_gateway_requests_total",
                "HTTP requests by vendor API, endpoint and status code",
            ),
            &["vendor", "endpoint", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "patchbay_gateway_request_duration_seconds",
                "Time from request head to response end, by vendor API",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["vendor"],
        )
        .expect("valid metric");
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "patchbay_gateway_auth_failures_total",
                "Failed authentications by scheme and reason",
            ),
            &["scheme", "reason"],
        )
        .expect("valid metric");
        let b2bua_errors = IntCounterVec::new(
            Opts::new(
                "patchbay_gateway_b2bua_errors_total",
                "Failed control-API calls to the B2BUA by operation and kind",
            ),
            &["op", "kind"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new(
            "patchbay_gateway_requests_in_flight",
            "Requests being processed",
        )
        .expect("valid metric");
        let rejected = IntCounterVec::new(
            Opts::new(
                "patchbay_gateway_rejected_total",
                "Requests refused by a limit (rate, concurrency, size, ban)",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
        };
        let webhook_queued = counter(
            "patchbay_gateway_webhook_queued_total",
            "Notifications written to the webhook outbox, by vendor",
            &["vendor"],
        );
        let webhook_attempts = counter(
            "patchbay_gateway_webhook_attempts_total",
            "Webhook delivery attempts, by vendor",
            &["vendor"],
        );
        let webhook_deliveries = counter(
            "patchbay_gateway_webhook_deliveries_total",
            "Webhook attempts by vendor, notification and outcome (delivered, retry, dead: given \
             up after the attempts or age allowed, refused: a destination not allowed)",
            &["vendor", "kind", "outcome"],
        );
        let webhook_depth = IntGauge::new(
            "patchbay_gateway_webhook_queue_depth",
            "Notifications pending in the outbox (all gateways)",
        )
        .expect("valid metric");
        let webhook_oldest = IntGauge::new(
            "patchbay_gateway_webhook_oldest_pending_seconds",
            "Age of the oldest pending notification",
        )
        .expect("valid metric");
        let ozml_steps = counter(
            "patchbay_gateway_ozml_steps_total",
            "OzML steps run on calls, by step (command: one of a notification's reply; skipped: \
             an element Patchbay does not know or that does not fit there)",
            &["step"],
        );
        let ozml_errors = counter(
            "patchbay_gateway_ozml_errors_total",
            "OzML failures: fetch (the app did not answer in time or not 2xx), not_ozml (a \
             reply that is not well-formed OzML), step (the call refused a step)",
            &["cause"],
        );
        let ozml_sessions = IntGauge::new(
            "patchbay_gateway_ozml_sessions",
            "Calls an OzML program is running on",
        )
        .expect("valid metric");
        let ozml_action = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "patchbay_gateway_ozml_action_seconds",
                "From an app's OzML reply to its first action accepted by the B2BUA",
            )
            .buckets(vec![
                0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25,
            ]),
        )
        .expect("valid metric");
        let ozeki_routing = counter(
            "patchbay_gateway_ozeki_routing_total",
            "Route hook questions answered with Ozeki's RoutingInterception, by outcome (routed, \
             unchanged: no URL or no Route in the reply, failed: no usable reply in time)",
            &["outcome"],
        );
        let cti = counter(
            "patchbay_gateway_cti_total",
            "Taridium CTI by kind (control, application: control URLs asked before a call rings; \
             popup: pop-up URLs rendered; post_call) and outcome (changed, unchanged: an <ipbx> \
             reply that changed the call or not; failed: no usable reply in time, or no CDR; \
             rendered; queued: in the webhook outbox)",
            &["kind", "outcome"],
        );
        let b2bua_node_up = prometheus::IntGaugeVec::new(
            Opts::new(
                "patchbay_gateway_b2bua_node_up",
                "Whether a B2BUA node answers the gateway's health check (new calls go only to \
                 nodes that do)",
            ),
            &["node"],
        )
        .expect("valid metric");
        let sipx_cc_calls = IntGauge::new(
            "patchbay_gateway_sipx_callcontroller_calls",
            "sipXcallController calls whose status this gateway keeps for GET (live, or ended \
             within their resultCacheTime)",
        )
        .expect("valid metric");
        for m in [
            Box::new(ozeki_routing.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(cti.clone()),
            Box::new(sipx_cc_calls.clone()),
            Box::new(ozml_steps.clone()),
            Box::new(ozml_errors.clone()),
            Box::new(ozml_sessions.clone()),
            Box::new(ozml_action.clone()),
            Box::new(webhook_queued.clone()),
            Box::new(webhook_attempts.clone()),
            Box::new(webhook_deliveries.clone()),
            Box::new(webhook_depth.clone()),
            Box::new(webhook_oldest.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(auth_failures.clone()),
            Box::new(b2bua_errors.clone()),
            Box::new(b2bua_node_up.clone()),
            Box::new(in_flight.clone()),
            Box::new(rejected.clone()),
        ] {
            registry.register(m).expect("unique metric");
        }
        // Bounded label values start at 0, so every series exists from the first scrape.
        for r in REJECT_REASONS {
            rejected.with_label_values(&[r]);
        }
        for op in B2BUA_OPS {
            for k in B2BUA_ERROR_KINDS {
                b2bua_errors.with_label_values(&[op, k]);
            }
        }
        for v in WEBHOOK_VENDORS {
            webhook_queued.with_label_values(&[v]);
            webhook_attempts.with_label_values(&[v]);
            let kinds: &[&str] = if v == "ozeki" {
                &OZEKI_NOTIFICATIONS
            } else {
                &["PostCall"]
            };
            for k in kinds {
                for o in ["delivered", "retry", "dead", "refused"] {
                    webhook_deliveries.with_label_values(&[v, k, o]);
                }
            }
        }
        for s in OZML_STEPS {
            ozml_steps.with_label_values(&[s]);
        }
        for c in ["fetch", "not_ozml", "step"] {
            ozml_errors.with_label_values(&[c]);
        }
        for o in ["routed", "unchanged", "failed"] {
            ozeki_routing.with_label_values(&[o]);
        }
        for (k, outcomes) in [
            ("control", &["changed", "unchanged", "failed"][..]),
            ("application", &["changed", "unchanged", "failed"][..]),
            ("popup", &["rendered"][..]),
            ("post_call", &["queued", "failed"][..]),
        ] {
            for o in outcomes {
                cti.with_label_values(&[k, o]);
            }
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ozeki_routing,
            cti,
            sipx_cc_calls,
            ozml_steps,
            ozml_errors,
            ozml_sessions,
            ozml_action,
            webhook_queued,
            webhook_attempts,
            webhook_deliveries,
            webhook_depth,
            webhook_oldest,
            registry,
            requests,
            latency,
            auth_failures,
            b2bua_errors,
            b2bua_node_up,
            in_flight,
            rejected,
        }
    }

    /// One request answered: `requests{vendor, endpoint, status}` and its latency. The series
    /// are looked up once per thread (by the labels' addresses: they are static names), not
    /// hashed and formatted per request.
    pub fn request_done(
        &self,
        vendor: &'static str,
        endpoint: &'static str,
        status: u16,
        secs: f64,
    ) {
        let key = (
            self.id,
            (vendor.as_ptr() as usize, vendor.len()),
            (endpoint.as_ptr() as usize, endpoint.len()),
            status,
        );
        REQUEST_SERIES.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= REQUEST_SERIES_CAP && !cache.contains_key(&key) {
                cache.clear();
            }
            let (count, latency) = cache.entry(key).or_insert_with(|| {
                (
                    self.requests
                        .with_label_values(&[vendor, endpoint, &status.to_string()]),
                    self.latency.with_label_values(&[vendor]),
                )
            });
            count.inc();
            latency.observe(secs);
        });
    }

    pub fn render(&self) -> String {
        use prometheus::Encoder as _;
        let mut buf = Vec::new();
        let enc = prometheus::TextEncoder::new();
        let _ = enc.encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Values of `rejected{reason}`.
pub const REJECT_REASONS: [&str; 6] = [
    "banned",
    "rate",
    "in_flight",
    "size",
    "call_rate",
    "tenant_calls",
];
/// Values of `b2bua_errors{op}` and `{kind}`.
pub const B2BUA_OPS: [&str; 6] = ["originate", "start", "list", "get", "hangup", "events"];
pub const B2BUA_ERROR_KINDS: [&str; 6] = [
    "unavailable",
    "bad_request",
    "not_found",
    "invalid_state",
    "overloaded",
    "other",
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
/// Vendors that send webhooks (series that exist from the first scrape).
pub const WEBHOOK_VENDORS: [&str; 2] = ["ozeki", "taridium"];
/// Ozeki's notification names (the `kind` label).
pub const OZEKI_NOTIFICATIONS: [&str; 8] = [
    "IncomingCall",
    "CallConnected",
    "CallChanged",
    "DtmfEntered",
    "RecordCompleted",
    "RoutingInterception",
    "Error",
    "SMSDeliveryReport",
];
/// Values of `ozml_steps{step}`.
pub const OZML_STEPS: [&str; 15] = [
    "say", "collect", "fetch", "sleep", "dtmf", "hold", "transfer", "forward", "record", "call",
    "sms", "hangup", "reject", "command", "skipped",
];
