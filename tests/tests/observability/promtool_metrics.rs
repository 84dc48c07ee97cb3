//! `promtool check metrics` accepts every /metrics output (gateway and B2BUA, the relay's
//! metrics included) after a little traffic, so histograms and labelled series are present.
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_every_metrics_output() {
    let (_, promtool) = prometheus();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    // An authenticated request, a failed one, a vendor error: labelled series appear.
    let r = gw.get_basic("/api/v1/me", "demo-key", "demo-secret").await;
    assert_eq!(r.status, 200);
    let r = gw.get_basic("/api/v1/me", "demo-key", "wrong").await;
    assert_eq!(r.status, 401);
    let r = gw.get("/pbx/3pcc?to=4007&from=4005&type=2").await;
    assert!(r.body.starts_with("failed: "), "{}", r.body);
    let outputs = [
        (
            "gateway",
            gw.send(gw.http.get(format!("{}/metrics", gw.admin)))
                .await
                .body,
        ),
        ("b2bua", stack.b2bua_get("/metrics").await),
    ];
    for (name, text) in outputs {
        assert!(text.contains("# TYPE"), "{name}: {text}");
        let file = stack.dir.join(format!("{name}.prom"));
        std::fs::write(&file, &text).unwrap();
        let (code, out, err) = run_tool(
            "sh",
            &[
                "-c",
                &format!("{promtool} check metrics < '{}'", file.display()),
            ],
            30,
        )
        .await;
        assert_eq!(code, 0, "promtool on {name} /metrics:\n{out}{err}");
        // promtool prints lint problems (naming, units, HELP) even when it exits 0 for some.
        assert!(
            out.trim().is_empty() && err.trim().is_empty(),
            "promtool on {name} /metrics:\n{out}{err}"
        );
    }
    gw.stop().await;
    stack.stop().await;
}
