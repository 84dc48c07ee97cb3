//! Benchmark harness. Prints markdown rows for docs/BENCHMARKS.md.
//!
//! `patchbay-bench cps [--patchbay PATH] [--rates 100,200,...] [--secs N] [--pairs N]`
//!   Starts `patchbay up` (release build), registers up to three demo users to SIPp UASes, then
//!   runs N SIPp UACs at once (authenticated INVITE, 1 s call, media anchored, BYE), sharing
//!   each rate, for N seconds (one SIPp tops out near 1,000 CPS). Reports successful/failed
//!   calls, set-up p50/p99 (SIPp's per-call response times), and the B2BUA's CPU time per call
//!   (from /proc). `--b2bua-config 'key: value'` adds a line to the B2BUA's config (the load
//!   comes from one address: `sip_source_rate: 0` lifts the per-source limit).
//! `patchbay-bench register [--patchbay PATH] [--rates 500,1000,...] [--secs N] [--b2bua-config L]`
//!   SIPp REGISTERs 4005 with digest (401, then the answer), each with a contact of its own, at
//!   each rate for N seconds; registrations per CPU second of the B2BUA, and its RSS growth per
//!   contact held (every contact stays bound).
//! `patchbay-bench relay [--pairs N] [--rates 20000,...] [--secs N]`
//!   Bridges N leg pairs in an in-process relay on its own one-thread runtime, sends 172-byte RTP
//!   packets A->B at each rate and counts what arrives; reports loss and relay CPU per packet.
//! `patchbay-bench invite [--patchbay PATH] [--calls N] [--gap-ms N]`
//!   `patchbay up`; the harness is phone 4005 (registered through SIPp): POST /api/v1/calls, one
//!   at a time on a keep-alive connection, stamps the INVITE's arrival, answers 486. Reports
//!   p50/p99 of request -> 201 and request -> INVITE at the phone.
//! `patchbay-bench memory [--patchbay PATH] [--calls N] [--rate N]`
//!   `patchbay up`, SIPp UAS 4007 holding every call, SIPp UAC placing N calls that stay up;
//!   patchbay's RSS before and with the calls up, per call.
//! `patchbay-bench relay-latency [--packets N] [--pps N]`
//!   One bridged pair; timestamped packets through the relay and, in the same run, straight
//!   between two sockets; relay-added latency = the difference of the two distributions.
//! `patchbay-bench report [--patchbay PATH] [--out docs/BENCHMARKS.md]`
//!   Runs every measurement above once, in one sitting, with the settings the goals are judged
//!   by, and rewrites the generated section of docs/BENCHMARKS.md (between the
//!   `<!-- report:begin -->` / `<!-- report:end -->` markers) with the tables and the command
//!   that produced each; the hand-written history around it is kept.
//! `patchbay-bench queue [--patchbay PATH] [--callers N] [--agents N] [--secs N]`
//!   `patchbay up`; N agents (a SIPp UAS holding their calls) log in to a queue; a SIPp UAC
//!   places agents + callers calls to it: the callers beyond the agents wait with looped hold
//!   music. Engine packets sent vs expected, late packets, patchbay CPU per waiting caller;
//!   the live-state query's p50/p99 on the control and native APIs.
//! `patchbay-bench queue-state [--calls N] [--size N] [--rounds N]`
//!   The call core alone with N live queue callers in queues of `size`: the time of one
//!   queue's live state (built and serialized), p50/p99.
//! `patchbay-bench webhooks [--notifications N] [--keys N] [--producers N] [--store URL]`
//!   The gateway's webhook engine in-process (SQLite file, or the store at URL), a hyper
//!   receiver: N notifications queued over `keys` calls, then delivered; queued/s and
//!   delivered/s with the CPU of each phase.
//! `patchbay-bench ipps [--patchbay PATH] [--calls N] [--pollers N] [--interval-ms N] [--secs N]`
//!   `patchbay up`; N calls held up (SIPp UAC 4005 -> UAS 4007) and one 4009 -> 4007; N
//!   wallboards poll IPPS `channelinfo.php` (one live channel, one idle) every interval:
//!   the page's p50/p99/max and patchbay's CPU per page.
//! `patchbay-bench ipps ... --nodes 2 [--store postgres://server]` runs it on a cluster (below).
//! `patchbay-bench scale [--patchbay PATH] [--store URL] [--rates 200,400] [--secs N] [--hold N]`
//!   A cluster on this box: Kamailio (the repository's edge configuration) in front of one
//!   B2BUA node, then of two, on a fresh PostgreSQL database of the server at `--store`
//!   (default: the tests' server); node 1 is `patchbay up`, node 2 `patchbay b2bua`. The call
//!   rate (as `cps`, two SIPp pairs: both to the one node, or one to each; CPU of every node),
//!   then N calls per node held up: calls up per node and each node's RSS growth. SIPp talks
//!   to the nodes directly (the edge's cost is Kamailio's, not measured here).
//! `patchbay-bench http [--conns N] [--secs N] [--rounds N]`
//!   A bare hyper server, a bare pingora server (the gateway's framework, the same
//!   `HttpServerApp` path, a fixed reply) and the gateway (in-process, SQLite store, demo API
//!   key), each on two threads; the same keep-alive load generator runs `GET /api/v1/me` with
//!   Basic credentials against each in turn, alternating rounds; reports req/s, p50/p99, CPU
//!   per request and the ratios (gateway to hyper, pingora to hyper, gateway to pingora).

