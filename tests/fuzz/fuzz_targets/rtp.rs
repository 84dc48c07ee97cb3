//! What phones send the media engine: RTP headers (CSRCs, extensions, padding), RFC 4733
//! telephone-events, G.711 audio into the in-band detector; packets are length-prefixed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use patchbay_media::engine::{capture, dtmf, rtp};

fuzz_target!(|data: &[u8]| {
    let _ = rtp::parse(data);
    let _ = dtmf::Payload::parse(data);
    let mut ch = capture::Channel::new(Some(101));
    let mut frame = [0i16; 160];
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (pkt, next) = tail.split_at(n);
        let _ = ch.push(pkt);
        ch.frame(&mut frame);
        rest = next;
    }
});
