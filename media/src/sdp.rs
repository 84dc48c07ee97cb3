//! Pure SDP handling on top of the `sdp` crate: read what a phone offered or answered, and
//! render the relay's side. Audio only; the first `m=audio` line counts.

use ::sdp::description::common::{Address, Attribute, ConnectionInformation};
use ::sdp::description::media::{MediaDescription, MediaName, RangedPort};
use ::sdp::description::session::{Origin, SessionDescription, TimeDescription, Timing};
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

/// One payload format of an audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    pub pt: u8,
    /// `rtpmap` value without the payload type, e.g. `PCMA/8000` (empty for static types
    /// announced without rtpmap).
    pub rtpmap: String,
    pub fmtp: Option<String>,
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// The audio stream a peer described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioDesc {
    /// Where the peer wants RTP (address 0.0.0.0 or port 0 means on hold / rejected).
    pub rtp: SocketAddr,
    pub codecs: Vec<Codec>,
    pub direction: Direction,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    #[error("SDP does not parse: {0}")]
    Syntax(String),
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP has no usable connection address")]
    NoAddress,
}

/// Static payload types we know by number.
fn static_rtpmap(pt: u8) -> &'static str {
    match pt {
        0 => "PCMU/8000",
        8 => "PCMA/8000",
        9 => "G722/8000",
        18 => "G729/8000",
        _ => "",
    }
}

pub fn parse(text: &str) -> Result<AudioDesc, SdpError> {
    let sd = SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
        .map_err(|e| SdpError::Syntax(e.to_string()))?;
    let md = sd
        .media_descriptions
        .iter()
        .find(|m| m.media_name.media == "audio")
        .ok_or(SdpError::NoAudio)?;
    let conn = md
        .connection_information
        .as_ref()
        .or(sd.connection_information.as_ref());
    let ip: IpAddr = conn
        .and_then(|c| c.address.as_ref())
        .and_then(|a| a.address.split('/').next()?.parse().ok())
        .ok_or(SdpError::NoAddress)?;
    let port = u16::try_from(md.media_name.port.value).map_err(|_| SdpError::NoAddress)?;
    let attr = |key: &str, pt: u8| {
        md.attributes.iter().find_map(|a| {
            let v = a.value.as_deref()?;
            if a.key != key {
                return None;
            }
            let (p, rest) = v.split_once(' ')?;
            (p.parse::<u8>().ok()? == pt).then(|| rest.trim().to_string())
        })
    };
    let codecs = md
        .media_name
        .formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .map(|pt| Codec {
            pt,
            rtpmap: attr("rtpmap", pt).unwrap_or_else(|| static_rtpmap(pt).to_string()),
            fmtp: attr("fmtp", pt),
        })
        .collect();
    let dir_of = |attrs: &[Attribute]| {
        attrs.iter().find_map(|a| match a.key.as_str() {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        })
    };
    let direction = dir_of(&md.attributes)
        .or_else(|| dir_of(&sd.attributes))
        .unwrap_or(Direction::SendRecv);
    Ok(AudioDesc {
        rtp: SocketAddr::new(ip, port),
        codecs,
        direction,
    })
}

/// Codecs of `offer` we can relay to a peer that offered/accepted `peer` (same payload
/// format on both sides: the relay does not transcode). With no `peer`, the offer's
/// G.711 codecs plus telephone-event. The answer keeps the offer's order and numbers.
pub fn choose(offer: &[Codec], peer: Option<&[Codec]>) -> Vec<Codec> {
    let name = |c: &Codec| c.rtpmap.to_ascii_lowercase();
    let mut audio: Option<&Codec> = None;
    let mut dtmf: Option<&Codec> = None;
    for c in offer {
        let n = name(c);
        let is_dtmf = n.starts_with("telephone-event/");
        let acceptable = match peer {
            Some(p) => p.iter().any(|q| q.pt == c.pt && name(q) == n),
            None => is_dtmf || n.starts_with("pcmu/") || n.starts_with("pcma/"),
        };
        if is_dtmf {
            if dtmf.is_none() && acceptable {
                dtmf = Some(c);
            }
        } else if audio.is_none() && acceptable {
            audio = Some(c);
        }
    }
    audio.into_iter().chain(dtmf).cloned().collect()
}

