//! Mutated requests never panic a translator: every compat-specs request plus a sample of each
//! vendor's forms, mutated many times (bytes flipped, deleted, duplicated, truncated, and
//! pieces that parsers trip on spliced in), go through every parser and credential reader.
//! A panic names the seed and the mutated bytes. Deterministic (fixed xorshift seed).

use crate::auth::digest::{DigestResponse, NonceKey};
use crate::auth::{basic, from_authorization, ip::IpPattern, jwt};
use crate::route::{self, Vendor};
use crate::vendors::{brekeke, brekeke_soap, native, ozeki, promptcall, sipx, taridium};
use crate::{Failure, Request};
use std::panic::{AssertUnwindSafe, catch_unwind};

const ROUNDS_PER_SEED: usize = 600;

const SAMPLES: &[&str] = &[
    "POST /api/v1/calls HTTP/1.1\ncontent-type: application/json\nauthorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=\n\n{\"from\":\"4005\",\"to\":[\"4007\",\"4009\"],\"mode\":\"simultaneous\",\"headers\":{\"X-Crm-Id\":\"42\"},\"from_phone\":2,\"auto_answer\":true}",
    "GET /api/v1/calls/17/events?after=3&wait_ms=100 HTTP/1.1\nauthorization: Digest username=\"4005\", realm=\"demo\", nonce=\"AAAA.BBBB\", uri=\"/api/v1/me\", response=\"0123456789abcdef0123456789abcdef\", qop=auth, nc=00000001, cnonce=\"x\", algorithm=SHA-256\n\n",
    "PUT /api/v1/tenants/demo/users/4005 HTTP/1.1\ncontent-type: application/json\nauthorization: Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6ImRlbW8ifQ.eyJzdWIiOiI0MDA1In0.c2ln\n\n{\"sip_password\":\"x\",\"display_name\":\"A\"}",
    "GET /user/c/?key=DEMO05&call=4007&fwd=1&fwdnr=0049301234&follow=0&vm=1 HTTP/1.1\n\n",
    "POST /pbxws.php/dial HTTP/1.1\ncontent-type: application/json\n\n{\"token\":\"ZGVtby1rZXk6ZGVtby1zZWNyZXQ=\",\"ext\":\"4005\",\"tel\":\"4007\"}",
    "GET /pbxws.php/dial?token=ZGVtby1rZXk6ZGVtby1zZWNyZXQ%3D&ext=4005&tel=4007 HTTP/1.1\n\n",
    "GET /?Command=Call&Username=admin&Password=pw&Dialed=4007&ApiExtension=9000 HTTP/1.1\n\n",
    "GET /command=ListActiveCalls HTTP/1.1\n\n",
    "POST /pbx/3pcc HTTP/1.1\ncontent-type: application/x-www-form-urlencoded\n\nto=4007,4009&from=4005&type=1&tenant=demo&phone=2&page=true",
    "POST /callcontroller/4005/sip%3A4007%40demo?sipMethod=INVITE&agent=4005&isForwardingAllowed=true&subject=c2c&timeout=30&resultCacheTime=5&confpin=1234&action=transfer&target=4009 HTTP/1.1\n\n+",
];

/// Splices that tend to find edge cases: encodings, XML, JSON and header syntax.
const PIECES: &[&[u8]] = &[
    b"%",
    b"%zz",
    b"%00",
    b"%ff%fe",
    b"&",
    b"=",
    b"&&==",
    b"+",
    b",",
    b";",
    b"\"",
    b"\\",
    b"<",
    b">",
    b"</",
    b"/>",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE x [<!ENTITY e \"x\">]>",
    b"&e;",
    b"&#0;",
    b"&#x110000;",
    b"xmlns:a=\"\"",
    b"xsi:nil=\"true\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"\":",
    b"null",
    b"1e999",
    b"-0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\x00",
    b"\r\n",
    b"\n\n",
    b":",
    b"Digest ",
    b"Basic ",
    b"Bearer ",
    b"nc=ffffffff",
    b"nonce=\"\"",
    b"99999999999999999999999",
    b"sip:",
    b"sips:@",
    b"\t",
    b"  ",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../compat-specs");
    // Sorted: the same seeds get the same mutations on every machine.
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&root)
        .expect("compat-specs")
        .flatten()
        .filter_map(|v| std::fs::read_dir(v.path().join("cases")).ok())
        .flat_map(|cases| cases.flatten().map(|c| c.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "request"))
        .collect();
    paths.sort();
    let mut out: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).expect("case")))
        .collect();
    assert!(
        out.len() >= 30,
        "compat-specs requests found: {}",
        out.len()
    );
    for (i, s) in SAMPLES.iter().enumerate() {
        out.push((format!("sample {i}"), s.as_bytes().to_vec()));
    }
    out
}

