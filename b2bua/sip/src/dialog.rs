//! Dialogs (RFC 3261 12): the state two user agents share after an INVITE is answered, and the
//! requests built from it. A B2BUA leg is one dialog.
//!
//! Requests inside a dialog go to the [`Peer`] the dialog's messages came from (the source of
//! the INVITE, or where we sent ours), not to a DNS resolution of the remote target: phones
//! behind NAT, and a SIP edge proxy in front of the node, both need exactly that.

mod saved;
pub use saved::SavedDialog;

use crate::msg::{self, raw};
use crate::{Peer, Transport};
use rvoip_sip_core::types::address::Address;
use rvoip_sip_core::types::call_id::CallId;
use rvoip_sip_core::types::contact::{Contact, ContactParamInfo};
use rvoip_sip_core::types::cseq::CSeq;
use rvoip_sip_core::types::from::From;
use rvoip_sip_core::types::headers::TypedHeader;
use rvoip_sip_core::types::max_forwards::MaxForwards;
use rvoip_sip_core::types::param::Param;
use rvoip_sip_core::types::route::Route;
use rvoip_sip_core::types::sip_request::Request;
use rvoip_sip_core::types::sip_response::Response;
use rvoip_sip_core::types::to::To;
use rvoip_sip_core::types::via::Via;
use rvoip_sip_core::{Method, Uri};

/// What is wrong with a message for a dialog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    #[error("the message lacks {0}")]
    Missing(&'static str),
    /// A request whose CSeq is not above the last one (answered 500, RFC 3261 12.2.2).
    #[error("CSeq {got} is not above {last}")]
    CSeqOrder { got: u32, last: u32 },
}

/// Our side of the wire: what goes in Via and Contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// `host:port` of our listener (Via sent-by, Contact host).
    pub sent_by: String,
    pub transport: Transport,
}

impl Local {
    /// A Via value for a new request with this branch (with `rport`, RFC 3581).
    pub fn via(&self, branch: &str) -> TypedHeader {
        let (host, port) = split_host_port(&self.sent_by);
        let via = Via::new(
            "SIP",
            "2.0",
            self.transport.as_str(),
            host,
            port,
            vec![Param::branch(branch), Param::Rport(None)],
        );
        match via {
            Ok(v) => TypedHeader::Via(v),
            // (Only for a host rvoip cannot hold; config validation keeps it an address.)
            Err(_) => raw(
                "Via",
                format!(
                    "SIP/2.0/{} {};branch={branch};rport",
                    self.transport.as_str(),
                    self.sent_by
                ),
            ),
        }
    }

    /// Our Contact, with `user` as its user part.
    pub fn contact(&self, user: &str) -> TypedHeader {
        let uri_text = match self.transport {
            Transport::Udp => format!("sip:{user}@{}", self.sent_by),
            t => format!(
                "sip:{user}@{};transport={}",
                self.sent_by,
                t.as_str().to_lowercase()
            ),
        };
        match uri_text.parse::<Uri>() {
            Ok(uri) => TypedHeader::Contact(Contact::new_params(vec![ContactParamInfo {
                address: Address::new(uri),
            }])),
            Err(_) => raw("Contact", format!("<{uri_text}>")),
        }
    }
}

fn split_host_port(s: &str) -> (&str, Option<u16>) {
    match s.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') => match p.parse() {
            Ok(port) => (h.trim_start_matches('[').trim_end_matches(']'), Some(port)),
            Err(_) => (s, None),
        },
        _ => (s, None),
    }
}

/// One dialog. Fields are public for the transaction user's bookkeeping; the methods keep
/// CSeq order and targets as RFC 3261 12.2 says.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our From in requests we send (without tag).
    pub local_uri: Address,
    /// Their To in requests we send (without tag).
    pub remote_uri: Address,
    pub local_seq: u32,
    pub remote_seq: Option<u32>,
    /// The peer's Contact: the Request-URI of our requests.
    pub remote_target: Uri,
    /// Record-Route, in the order our requests carry it as Route.
    pub route_set: Vec<Address>,
    pub peer: Peer,
}

fn from_address(headers: &[TypedHeader]) -> Result<&Address, DialogError> {
    headers
        .iter()
        .find_map(|h| match h {
            TypedHeader::From(f) => Some(&f.0),
            _ => None,
        })
        .ok_or(DialogError::Missing("From"))
}

fn to_address(headers: &[TypedHeader]) -> Result<&Address, DialogError> {
    headers
        .iter()
        .find_map(|h| match h {
            TypedHeader::To(t) => Some(&t.0),
            _ => None,
        })
        .ok_or(DialogError::Missing("To"))
}

fn without_tag(a: &Address) -> Address {
    let mut a = a.clone();
    a.params.retain(|p| !matches!(p, Param::Tag(_)));
    a
}

/// The first Contact URI of a message.
pub fn contact_uri(headers: &[TypedHeader]) -> Option<Uri> {
    headers.iter().find_map(|h| match h {
        TypedHeader::Contact(c) => c.addresses().next().map(|a| a.uri.clone()),
        _ => None,
    })
}

