//! REGISTER answered with SHA-256 digest (RFC 7616 / 8760) and with MD5, computed here from the
//! challenge: both bind the contact. SIPp only speaks MD5, so this client is hand-rolled.
use md5::Digest as _;
use patchbay_tests::*;
use std::net::UdpSocket;
use std::time::Duration;

fn h(alg: &str, s: &str) -> String {
    if alg == "SHA-256" {
        hex::encode(sha2::Sha256::digest(s.as_bytes()))
    } else {
        hex::encode(md5::Md5::digest(s.as_bytes()))
    }
}

fn param(hdr: &str, name: &str) -> String {
    let i = hdr.find(&format!("{name}=")).expect("param") + name.len() + 1;
    let rest = &hdr[i..];
    let rest = rest.trim_start_matches('"');
    rest[..rest.find(['"', ',']).unwrap_or(rest.len())].to_string()
}

fn register(sip: &str, local: u16, user: &str, contact: u16, cseq: u32, auth: &str) -> String {
    format!(
        "REGISTER sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKsha{cseq}\r\n\
         From: <sip:{user}@{sip}>;tag=s1\r\nTo: <sip:{user}@{sip}>\r\nCall-ID: sha-{user}@t\r\n\
         CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@127.0.0.1:{contact}>\r\nExpires: 300\r\n{auth}\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_sha256_and_md5() {
    let stack = Stack::start().await;
    let sip = stack.sip();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let local = sock.local_addr().unwrap().port();
    for (i, (user, alg)) in [("4007", "SHA-256"), ("4009", "MD5")]
        .into_iter()
        .enumerate()
    {
        let cseq = 10 * (i as u32 + 1);
        let ch = sip_exchange(
            &sock,
            &sip,
            &register(&sip, local, user, 6000 + i as u16, cseq, ""),
        );
        assert!(ch.starts_with("SIP/2.0 401"), "{ch}");
        let www: Vec<&str> = ch
            .lines()
            .filter(|l| l.starts_with("WWW-Authenticate:"))
            .collect();
        assert_eq!(www.len(), 2, "MD5 and SHA-256 offered: {ch}");
        assert!(
            www[0].contains("algorithm=MD5"),
            "MD5 first for older phones: {ch}"
        );
        let hdr = www
            .iter()
            .find(|l| l.contains(&format!("algorithm={alg}")))
            .expect("challenge");
        let (realm, nonce, opaque) = (
            param(hdr, "realm"),
            param(hdr, "nonce"),
            param(hdr, "opaque"),
        );
        let uri = format!("sip:{sip}");
        let ha1 = h(alg, &format!("{user}:{realm}:demo-{user}"));
        let ha2 = h(alg, &format!("REGISTER:{uri}"));
        let resp = h(alg, &format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
        let auth = format!(
            "Authorization: Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{resp}\", algorithm={alg}, qop=auth, nc=00000001, cnonce=\"c0ffee\", opaque=\"{opaque}\"\r\n"
        );
        let ok = sip_exchange(
            &sock,
            &sip,
            &register(&sip, local, user, 6000 + i as u16, cseq + 1, &auth),
        );
        assert!(ok.starts_with("SIP/2.0 200"), "{alg}: {ok}");
        // The same credentials again (nonce-count replay) are refused.
        let replay = sip_exchange(
            &sock,
            &sip,
            &register(&sip, local, user, 6000 + i as u16, cseq + 2, &auth),
        );
        assert!(
            replay.starts_with("SIP/2.0 401"),
            "replay refused: {replay}"
        );
    }
    let regs = stack.api.registrations("demo").await.unwrap();
    assert_eq!(
        regs.iter().map(|r| r.user.as_str()).collect::<Vec<_>>(),
        ["4007", "4009"]
    );
    stack.stop().await;
}