fn mutate(rng: &mut Rng, raw: &[u8]) -> Vec<u8> {
    let mut v = raw.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 if at < v.len() => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let dup = v[at..end].to_vec();
                v.splice(at..at, dup);
            }
            3 => v.truncate(at),
            _ => {
                let piece = PIECES[rng.below(PIECES.len())];
                v.splice(at..at, piece.iter().copied());
            }
        }
    }
    v
}

/// The request a server would hand the translators, or `None` when the bytes are not HTTP
/// the way http's builder sees it (pingora refuses those before any translator runs).
fn to_request(raw: &[u8]) -> Option<Request> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?, first.next()?);
    let mut b = http::Request::builder()
        .method(method)
        .uri(path.replace("{host}", "127.0.0.1"));
    for l in lines {
        let (k, v) = l.split_once(':')?;
        b = b.header(k.trim(), v.trim());
    }
    b.body(bytes::Bytes::from(body.replace("{host}", "127.0.0.1")))
        .ok()
}

/// Every parser and credential reader on `req`; results are thrown away, only panics count.
fn exercise(req: &Request) {
    let _ = brekeke::parse_3pcc(req);
    let _ = brekeke_soap::parse_request(req);
    let _ = native::parse_request(req);
    let _ = ozeki::parse_request(req);
    let _ = promptcall::parse_request(req);
    let _ = taridium::parse_url_control(req);
    if let Some(tail) = req.uri().path().strip_prefix("/callcontroller/") {
        let _ = sipx::callcontroller::parse(req, tail);
    }
    let _ = sipx::callcontroller::key(req.uri().path(), "a@b", "sip:x", "d");
    let _ = sipx::rest::route(req.uri().path());
    let _ = sipx::rest::call_target(req.uri().path().rsplit('/').next().unwrap_or(""));
    let _ = sipx::rest::negotiate(req, &[sipx::rest::Variant::Xml, sipx::rest::Variant::Json]);
    let _ = sipx::forward::parse_forward(req.body());
    let _ = sipx::forward::parse_callfwd(req.body());
    let _ = from_authorization(req);
    let all = [
        Vendor::Native,
        Vendor::Brekeke,
        Vendor::BrekekeSoap,
        Vendor::Taridium,
        Vendor::Sipx,
        Vendor::SipxCallController,
        Vendor::Promptcall,
        Vendor::Ozeki,
    ];
    let _ = route::route(&all, req.uri().path());
    for v in all {
        let _ = crate::vendors::render_error(v, &Failure::bad("x", req.uri().path()));
    }
    let body = String::from_utf8_lossy(req.body());
    if let Ok(b) = serde_json::from_str::<native::CallBody>(&body) {
        let _ = b.validate(&["X-Crm-Id".to_string()]);
    }
    if let Some((_, v)) = crate::auth::authorization(req) {
        let _ = basic::parse_basic(v);
        let _ = basic::parse_token(v);
        let _ = jwt::kid(v);
        if let Some(d) = DigestResponse::parse(v) {
            let _ = (d.algorithm(), d.nc_value(), d.replay_key());
            let _ = d.verify("GET", "0123456789abcdef0123456789abcdef");
            let _ = NonceKey::new([7; 32]).check(&d.nonce, 1_000);
        }
    }
}

#[test]
fn mutated_requests_never_panic_a_translator() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tried = 0;
    for (name, raw) in seeds() {
        for round in 0..=ROUNDS_PER_SEED {
            let bytes = if round == 0 {
                raw.clone()
            } else {
                mutate(&mut rng, &raw)
            };
            let Some(req) = to_request(&bytes) else {
                continue;
            };
            tried += 1;
            if catch_unwind(AssertUnwindSafe(|| exercise(&req))).is_err() {
                panic!(
                    "{name}, round {round}: a translator panicked on\n{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
    assert!(tried > 10_000, "only {tried} mutated requests were HTTP");
}

#[test]
fn mutated_ip_patterns_never_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let ips = ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::7"].map(|s| s.parse().unwrap());
    for seed in [
        r"^127\.0\.0\.1$",
        "10.0.0.0/8",
        "::1/128",
        r"192\.168\..*",
        "2001:db8::/32",
    ] {
        for _ in 0..300 {
            let bytes = mutate(&mut rng, seed.as_bytes());
            let text = String::from_utf8_lossy(&bytes);
            let r = catch_unwind(AssertUnwindSafe(|| {
                if let Ok(p) = IpPattern::parse(&text) {
                    ips.iter().for_each(|ip| {
                        p.matches(*ip);
                    });
                }
            }));
            assert!(r.is_ok(), "IpPattern panicked on {text:?}");
        }
    }
}
