//! Ozeki's documents: OzML programs (app replies), extension configs (`AddConfig`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_gateway_proto::vendors::ozeki::{config, ozml};

fuzz_target!(|data: &[u8]| {
    let _ = ozml::parse(data);
    let s = String::from_utf8_lossy(data);
    for kind in ["sip", "api", "SIPExtension", "ApiExtension"] {
        let _ = config::parse_config(kind, &s);
    }
    let _ = config::parse_api_extension(&s);
    let _ = config::parse_sip_extension(&s);
});
