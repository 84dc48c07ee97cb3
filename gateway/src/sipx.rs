//! sipX's live side: the calls the call controller placed, by key (agent, calling, called),
//! kept for their `resultCacheTime` so that a GET can report them.
//!
//! Per gateway: a status GET must reach the gateway that took the POST (issue 18 puts
//! this in the store for gateways behind a load balancer).

use patchbay_api::CallId;
use patchbay_gateway_proto::vendors::sipx::callcontroller::{SetupMethod, StatusLine};
use std::collections::HashMap;
use std::sync::Mutex;

/// Most calls remembered at once (past it the oldest goes).
const MAX_CALLS: usize = 10_000;
/// A call nobody asked about is forgotten this long after its cache time even if it never
/// was seen to end (its status is only read on a GET).
const MAX_CALL_MS: u64 = 4 * 3600 * 1000;

/// A call-controller call, or a POST the B2BUA refused before anything rang.
#[derive(Debug, Clone)]
pub(crate) struct CcCall {
    pub call: Option<CallId>,
    pub method: SetupMethod,
    pub created_ms: u64,
    pub cache_ms: u64,
    /// The last document's material: lines (REFER) and whether the call has ended.
    pub lines: Vec<StatusLine>,
    pub dialogs: Vec<patchbay_gateway_proto::vendors::sipx::callcontroller::DialogLine>,
    pub ended: bool,
}

impl CcCall {
    fn expired(&self, now_ms: u64) -> bool {
        let cached = self.created_ms.saturating_add(self.cache_ms);
        (self.ended && now_ms >= cached) || now_ms >= cached.saturating_add(MAX_CALL_MS)
    }
}

pub(crate) struct Sipx {
    calls: Mutex<HashMap<String, CcCall>>,
    /// How many are kept (`patchbay_gateway_sipx_callcontroller_calls`).
    gauge: prometheus::IntGauge,
}

impl Sipx {
    pub(crate) fn new(gauge: prometheus::IntGauge) -> Self {
        Sipx {
            calls: Mutex::default(),
            gauge,
        }
    }

    pub(crate) fn get(&self, key: &str, now_ms: u64) -> Option<CcCall> {
        let mut calls = self.calls.lock().ok()?;
        match calls.get(key) {
            Some(c) if c.expired(now_ms) => {
                calls.remove(key);
                self.gauge.set(calls.len() as i64);
                None
            }
            other => other.cloned(),
        }
    }

    pub(crate) fn put(&self, key: String, call: CcCall, now_ms: u64) {
        let Ok(mut calls) = self.calls.lock() else {
            return;
        };
        if calls.len() >= MAX_CALLS {
            calls.retain(|_, c| !c.expired(now_ms));
            // Still full: the oldest goes (its status is the least likely to be asked for).
            while calls.len() >= MAX_CALLS {
                let Some(k) = calls
                    .iter()
                    .min_by_key(|(_, c)| c.created_ms)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                calls.remove(&k);
            }
        }
        calls.insert(key, call);
        self.gauge.set(calls.len() as i64);
    }

    /// Keep the document last built for a call (its events leave the B2BUA in time).
    pub(crate) fn update(&self, key: &str, f: impl FnOnce(&mut CcCall)) {
        if let Ok(mut calls) = self.calls.lock()
            && let Some(c) = calls.get_mut(key)
        {
            f(c);
        }
    }
}
