//! One node against two (issue 18): the same load on a cluster of one B2BUA node, then of two
//! (`crate::cluster`: one PostgreSQL store, registrations, events and the journal shared):
//! the call rate (two SIPp pairs, 1 s calls, media anchored; with two nodes each pair calls
//! its own node, as the edge would spread them) with the nodes' CPU per call, then `hold`
//! calls per node held up at once (each relayed by its node): how many are up, on which node,
//! and each node's RSS. The load goes to the nodes directly: the edge's own cost (Kamailio, a
//! stateless proxy here) is not what is measured.

use crate::cluster;
use crate::cps::{free_port, register};
use crate::setup::{Up, active_calls, rss_kib, uac_spawn_to, uas_holding};
use std::time::Duration;

pub(crate) struct Load<'a> {
    pub(crate) rates: &'a [u64],
    pub(crate) secs: u64,
    /// Calls held up per node.
    pub(crate) hold: u64,
}

pub(crate) fn run(patchbay: &str, server: &str, load: &Load<'_>) -> String {
    let mut o = String::new();
    for nodes in [1u8, 2] {
        outln!(o, "\n**{nodes} node(s)**, call rate:\n");
        let up = cluster::up(patchbay, nodes, server, (20000, 59998), "");
        // Two callers, two callees: both on the one node, or one pair per node.
        let pairs: Vec<(&str, &str)> = ["4007", "4009"]
            .iter()
            .enumerate()
            .map(|(i, c)| (up.sips[i % up.sips.len()].as_str(), *c))
            .collect();
        o += &crate::cps::measure(&up.dir, &up.nodes, &pairs, load.rates, load.secs);
        cluster::down(up, server);
        let up = cluster::up(patchbay, nodes, server, (20000, 59998), "");
        o += &held(&up, load.hold * u64::from(nodes));
        cluster::down(up, server);
    }
    o
}

/// `calls` calls placed at 200/s in all (shared by the nodes) and held: how many are up on
/// each node.
fn held(up: &Up, calls: u64) -> String {
    let mut o = String::new();
    let uas_port = free_port();
    register(&up.sips[0], "4007", uas_port, &up.dir);
    let _uas = uas_holding(&up.dir, uas_port);
    // (Every node learns the registration from the store.)
    std::thread::sleep(Duration::from_millis(1500));
    let rate = 200;
    let rss0: Vec<u64> = up.nodes.iter().map(|(p, _)| rss_kib(*p)).collect();
    let hold_ms = (calls / rate + 30) * 1000;
    let n = up.sips.len() as u64;
    let _uacs: Vec<_> = up
        .sips
        .iter()
        .enumerate()
        .map(|(i, sip)| {
            let csv = up.dir.join(format!("hold{i}.csv"));
            uac_spawn_to(up, sip, "4005", (rate / n, calls / n), hold_ms, &csv)
        })
        .collect();
    let live = up.wait_calls_up(calls, calls, rate);
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
