//! A gateway under test: started on free ports against a test stack, and its HTTP client.

use super::*;

/// A running gateway and a client for it.
pub struct Gw {
    pub running: Option<RunningGateway>,
    /// The main listener (native, Brekeke, Taridium, sipX, promptCall).
    pub base: String,
    /// The Ozeki listener.
    pub ozeki: String,
    /// The sipXcallController listener (sipX's port 6667).
    pub sipx_cc: String,
    pub admin: String,
    pub http: reqwest::Client,
}

/// A gateway on `store`, on free ports, with the tests' control token; `tune` points it at
/// its B2BUA node(s) and adjusts the rest.
pub fn start_gateway(store: Arc<SqlStore>, tune: impl FnOnce(&mut GatewayConfig)) -> Gw {
    // A pool of its own: connections the gateway's runtime opens die with it (a gateway
    // restarted in a test would leave dead connections in a shared pool).
    let store =
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(store.reopen()))
            .map(Arc::new)
            .expect("the gateway's store");
    let mut cfg = GatewayConfig::default();
    for l in &mut cfg.listeners {
        l.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    cfg.admin_listen = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.b2bua_token = CONTROL_TOKEN.into();
    // The tests check answers, not latency: two stacks and PostgreSQL on two cores can keep a
    // B2BUA request past the default 800 ms (a down B2BUA still fails at once: refused).
    cfg.b2bua_timeout_ms = 5_000;
    tune(&mut cfg);
    let running = patchbay_gateway::start(cfg, store).expect("gateway starts");
    Gw {
        base: format!("http://{}", running.listeners[0]),
        ozeki: format!("http://{}", running.listeners[1]),
        sipx_cc: format!("http://{}", running.listeners[2]),
        admin: format!("http://{}", running.admin),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        running: Some(running),
    }
}

/// Status, headers and body of a reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

impl Gw {
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let r = req.send().await.expect("gateway answers");
        Reply {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A request to `path` with HTTP Basic `key:secret` (an API key, or an extension and PIN).
    pub fn as_key(
        &self,
        key: &str,
        secret: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(key, Some(secret))
    }

    /// An Ozeki command (`query` after `/?`) on the Ozeki listener, no credentials (the demo
    /// tenant takes them from 127.0.0.1): the reply document.
    pub async fn ozeki(&self, query: &str) -> String {
        let r = self
            .send(self.http.get(format!("{}/?{query}", self.ozeki)))
            .await;
        assert_eq!(r.status, 200, "Ozeki answers 200: {}", r.body);
        r.body
    }

    /// Set the demo tenant's Ozeki settings (`PUT /api/v1/tenants/demo/ozeki`).
    pub async fn ozeki_settings(&self, body: serde_json::Value) {
        let r = self
            .send(
                self.as_key(
                    "demo-key",
                    "demo-secret",
                    reqwest::Method::PUT,
                    "/api/v1/tenants/demo/ozeki",
                )
                .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Make `number` an Ozeki API extension of the demo tenant with `body`'s URLs.
    pub async fn api_extension(&self, number: &str, body: serde_json::Value) {
        let path = format!("/api/v1/tenants/demo/api-extensions/{number}");
        let r = self
            .send(
                self.as_key("demo-key", "demo-secret", reqwest::Method::PUT, &path)
                    .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Onboard tenant `name` through the API with the system key ([`add_system_key`]): the
    /// tenant, then an admin key for it; that key's (id, secret).
    pub async fn onboard(&self, name: &str) -> (String, String) {
        use reqwest::Method as M;
        let sys = |m, path: &str| self.as_key(SYSTEM_KEY.0, SYSTEM_KEY.1, m, path);
        let r = self
            .send(sys(M::POST, "/api/v1/tenants").json(&serde_json::json!({"name": name})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = self
            .send(
                sys(M::POST, &format!("/api/v1/tenants/{name}/api-keys"))
                    .json(&serde_json::json!({"roles": ["admin", "user"], "label": "admin"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json();
        (
            v["key_id"].as_str().unwrap().to_string(),
            v["secret"].as_str().unwrap().to_string(),
        )
    }

    /// GET `path` with HTTP Basic credentials (an API key and secret, or user and PIN).
    pub async fn get_basic(&self, path: &str, user: &str, secret: &str) -> Reply {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .basic_auth(user, Some(secret)),
        )
        .await
    }

    /// Stop the gateway (blocking work off the async threads).
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            let _ = tokio::task::spawn_blocking(move || r.stop()).await;
        }
    }
}
