//! HTTP Digest (RFC 7616) on the native API: curl --digest (MD5), a hand-made SHA-256 answer,
//! nonce-count replay refused, an expired nonce answered with stale=true.
use md5::Digest as _;
use patchbay_tests::*;
use std::process::Command;
use std::time::Duration;

fn curl_digest(url: &str, user: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "--digest", "-u", user, "-w", "\n%{http_code}", url])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or((&text, ""));
    (code.to_string(), body.to_string())
}

fn param(challenge: &str, name: &str) -> String {
    let k = format!("{name}=\"");
    let i = challenge.find(&k).expect("param") + k.len();
    challenge[i..i + challenge[i..].find('"').unwrap()].to_string()
}

fn sha(s: &str) -> String {
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_md5_sha256_replay_and_stale() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|c| c.auth.nonce_ttl_secs = 1);
    let url = format!("{}/api/v1/me", gw.base);

    let (code, body) = curl_digest(&url, "4005:web-4005");
    assert_eq!(code, "200", "{body}");
    assert!(
        body.contains("\"scheme\":\"digest\"") && body.contains("\"user\":\"4005\""),
        "{body}"
    );
    let (code, _) = curl_digest(&url, "4005:wrong");
    assert_eq!(code, "401");
    let (code, _) = curl_digest(&url, "4099:web-4005");
    assert_eq!(code, "401");

    // SHA-256 by hand, then the same nc again (replay).
    let ch = gw.get("/api/v1/me").await.all("www-authenticate")[1].clone();
    assert!(ch.contains("SHA-256"));
    let nonce = param(&ch, "nonce");
    let answer = |nonce: &str, nc: &str| {
        let ha1 = sha("4005:demo:web-4005");
        let ha2 = sha("GET:/api/v1/me");
        let resp = sha(&format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"));
        format!(
            "Digest username=\"4005\", realm=\"demo\", nonce=\"{nonce}\", uri=\"/api/v1/me\", algorithm=SHA-256, qop=auth, nc={nc}, cnonce=\"c0ffee\", response=\"{resp}\""
        )
    };
    let send = |h: String| gw.send(gw.http.get(&url).header("authorization", h));
    assert_eq!(send(answer(&nonce, "00000001")).await.status, 200);
    assert_eq!(send(answer(&nonce, "00000002")).await.status, 200);
    assert_eq!(
        send(answer(&nonce, "00000002")).await.status,
        401,
        "replayed nc refused"
    );
    // A forged nonce is refused.
    assert_eq!(
        send(answer(
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "00000001"
        ))
        .await
        .status,
        401
    );

    // Expired (ttl 1 s): 401 again, with stale=true and a fresh nonce.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = send(answer(&nonce, "00000003")).await;
    assert_eq!(r.status, 401);
    let ch = r.all("www-authenticate");
    assert!(ch.iter().all(|c| c.ends_with("stale=true")), "{ch:?}");
    assert_ne!(param(&ch[1], "nonce"), nonce);
    gw.stop().await;
    stack.stop().await;
}
