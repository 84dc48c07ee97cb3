//! Recordings through the native API: a tenant admin turns on "record every call"
//! (`PUT /api/v1/tenants/demo/recording`); a phone's inbound call is then recorded whole, and
//! a `POST /calls/{id}/record` of one leg with a limit adds a second recording. The index
//! lists both for the call; the WAV downloads whole (`audio/wav`) and by byte range (206);
//! the caller (a party) sees them, another user of the tenant and another tenant do not;
//! only an admin deletes, after which the recording is gone.
use patchbay_api::Side;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::{Value, json};
use std::time::Duration;

const DEMO: (&str, &str) = ("demo-key", "demo-secret");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_through_the_native_api() {
    let stack = Stack::start().await;
    add_system_key(&stack).await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key(DEMO.0, DEMO.1, m, path);
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/recording")
                .json(&json!({"record_calls": true, "retention_days": 30})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/recording"))
        .await;
    assert_eq!(
        r.json(),
        json!({"record_calls": true, "retention_days": 30})
    );
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/recording").json(&json!({"record_calls": "yes"})))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // 4005 calls 4007; the tenant's policy records it.
    let (p5, p7) = (free_port(), free_port());
    stack.register("4007", p7).await;
    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let callee = Sipp::answering(p7, 200, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        p5,
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "2500"],
    );
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    let id = call.id.0.clone();
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    rtp5.play_pcap(relay_a).await;
    let r = gw
        .send(
            demo(M::POST, &format!("/api/v1/calls/{id}/record"))
                .json(&json!({"side": "a", "max_ms": 400})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = gw
        .send(
            demo(M::POST, &format!("/api/v1/calls/{id}/record"))
                .json(&json!({"side": "a", "layout": "stereo"})),
        )
        .await;
    assert_eq!(r.status, 400, "stereo needs the whole call: {}", r.body);
    assert_eq!(caller.wait(20).await, 0);
    assert_eq!(callee.wait(10).await, 0);
    stack.events_until_end(&call.id).await;

    let list = |who: (&str, &str)| {
        gw.as_key(
            who.0,
            who.1,
            M::GET,
            &format!("/api/v1/recordings?call={id}"),
        )
    };
    let r = gw.send(list(DEMO)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recs: Vec<Value> = r.json().as_array().unwrap().clone();
    assert_eq!(recs.len(), 2, "{recs:?}");
    let whole = recs.iter().find(|r| r["side"] == "call").unwrap();
    let leg = recs.iter().find(|r| r["side"] == "a").unwrap();
    assert_eq!(whole["layout"], "stereo");
    assert_eq!(leg["layout"], "mono");
    assert!(
        (400..=440).contains(&leg["duration_ms"].as_u64().unwrap()),
        "{leg}"
    );
    assert!(whole["duration_ms"].as_u64().unwrap() >= 2_000, "{whole}");
    let rid = whole["id"].as_str().unwrap().to_string();
    let bytes = whole["bytes"].as_u64().unwrap();

    let file = |who: (&str, &str)| demo_get(&gw, who, &format!("/api/v1/recordings/{rid}"));
    let full = file(DEMO).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "audio/wav");
    assert_eq!(full.headers()["content-length"], bytes.to_string().as_str());
    let wav = full.bytes().await.unwrap();
    let rd = hound::WavReader::new(std::io::Cursor::new(&wav[..])).unwrap();
    assert_eq!(rd.spec().channels, 2);
    let part = file(DEMO)
        .header("range", "bytes=8-11")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 8-11/{bytes}").as_str()
    );
    assert_eq!(&part.bytes().await.unwrap()[..], b"WAVE");

    // The caller is a party; 4009 is not; another tenant sees nothing.
    let r = gw.send(list(("4005", "web-4005"))).await;
    assert_eq!(r.json().as_array().unwrap().len(), 2, "{}", r.body);
    let r = gw.send(list(("4009", "web-4009"))).await;
    assert_eq!(r.json(), json!([]));
    assert_eq!(
        file(("4009", "web-4009")).send().await.unwrap().status(),
        404
    );
    let acme = gw.onboard("acme").await;
    let acme = (acme.0.as_str(), acme.1.as_str());
    assert_eq!(gw.send(list(acme)).await.json(), json!([]));
    assert_eq!(file(acme).send().await.unwrap().status(), 404);

    let del = |who: (&str, &str)| {
        gw.as_key(
            who.0,
            who.1,
            M::DELETE,
            &format!("/api/v1/recordings/{rid}"),
        )
    };
    assert_eq!(gw.send(del(("4005", "web-4005"))).await.status, 403);
    assert_eq!(gw.send(del(acme)).await.status, 404);
    let r = gw.send(del(DEMO)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(file(DEMO).send().await.unwrap().status(), 404);
    assert_eq!(
        gw.send(list(DEMO)).await.json().as_array().unwrap().len(),
        1
    );
    gw.stop().await;
    stack.stop().await;
}

fn demo_get(gw: &Gw, who: (&str, &str), path: &str) -> reqwest::RequestBuilder {
    gw.as_key(who.0, who.1, M::GET, path)
}