fn record_route(headers: &[TypedHeader]) -> Vec<Address> {
    headers
        .iter()
        .filter_map(|h| match h {
            TypedHeader::RecordRoute(rr) => Some(rr.0.iter().map(|e| e.0.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

impl Dialog {
    /// The dialog a UAS makes when it answers `req` (an INVITE) with `local_tag`.
    pub fn from_uas(req: &Request, local_tag: &str, peer: Peer) -> Result<Self, DialogError> {
        let from = from_address(&req.headers)?;
        let to = to_address(&req.headers)?;
        let call_id = msg::call_id(&req.headers).ok_or(DialogError::Missing("Call-ID"))?;
        let (seq, _) = msg::cseq(&req.headers).ok_or(DialogError::Missing("CSeq"))?;
        Ok(Self {
            call_id: call_id.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: msg::address_tag(from).unwrap_or("").to_string(),
            local_uri: without_tag(to),
            remote_uri: without_tag(from),
            local_seq: 0,
            remote_seq: Some(seq),
            remote_target: contact_uri(&req.headers).unwrap_or_else(|| from.uri.clone()),
            route_set: record_route(&req.headers),
            peer,
        })
    }

    /// The dialog a UAC gets from a 1xx/2xx with a To tag to its INVITE `req`.
    pub fn from_uac(req: &Request, resp: &Response, peer: Peer) -> Result<Self, DialogError> {
        let from = from_address(&req.headers)?;
        let to = to_address(&resp.headers)?;
        let call_id = msg::call_id(&req.headers).ok_or(DialogError::Missing("Call-ID"))?;
        let (seq, _) = msg::cseq(&req.headers).ok_or(DialogError::Missing("CSeq"))?;
        let mut route_set = record_route(&resp.headers);
        route_set.reverse();
        Ok(Self {
            call_id: call_id.to_string(),
            local_tag: msg::address_tag(from).unwrap_or("").to_string(),
            remote_tag: msg::address_tag(to)
                .ok_or(DialogError::Missing("To tag"))?
                .to_string(),
            local_uri: without_tag(from),
            remote_uri: without_tag(to),
            local_seq: seq,
            remote_seq: None,
            remote_target: contact_uri(&resp.headers).unwrap_or_else(|| to.uri.clone()),
            route_set,
            peer,
        })
    }

    /// Take a request of the peer in this dialog: CSeq must grow; a target refresh
    /// (re-INVITE, UPDATE) with a Contact moves the remote target.
    pub fn take_request(&mut self, req: &Request) -> Result<(), DialogError> {
        let (seq, method) = msg::cseq(&req.headers).ok_or(DialogError::Missing("CSeq"))?;
        if !matches!(method, Method::Ack | Method::Cancel) {
            if let Some(last) = self.remote_seq
                && seq <= last
            {
                return Err(DialogError::CSeqOrder { got: seq, last });
            }
            self.remote_seq = Some(seq);
        }
        if matches!(req.method, Method::Invite | Method::Update)
            && let Some(uri) = contact_uri(&req.headers)
        {
            self.remote_target = uri;
        }
        Ok(())
    }

    /// The 2xx that confirms an early dialog of ours (a PRACKed provisional came first): its
    /// Contact and Record-Route are the dialog's from now on (RFC 3261 13.2.2.4).
    pub fn confirm_uac(&mut self, resp: &Response) {
        self.take_refresh_response(resp);
        let mut route_set = record_route(&resp.headers);
        route_set.reverse();
        self.route_set = route_set;
    }

    /// A 2xx to our re-INVITE or UPDATE with a Contact moves the remote target too.
    pub fn take_refresh_response(&mut self, resp: &Response) {
        if let Some(uri) = contact_uri(&resp.headers) {
            self.remote_target = uri;
        }
    }

    /// A new request in the dialog (not ACK, not CANCEL): next CSeq, remote target as
    /// Request-URI, route set as Route. Target refreshes and REFER/NOTIFY/SUBSCRIBE get our
    /// Contact (`contact_user` as its user).
    pub fn request(
        &mut self,
        method: Method,
        local: &Local,
        branch: &str,
        contact_user: &str,
    ) -> Request {
        self.local_seq += 1;
        let mut req = self.base(method.clone(), local, branch, self.local_seq);
        if matches!(
            method,
            Method::Invite | Method::Update | Method::Refer | Method::Notify | Method::Subscribe
        ) {
            req.headers.push(local.contact(contact_user));
        }
        req
    }

    /// The ACK for a 2xx to our INVITE with CSeq `invite_seq` (its own branch, RFC 3261 13.2.2.4).
    pub fn ack(&self, local: &Local, branch: &str, invite_seq: u32) -> Request {
        self.base(Method::Ack, local, branch, invite_seq)
    }

    fn base(&self, method: Method, local: &Local, branch: &str, seq: u32) -> Request {
        let mut req = Request::new(method.clone(), self.remote_target.clone());
        req.headers.reserve(9);
        req.headers.push(local.via(branch));
        req.headers
            .push(TypedHeader::MaxForwards(MaxForwards::new(70)));
        let mut from = self.local_uri.clone();
        from.set_tag(&self.local_tag);
        req.headers.push(TypedHeader::From(From(from)));
        let mut to = self.remote_uri.clone();
        if !self.remote_tag.is_empty() {
            to.set_tag(&self.remote_tag);
        }
        req.headers.push(TypedHeader::To(To(to)));
        req.headers
            .push(TypedHeader::CallId(CallId::new(self.call_id.clone())));
        req.headers.push(TypedHeader::CSeq(CSeq::new(seq, method)));
        if !self.route_set.is_empty() {
            let entries = self
                .route_set
                .iter()
                .map(|a| rvoip_sip_core::parser::headers::route::RouteEntry(a.clone()))
                .collect();
            req.headers.push(TypedHeader::Route(Route::new(entries)));
        }
        req
    }
}

#[cfg(test)]
mod tests;