/// What a callee can be offered on behalf of a caller who offered `offer`, so that the callee's
/// choice can be relayed to the caller unchanged: every G.711 codec of the offer (PCMU 0,
/// PCMA 8, the static numbers the SIP stack checks answers against) in the caller's order,
/// and telephone-event when the caller numbered it 101 (the only number the stack accepts in
/// an answer; the relay does not renumber). No audio codec means no common codec: 488.
pub fn relayable(offer: &[Codec]) -> Vec<Codec> {
    let name = |c: &Codec| c.rtpmap.to_ascii_lowercase();
    let audio = offer.iter().filter(|c| {
        let n = name(c);
        (c.pt == 0 && n.starts_with("pcmu/")) || (c.pt == 8 && n.starts_with("pcma/"))
    });
    let dtmf = offer
        .iter()
        .find(|c| c.pt == 101 && name(c).starts_with("telephone-event/"));
    let out: Vec<Codec> = audio.chain(dtmf).cloned().collect();
    if out.iter().any(|c| c.pt != 101) {
        out
    } else {
        Vec::new()
    }
}

/// Whether `codecs` has an audio codec (not only telephone-event / comfort noise).
pub fn has_audio(codecs: &[Codec]) -> bool {
    codecs.iter().any(|c| {
        let n = c.rtpmap.to_ascii_lowercase();
        !n.starts_with("telephone-event/") && !n.starts_with("cn/") && c.pt != 13
    })
}

/// The codecs we offer on a fresh leg when nothing is known: PCMU, PCMA, telephone-event.
pub fn default_offer() -> Vec<Codec> {
    vec![
        Codec {
            pt: 0,
            rtpmap: "PCMU/8000".into(),
            fmtp: None,
        },
        Codec {
            pt: 8,
            rtpmap: "PCMA/8000".into(),
            fmtp: None,
        },
        Codec {
            pt: 101,
            rtpmap: "telephone-event/8000".into(),
            fmtp: Some("0-16".into()),
        },
    ]
}

/// Render our side of a leg: RTP at `local`, the given codecs and direction.
pub fn render(
    local: SocketAddr,
    session_id: u64,
    version: u64,
    codecs: &[Codec],
    dir: Direction,
) -> String {
    let addr_type = if local.is_ipv4() { "IP4" } else { "IP6" };
    let conn = ConnectionInformation {
        network_type: "IN".into(),
        address_type: addr_type.into(),
        address: Some(Address {
            address: local.ip().to_string(),
            ttl: None,
            range: None,
        }),
    };
    let mut attributes = Vec::new();
    for c in codecs {
        if !c.rtpmap.is_empty() {
            attributes.push(Attribute {
                key: "rtpmap".into(),
                value: Some(format!("{} {}", c.pt, c.rtpmap)),
            });
        }
        if let Some(f) = &c.fmtp {
            attributes.push(Attribute {
                key: "fmtp".into(),
                value: Some(format!("{} {}", c.pt, f)),
            });
        }
    }
    attributes.push(Attribute {
        key: "ptime".into(),
        value: Some("20".into()),
    });
    attributes.push(Attribute {
        key: dir.as_str().into(),
        value: None,
    });
    let md = MediaDescription {
        media_name: MediaName {
            media: "audio".into(),
            port: RangedPort {
                value: local.port() as isize,
                range: None,
            },
            protos: vec!["RTP".into(), "AVP".into()],
            formats: codecs.iter().map(|c| c.pt.to_string()).collect(),
        },
        media_title: None,
        connection_information: None,
        bandwidth: vec![],
        encryption_key: None,
        attributes,
    };
    let sd = SessionDescription {
        version: 0,
        origin: Origin {
            username: "patchbay".into(),
            session_id,
            session_version: version,
            network_type: "IN".into(),
            address_type: addr_type.into(),
            unicast_address: local.ip().to_string(),
        },
        session_name: "patchbay".into(),
        connection_information: Some(conn),
        time_descriptions: vec![TimeDescription {
            timing: Timing {
                start_time: 0,
                stop_time: 0,
            },
            repeat_times: vec![],
        }],
        media_descriptions: vec![md],
        ..Default::default()
    };
    sd.marshal()
}

