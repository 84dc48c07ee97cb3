//! promptCall's call-centre and billing actions on real calls: the tenant records every call;
//! `dial` 4005 -> 4007 carries 1 s of a known signal each way and is hung up; a second dial
//! finds 4007 busy; `dialqm` rings agent 4009 (queue `sales`) then 4007. `cdrapi` lists the
//! three calls oldest first with Asterisk's columns (ANSWERED with billsec, BUSY, the agent's
//! queue in `userfield`); `recapi` returns the first call's WAV as `application/octet-stream`
//! by `uniqueid`, by `filename` and by `src`+`dst`+`calldate`, and what 4005 said is in it.
//! The native billing search reads the same calls: by disposition and party with the
//! recording linked, in pages of one joined by `Link`, and as CSV.
use patchbay_api::{CallState, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::{Value, json};
use std::time::Duration;

const TOKEN: &str = "ZGVtby1rZXk6ZGVtby1zZWNyZXQ=";

async fn pbxws(gw: &Gw, action: &str, body: Value) -> Reply {
    gw.send(
        gw.http
            .post(format!("{}/pbxws.php/{action}", gw.base))
            .header("authorization", format!("Basic {TOKEN}"))
            .json(&body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdrapi_recapi_and_dialqm_on_real_calls() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let admin = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/recording").json(&json!({"record_calls": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/queues/sales")
                .json(&json!({"number": "750", "agents": ["4009"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (p5, p7, p9) = (free_port(), free_port(), free_port());
    for (u, p) in [("4005", p5), ("4007", p7), ("4009", p9)] {
        stack.register(u, p).await;
    }

    // 1. Answered, talked, hung up.
    let (rtp5, rtp7) = (RtpCapture::new().await, RtpCapture::new().await);
    let phone5 = Sipp::answering(p5, 100, rtp5.port());
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = pbxws(&gw, "dial", json!({"ext": "4005", "tel": "4007"})).await;
    assert_eq!(r.json()["success"], true, "{}", r.body);
    let first = r.json()["uniqueid"].as_str().unwrap().to_string();
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.id.0, first);
    let (said5, said7) = (
        test_signal_seeded(8_000, 1.0, 61),
        test_signal_seeded(8_000, 1.0, 62),
    );
    let to_7 = relay_addr(&stack.api, &call.id, Side::A).await;
    let to_5 = relay_addr(&stack.api, &call.id, Side::B).await;
    let (s5, s7) = (phone_packets(&said5), phone_packets(&said7));
    tokio::join!(
        send_paced(&rtp5.sock, to_7, &s5),
        send_paced(&rtp7.sock, to_5, &s7)
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    stack.api.hangup(&call.id).await.unwrap();
    stack.events_until_end(&call.id).await;
    assert_eq!(phone5.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);

    // 2. 4007 busy (its voicemail off, so the busy call is not taken by the mailbox).
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/users/4007").json(&json!({"vm_on": false})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let phone5 = Sipp::answering(p5, 100, rtp5.port());
    let busy = Sipp::phone("uas_busy.xml", p7, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = pbxws(&gw, "dial", json!({"ext": "4005", "tel": "4007"})).await;
    assert_eq!(r.json()["success"], true, "{}", r.body);
    let second = r.json()["uniqueid"].as_str().unwrap().to_string();
    stack
        .events_until_end(&patchbay_api::CallId(second.clone()))
        .await;
    assert_eq!(busy.wait(10).await, 0);
    let _ = phone5.wait(10).await;

    // 3. The agent's call: 4009 first, then 4007.
    let rtp9 = RtpCapture::new().await;
    let phone9 = Sipp::answering(p9, 100, rtp9.port());
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = pbxws(&gw, "dialqm", json!({"agent": "4009", "tel": "4007"})).await;
    assert_eq!(r.json()["success"], true, "{}", r.body);
    let third = patchbay_api::CallId(r.json()["uniqueid"].as_str().unwrap().to_string());
    let c = stack.call_in_state(CallState::Bridged).await;
    assert_eq!((c.id.clone(), c.from.as_str()), (third.clone(), "4009"));
    assert_eq!(c.connected.as_deref(), Some("4007"));
    stack.api.hangup(&third).await.unwrap();
    stack.events_until_end(&third).await;
    assert_eq!(phone9.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);

    // The CDRs, Asterisk's way.
    let mut rows: Vec<Value> = Vec::new();
    for _ in 0..50 {
        let r = pbxws(
            &gw,
            "cdrapi",
            json!({"numRecords": "10", "startTime": "2000-01-01 00:00:00", "endTime": "2100-01-01 00:00:00"}),
        )
        .await;
        assert_eq!(r.json()["success"], true, "{}", r.body);
        rows = r.json()["value"].as_array().unwrap().clone();
        if rows.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["uniqueid"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [first.as_str(), second.as_str(), third.0.as_str()],
        "{rows:?}"
    );
    let (a, b, q) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(
        (a["src"].as_str(), a["dst"].as_str()),
        (Some("4005"), Some("4007"))
    );
    assert_eq!(a["disposition"], "ANSWERED");
    let billsec: u64 = a["billsec"].as_str().unwrap().parse().unwrap();
    let duration: u64 = a["duration"].as_str().unwrap().parse().unwrap();
    assert!((2..=4).contains(&billsec) && duration >= billsec, "{a}");
    assert_eq!(
        (b["disposition"].as_str(), b["billsec"].as_str()),
        (Some("BUSY"), Some("0"))
    );
    assert_eq!(
        (q["src"].as_str(), q["userfield"].as_str()),
        (Some("4009"), Some("sales"))
    );
    let file = a["recordingfile"].as_str().unwrap().to_string();
    assert!(file.ends_with(".wav"), "{a}");
    let calldate = a["calldate"].as_str().unwrap().to_string();

    // The recording, three ways.
    for body in [
        json!({"uniqueid": first}),
        json!({"filename": file}),
        json!({"src": "4005", "dst": "4007", "calldate": calldate}),
    ] {
        let r = gw
            .http
            .post(format!("{}/pbxws.php/recapi", gw.base))
            .header("authorization", format!("Basic {TOKEN}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"],
            "application/octet-stream",
            "{body}"
        );
        let bytes = r.bytes().await.unwrap();
        let mut rd = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let ch = usize::from(rd.spec().channels).max(1);
        let samples: Vec<i16> = rd.samples::<i16>().map(Result::unwrap).collect();
        let left: Vec<i16> = samples.iter().step_by(ch).copied().collect();
        let heard = best_correlation(&pcma(&said5), &without_inserted_silence(&left)).0;
        assert!(
            heard > 0.9,
            "{body}: what 4005 said is in the recording: {heard:.3}"
        );
    }

    // The same calls through the native API's billing search.
    let r = gw
        .send(admin(
            M::GET,
            "/api/v1/cdrs?party=4007&disposition=answered&direction=originate",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json().as_array().unwrap().clone();
    let ids: Vec<&str> = list.iter().map(|c| c["call"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [third.0.as_str(), first.as_str()],
        "newest first: {list:?}"
    );
    assert_eq!(list[1]["disposition"], "answered");
    let link = list[1]["recordings"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        link,
        format!("/api/v1/recordings/{}", file.trim_end_matches(".wav"))
    );
    let wav = gw.send(admin(M::GET, &link)).await;
    assert_eq!(wav.status, 200, "the linked recording downloads");
    let busy = gw
        .send(admin(M::GET, "/api/v1/cdrs?disposition=busy"))
        .await;
    assert_eq!(busy.json()[0]["call"].as_str(), Some(second.as_str()));
    // Pages of one.
    let mut seen = Vec::new();
    let mut path = "/api/v1/cdrs?party=4005&limit=1".to_string();
    for _ in 0..5 {
        let r = gw.send(admin(M::GET, &path)).await;
        for c in r.json().as_array().unwrap() {
            seen.push(c["call"].as_str().unwrap().to_string());
        }
        match r.headers.get("link").and_then(|l| l.to_str().ok()) {
            Some(l) => path = l[1..l.find('>').unwrap()].to_string(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [second.clone(), first.clone()],
        "two calls of 4005, one a page"
    );
    let csv = gw
        .send(admin(M::GET, "/api/v1/cdrs?party=4009").header("accept", "text/csv"))
        .await;
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "call,from,to,direction,start,answer,end,duration_s,billsec,disposition,cause,queue,recordings"
        )
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(&format!("{},4009,4007,originate,", third.0))
            && row.contains(",answered,normal,sales,"),
        "{row}"
    );
    // A user reads only its own calls.
    let r = gw
        .send(gw.as_key("4009", "web-4009", M::GET, "/api/v1/cdrs?party=4005"))
        .await;
    assert_eq!(r.status, 403);
    gw.stop().await;
    stack.stop().await;
}