/// `writeln!` into a report string (the benches return their markdown instead of printing it).
macro_rules! outln {
    ($o:ident, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o, $($t)*);
    }};
}

mod cluster;
mod cps;
mod engine;
mod http;
mod ipps;
mod ozml;
mod queue;
mod register;
mod relay;
mod scale;
mod setup;
mod webhooks;

/// `--store`: the PostgreSQL server a cluster's database goes on (a URL without the
/// database), by default the tests' (`PATCHBAY_TEST_POSTGRES_URL`'s server).
fn store_server(args: &[String]) -> String {
    arg::<String>(args, "--store").unwrap_or_else(|| {
        let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://patchbay:patchbay@127.0.0.1:5432/patchbay_test".into());
        url.rsplit_once('/')
            .map_or(url.clone(), |(b, _)| b.to_string())
    })
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn list(args: &[String], name: &str, default: &[u64]) -> Vec<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// utime + stime of a process or thread, in seconds (from a /proc stat file).
pub(crate) fn cpu_secs(stat_path: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(stat_path) else {
        return 0.0;
    };
    // Fields after the parenthesised comm; utime and stime are fields 14 and 15.
    let Some(rest) = s.rfind(')').map(|i| &s[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

/// mimalloc: glibc malloc's arena locks were futex contention between the gateway's threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("cps") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let rates = list(&args, "--rates", &[100, 200, 400, 600, 800, 1000]);
            let secs = arg(&args, "--secs").unwrap_or(10);
            let pairs = arg(&args, "--pairs").unwrap_or(1);
            let extra = arg::<String>(&args, "--b2bua-config")
                .map(|l| format!("  {l}\n"))
                .unwrap_or_default();
            print!("{}", cps::run(&patchbay, &rates, secs, pairs, &extra));
        }
        Some("register") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let rates = list(&args, "--rates", &[500, 1000, 2000]);
            let secs = arg(&args, "--secs").unwrap_or(10);
            let extra = arg::<String>(&args, "--b2bua-config")
                .map(|l| format!("  {l}\n"))
                .unwrap_or_default();
            print!("{}", register::run(&patchbay, &rates, secs, &extra));
        }
        Some("relay") => {
            let pairs = arg(&args, "--pairs").unwrap_or(50);
            let rates = list(
                &args,
                "--rates",
                &[20_000, 50_000, 100_000, 150_000, 200_000],
            );
            let secs = arg(&args, "--secs").unwrap_or(3);
            print!("{}", relay::run(pairs, &rates, secs));
        }
        Some("engine-play") => {
            let counts = list(&args, "--legs", &[100, 250, 500, 750]);
            let secs = arg(&args, "--secs").unwrap_or(5);
            print!("{}", engine::play(&counts, secs));
        }
        Some("engine-record") => {
            let counts = list(&args, "--legs", &[100, 250, 500]);
            let secs = arg(&args, "--secs").unwrap_or(5);
            print!("{}", engine::record(&counts, secs));
        }
        Some("engine-mix") => {
            let rooms = arg(&args, "--rooms").unwrap_or(10);
            let sizes = list(&args, "--members", &[3, 10, 30]);
            let secs = arg(&args, "--secs").unwrap_or(5);
            print!("{}", engine::mix(rooms, &sizes, secs));
        }
        Some("http") => {
            let conns = arg(&args, "--conns").unwrap_or(32);
            let secs = arg(&args, "--secs").unwrap_or(5);
            let rounds = arg(&args, "--rounds").unwrap_or(3);
            print!("{}", http::run(conns, secs, rounds));
        }
        Some("invite") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let calls = arg(&args, "--calls").unwrap_or(500);
            let gap = arg(&args, "--gap-ms").unwrap_or(10);
            print!("{}", setup::invite_latency(&patchbay, calls, gap));
        }
        Some("scale") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let rates = list(&args, "--rates", &[200, 400]);
            let load = scale::Load {
                rates: &rates,
                secs: arg(&args, "--secs").unwrap_or(10),
                hold: arg(&args, "--hold").unwrap_or(2000),
            };
            print!("{}", scale::run(&patchbay, &store_server(&args), &load));
        }
        Some("ipps") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let calls = arg(&args, "--calls").unwrap_or(4000);
            let pollers = arg(&args, "--pollers").unwrap_or(1000);
            let every = arg(&args, "--interval-ms").unwrap_or(3000);
            let secs = arg(&args, "--secs").unwrap_or(30);
            let nodes: u8 = arg(&args, "--nodes").unwrap_or(1);
            let store = store_server(&args);
            let cluster = (nodes > 1).then_some((nodes, store.as_str()));
            print!(
                "{}",
                ipps::run(&patchbay, calls, pollers, (every, secs), cluster)
            );
        }
        Some("memory") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let calls = arg(&args, "--calls").unwrap_or(1000);
            let rate = arg(&args, "--rate").unwrap_or(100);
            print!("{}", setup::memory(&patchbay, calls, rate));
        }
        Some("relay-latency") => {
            let packets = arg(&args, "--packets").unwrap_or(10_000);
            let pps = arg(&args, "--pps").unwrap_or(1_000);
            print!("{}", relay::latency(packets, pps));
        }
        Some("queue") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let callers = arg(&args, "--callers").unwrap_or(1000);
            let agents = arg(&args, "--agents").unwrap_or(50);
            let secs = arg(&args, "--secs").unwrap_or(10);
            print!("{}", queue::run(&patchbay, callers, agents, secs));
        }
        Some("queue-state") => {
            let calls = arg(&args, "--calls").unwrap_or(10_000);
            let size = arg(&args, "--size").unwrap_or(100);
            let rounds = arg(&args, "--rounds").unwrap_or(100_000);
            print!("{}", queue::state(calls, size, rounds));
        }
        Some("ozml") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let calls = arg(&args, "--calls").unwrap_or(50);
            let secs = arg(&args, "--secs").unwrap_or(10);
            print!("{}", ozml::run(&patchbay, calls, secs));
        }
        Some("webhooks") => {
            let n = arg(&args, "--notifications").unwrap_or(20_000);
            let keys = arg(&args, "--keys").unwrap_or(1_000);
            let producers = arg(&args, "--producers").unwrap_or(8);
            let store = arg::<String>(&args, "--store");
            print!("{}", webhooks::run(n, keys, producers, store.as_deref()));
        }
        Some("report") => {
            let patchbay = arg::<String>(&args, "--patchbay")
                .unwrap_or_else(|| "target/release/patchbay".into());
            let out = arg::<String>(&args, "--out").unwrap_or_else(|| "docs/BENCHMARKS.md".into());
            report(&patchbay, &out);
        }
        _ => {
            eprintln!(
                "usage: patchbay-bench report|cps|relay|relay-latency|invite|memory|queue|queue-state|ozml|webhooks|http|engine-play|engine-record|engine-mix [options] (see the crate docs)"
            );
            std::process::exit(2);
        }
    }
}