#[cfg(test)]
mod tests {

    fn codec(pt: u8, rtpmap: &str) -> Codec {
        Codec {
            pt,
            rtpmap: rtpmap.into(),
            fmtp: None,
        }
    }

    #[test]
    fn relayable_keeps_the_callers_g711_order_and_dtmf_101() {
        let pcma_first = [
            codec(8, "PCMA/8000"),
            codec(0, "PCMU/8000"),
            codec(101, "telephone-event/8000"),
        ];
        assert_eq!(relayable(&pcma_first), pcma_first.to_vec());
        let odd = [
            codec(9, "G722/8000"),
            codec(0, "PCMU/8000"),
            codec(96, "telephone-event/8000"),
        ];
        assert_eq!(relayable(&odd), vec![codec(0, "PCMU/8000")]);
        let none = [codec(9, "G722/8000"), codec(101, "telephone-event/8000")];
        assert!(relayable(&none).is_empty());
        // The callee's choice, answered to the caller under the caller's numbers.
        let answer = [codec(0, "PCMU/8000"), codec(101, "telephone-event/8000")];
        assert_eq!(
            choose(&pcma_first, Some(&answer)),
            vec![codec(0, "PCMU/8000"), codec(101, "telephone-event/8000")]
        );
        assert!(has_audio(&answer) && !has_audio(&answer[1..]));
    }

    use super::*;

    const SIPP_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

    #[test]
    fn parses_sipp_offer() {
        let d = parse(SIPP_OFFER).unwrap();
        assert_eq!(d.rtp, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(d.codecs.len(), 2);
        assert_eq!(d.codecs[1].fmtp.as_deref(), Some("0-11,16"));
        assert_eq!(d.direction, Direction::SendRecv);
    }

    #[test]
    fn render_round_trips() {
        let codecs = choose(&parse(SIPP_OFFER).unwrap().codecs, None);
        let text = render(
            "127.0.0.1:20000".parse().unwrap(),
            7,
            1,
            &codecs,
            Direction::SendOnly,
        );
        let back = parse(&text).unwrap();
        assert_eq!(back.rtp, "127.0.0.1:20000".parse().unwrap());
        assert_eq!(back.codecs, codecs);
        assert_eq!(back.direction, Direction::SendOnly);
    }

    #[test]
    fn choose_keeps_one_audio_codec_and_dtmf() {
        let offer = parse(SIPP_OFFER).unwrap().codecs;
        let chosen = choose(&offer, None);
        assert_eq!(chosen.iter().map(|c| c.pt).collect::<Vec<_>>(), [8, 101]);
        assert_eq!(
            choose(&default_offer(), None)
                .iter()
                .map(|c| c.pt)
                .collect::<Vec<_>>(),
            [0, 101]
        );
    }

    #[test]
    fn choose_matches_peer_codec() {
        let offer = default_offer();
        let peer = vec![Codec {
            pt: 8,
            rtpmap: "PCMA/8000".into(),
            fmtp: None,
        }];
        assert_eq!(choose(&offer, Some(&peer)), peer);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("hello").is_err());
        assert_eq!(
            parse("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"),
            Err(SdpError::NoAudio)
        );
    }
}
