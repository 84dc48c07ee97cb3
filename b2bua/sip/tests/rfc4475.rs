use patchbay_sip::core::{parse_message, Message};
#[test]
fn probe() {
    for n in ["unkscm","novelsc","ltgtruri","wsinv","badinv01","esc02","badvers","intmeth","escruri","semiuri"] {
        let b = std::fs::read(format!("{}/tests/rfc4475/{n}.dat", env!("CARGO_MANIFEST_DIR"))).unwrap();
        if let Ok(Message::Request(r)) = parse_message(&b) {
            println!("== {n}: method={:?} version={:?} scheme={:?} user={:?} host={:?} raw={:?} hdrs={:?}", r.method, r.version, r.uri.scheme, r.uri.user, r.uri.host, r.uri.raw_uri, r.uri.headers);
            if matches!(n, "wsinv"|"badinv01"|"esc02") { for h in &r.headers { println!("   {h:?}"); } }
        }
    }
}
