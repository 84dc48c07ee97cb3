//! Ozeki's `RoutingInterception`, behind the B2BUA's route hook: before an inbound call to
//! the tenant's numbers rings, its route interception URL hears `RoutingInterception`
//! (`LastCallState=Calling`) and the reply's `Route` sends the call elsewhere. No URL, no
//! answer in time, a broken reply or no `Route`: the call goes where it was going.

use crate::Gateway;
use patchbay_api::{RouteDecision, RouteQuery};
use patchbay_gateway_proto::vendors::ozeki::{dialable, notify, ozml};
use std::time::Duration;

/// How long the app may take: the B2BUA waits `route_hook_timeout_ms` (1.5 s by default).
const ANSWER_WITHIN: Duration = Duration::from_millis(1000);

impl Gateway {
    pub(crate) async fn ozeki_route(&self, q: &RouteQuery) -> RouteDecision {
        let count = |outcome: &str| {
            self.metrics
                .ozeki_routing
                .with_label_values(&[outcome])
                .inc();
        };
        let url = match self.ozeki.settings(&q.tenant).await {
            Ok(s) => s.routing_interception_url.clone(),
            Err(_) => None,
        };
        let Some(url) = url else {
            count("unchanged");
            return RouteDecision::default();
        };
        let form = notify::form(
            "RoutingInterception",
            &[
                ("CallerID", &q.caller),
                ("OriginalDialedNumber", &q.dialed),
                ("LastDialedNumber", &q.dialed),
                ("LastCalledExtension", ""),
                ("LastCallState", "Calling"),
                ("CallerExtension", &q.caller),
            ],
        );
        let headers: Vec<(String, String)> = notify::HEADERS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r = self
            .webhooks
            .request(
                &q.tenant,
                &url,
                notify::CONTENT_TYPE,
                &headers,
                form,
                ANSWER_WITHIN,
            )
            .await;
        let program = match r {
            Ok(a) if (200..300).contains(&a.status) => ozml::parse(&a.body).ok(),
            _ => None,
        };
        let Some(program) = program else {
            count("failed");
            return RouteDecision::default();
        };
        match ozml::route_of(&program).filter(|d| dialable(d)) {
            Some(d) => {
                count("routed");
                RouteDecision {
                    route: Some(d.to_string()),
                    ..Default::default()
                }
            }
            None => {
                count("unchanged");
                RouteDecision::default()
            }
        }
    }
}
