//! Brekeke's SOAP envelopes (the hardened XML reader under them) as POSTed to UserImpl.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_fuzz::request;
use patchbay_gateway_proto::vendors::brekeke_soap;

fuzz_target!(|data: &[u8]| {
    for path in ["/pbx/services/UserImpl", "/pbx/services/UserImpl?wsdl"] {
        if let Some(r) = request(
            "POST",
            path,
            &[
                ("content-type", "text/xml; charset=utf-8"),
                ("soapaction", "\"\""),
            ],
            data,
        ) {
            let _ = brekeke_soap::parse_request(&r);
        }
    }
});
