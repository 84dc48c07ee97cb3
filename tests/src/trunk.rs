//! A carrier trunk for tests: the demo tenant's trunk `carrier` (a SIPp process on 127.0.0.5,
//! Digest user `acct`, password `s3cret`), its dial plan and a DID, set up through the native
//! admin API as an operator would.

use crate::{Gw, Sipp};
use reqwest::Method as M;
use serde_json::json;

/// The carrier's address (another loopback address: the PBX knows the carrier by its IP, and
/// the test phones are on 127.0.0.1).
pub const CARRIER_IP: &str = "127.0.0.5";

/// Trunk `carrier` to `CARRIER_IP:port` (caller ID `+6621234567`, 1 channel); dial plan:
/// `112` refused, `+66X.` out through it as a national number (strip `+66`, prepend `0`);
/// DID `+6621234500` -> 4007.
pub async fn set_up_carrier(gw: &Gw, port: u16) {
    let demo = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/trunks/carrier").json(&json!({
                "host": CARRIER_IP, "port": port, "transport": "udp",
                "username": "acct", "password": "s3cret",
                "caller_id": "+6621234567", "max_channels": 1
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["password_set"], true, "{}", r.body);
    assert!(
        !r.body.contains("s3cret"),
        "the password is never shown: {}",
        r.body
    );
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/dialplan").json(&json!([
            {"pattern": "112", "refuse": true},
            {"pattern": "+66X.", "strip": 3, "prepend": "0", "trunk": "carrier"}
        ])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/dids/+6621234500")
                .json(&json!({"destination": "4007"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The SIPp carrier on `CARRIER_IP:port` (`uas_carrier_auth.xml`: it challenges our INVITE,
/// checks the trunk's credentials, answers with PCMA to `rtp_port` on 127.0.0.1).
pub fn carrier(port: u16, rtp_port: u16) -> Sipp {
    Sipp::spawn(
        "uas_carrier_auth.xml",
        "",
        &[
            "-i",
            CARRIER_IP,
            "-mi",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-set",
            "rtpport",
            &rtp_port.to_string(),
        ],
    )
}
