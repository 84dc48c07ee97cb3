//! Idempotency keys of call requests (the native API's `Idempotency-Key`): the first request
//! with a tenant's key names the call it makes; a repeat (a client retrying after a lost
//! reply, a gateway restart) gets that call instead of a second one, on any node.

use crate::StoreError;
use patchbay_api::CallId;

#[async_trait::async_trait]
pub trait RequestKeys: Send + Sync {
    /// Claim `key` for `call`: `None` when claimed now, else the call that holds it and
    /// since when (Unix ms).
    async fn claim_request_key(
        &self,
        tenant: &str,
        key: &str,
        call: &CallId,
        now_ms: u64,
    ) -> Result<Option<(CallId, u64)>, StoreError>;

    /// Move `key` from `old` (a call that was never made: its node died between the claim
    /// and the call) to `call`; false when it no longer names `old`.
    async fn retake_request_key(
        &self,
        tenant: &str,
        key: &str,
        old: &CallId,
        call: &CallId,
        now_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Forget `key` if it still names `call` (a request that made no call: a repeat may).
    async fn release_request_key(
        &self,
        tenant: &str,
        key: &str,
        call: &CallId,
    ) -> Result<(), StoreError>;

    /// Forget keys claimed before `before_ms`; how many.
    async fn purge_request_keys(&self, before_ms: u64) -> Result<u64, StoreError>;
}
