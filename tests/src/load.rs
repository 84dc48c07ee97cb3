//! Phones for load: an echoing caller and a talking callee, and the call offers that drive
//! them.

use super::*;

/// Two phones for load. 4005 (the calling party of click-to-call, rung first) answers at once
/// and echoes RTP (SIPp `-rtp_echo`); 4007 (the callee, rung once 4005 answered) rings 100 ms,
/// answers, plays g711a.pcap into the relay and hangs up after `talk_ms`. The callee hangs up
/// because its answer is what bridges the call: a hang-up from it always ends a bridged call
/// (`normal`), however slow the set-up, whereas a caller hanging up on a timer can beat a slow
/// bridge (that call then ends `cancelled`, correctly, and a count of normal ends falls short).
/// Both take many calls for up to `secs`, and are registered.
pub struct LoadPhones {
    pub caller: Sipp,
    pub callee: Sipp,
}

impl LoadPhones {
    pub async fn start(stack: &Stack, talk_ms: u32, secs: u32) -> Self {
        let (p5, p7) = (free_port(), free_port());
        stack.register("4005", p5).await;
        stack.register("4007", p7).await;
        let (m5, m7) = (free_port(), free_port());
        let caller = Sipp::spawn_limits(
            "uas_bench.xml",
            "",
            100_000,
            secs,
            &["-p", &p5.to_string(), "-mp", &m5.to_string(), "-rtp_echo"],
        );
        let callee = Sipp::spawn_limits(
            "uas_answer_hangup.xml",
            "",
            100_000,
            secs,
            &[
                "-p",
                &p7.to_string(),
                "-mp",
                &m7.to_string(),
                "-set",
                "ring_ms",
                "100",
                "-set",
                "talk_ms",
                &talk_ms.to_string(),
            ],
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        Self { caller, callee }
    }
}

/// A SIPp phone (`uac_offer.xml` or `uac_offer_refused.xml`) authenticated as `auth` (user,
/// password) calling `sip:<service>@<domain>`, offering the payload types `fmt`, RTP on `rtp`.
#[allow(clippy::too_many_arguments)]
pub fn offer_call(
    stack: &Stack,
    scenario: &str,
    auth: (&str, &str),
    service: &str,
    domain: &str,
    port: u16,
    rtp: u16,
    fmt: &str,
) -> Sipp {
    let auth_uri = format!("{service}@{domain}");
    let (port, rtp) = (port.to_string(), rtp.to_string());
    Sipp::spawn(
        scenario,
        &stack.sip(),
        &[
            "-s",
            service,
            "-p",
            &port,
            "-au",
            auth.0,
            "-ap",
            auth.1,
            "-auth_uri",
            &auth_uri,
            "-set",
            "user",
            auth.0,
            "-set",
            "rtpport",
            &rtp,
            "-set",
            "talk_ms",
            "1500",
            "-set",
            "fmt",
            fmt,
            "-set",
            "domain",
            domain,
        ],
    )
}

/// The B2BUA's counter of calls that ended normally (answered and hung up), from its /metrics.
pub async fn normal_calls_ended(stack: &Stack) -> f64 {
    let text = stack.b2bua_get("/metrics").await;
    metric(&text, "patchbay_b2bua_calls_ended_total{cause=\"normal\"}").unwrap_or(0.0)
}
