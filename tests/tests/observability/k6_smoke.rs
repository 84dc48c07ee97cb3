//! k6 smoke: every script in loadtest/k6 (click-to-call through the native API and each vendor
//! API that places calls, Ozeki's `Call` with its OzML spoken, and the native API's
//! application calls with a beep) runs for 10 s against the live stack and must pass its thresholds
//! (error rate, checks, p95); every request it made must have become a real call that SIPp
//! answered and hung up (the B2BUA's normally-ended calls grow by k6's iteration count). Then
//! the native API's reads (CDRs, calls, tenant settings) and the IPPS wallboard pages run the
//! same way, with those CDRs.
use patchbay_tests::*;
use std::time::Duration;

const SCRIPTS: [&str; 9] = [
    "native",
    "native_app",
    "brekeke_3pcc",
    "brekeke_soap",
    "taridium",
    "promptcall",
    "ozeki",
    "sipx",
    "sipx_rest",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k6_click_to_call_smoke() {
    let k6 = k6();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    // Calls last ~0.5 s (4007 hangs up), so a handful are up at any time.
    let _phones = LoadPhones::start(&stack, 500, 300).await;
    let k6_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../loadtest/k6");
    let before = normal_calls_ended(&stack).await;
    let mut iterations = 0.0;
    let run = |script: &'static str| {
        let (k6, base, ozeki, summary) = (
            k6.clone(),
            gw.base.clone(),
            gw.ozeki.clone(),
            stack.dir.join(format!("k6-{script}.json")),
        );
        async move {
            let (code, out, err) = run_tool(
                &k6,
                &[
                    "run",
                    "--quiet",
                    "--no-usage-report",
                    "--no-color",
                    "-e",
                    &format!("PATCHBAY_URL={base}"),
                    "-e",
                    &format!("OZEKI_URL={ozeki}"),
                    "-e",
                    "DURATION=10s",
                    "--summary-export",
                    &summary.display().to_string(),
                    &format!("{k6_dir}/{script}.js"),
                ],
                60,
            )
            .await;
            assert_eq!(code, 0, "k6 {script}: thresholds hold\n{out}\n{err}");
            let s: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary"))
                    .expect("summary json");
            s
        }
    };
    for script in SCRIPTS {
        let s = run(script).await;
        let n = s["metrics"]["iterations"]["count"].as_f64().unwrap_or(0.0);
        let failed = s["metrics"]["http_req_failed"]["value"].as_f64();
        let p95 = s["metrics"]["http_req_duration"]["p(95)"].as_f64();
        eprintln!("k6 {script}: {n} calls, http_req_failed {failed:?}, p95 {p95:?} ms");
        assert!(n >= 10.0, "k6 {script} made calls: {s}");
        iterations += n;
    }
    // Every accepted click-to-call became a call that rang, was answered and hung up.
    let mut ended = 0.0;
    for _ in 0..150 {
        ended = normal_calls_ended(&stack).await - before;
        if ended >= iterations {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if ended != iterations {
        let m = stack.b2bua_get("/metrics").await;
        let calls: Vec<String> = m
            .lines()
            .filter(|l| l.starts_with("patchbay_b2bua_calls_") && !l.ends_with(" 0"))
            .map(str::to_string)
            .collect();
        let live = stack.api.list_calls().await.unwrap_or_default();
        panic!(
            "every k6 request became a real call: {ended} of {iterations} ended normally\n{}\nlive: {live:?}",
            calls.join("\n")
        );
    }
    // The reads: the native API's (CDRs, calls, settings) and the IPPS wallboard pages.
    for script in ["native_admin", "ipps"] {
        let s = run(script).await;
        let n = s["metrics"]["iterations"]["count"].as_f64().unwrap_or(0.0);
        let checks = s["metrics"]["checks"]["value"].as_f64();
        assert!(n >= 10.0 && checks == Some(1.0), "k6 {script}: {s}");
    }
    gw.stop().await;
    stack.stop().await;
}
