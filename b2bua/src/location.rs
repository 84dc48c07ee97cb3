//! Location service: registered contacts per (tenant, user), with expiry. Pure data.

use patchbay_api::Registration;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub contact: String,
    pub source: String,
    pub transport: String,
    /// The TCP/TLS connection it registered over (requests to the phone reuse it).
    pub flow: Option<u64>,
    pub expires_at_ms: u64,
}

#[derive(Debug, Default)]
pub struct Location {
    map: HashMap<(String, String), Vec<Binding>>,
    /// Bindings in `map` (the gauge reads it on every REGISTER: no scan).
    total: usize,
}

impl Location {
    /// Add or refresh a contact (expires 0 removes it). Returns how many live bindings the
    /// user has.
    /// Bindings stay in the order they first registered (a refresh keeps its place): "phone n"
    /// of a user (`OriginateRequest::from_phone`, Brekeke's `phone`) is the n-th of them.
    pub fn register(&mut self, tenant: &str, user: &str, b: Binding, now_ms: u64) -> usize {
        let v = self
            .map
            .entry((tenant.to_string(), user.to_string()))
            .or_default();
        let before = v.len();
        v.retain(|x| x.expires_at_ms > now_ms);
        let live = b.expires_at_ms > now_ms;
        match v.iter().position(|x| x.contact == b.contact) {
            Some(i) if live => v[i] = b,
            Some(i) => {
                v.remove(i);
            }
            None if live => v.push(b),
            None => {}
        }
        let n = v.len();
        self.total = self.total + n - before;
        if n == 0 {
            self.map.remove(&(tenant.to_string(), user.to_string()));
        }
        n
    }

    /// Remove every contact of a user (`Contact: *` with expires 0, or user deleted).
    pub fn clear(&mut self, tenant: &str, user: &str) {
        if let Some(v) = self.map.remove(&(tenant.to_string(), user.to_string())) {
            self.total -= v.len();
        }
    }

    /// Live contacts of a user, oldest first.
    pub fn lookup(&self, tenant: &str, user: &str, now_ms: u64) -> Vec<Binding> {
        self.map
            .get(&(tenant.to_string(), user.to_string()))
            .map(|v| {
                v.iter()
                    .filter(|b| b.expires_at_ms > now_ms)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Drop expired bindings.
    pub fn expire(&mut self, now_ms: u64) {
        self.map.retain(|_, v| {
            v.retain(|b| b.expires_at_ms > now_ms);
            !v.is_empty()
        });
        self.total = self.map.values().map(Vec::len).sum();
    }

    pub fn list(&self, tenant: Option<&str>, now_ms: u64) -> Vec<Registration> {
        let mut out: Vec<Registration> = self
            .map
            .iter()
            .filter(|((t, _), _)| tenant.is_none_or(|x| x == t))
            .flat_map(|((t, u), v)| {
                v.iter()
                    .filter(|b| b.expires_at_ms > now_ms)
                    .map(move |b| Registration {
                        tenant: t.clone(),
                        user: u.clone(),
                        contact: b.contact.clone(),
                        source: b.source.clone(),
                        transport: b.transport.clone(),
                        expires_in_s: (b.expires_at_ms - now_ms) / 1000,
                    })
            })
            .collect();
        out.sort_by(|a, b| (&a.tenant, &a.user, &a.contact).cmp(&(&b.tenant, &b.user, &b.contact)));
        out
    }

    pub fn count(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(c: &str, exp: u64) -> Binding {
        Binding {
            contact: c.into(),
            source: "127.0.0.1:1".into(),
            transport: "udp".into(),
            flow: None,
            expires_at_ms: exp,
        }
    }

    #[test]
    fn several_contacts_refresh_and_expire() {
        let mut l = Location::default();
        l.register("t", "4007", b("sip:a", 10_000), 0);
        l.register("t", "4007", b("sip:b", 5_000), 0);
        assert_eq!(l.lookup("t", "4007", 1).len(), 2);
        l.register("t", "4007", b("sip:a", 20_000), 1); // refresh, no duplicate
        assert_eq!(l.lookup("t", "4007", 1).len(), 2);
        assert_eq!(l.lookup("t", "4007", 6_000), vec![b("sip:a", 20_000)]);
        l.register("t", "4007", b("sip:a", 0), 7_000); // expires=0 removes
        assert!(l.lookup("t", "4007", 7_000).is_empty());
        assert!(l.lookup("other", "4007", 0).is_empty());
        l.expire(7_000);
        assert_eq!(l.count(), 0);
    }

    #[test]
    fn a_refresh_keeps_the_phone_number() {
        let mut l = Location::default();
        l.register("t", "4005", b("sip:a", 10_000), 0);
        l.register("t", "4005", b("sip:b", 10_000), 0);
        l.register("t", "4005", b("sip:a", 20_000), 5_000);
        let order: Vec<String> = l
            .lookup("t", "4005", 6_000)
            .into_iter()
            .map(|x| x.contact)
            .collect();
        assert_eq!(order, ["sip:a", "sip:b"], "phone 1 is still sip:a");
    }
}
