//! One node against two (issue 18): the same load through the SIP edge on a cluster of one
//! B2BUA node, then of two (`crate::cluster`, PostgreSQL): the call rate (SIPp pairs, 1 s
//! calls, media anchored) with the nodes' CPU per call, then `hold` calls per node held up at
//! once (each relayed by its node): how many are up, on which node, and each node's RSS.

use crate::cluster;
use crate::cps::{free_port, register};
use crate::setup::{Up, active_calls, rss_kib, uac_spawn, uas_holding};
use std::time::{Duration, Instant};

pub(crate) struct Load<'a> {
    pub(crate) rates: &'a [u64],
    pub(crate) secs: u64,
    pub(crate) pairs: usize,
    /// Calls held up per node.
    pub(crate) hold: u64,
}

pub(crate) fn run(patchbay: &str, server: &str, load: &Load<'_>) -> String {
    let mut o = String::new();
    for nodes in [1u8, 2] {
        outln!(o, "\n**{nodes} node(s)** behind the edge, call rate:\n");
        let up = cluster::up(patchbay, nodes, server, (20000, 59998), "");
        o += &crate::cps::measure(
            &up.sip, &up.dir, &up.nodes, load.rates, load.secs, load.pairs,
        );
        cluster::down(up, server);
        let up = cluster::up(patchbay, nodes, server, (20000, 59998), "");
        o += &held(&up, load.hold * u64::from(nodes));
        cluster::down(up, server);
    }
    o
}

/// `calls` calls placed through the edge at 200/s and held: how many are up on each node.
fn held(up: &Up, calls: u64) -> String {
    let mut o = String::new();
    let uas_port = free_port();
    register(&up.sip, "4007", uas_port, &up.dir);
    let _uas = uas_holding(&up.dir, uas_port);
    std::thread::sleep(Duration::from_millis(500));
    let rate = 200;
    let rss0: Vec<u64> = up.nodes.iter().map(|(p, _)| rss_kib(*p)).collect();
    let hold_ms = (calls / rate + 30) * 1000;
    let csv = up.dir.join("hold.csv");
    let _uac = uac_spawn(up, "4005", rate, calls, hold_ms, &csv);
    let placed_by = Instant::now() + Duration::from_secs(calls / rate + 2);
    let (mut last, mut since) = (0, Instant::now());
    let live = loop {
        let live = up.live_calls();
        if live != last {
            (last, since) = (live, Instant::now());
        }
        if live >= calls || (Instant::now() > placed_by && since.elapsed() > Duration::from_secs(5))
        {
            break live;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let per_node: Vec<String> = up
        .nodes
        .iter()
        .map(|(_, a)| active_calls(a).to_string())
        .collect();
    let rss: Vec<String> = up
        .nodes
        .iter()
        .zip(&rss0)
        .map(|((p, _), r0)| format!("{} MiB", rss_kib(*p).saturating_sub(*r0) / 1024))
        .collect();
    outln!(
        o,
        "\n| calls placed | calls up | per node | RSS growth per node |"
    );
    outln!(o, "|---|---|---|---|");
    outln!(
        o,
        "| {calls} | {live} | {} | {} |",
        per_node.join(" / "),
        rss.join(" / ")
    );
    o
}
