//! The B2BUA nodes behind this gateway. A call's commands go to the node that owns it (its id
//! names it, `CallId::node`); new calls go round-robin to the nodes that answer their health
//! check (every second; a node that stops answering gets no new call within about a second);
//! reads of live state every node holds a part of (calls, channels, a queue's callers) are
//! asked of every healthy node and merged. Everything else (the tenant's routing objects,
//! registrations, CDRs, recordings: all in the shared store) is asked of any healthy node:
//! that is what `Deref` to [`ControlClient`] gives.

use patchbay_api::client::{ClientError, ControlClient};
use patchbay_api::{CallId, CallInfo, OriginateRequest};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

pub(crate) struct Node {
    /// Its number (`b2bua.node`); `None` for the single node of `b2bua_url`.
    pub(crate) number: Option<u8>,
    pub(crate) client: ControlClient,
    healthy: AtomicBool,
}

/// How long a cluster's gathered channel states serve the same question (wallboards poll the
/// same channels every few seconds, each asking every node otherwise).
const CHANNELS_FRESH: Duration = Duration::from_millis(100);

type Channels = Arc<Vec<patchbay_api::Channel>>;

pub(crate) struct B2bua {
    nodes: Vec<Node>,
    next: AtomicUsize,
    up: prometheus::IntGaugeVec,
    /// Several nodes: channel states gathered, by tenant and channel names.
    channels: moka::sync::Cache<(String, Option<Vec<String>>), Channels>,
}

