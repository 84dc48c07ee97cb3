//! Every vendor's request parser on hostile query strings and bodies: Taridium URL control
//! and IPPS, promptCall (query and JSON), Brekeke 3pcc, Ozeki's commands, the native API's
//! paths and CDR search. The first byte picks the parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_fuzz::{request, split, text};
use patchbay_gateway_proto::vendors::{brekeke, native, ozeki, promptcall, taridium};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (q, body) = split(rest);
    let q = text(q);
    let json = [("content-type", "application/json")];
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let (method, uri, headers): (&str, String, &[(&str, &str)]) = match pick % 9 {
        0 => ("GET", format!("/user/c/?{q}"), &[]),
        1 => ("POST", format!("/user/c/?{q}"), &form),
        2 => ("GET", format!("/ipps/channelinfo.php?{q}"), &[]),
        3 => ("GET", format!("/ipps/queueactive.php?{q}"), &[]),
        4 => ("POST", format!("/pbxws.php/{q}"), &json),
        5 => ("GET", format!("/pbx/3pcc?{q}"), &[]),
        6 => ("GET", format!("/?{q}"), &[]),
        7 => ("POST", format!("/api/v1/{q}"), &json),
        _ => ("GET", format!("/api/v1/cdrs?{q}"), &[]),
    };
    let Some(r) = request(method, &uri, headers, body) else {
        return;
    };
    match pick % 9 {
        0 | 1 => drop(taridium::parse_url_control(&r)),
        2 | 3 => drop(taridium::ipps::parse(&r)),
        4 => drop(promptcall::parse_request(&r)),
        5 => drop(brekeke::parse_3pcc(&r)),
        6 => drop(ozeki::parse_request(&r)),
        7 => drop(native::parse_request(&r)),
        _ => drop(native::cdrs::parse(&r)),
    }
});
