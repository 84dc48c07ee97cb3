//! B2BUA nodes' starts: each start claims a call-id base (its start second) above every base
//! the node claimed before, so a node restarted within the same second cannot reuse the ids
//! of the calls its previous run made.

use crate::StoreError;

#[async_trait::async_trait]
pub trait Nodes: Send + Sync {
    /// Node `node`'s base for a start at `now_secs`: `now_secs`, or one more than the last
    /// base it claimed when that is not below it. Recorded before it returns.
    async fn claim_node_start(&self, node: u8, now_secs: u64) -> Result<u64, StoreError>;
}
