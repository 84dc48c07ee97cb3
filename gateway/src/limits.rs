//! Request-rate buckets, the in-flight guard and failed-login bans. Per gateway instance: with
//! several gateways behind a balancer each enforces its share (document the rates per instance).

use governor::Quota;
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use moka::sync::Cache;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Token buckets keyed by string (governor's GCRA: `per_sec` a second, bursts of twice that).
/// Keys whose bucket is full again are dropped every minute, so the table holds only keys
/// seen lately.
pub struct RateLimiter<C: Clock = DefaultClock> {
    inner: governor::RateLimiter<String, DashMapStateStore<String>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    /// When keys were last swept (ms of the clock since `start`).
    start: C::Instant,
    swept_ms: AtomicU64,
}

impl<C: Clock> std::fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("keys", &self.inner.len())
            .finish()
    }
}

/// How often buckets that filled up again are forgotten.
const SWEEP_MS: u64 = 60_000;

impl RateLimiter {
    pub fn new(per_sec: u32) -> Self {
        Self::with_clock(per_sec, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(per_sec: u32, clock: C) -> Self {
        let rate = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(per_sec.saturating_mul(2)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(burst);
        Self {
            inner: governor::RateLimiter::new(quota, DashMapStateStore::default(), clock.clone()),
            start: clock.now(),
            clock,
            swept_ms: AtomicU64::new(0),
        }
    }

    /// Take one token for `key`; `Err(retry_after_secs)` when empty. (A `&String`: the
    /// buckets are keyed by `String` and governor looks them up by `&K`, so a `&str` would
    /// cost a copy per request.)
    #[allow(clippy::ptr_arg)]
    pub fn check(&self, key: &String) -> Result<(), u32> {
        self.sweep();
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs_f64().ceil().max(1.0) as u32
        })
    }

    fn sweep(&self) {
        let now = self.clock.now().duration_since(self.start).as_u64() / 1_000_000;
        let last = self.swept_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= SWEEP_MS
            && self
                .swept_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.inner.retain_recent();
            self.inner.shrink_to_fit();
        }
    }
}

/// Counts requests being processed; a guard decrements on drop.
#[derive(Debug, Default)]
pub struct InFlight(AtomicUsize);

pub struct InFlightGuard(Arc<InFlight>, prometheus::IntGauge);

impl InFlight {
    pub fn try_enter(
        self: &Arc<Self>,
        max: usize,
        gauge: &prometheus::IntGauge,
    ) -> Option<InFlightGuard> {
        let n = self.0.fetch_add(1, Ordering::AcqRel);
        if n >= max {
            self.0.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        gauge.inc();
        Some(InFlightGuard(self.clone(), gauge.clone()))
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::AcqRel);
        self.1.dec();
    }
}

/// Failed logins per source address; past the limit the address is banned for a while.
#[derive(Debug)]
pub struct FailureBans {
    limit: u32,
    ban_secs: u32,
    failures: Cache<IpAddr, Arc<AtomicU32>>,
    banned: Cache<IpAddr, Instant>,
    /// When the last ban runs out (ms since `epoch`): until a ban exists, no request pays a
    /// lookup.
    epoch: Instant,
    bans_until_ms: AtomicU64,
}

impl FailureBans {
    pub fn new(limit: u32, window_secs: u32, ban_secs: u32) -> Self {
        Self {
            limit,
            ban_secs,
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(u64::from(window_secs)))
                .build(),
            banned: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(u64::from(ban_secs.max(1))))
                .build(),
            epoch: Instant::now(),
            bans_until_ms: AtomicU64::new(0),
        }
    }

    fn ms(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// Seconds left of a ban on `ip`, if any.
    pub fn banned(&self, ip: IpAddr, now: Instant) -> Option<u32> {
        if self.ms(now) >= self.bans_until_ms.load(Ordering::Acquire) {
            return None;
        }
        let since = self.banned.get(&ip)?;
        let left =
            u64::from(self.ban_secs).saturating_sub(now.saturating_duration_since(since).as_secs());
        Some(left.max(1) as u32)
    }

    /// Record one failure; returns true when this one started a ban.
    pub fn record(&self, ip: IpAddr, now: Instant) -> bool {
        let c = self.failures.get_with(ip, || Arc::new(AtomicU32::new(0)));
        let n = c.fetch_add(1, Ordering::AcqRel) + 1;
        if n >= self.limit {
            self.failures.invalidate(&ip);
            let until = self.ms(now) + u64::from(self.ban_secs.max(1)) * 1_000;
            self.bans_until_ms.fetch_max(until, Ordering::AcqRel);
            self.banned.insert(ip, now);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills() {
        let clock = governor::clock::FakeRelativeClock::default();
        let r = RateLimiter::with_clock(1, clock.clone());
        assert!(r.check(&"k".to_string()).is_ok());
        assert!(r.check(&"k".to_string()).is_ok());
        assert_eq!(
            r.check(&"k".to_string()),
            Err(1),
            "two a second at most, then one a second"
        );
        clock.advance(Duration::from_millis(1100));
        assert!(r.check(&"k".to_string()).is_ok());
        assert!(r.check(&"other".to_string()).is_ok());
        // A minute later the full buckets are forgotten.
        clock.advance(Duration::from_secs(61));
        assert!(r.check(&"k".to_string()).is_ok());
        assert_eq!(r.inner.len(), 1, "only the key just used is kept");
    }

    #[test]
    fn bans_after_limit() {
        let b = FailureBans::new(3, 60, 30);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t = Instant::now();
        assert!(!b.record(ip, t) && !b.record(ip, t));
        assert!(b.banned(ip, t).is_none());
        assert!(b.record(ip, t));
        assert_eq!(b.banned(ip, t), Some(30));
        let later = t + Duration::from_secs(31);
        assert_eq!(b.banned(ip, later), None, "the ban ran out");
    }
}
