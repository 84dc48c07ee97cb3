//! Per-source limits, pure data: failed authentications (fixed window) and the rate of new
//! SIP requests (token bucket).

use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Debug)]
pub struct AuthFailures {
    limit: u32,
    window_ms: u64,
    map: HashMap<IpAddr, (u64, u32)>,
}

impl AuthFailures {
    pub fn new(limit: u32, window_ms: u64) -> Self {
        Self {
            limit,
            window_ms,
            map: HashMap::new(),
        }
    }

    /// Is this source over its limit (answer 403 without challenge)?
    pub fn is_blocked(&self, ip: IpAddr, now_ms: u64) -> bool {
        self.map
            .get(&ip)
            .is_some_and(|&(start, n)| now_ms < start + self.window_ms && n >= self.limit)
    }

    /// Count one failed attempt.
    pub fn record(&mut self, ip: IpAddr, now_ms: u64) {
        let e = self.map.entry(ip).or_insert((now_ms, 0));
        if now_ms >= e.0 + self.window_ms {
            *e = (now_ms, 0);
        }
        e.1 += 1;
        if self.map.len() > 100_000 {
            let w = self.window_ms;
            self.map.retain(|_, (start, _)| now_ms < *start + w);
        }
    }
}

/// New out-of-dialog SIP requests per source address: a token bucket of `rate` a second and
/// `burst` deep. Checked before any transaction state exists, so a flood costs a map lookup.
#[derive(Debug)]
pub struct SourceRate {
    rate: f64,
    burst: f64,
    map: HashMap<IpAddr, (f64, u64)>,
}

impl SourceRate {
    /// `rate` 0 switches the limit off.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate),
            burst: f64::from(burst.max(rate)),
            map: HashMap::new(),
        }
    }

    /// Take one token for `ip`; `false` when the source is over its rate.
    pub fn admit(&mut self, ip: IpAddr, now_ms: u64) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let (rate, burst) = (self.rate, self.burst);
        let e = self.map.entry(ip).or_insert((burst, now_ms));
        let elapsed = now_ms.saturating_sub(e.1) as f64 / 1000.0;
        e.0 = (e.0 + elapsed * rate).min(burst);
        e.1 = now_ms;
        if e.0 >= 1.0 {
            e.0 -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forget sources whose bucket has been full for a while (housekeeping).
    pub fn prune(&mut self, now_ms: u64) {
        let full_after = (self.burst / self.rate.max(1.0) * 1000.0) as u64 + 1000;
        self.map.retain(|_, (_, at)| now_ms < *at + full_after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rate_admits_the_burst_then_the_rate() {
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let mut r = SourceRate::new(10, 20);
        let admitted = (0..50).filter(|_| r.admit(ip, 1_000)).count();
        assert_eq!(admitted, 20, "the burst");
        assert!(!r.admit(ip, 1_050), "half a token after 50 ms");
        assert!(r.admit(ip, 1_100), "one token after 100 ms");
        assert!(
            r.admit("127.0.0.8".parse().unwrap(), 1_100),
            "another source"
        );
        r.prune(100_000);
        assert!(r.admit(ip, 100_000), "pruned and full again");
        let mut off = SourceRate::new(0, 0);
        assert!((0..10_000).all(|_| off.admit(ip, 0)));
    }

    #[test]
    fn blocks_after_limit_until_window_ends() {
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let mut f = AuthFailures::new(3, 1000);
        for _ in 0..3 {
            assert!(!f.is_blocked(ip, 10));
            f.record(ip, 10);
        }
        assert!(f.is_blocked(ip, 500));
        assert!(!f.is_blocked(ip, 1010));
        assert!(!f.is_blocked("127.0.0.8".parse().unwrap(), 500));
    }
}
