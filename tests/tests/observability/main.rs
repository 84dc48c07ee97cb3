//! Observability end-to-end scenarios, one per module: the real gateway and B2BUA scraped by a
//! real Prometheus, checked by promtool, loaded by k6, with SIPp phones taking the calls.

mod dashboard_prometheus;
mod k6_smoke;
mod promtool_metrics;
