//! The control client's queue calls (see `crate::Queue`).

use super::{ClientError, ControlClient};
use crate::{AgentState, Queue, QueueAgent, QueueCall};

impl ControlClient {
    pub async fn queues(&self, tenant: &str) -> Result<Vec<Queue>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/queues"))),
        )
        .await
    }

    pub async fn queue(&self, tenant: &str, name: &str) -> Result<Queue, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/queues/{name}"))),
        )
        .await
    }

    /// Add or replace a queue (named by `name`; the body's name is ignored).
    pub async fn put_queue(&self, tenant: &str, name: &str, q: &Queue) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/queues/{name}")))
                .json(q),
        )
        .await
    }

    pub async fn delete_queue(&self, tenant: &str, name: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/queues/{name}"))),
        )
        .await
    }

    pub async fn queue_agents(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Vec<QueueAgent>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/queues/{name}/agents"))),
        )
        .await
    }

    pub async fn set_queue_agent(
        &self,
        tenant: &str,
        name: &str,
        agent: &str,
        state: AgentState,
    ) -> Result<(), ClientError> {
        let body = QueueAgent {
            agent: agent.to_string(),
            state,
        };
        self.send_empty(
            self.http
                .put(self.url(&format!(
                    "/v1/tenants/{tenant}/queues/{name}/agents/{agent}"
                )))
                .json(&body),
        )
        .await
    }

    /// The queue's live calls (waiting in order, then connected).
    pub async fn queue_calls(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Vec<QueueCall>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/queues/{name}/calls"))),
        )
        .await
    }
}
