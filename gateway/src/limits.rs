//! Request-rate buckets, the in-flight guard and failed-login bans. Per gateway instance: with
//! several gateways behind a balancer each enforces its share (document the rates per instance).

use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Token buckets keyed by string; idle buckets expire.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Cache<String, Arc<Mutex<(f64, Instant)>>>,
}

impl RateLimiter {
    pub fn new(per_sec: u32) -> Self {
        Self {
            rate: f64::from(per_sec),
            burst: f64::from(per_sec) * 2.0,
            buckets: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(60))
                .build(),
        }
    }

    /// Take one token for `key`; `Err(retry_after_secs)` when empty.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u32> {
        let b = self
            .buckets
            .get_with_by_ref(key, || Arc::new(Mutex::new((self.burst, now))));
        let mut g = b.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(g.1).as_secs_f64();
        g.0 = (g.0 + elapsed * self.rate).min(self.burst);
        g.1 = now;
        if g.0 >= 1.0 {
            g.0 -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - g.0) / self.rate).ceil().max(1.0) as u32)
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
        }
    }

    /// Seconds left of a ban on `ip`, if any.
    pub fn banned(&self, ip: IpAddr, now: Instant) -> Option<u32> {
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
        let r = RateLimiter::new(1);
        let t = Instant::now();
        assert!(r.check("k", t).is_ok());
        assert!(r.check("k", t).is_ok());
        assert!(r.check("k", t).is_err());
        assert!(r.check("k", t + Duration::from_millis(1100)).is_ok());
        assert!(r.check("other", t).is_ok());
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
    }
}
