//! Location service: registered contacts per (tenant, user), with expiry. Pure data.
//!
//! Each node holds the whole table: its own REGISTERs are written to the store and applied
//! here at once; every node applies the rows the others wrote (`merge`, from
//! `crate::location_sync`), so a phone registered through one node is reachable from all.

use patchbay_api::Registration;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub contact: String,
    pub source: String,
    pub transport: String,
    /// The TCP/TLS connection it registered over (requests to the phone reuse it); only on
    /// the node that took the REGISTER.
    pub flow: Option<u64>,
    /// The REGISTER's Path (RFC 3327): the route requests to the contact take.
    pub path: Vec<String>,
    pub expires_at_ms: u64,
    /// When the contact first registered: a user's phones are numbered in this order.
    pub registered_ms: u64,
    /// When it was last written (a replica row older than what is held is not applied).
    pub updated_ms: u64,
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
            Some(i) if live => {
                let registered_ms = v[i].registered_ms;
                v[i] = b;
                v[i].registered_ms = registered_ms;
            }
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

    /// Apply a row another node (or this one) wrote to the store: newer than what is held, it
    /// replaces it (keeping this node's connection to the phone), expired it removes it; a
    /// new contact takes its place among the user's phones by its first registration.
    pub fn merge(&mut self, tenant: &str, user: &str, b: Binding, now_ms: u64) {
        let key = (tenant.to_string(), user.to_string());
        let v = self.map.entry(key.clone()).or_default();
        let before = v.len();
        match v.iter().position(|x| x.contact == b.contact) {
            Some(i) if v[i].updated_ms > b.updated_ms => {}
            Some(i) if b.expires_at_ms > now_ms => {
                let flow = v[i].flow.filter(|_| v[i].source == b.source);
                v[i] = Binding { flow, ..b };
            }
            Some(i) => {
                v.remove(i);
            }
            None if b.expires_at_ms > now_ms => {
                let at = v
                    .iter()
                    .position(|x| x.registered_ms > b.registered_ms)
                    .unwrap_or(v.len());
                v.insert(at, b);
            }
            None => {}
        }
        let n = v.len();
        self.total = self.total + n - before;
        if n == 0 {
            self.map.remove(&key);
        }
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
            path: Vec::new(),
            expires_at_ms: exp,
            registered_ms: 0,
            updated_ms: 0,
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

    #[test]
    fn replica_rows_merge_in_order_and_never_go_back() {
        let mut l = Location::default();
        let at = |c: &str, reg: u64, upd: u64, exp: u64| Binding {
            registered_ms: reg,
            updated_ms: upd,
            ..b(c, exp)
        };
        l.merge("t", "4005", at("sip:b", 20, 20, 10_000), 0);
        l.merge("t", "4005", at("sip:a", 10, 30, 10_000), 0);
        let order = |l: &Location| -> Vec<String> {
            l.lookup("t", "4005", 1)
                .into_iter()
                .map(|x| x.contact)
                .collect()
        };
        assert_eq!(order(&l), ["sip:a", "sip:b"], "by first registration");
        // An older row (a read that raced a newer write) does not undo the newer one.
        l.merge("t", "4005", at("sip:a", 10, 40, 20_000), 0);
        l.merge("t", "4005", at("sip:a", 10, 35, 10_000), 0);
        assert_eq!(l.lookup("t", "4005", 1)[0].expires_at_ms, 20_000);
        // Removed (an expired row).
        l.merge("t", "4005", at("sip:a", 10, 50, 50), 60);
        assert_eq!(order(&l), ["sip:b"]);
        assert_eq!(l.count(), 1);
        l.merge("t", "4005", at("sip:b", 20, 50, 50), 60);
        assert_eq!(l.count(), 0);
    }
}
