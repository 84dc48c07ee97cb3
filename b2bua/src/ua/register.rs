//! Client REGISTER (for carrier trunks): the node registers an address of record at a
//! registrar, answers its Digest challenge (rvoip-auth-core computes the response), and
//! refreshes the binding before it expires; a failure is retried later. Sans-IO like the rest
//! of the user agent: timers come in through [`Ua::handle_timeout`].

use super::Ua;
use patchbay_sip::core::types::address::Address;
use patchbay_sip::core::types::call_id::CallId;
use patchbay_sip::core::types::cseq::CSeq;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::sip_response::Response;
use patchbay_sip::core::{Method, Uri};
use patchbay_sip::txn::ClientTxId;
use patchbay_sip::{Ms, Peer, msg};
use rvoip_auth_core::sip_digest::{DigestAuthenticator, DigestChallenge, DigestClient};

/// Seconds before trying again after a failure.
const RETRY_SECS: u64 = 30;

/// One registration to keep up.
#[derive(Debug, Clone)]
pub(crate) struct RegistrationSpec {
    /// The address of record (`sip:user@domain`).
    pub(crate) aor: Uri,
    /// Where the REGISTERs go.
    pub(crate) registrar: Peer,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) expires: u32,
}

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegState {
    /// A REGISTER is out.
    Registering,
    /// Bound until this time.
    Registered { until: Ms },
    /// Refused (`status`) or unanswered (408); tried again later.
    Failed { status: u16 },
}

#[derive(Debug)]
pub(super) struct ClientReg {
    spec: RegistrationSpec,
    pub(super) state: RegState,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The registrar's last challenge (and whether it was for Proxy-Authorization), its
    /// nonce count, and whether our last REGISTER already answered it.
    challenge: Option<(DigestChallenge, bool)>,
    nc: u32,
    answered: bool,
    tx: Option<ClientTxId>,
    pub(super) next_at: Option<Ms>,
    /// No longer kept up (its trunk changed or went): never sent again, not listed.
    stopped: bool,
}

impl Ua {
    /// Start keeping a registration up; its index for [`Ua::registrations`].
    pub(crate) fn add_registration(&mut self, now: Ms, spec: RegistrationSpec) -> usize {
        let r = ClientReg {
            spec,
            state: RegState::Registering,
            call_id: self.ids.call_id(),
            from_tag: self.ids.tag(),
            cseq: 0,
            challenge: None,
            nc: 0,
            answered: false,
            tx: None,
            next_at: None,
            stopped: false,
        };
        self.regs.push(r);
        let i = self.regs.len() - 1;
        self.reg_send(now, i);
        i
    }

    /// Every registration kept up: its address of record and state.
    pub(crate) fn registrations(&self) -> Vec<(String, RegState)> {
        self.regs
            .iter()
            .filter(|r| !r.stopped)
            .map(|r| (r.spec.aor.to_string(), r.state))
            .collect()
    }

    /// Stop keeping registration `i` up (the binding lapses at the registrar).
    pub(crate) fn stop_registration(&mut self, i: usize) {
        if let Some(r) = self.regs.get_mut(i) {
            r.stopped = true;
            r.next_at = None;
        }
    }

    fn reg_send(&mut self, now: Ms, i: usize) {
        if self.regs[i].stopped {
            return;
        }
        let transport = self.regs[i].spec.registrar.transport;
        let mut ruri = self.regs[i].spec.aor.clone();
        ruri.user = None;
        ruri.parameters.clear();
        let user = self.regs[i].spec.user.clone();
        let aor = self.regs[i].spec.aor.clone();
        // From and To are the address of record; Call-ID and From tag stay the same across
        // refreshes, CSeq grows (RFC 3261 10.2).
        let mut req = super::outbound::new_request(
            self,
            Method::Register,
            ruri.clone(),
            transport,
            &user,
            None,
            Some(aor.clone()),
        );
        let r = &mut self.regs[i];
        r.cseq += 1;
        let mut from = Address::new(aor);
        from.set_tag(r.from_tag.clone());
        for h in req.headers.iter_mut() {
            match h {
                TypedHeader::From(f) => f.0 = from.clone(),
                TypedHeader::CallId(c) => *c = CallId::new(r.call_id.clone()),
                TypedHeader::CSeq(c) => *c = CSeq::new(r.cseq, Method::Register),
                _ => {}
            }
        }
        req.headers
            .push(msg::raw("Expires", r.spec.expires.to_string()));
        r.answered = false;
        if let Some((ch, proxy)) = &r.challenge {
            r.nc += 1;
            let uri = ruri.to_string();
            if let Ok(c) = DigestClient::compute_response_with_state(
                &r.spec.user,
                &r.spec.password,
                ch,
                "REGISTER",
                &uri,
                r.nc,
                None,
            ) {
                let value =
                    DigestClient::format_authorization_with_state(&r.spec.user, ch, &uri, &c);
                let name = if *proxy {
                    "Proxy-Authorization"
                } else {
                    "Authorization"
                };
                req.headers.push(msg::raw(name, value));
                r.answered = true;
            }
        }
        let peer = r.spec.registrar;
        r.state = RegState::Registering;
        r.next_at = None;
        match self.txs.send_request(now, req, peer) {
            Ok(tx) => {
                self.regs[i].tx = Some(tx);
                self.reg_txs.insert(tx, i);
            }
            Err(_) => {
                let r = &mut self.regs[i];
                r.state = RegState::Failed { status: 503 };
                r.next_at = Some(now + RETRY_SECS * 1000);
            }
        }
    }

