//! Registrations through the B2BUA's registrar: `USERS` users are put in the store before
//! `patchbay up` starts; SIPp REGISTERs them in turn with digest (401, then the answer), one
//! contact each, at a given rate; registrations per CPU second and the memory each registered
//! phone holds.

use crate::cps::{Kill, free_port, scenario, start_patchbay};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Users provisioned (5000, 5001 ... with password `pw-<ext>`), registered in turn.
const USERS: u32 = 6_000;

/// The users, in the store `patchbay up` will open, and as SIPp's `-inf` file.
fn provision(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let url = format!("sqlite://{}?mode=rwc", data.join("patchbay.db").display());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        use patchbay_store::Store as _;
        let store = patchbay_store::SqlStore::connect(&url)
            .await
            .expect("store");
        patchbay_store::demo::provision_demo(&store)
            .await
            .expect("demo");
        for i in 0..USERS {
            let ext = (5000 + i).to_string();
            let u = patchbay_store::User {
                tenant: "demo".into(),
                ext: ext.clone(),
                display_name: ext.clone(),
            };
            store
                .upsert_user(&u, &format!("pw-{ext}"))
                .await
                .expect("user");
        }
    });
    let csv = dir.join("users.csv");
    let mut text = String::from("SEQUENTIAL\n");
    for i in 0..USERS {
        let ext = 5000 + i;
        // SIPp expands the second field as its authentication keyword.
        text.push_str(&format!(
            "{ext};[authentication username={ext} password=pw-{ext}]\n"
        ));
    }
    std::fs::write(&csv, text).expect("users.csv");
    csv
}

/// `rates` registrations a second for `secs` seconds each; `extra` more `b2bua:` config lines.
pub(crate) fn run(patchbay: &str, rates: &[u64], secs: u64, extra: &str) -> String {
    let mut o = String::new();
    let dir = std::env::temp_dir().join(format!("patchbay-bench-reg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let users = provision(&dir);
    let (sip, admin) = (free_port(), free_port());
    let cfg = dir.join("bench.yaml");
    std::fs::write(
        &cfg,
        format!(
            "b2bua:\n  sip_listen: 127.0.0.1:{sip}\n  admin_listen: 127.0.0.1:{admin}\n  auth_fail_limit: 1000000\n{extra}"
        ),
    )
    .expect("config");
    let pb: Kill = start_patchbay(patchbay, &cfg, &dir);
    let pid = pb.0.id();
    let target = format!("127.0.0.1:{sip}");
    let stat = format!("/proc/{pid}/stat");
    std::thread::sleep(Duration::from_millis(500));
    outln!(
        o,
        "| offered REGISTER/s | registrations | successful | failed | B2BUA CPU s | registrations per CPU s | contacts held | RSS growth per contact (bytes) |"
    );
    outln!(o, "|---|---|---|---|---|---|---|---|");
    let mut held = 0u64;
    for &rate in rates {
        let n = rate * secs;
        let sub = dir.join(format!("reg_{rate}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let (cpu0, rss0) = (crate::cpu_secs(&stat), crate::setup::rss_kib(pid));
        let _ = Command::new("sipp")
            .arg(&target)
            .arg("-sf")
            .arg(scenario("register_bench.xml"))
            .args(["-i", "127.0.0.1", "-nostdin", "-inf"])
            .arg(&users)
            .args(["-auth_uri", &target, "-set", "domain", &target])
            .args(["-set", "expires", "3600"])
            .args([
                "-r",
                &rate.to_string(),
                "-m",
                &n.to_string(),
                "-l",
                &(rate * 4).to_string(),
            ])
            .args([
                "-timeout",
                &format!("{}s", secs + 30),
                "-max_socket",
                "65000",
            ])
            .args(["-trace_stat", "-stf", "stat.csv", "-fd", "1"])
            .current_dir(&sub)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let cpu = crate::cpu_secs(&stat) - cpu0;
        let (ok, failed, _) = crate::cps::sipp_totals(&sub.join("stat.csv"));
        held = (held + ok).min(u64::from(USERS));
        let grown = crate::setup::rss_kib(pid).saturating_sub(rss0) * 1024;
        let per = grown.checked_div(ok).unwrap_or(0);
        let per_cpu = if cpu > 0.0 {
            (ok as f64 / cpu) as u64
        } else {
            0
        };
        outln!(
            o,
            "| {rate} | {n} | {ok} | {failed} | {cpu:.2} | {per_cpu} | {held} | {per} |"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    drop(pb);
    let _ = std::fs::remove_dir_all(&dir);
    o
}
