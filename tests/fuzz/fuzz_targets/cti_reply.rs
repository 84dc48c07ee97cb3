//! Taridium CTI: a CRM's `<ipbx>` reply, and URL templates rendered with hostile values.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_fuzz::{split, text};
use patchbay_gateway_proto::vendors::taridium::cti;

fuzz_target!(|data: &[u8]| {
    let _ = cti::parse_reply(data, "4005");
    let (template, value) = split(data);
    let (template, value) = (text(template), text(value));
    let out = cti::render(&template, &[("calleridname", &value), ("exten", "4007")]);
    // A value is percent-encoded: it can never add a space or a line break to the URL.
    let added = |c: char| out.matches(c).count() > template.matches(c).count();
    assert!(!added(' ') && !added('\n'), "{out:?}");
});
