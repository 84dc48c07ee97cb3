//! sipXconfig REST bodies (XML, JSON, CSV) and the call controller's path and parameters.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_fuzz::{request, split, text};
use patchbay_gateway_proto::vendors::sipx::{callcontroller, docs, forward, phonebook, profile};

fuzz_target!(|data: &[u8]| {
    let _ = forward::parse_forward(data);
    let _ = forward::parse_callfwd(data);
    let _ = profile::parse(data);
    let _ = phonebook::parse_entries(data);
    let _ = phonebook::parse_entry(data);
    let _ = phonebook::parse_phones(data);
    let _ = docs::parse_setting(data);
    let _ = docs::parse_speed_dial(data);
    let (tail, query) = split(data);
    let tail = text(tail);
    let uri = format!("/callcontroller/x?{}", text(query));
    for m in ["GET", "POST"] {
        if let Some(r) = request(m, &uri, &[], b"") {
            let _ = callcontroller::parse(&r, &tail);
        }
    }
    let _ = callcontroller::decode(&tail);
});
