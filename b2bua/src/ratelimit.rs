//! Failed-authentication limiter per source address (fixed window). Pure data.

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

#[cfg(test)]
mod tests {
    use super::*;

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