    /// A final response (or `None`: a timeout) to registration `i`'s REGISTER.
    pub(super) fn reg_response(&mut self, now: Ms, i: usize, resp: Option<&Response>) {
        if self.regs[i].stopped {
            return;
        }
        let Some(status) = resp.map(|r| r.status.as_u16()) else {
            let r = &mut self.regs[i];
            r.state = RegState::Failed { status: 408 };
            r.next_at = Some(now + RETRY_SECS * 1000);
            return;
        };
        let resp = resp.expect("status came from it");
        match status {
            200..=299 => {
                let transport = self.regs[i].spec.registrar.transport;
                let ours = format!(
                    "sip:{}@{}",
                    self.regs[i].spec.user,
                    self.locals.get(transport).sent_by
                );
                let r = &mut self.regs[i];
                let granted = granted_expires(&resp.headers, &ours).unwrap_or(r.spec.expires);
                if granted == 0 {
                    // Accepted but not bound: as good as refused.
                    r.state = RegState::Failed { status };
                    r.next_at = Some(now + RETRY_SECS * 1000);
                    return;
                }
                let until = now + u64::from(granted) * 1000;
                r.state = RegState::Registered { until };
                // Refresh with a margin: at 80 % of the interval, at least 5 s before.
                let margin = (u64::from(granted) * 200)
                    .max(5_000)
                    .min(u64::from(granted) * 500);
                r.next_at = Some(until - margin);
            }
            401 | 407 => {
                let proxy = status == 407;
                let name = if proxy {
                    "proxy-authenticate"
                } else {
                    "www-authenticate"
                };
                let parsed = msg::header_text(&resp.headers, name)
                    .and_then(|h| DigestAuthenticator::parse_challenge_details(&h).ok());
                let r = &mut self.regs[i];
                match parsed {
                    // Our credentials were refused (not for a stale nonce): they are wrong;
                    // asking again would only get the source banned.
                    Some(d) if r.answered && !d.stale => {
                        // The retry starts afresh (a new challenge, e.g. after the registrar
                        // restarted), not with this one again.
                        r.challenge = None;
                        r.state = RegState::Failed { status };
                        r.next_at = Some(now + RETRY_SECS * 1000);
                    }
                    Some(d) => {
                        r.challenge = Some((d.challenge, proxy));
                        r.nc = 0;
                        self.reg_send(now, i);
                    }
                    None => {
                        r.state = RegState::Failed { status };
                        r.next_at = Some(now + RETRY_SECS * 1000);
                    }
                }
            }
            423 => {
                let r = &mut self.regs[i];
                match msg::header_text(&resp.headers, "min-expires")
                    .and_then(|v| v.trim().parse().ok())
                {
                    Some(min) if min > r.spec.expires => {
                        r.spec.expires = min;
                        self.reg_send(now, i);
                    }
                    _ => {
                        r.state = RegState::Failed { status };
                        r.next_at = Some(now + RETRY_SECS * 1000);
                    }
                }
            }
            _ => {
                let r = &mut self.regs[i];
                r.state = RegState::Failed { status };
                r.next_at = Some(now + RETRY_SECS * 1000);
            }
        }
    }

    /// Refresh or retry every registration that is due.
    pub(super) fn reg_timers(&mut self, now: Ms) {
        for i in 0..self.regs.len() {
            if self.regs[i].next_at.is_some_and(|t| t <= now) {
                self.reg_send(now, i);
            }
        }
    }

    /// The earliest registration timer.
    pub(super) fn reg_next(&self) -> Option<Ms> {
        self.regs.iter().filter_map(|r| r.next_at).min()
    }
}

/// What the registrar granted: our Contact's `expires`, else the Expires header.
fn granted_expires(headers: &[TypedHeader], ours: &str) -> Option<u32> {
    // A registrar lists every binding of the address of record: ours is the one that counts.
    let contact = headers.iter().find_map(|h| match h {
        TypedHeader::Contact(c) => c.addresses().find_map(|a| {
            let uri = a.uri.to_string();
            let same = uri.split(';').next() == Some(ours);
            if same { a.expires() } else { None }
        }),
        _ => None,
    });
    contact.or_else(|| {
        headers.iter().find_map(|h| match h {
            TypedHeader::Expires(e) => Some(e.0),
            _ => None,
        })
    })
}
