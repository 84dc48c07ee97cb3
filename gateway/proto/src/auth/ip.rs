//! Client-address allow-lists: CIDR blocks (Ozeki ACL) and regular expressions over the dotted
//! address (Brekeke "Valid client IP Pattern").

use std::net::IpAddr;

#[derive(Debug, Clone)]
pub enum IpPattern {
    Net(ipnet::IpNet),
    Regex(regex::Regex),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad IP pattern {pattern:?}: {reason}")]
pub struct IpPatternError {
    pub pattern: String,
    pub reason: String,
}

impl IpPattern {
    /// A CIDR block or bare address if it reads as one, else a regex (matched against the
    /// textual address, as Brekeke does: anchor it yourself with `^...$`).
    pub fn parse(s: &str) -> Result<IpPattern, IpPatternError> {
        let s = s.trim();
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(IpPattern::Net(net));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(IpPattern::Net(ipnet::IpNet::from(ip)));
        }
        regex::RegexBuilder::new(s)
            .size_limit(1 << 16)
            .build()
            .map(IpPattern::Regex)
            .map_err(|e| IpPatternError {
                pattern: s.to_string(),
                reason: e.to_string(),
            })
    }

    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self {
            IpPattern::Net(net) => net.contains(&ip),
            IpPattern::Regex(re) => re.is_match(&ip.to_string()),
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, from dual-stack listeners) count as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` matches any pattern. Unparseable patterns match nothing (fail closed).
pub fn allowed(patterns: &[IpPattern], ip: IpAddr) -> bool {
    patterns.iter().any(|p| p.matches(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_regex_and_plain() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let p = |s| IpPattern::parse(s).unwrap();
        assert!(p("127.0.0.0/8").matches(lo));
        assert!(p("127.0.0.0/8").matches(mapped));
        assert!(!p("10.0.0.0/8").matches(lo));
        assert!(p("127.0.0.1").matches(lo));
        assert!(p(r"^127\.0\.0\.\d+$").matches(lo));
        assert!(!p(r"^192\.168\.").matches(lo));
        assert!(IpPattern::parse("(").is_err());
    }
}