impl B2bua {
    /// `nodes`: (number, client) of each node, in order.
    pub(crate) fn new(
        nodes: Vec<(Option<u8>, ControlClient)>,
        up: prometheus::IntGaugeVec,
    ) -> Self {
        let nodes: Vec<Node> = nodes
            .into_iter()
            .map(|(number, client)| Node {
                number,
                client,
                healthy: AtomicBool::new(true),
            })
            .collect();
        // Every node's series from the start (taken as up until its first check).
        for n in &nodes {
            up.with_label_values(&[&label(n.number)]).set(1);
        }
        Self {
            nodes,
            next: AtomicUsize::new(0),
            up,
            channels: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CHANNELS_FRESH)
                .build(),
        }
    }

    fn healthy(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.healthy.load(Relaxed))
    }

    /// The node that owns call `id` (the only node when there is one).
    pub(crate) fn for_call(&self, id: &CallId) -> &ControlClient {
        let owner = id
            .node()
            .and_then(|k| self.nodes.iter().find(|n| n.number == Some(k)));
        &owner.unwrap_or(&self.nodes[0]).client
    }

    /// A healthy node (the first), else the first.
    pub(crate) fn any(&self) -> &ControlClient {
        &self.healthy().next().unwrap_or(&self.nodes[0]).client
    }

    /// Where the next new call goes: the healthy nodes in turn.
    fn pick(&self) -> &ControlClient {
        let healthy: Vec<&Node> = self.healthy().collect();
        if healthy.is_empty() {
            return &self.nodes[0].client;
        }
        let i = self.next.fetch_add(1, Relaxed) % healthy.len();
        &healthy[i].client
    }

    /// Ask every healthy node; merge what they answered. Fails only when none answered.
    async fn gather<T, F, Fut>(&self, ask: F) -> Result<Vec<T>, ClientError>
    where
        F: Fn(ControlClient) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, ClientError>>,
    {
        let asked: Vec<&Node> = match self.healthy().count() {
            0 => self.nodes.iter().collect(),
            _ => self.healthy().collect(),
        };
        let answers = futures::future::join_all(asked.iter().map(|n| ask(n.client.clone()))).await;
        let mut out = Vec::new();
        let mut last_err = None;
        let mut answered = false;
        for a in answers {
            match a {
                Ok(v) => {
                    answered = true;
                    out.extend(v);
                }
                Err(e) => last_err = Some(e),
            }
        }
        match (answered, last_err) {
            (false, Some(e)) => Err(e),
            _ => Ok(out),
        }
    }

    /// Check every node's health once a second until the process stops.
    pub(crate) async fn watch(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let up = &self.up;
            let checks = self.nodes.iter().map(|n| async move {
                let ok = tokio::time::timeout(Duration::from_millis(800), n.client.health())
                    .await
                    .unwrap_or(false);
                n.healthy.store(ok, Relaxed);
                up.with_label_values(&[&label(n.number)]).set(i64::from(ok));
            });
            futures::future::join_all(checks).await;
        }
    }

    // --- a new call ---

    pub(crate) async fn originate(&self, req: &OriginateRequest) -> Result<CallInfo, ClientError> {
        self.pick().originate(req).await
    }

    // --- live state every node holds a part of ---

    pub(crate) async fn list_calls(&self) -> Result<Vec<CallInfo>, ClientError> {
        self.gather(|c| async move { c.list_calls().await }).await
    }

    /// Channel states; with several nodes, gathered at most every [`CHANNELS_FRESH`] for the
    /// same tenant and names.
    pub(crate) async fn channels(
        &self,
        tenant: &str,
        names: Option<&[&str]>,
    ) -> Result<Channels, ClientError> {
        if let [one] = self.nodes.as_slice() {
            return one.client.channels(tenant, names).await.map(Arc::new);
        }
        let names: Option<Vec<String>> = names.map(|n| n.iter().map(|s| s.to_string()).collect());
        let key = (tenant.to_string(), names.clone());
        if let Some(hit) = self.channels.get(&key) {
            return Ok(hit);
        }
        let all = Arc::new(
            self.gather(|c| {
                let names = names.clone();
                async move {
                    let refs: Option<Vec<&str>> = names
                        .as_ref()
                        .map(|n| n.iter().map(String::as_str).collect());
                    c.channels(tenant, refs.as_deref()).await
                }
            })
            .await?,
        );
        self.channels.insert(key, all.clone());
        Ok(all)
    }

    pub(crate) async fn queue_calls(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Vec<patchbay_api::QueueCall>, ClientError> {
        let mut all = self
            .gather(|c| async move { c.queue_calls(tenant, name).await })
            .await?;
        // As one node lists them: waiting callers first, in the order they came, numbered;
        // then the connected ones.
        use patchbay_api::QueueCallStatus;
        all.sort_by_key(|q| (q.status != QueueCallStatus::Waiting, q.entered));
        let mut position = 0;
        for q in &mut all {
            if q.status == QueueCallStatus::Waiting {
                position += 1;
                q.position = Some(position);
            }
        }
        Ok(all)
    }

    // --- one call's commands, on its node ---

    pub(crate) async fn call(&self, id: &CallId) -> Result<CallInfo, ClientError> {
        self.for_call(id).call(id).await
    }

    pub(crate) async fn start(&self, id: &CallId) -> Result<(), ClientError> {
        self.for_call(id).start(id).await
    }

    pub(crate) async fn hangup(&self, id: &CallId) -> Result<(), ClientError> {
        self.for_call(id).hangup(id).await
    }

    pub(crate) async fn transfer(
        &self,
        id: &CallId,
        req: &patchbay_api::TransferRequest,
    ) -> Result<(), ClientError> {
        self.for_call(id).transfer(id, req).await
    }

    pub(crate) async fn forward(&self, id: &CallId, target: &str) -> Result<(), ClientError> {
        self.for_call(id).forward(id, target).await
    }

    pub(crate) async fn join(
        &self,
        id: &CallId,
        req: &patchbay_api::JoinRequest,
    ) -> Result<(), ClientError> {
        self.for_call(id).join(id, req).await
    }

    pub(crate) async fn hold(&self, id: &CallId, on: bool) -> Result<(), ClientError> {
        self.for_call(id).hold(id, on).await
    }

    pub(crate) async fn primitive(
        &self,
        id: &CallId,
        op: &patchbay_api::MediaOp,
    ) -> Result<patchbay_api::CommandAccepted, ClientError> {
        self.for_call(id).primitive(id, op).await
    }

    pub(crate) async fn stop_command(&self, id: &CallId, command: u64) -> Result<(), ClientError> {
        self.for_call(id).stop_command(id, command).await
    }

    pub(crate) async fn mute(
        &self,
        id: &CallId,
        req: &patchbay_api::MuteRequest,
    ) -> Result<(), ClientError> {
        self.for_call(id).mute(id, req).await
    }
}

/// A node's metric label: its number, or `-` for the single node of `b2bua_url`.
fn label(number: Option<u8>) -> String {
    number.map_or_else(|| "-".to_string(), |k| k.to_string())
}

/// Requests that any node answers alike (the shared store's objects) go to a healthy one.
/// (A call's own requests are the methods above: a new one belongs there, not here.)
impl std::ops::Deref for B2bua {
    type Target = ControlClient;

    fn deref(&self) -> &ControlClient {
        self.any()
    }
}