const BEGIN: &str = "<!-- report:begin -->";
const END: &str = "<!-- report:end -->";

/// Every measurement once, side by side; the generated section of `out` is replaced.
fn report(patchbay: &str, out: &str) {
    type Bench<'a> = (&'a str, &'a str, Box<dyn Fn() -> String + 'a>);
    let benches: Vec<Bench<'_>> = vec![
        (
            "Gateway vs bare hyper and bare pingora (authenticated GET; the framework alone is ~0.75 of hyper)",
            "patchbay-bench http --conns 32 --secs 5 --rounds 3",
            Box::new(|| http::run(32, 5, 3)),
        ),
        (
            "API -> INVITE (POST /api/v1/calls to the INVITE at the phone; goal p99 <= 5 ms)",
            "patchbay-bench invite --calls 500 --gap-ms 10",
            Box::new(move || setup::invite_latency(patchbay, 500, 10)),
        ),
        (
            "B2BUA call rate (SIPp uac -> B2BUA -> SIPp uas, 0 failures; goal >= 1,000 calls per CPU second)",
            "patchbay-bench cps --rates 200,400,800,1200 --secs 10 --pairs 3 --b2bua-config 'sip_source_rate: 0'",
            Box::new(move || {
                cps::run(
                    patchbay,
                    &[200, 400, 800, 1200],
                    10,
                    3,
                    "  sip_source_rate: 0\n",
                )
            }),
        ),
        (
            "B2BUA registrations (SIPp REGISTER with digest, each a contact of its own; goal >= 5,000 per CPU second)",
            "patchbay-bench register --rates 1000,2000 --secs 10 --b2bua-config 'sip_source_rate: 0'",
            Box::new(move || register::run(patchbay, &[1000, 2000], 10, "  sip_source_rate: 0\n")),
        ),
        (
            "RTP relay (pps at 0 loss; goal >= 100k pps per core)",
            "patchbay-bench relay --pairs 50 --rates 50000,100000,150000,200000 --secs 3",
            Box::new(|| relay::run(50, &[50_000, 100_000, 150_000, 200_000], 3)),
        ),
        (
            "Relay-added latency",
            "patchbay-bench relay-latency --packets 5000 --pps 1000",
            Box::new(|| relay::latency(5000, 1000)),
        ),
        (
            "Memory per concurrent call (goal <= 0.2 MB)",
            "patchbay-bench memory --calls 1000 --rate 100",
            Box::new(move || setup::memory(patchbay, 1000, 100)),
        ),
    ];
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut section = format!(
        "{BEGIN}\n## Latest full run (generated by `patchbay-bench report`)\n\n\
         Unix time {started}; release build (`cargo build --release -p patchbay -p \
         patchbay-loadtest`); every table below comes from the command above it, run in this \
         order in one sitting on this box.\n"
    );
    for (title, cmd, run) in &benches {
        eprintln!("running: {cmd}");
        let table = run();
        print!("{table}");
        section.push_str(&format!(
            "\n### {title}\n\n`./target/release/{cmd}`\n\n{table}"
        ));
    }
    section.push_str(END);
    let doc = std::fs::read_to_string(out).unwrap_or_default();
    let new = match (doc.find(BEGIN), doc.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{section}{}", &doc[..b], &doc[e + END.len()..]),
        _ => format!("{doc}\n{section}\n"),
    };
    std::fs::write(out, new).expect("write the report");
    eprintln!("wrote {out}");
}
