//! Collecting digits (an IVR's "press 1 for ..."): keys arrive (RFC 4733 or in-band), the
//! collection ends on enough digits, a terminator, or a timeout (before the first digit, or
//! between digits). Time comes in; nothing here reads a clock.

/// What to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSpec {
    pub min_digits: usize,
    pub max_digits: usize,
    /// Keys that end the collection (not part of the digits), e.g. `#`.
    pub terminators: String,
    pub first_timeout_ms: u64,
    pub inter_timeout_ms: u64,
}

/// How a collection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// `max_digits` reached.
    Max,
    /// A terminator key (enough digits before it).
    Terminator(char),
    /// No (further) digit in time; `digits` may still satisfy `min_digits`.
    Timeout,
}

/// The result: the digits and why it ended (`ok` when at least `min_digits` came).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    pub digits: String,
    pub ended: Ended,
    pub ok: bool,
}

/// One collection in progress.
#[derive(Debug, Clone)]
pub struct Collector {
    spec: CollectSpec,
    digits: String,
    deadline: u64,
    done: bool,
}

impl Collector {
    /// Starting at `now` (ms).
    pub fn new(spec: CollectSpec, now: u64) -> Self {
        let deadline = now + spec.first_timeout_ms;
        Self {
            spec,
            digits: String::new(),
            deadline,
            done: false,
        }
    }

    /// When it times out, unless a key comes first.
    pub fn deadline(&self) -> Option<u64> {
        (!self.done).then_some(self.deadline)
    }

    fn finish(&mut self, ended: Ended) -> Collected {
        self.done = true;
        Collected {
            ok: self.digits.len() >= self.spec.min_digits,
            digits: std::mem::take(&mut self.digits),
            ended,
        }
    }

    /// The digits so far.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// A key at `now`; the result when it ends the collection.
    pub fn key(&mut self, key: char, now: u64) -> Option<Collected> {
        if self.done {
            return None;
        }
        if self.spec.terminators.contains(key) {
            return Some(self.finish(Ended::Terminator(key)));
        }
        self.digits.push(key);
        if self.digits.len() >= self.spec.max_digits {
            return Some(self.finish(Ended::Max));
        }
        self.deadline = now + self.spec.inter_timeout_ms;
        None
    }

    /// The time is `now`: the result if it timed out.
    pub fn tick(&mut self, now: u64) -> Option<Collected> {
        if self.done || now < self.deadline {
            return None;
        }
        Some(self.finish(Ended::Timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CollectSpec {
        CollectSpec {
            min_digits: 2,
            max_digits: 4,
            terminators: "#".into(),
            first_timeout_ms: 5_000,
            inter_timeout_ms: 3_000,
        }
    }

    #[test]
    fn ends_on_max_terminator_or_timeouts() {
        let mut c = Collector::new(spec(), 0);
        for (t, k) in [(100, '1'), (200, '2'), (300, '3')] {
            assert_eq!(c.key(k, t), None);
        }
        let r = c.key('4', 400).unwrap();
        assert_eq!(
            (r.digits.as_str(), r.ended, r.ok),
            ("1234", Ended::Max, true)
        );
        assert_eq!(c.key('5', 500), None, "over");

        let mut c = Collector::new(spec(), 0);
        c.key('7', 1_000);
        let r = c.key('#', 1_500).unwrap();
        assert_eq!(
            (r.digits.as_str(), r.ok),
            ("7", false),
            "one digit is below the minimum"
        );
        assert_eq!(r.ended, Ended::Terminator('#'));

        let mut c = Collector::new(spec(), 0);
        assert_eq!(c.tick(4_999), None);
        let r = c.tick(5_000).unwrap();
        assert_eq!(
            (r.digits.as_str(), r.ended, r.ok),
            ("", Ended::Timeout, false)
        );

        let mut c = Collector::new(spec(), 0);
        c.key('4', 1_000);
        c.key('2', 2_000);
        assert_eq!(
            c.deadline(),
            Some(5_000),
            "the inter-digit timeout runs from the last key"
        );
        let r = c.tick(5_000).unwrap();
        assert_eq!((r.digits.as_str(), r.ok), ("42", true));
        assert_eq!(c.deadline(), None);
    }
}
