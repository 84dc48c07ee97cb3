//! A dialog written down (the live-call journal): enough for any node to end it with a BYE
//! after the node that owned it died. Addresses and URIs as text, parsed back on restore.

use super::{Dialog, DialogError};
use crate::{Peer, Transport};
use rvoip_sip_core::Uri;
use rvoip_sip_core::types::address::Address;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// A [`Dialog`] as data. The peer's connection (TCP/TLS flow) is the dead process's own and
/// is not kept: a restored dialog opens a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    pub local_uri: String,
    pub remote_uri: String,
    pub local_seq: u32,
    pub remote_target: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_set: Vec<String>,
    pub peer: SocketAddr,
    /// `UDP`, `TCP` or `TLS`.
    pub transport: String,
}

/// Steps the CSeq of a restored dialog past any request the dead node may have sent after
/// the dialog was written down (re-INVITEs, REFERs): the peer takes any higher number.
const CSEQ_STEP: u32 = 1000;

impl Dialog {
    pub fn save(&self) -> SavedDialog {
        SavedDialog {
            call_id: self.call_id.clone(),
            local_tag: self.local_tag.clone(),
            remote_tag: self.remote_tag.clone(),
            local_uri: self.local_uri.to_string(),
            remote_uri: self.remote_uri.to_string(),
            local_seq: self.local_seq,
            remote_target: self.remote_target.to_string(),
            route_set: self.route_set.iter().map(ToString::to_string).collect(),
            peer: self.peer.addr,
            transport: self.peer.transport.as_str().to_string(),
        }
    }

    /// The dialog back from `saved`, its CSeq stepped past what the dead node could have used.
    pub fn restore(saved: &SavedDialog) -> Result<Dialog, DialogError> {
        let address = |s: &str, what| s.parse::<Address>().map_err(|_| DialogError::Missing(what));
        let transport = match saved.transport.as_str() {
            "TCP" => Transport::Tcp,
            "TLS" => Transport::Tls,
            _ => Transport::Udp,
        };
        Ok(Dialog {
            call_id: saved.call_id.clone(),
            local_tag: saved.local_tag.clone(),
            remote_tag: saved.remote_tag.clone(),
            local_uri: address(&saved.local_uri, "From")?,
            remote_uri: address(&saved.remote_uri, "To")?,
            local_seq: saved.local_seq.saturating_add(CSEQ_STEP),
            remote_seq: None,
            remote_target: saved
                .remote_target
                .parse::<Uri>()
                .map_err(|_| DialogError::Missing("Contact"))?,
            route_set: saved
                .route_set
                .iter()
                .map(|r| address(r, "Route"))
                .collect::<Result<_, _>>()?,
            peer: Peer {
                addr: saved.peer,
                transport,
                flow: None,
            },
        })
    }
}
