//! Credentials as clients send them: `Authorization` (Basic, Digest, Bearer), promptCall's
//! token, Digest parameters, stateless nonces (ours and sipXconfig's form), JWTs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_fuzz::{request, text};
use patchbay_gateway_proto::auth::{self, DigestResponse, NonceKey, jwt};

fuzz_target!(|data: &[u8]| {
    let s = text(data);
    if let Some(r) = request("GET", "/", &[("authorization", s.as_str())], b"") {
        let _ = auth::from_authorization(&r);
        let _ = auth::authorization(&r);
    }
    let _ = auth::parse_basic(&s);
    let _ = auth::parse_token(&s);
    if let Some(d) = DigestResponse::parse(&s) {
        let _ = d.algorithm();
        let _ = d.nc_value();
        let _ = d.replay_key();
    }
    let key = NonceKey::new([7; 32]);
    let _ = key.check(&s, 1_800_000_000_000);
    let _ = key.link_ok(&[&s], &s);
    let _ = jwt::kid(&s);
    let _ = jwt::verify(&s, "demo", "HS256", "0123456789abcdef0123", 1_800_000_000);
});
