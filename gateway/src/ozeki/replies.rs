//! OzML in the replies to third-party call control notifications (`CallChanged`,
//! `RecordCompleted`): Ozeki runs a notification's reply, so the app can act on the call it
//! was told about (speak to a party, hold, transfer, hang up). The deliverer hands each
//! delivered notification's reply over; its commands run in order, as the HTTP API's would.

use crate::Gateway;
use crate::webhooks::Reply;
use patchbay_gateway_proto::vendors::ozeki::third_party;
use std::sync::Arc;
use tokio::sync::mpsc;

pub(super) async fn run(gw: Arc<Gateway>, mut rx: mpsc::UnboundedReceiver<Reply>) {
    while let Some(r) = rx.recv().await {
        if r.vendor == "ozeki" && matches!(r.kind.as_str(), "CallChanged" | "RecordCompleted") {
            apply(&gw, r).await;
        }
    }
}

async fn apply(gw: &Gateway, r: Reply) {
    let m = &gw.metrics;
    let c = match third_party::commands(&r.body, &r.key) {
        Ok(c) => c,
        Err(e) => {
            m.ozml_errors.with_label_values(&["not_ozml"]).inc();
            tracing::warn!(call = %r.key, kind = %r.kind, error = %e, "a notification's reply is not OzML");
            return;
        }
    };
    for name in c.skipped {
        m.ozml_steps.with_label_values(&["skipped"]).inc();
        tracing::warn!(call = %r.key, element = %name, "OzML element skipped in a notification's reply");
    }
    for cmd in c.commands {
        m.ozml_steps.with_label_values(&["command"]).inc();
        if let Err(f) = crate::handlers::ozeki::run(gw, &r.tenant, cmd).await {
            m.ozml_errors.with_label_values(&["step"]).inc();
            tracing::warn!(call = %r.key, error = %f, "a command of a notification's reply failed");
        }
    }
}
