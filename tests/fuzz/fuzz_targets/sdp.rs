//! SDP offers and answers from phones and carriers: parsed, then our side rendered from what
//! was understood (the B2BUA's rewrite), and the rendering parsed again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_media::sdp;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(desc) = sdp::parse(&text) {
        let relayable = sdp::relayable(&desc.codecs);
        let chosen = sdp::choose(&relayable, Some(&desc.codecs));
        let _ = sdp::has_audio(&chosen);
        let out = sdp::render(desc.rtp, 1, 2, &chosen, desc.direction);
        if !chosen.is_empty() {
            let again = sdp::parse(&out).expect("our own SDP parses");
            assert_eq!(again.codecs.len(), chosen.len(), "{out}");
        }
    }
});
