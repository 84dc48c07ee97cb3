//! A cluster on this box (issue 18): `nodes` B2BUA processes on 127.0.0.11.. behind the SIP
//! edge (Kamailio with the repository's `b2bua/kamailio/patchbay.cfg`, its flood limit
//! lifted for the load), one PostgreSQL store (a fresh database per run on the server at
//! `--store`, made and dropped with `psql`). Node 1 is `patchbay up` (the gateway in front of
//! every node), the others `patchbay b2bua`. SIPp talks to the edge.

use crate::cps::{Kill, free_port, start_as};
use crate::setup::Up;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-control-token";

fn psql(server: &str, sql: &str) {
    let ok = Command::new("psql")
        .arg(format!("{}/postgres", server.trim_end_matches('/')))
        .args(["-q", "-c", sql])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "psql {server}: {sql} failed");
}

/// The edge on `addr`, dispatching to `nodes`; returns once it answers OPTIONS.
fn edge(dir: &Path, addr: &str, nodes: &[String]) -> Kill {
    let run = dir.join("edge");
    std::fs::create_dir_all(run.join("run")).expect("edge dir");
    let list: String = nodes.iter().map(|a| format!("1 sip:{a}\n")).collect();
    std::fs::write(run.join("dispatcher.list"), list).expect("dispatcher list");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../b2bua/kamailio/patchbay.cfg");
    let log = std::fs::File::create(run.join("kamailio.log")).expect("edge log");
    let child = Command::new("kamailio")
        .arg("-f")
        .arg(&cfg)
        .arg("-l")
        .arg(format!("udp:{addr}"))
        .arg("-A")
        .arg(format!(
            "DS_LIST=\"{}\"",
            run.join("dispatcher.list").display()
        ))
        .args(["-A", "PIKE_DENSITY=10000000"])
        .args(["-DD", "-E", "-m", "512", "-M", "16", "-n", "2"])
        .arg("-Y")
        .arg(run.join("run"))
        .arg("-P")
        .arg(run.join("kamailio.pid"))
        .arg("-w")
        .arg(&run)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("kamailio (apt-get install kamailio)");
    let edge = Kill(child);
    // Its dispatcher probes the nodes; give it a moment to find them up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !answers_options(addr) {
        assert!(Instant::now() < deadline, "Kamailio did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    edge
}

fn answers_options(addr: &str) -> bool {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let port = sock.local_addr().expect("addr").port();
    let msg = format!(
        "OPTIONS sip:{addr} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{port}\r\n\
         From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:{addr}>\r\nCall-ID: probe-{port}\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    let _ = sock.send_to(msg.as_bytes(), addr);
    let mut buf = [0u8; 2048];
    sock.recv_from(&mut buf).is_ok()
}

/// `nodes` nodes on a fresh database of the PostgreSQL server `server` (a URL without the
/// database); `media` the nodes' RTP port range (`min`, `max`); `extra` more B2BUA config
/// lines (indented).
pub(crate) fn up(patchbay: &str, nodes: u8, server: &str, media: (u16, u16), extra: &str) -> Up {
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("patchbay-bench-cluster-{pid}-{nodes}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let db = format!("pb_bench_{pid}_{nodes}");
    psql(
        server,
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    );
    psql(server, &format!("CREATE DATABASE {db}"));
    let store = format!("{}/{db}", server.trim_end_matches('/'));
    let (http, ozeki, gw_admin) = (free_port(), free_port(), free_port());
    let addrs: Vec<(String, String)> = (1..=nodes)
        .map(|i| {
            (
                format!("127.0.0.{}:{}", 10 + i, free_port()),
                format!("127.0.0.1:{}", free_port()),
            )
        })
        .collect();
    let node_list: String = addrs
        .iter()
        .enumerate()
        .map(|(i, (_, admin))| format!("  - node: {}\n    url: http://{admin}\n", i + 1))
        .collect();
    let mut procs = Vec::new();
    for (i, (sip, admin)) in addrs.iter().enumerate() {
        let n = i + 1;
        let ip = sip.split(':').next().unwrap_or("127.0.0.1");
        let mut cfg = format!(
            "store_url: {store}\n\
             b2bua:\n  node: {n}\n  sip_listen: {sip}\n  admin_listen: {admin}\n  control_token: {TOKEN}\n  edge_proxies: [127.0.0.1]\n  max_setups_in_flight: 5000\n  auth_fail_limit: 1000000\n  sip_source_rate: 0\n  metrics_open: true\n  media:\n    bind_ip: {ip}\n    port_min: {}\n    port_max: {}\n{extra}",
            media.0, media.1
        );
        if n == 1 {
            cfg += &format!(
                "gateway:\n  listeners:\n  - listen: 127.0.0.1:{http}\n    profiles: [native, taridium]\n    tenant: demo\n  - listen: 127.0.0.1:{ozeki}\n    profiles: [ozeki]\n    tenant: demo\n  admin_listen: 127.0.0.1:{gw_admin}\n  b2bua_token: {TOKEN}\n  b2bua_nodes:\n{node_list}  limits:\n    calls_per_sec_per_tenant: 100000\n    max_calls_per_tenant: 100000\n    requests_per_sec_per_key: 100000\n    requests_per_sec_per_tenant: 100000\n"
            );
        }
        let file = dir.join(format!("node{n}.yaml"));
        std::fs::write(&file, cfg).expect("config");
        let mode = if n == 1 { "up" } else { "b2bua" };
        procs.push(start_as(
            patchbay,
            &file,
            mode,
            &dir.join(format!("data{n}")),
            &dir.join(format!("node{n}.log")),
        ));
    }
    let sips: Vec<String> = addrs.iter().map(|(s, _)| s.clone()).collect();
    let edge_addr = format!("127.0.0.1:{}", free_port());
    let edge = edge(&dir, &edge_addr, &sips);
    let sips: Vec<String> = sips;
    let node_pids: Vec<(u32, String)> = procs
        .iter()
        .zip(&addrs)
        .map(|(p, (_, admin))| (p.0.id(), admin.clone()))
        .collect();
    let mut procs = procs.into_iter();
    let pb = procs.next().expect("node 1");
    let mut others: Vec<Kill> = procs.collect();
    others.push(edge);
    Up {
        dir,
        sip: edge_addr,
        http: format!("127.0.0.1:{http}"),
        admin: addrs[0].1.clone(),
        gw_admin: format!("127.0.0.1:{gw_admin}"),
        pb,
        nodes: node_pids,
        sips,
        others,
    }
}

/// Stop the cluster `up` made (every process), then drop its database.
pub(crate) fn down(up: Up, server: &str) {
    let db = up
        .dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("patchbay-bench-cluster-"))
        .map(|rest| format!("pb_bench_{}", rest.replace('-', "_")));
    let dir = up.dir.clone();
    // The nodes first, then the edge.
    let Up { pb, others, .. } = up;
    drop(pb);
    drop(others);
    if let Some(db) = db {
        psql(
            server,
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
