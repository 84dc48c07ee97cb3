//! A phone of tenant acme, authenticated in acme's realm (its credentials sent with the
//! request, as a phone reusing a nonce does), cannot reach demo: an INVITE to
//! `sip:4007@demo` or to an outside domain is 403 and counted, a REGISTER of an address in
//! demo's realm is 403; demo's 4007 hears nothing. Hand-rolled digest client (SIPp answers
//! only the challenge it gets, which is always in the request URI's realm).
use md5::Digest as _;
use patchbay_store::{Store as _, Tenant, User};
use patchbay_tests::*;
use std::net::UdpSocket;
use std::time::Duration;

fn md5(s: &str) -> String {
    hex::encode(md5::Md5::digest(s.as_bytes()))
}

fn param(hdr: &str, name: &str) -> String {
    let i = hdr.find(&format!("{name}=")).expect("param") + name.len() + 1;
    let rest = hdr[i..].trim_start_matches('"');
    rest[..rest.find(['"', ',']).unwrap_or(rest.len())].to_string()
}

struct Acme {
    sip: String,
    local: u16,
    nonce: String,
    opaque: String,
}

impl Acme {
    /// Digest credentials of 5001 in realm acme for `method` `uri`, nonce count `nc`.
    fn auth(&self, method: &str, uri: &str, nc: u32) -> String {
        let ha1 = md5("5001:acme:pw-5001");
        let ha2 = md5(&format!("{method}:{uri}"));
        let nc = format!("{nc:08x}");
        let resp = md5(&format!("{ha1}:{}:{nc}:c0ffee:auth:{ha2}", self.nonce));
        format!(
            "Authorization: Digest username=\"5001\", realm=\"acme\", nonce=\"{}\", uri=\"{uri}\", \
             response=\"{resp}\", algorithm=MD5, qop=auth, nc={nc}, cnonce=\"c0ffee\", opaque=\"{}\"\r\n",
            self.nonce, self.opaque
        )
    }

    fn register(&self, aor: &str, cseq: u32, auth: &str) -> String {
        let (sip, local) = (&self.sip, self.local);
        format!(
            "REGISTER sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKr{cseq}\r\n\
             From: <sip:{aor}>;tag=r1\r\nTo: <sip:{aor}>\r\nCall-ID: reg-5001@t\r\n\
             CSeq: {cseq} REGISTER\r\nContact: <sip:5001@127.0.0.1:{local}>\r\nExpires: 300\r\n{auth}\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
    }

    fn invite(&self, ruri: &str, call: &str, auth: &str) -> String {
        let local = self.local;
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            local + 2
        );
        format!(
            "INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{call}\r\n\
             From: <sip:5001@acme>;tag=i{call}\r\nTo: <{ruri}>\r\nCall-ID: {call}@t\r\n\
             CSeq: 1 INVITE\r\nContact: <sip:5001@127.0.0.1:{local}>\r\n{auth}Max-Forwards: 70\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_phone_cannot_reach_demo() {
    let stack = Stack::start().await;
    stack
        .store
        .upsert_tenant(&Tenant {
            name: "acme".into(),
            realm: "acme".into(),
        })
        .await
        .unwrap();
    let u = User {
        tenant: "acme".into(),
        ext: "5001".into(),
        display_name: "Acme 5001".into(),
    };
    stack.store.upsert_user(&u, "pw-5001").await.unwrap();
    let demo4007 = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stack
        .register("4007", demo4007.local_addr().unwrap().port())
        .await;
    // (The B2BUA reads new tenants at most once a second.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let sip = stack.sip();
    let mut acme = Acme {
        sip: sip.clone(),
        local: sock.local_addr().unwrap().port(),
        nonce: String::new(),
        opaque: String::new(),
    };
    // A challenge in acme's realm, and a registration there: the credentials are good.
    let ch = sip_exchange(&sock, &sip, &acme.register("5001@acme", 1, ""));
    assert!(ch.starts_with("SIP/2.0 401"), "{ch}");
    let www = ch
        .lines()
        .find(|l| l.starts_with("WWW-Authenticate:") && l.contains("MD5"))
        .expect("MD5 challenge");
    assert_eq!(param(www, "realm"), "acme");
    (acme.nonce, acme.opaque) = (param(www, "nonce"), param(www, "opaque"));
    let uri = format!("sip:{sip}");
    let ok = sip_exchange(
        &sock,
        &sip,
        &acme.register("5001@acme", 2, &acme.auth("REGISTER", &uri, 1)),
    );
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    // The same credentials for an address of record in demo's realm.
    let r = sip_exchange(
        &sock,
        &sip,
        &acme.register("5001@demo", 3, &acme.auth("REGISTER", &uri, 2)),
    );
    assert!(r.starts_with("SIP/2.0 403"), "{r}");
    // INVITEs to demo's 4007 and to an outside domain, authenticated in acme's realm.
    for (n, ruri) in [(3, "sip:4007@demo"), (4, "sip:bob@evil.example")] {
        let call = format!("x{n}");
        let auth = acme.auth("INVITE", ruri, n);
        let r = sip_exchange(&sock, &sip, &acme.invite(ruri, &call, &auth));
        assert!(r.starts_with("SIP/2.0 403"), "{ruri}: {r}");
    }
    let mut buf = [0u8; 2048];
    let heard =
        tokio::time::timeout(Duration::from_millis(500), demo4007.recv_from(&mut buf)).await;
    assert!(heard.is_err(), "demo's 4007 never rang");
    let m = stack.b2bua_get("/metrics").await;
    let refused = |reason: &str| {
        metric(
            &m,
            &format!(
                "patchbay_b2bua_destinations_refused_total{{origin=\"sip\",reason=\"{reason}\"}}"
            ),
        )
    };
    assert_eq!(
        (refused("foreign_tenant"), refused("sip_domain")),
        (Some(1.0), Some(1.0))
    );
    assert_eq!(
        metric(
            &m,
            "patchbay_b2bua_auth_failures_total{reason=\"aor_mismatch\"}"
        ),
        Some(1.0)
    );
    let regs = stack.api.registrations("demo").await.unwrap();
    assert!(regs.iter().all(|r| r.user != "5001"), "{regs:?}");
    stack.stop().await;
}
