//! Taridium's CTI with a local CRM: the demo tenant sets its control, pop-up and post-call URLs
//! (`PUT /api/v1/tenants/demo/cti`). 4005 calls 4007: the CRM hears the general control GET
//! with the call's variables before anything rings, and its `<ipbx>` reply re-routes the
//! call to 4009 (4007 never rings), shows 4009 another caller name, turns recording on and
//! sets `acc_code2`; 4009's `ringing` event carries the rendered pop-up URL. After the hangup
//! the post-call GET arrives with the CDR's variables (`billsec`, `disposition`, `acc_code2`).
//! Per application: the control answers nothing, ring group 4600's own CTI URL sends the call
//! to 4009. A CRM slower than the tenant's timeout: the call rings 4007 as dialled. The route
//! hook is on only while CTI has something to ask before a call rings.
use patchbay_api::{CallState, EventKind};
use patchbay_store::Store;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::net::SocketAddr;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_steers_calls_and_hears_their_cdrs() {
    let gw_admin = free_port();
    let stack = Stack::start_with(|c| {
        c.route_hook_url = format!("http://127.0.0.1:{gw_admin}/internal/v1/route");
    })
    .await;
    let gw = stack.gateway(|c| c.admin_listen = SocketAddr::from(([127, 0, 0, 1], gw_admin)));
    let admin = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let mut crm = Receiver::on(free_port());
    crm.start().await;

    // Settings: checked, then stored; the GET shows them.
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/cti").json(&json!({"control_url": "ftp://x"})))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let settings = json!({
        "control_url": crm.url("/control?num=%%calleridnumber%%&name=%%calleridname%%&id=%%uniqueid%%&chan=%%channel%%&ext=%%exten%%&acc=%%accountcode%%"),
        "popup_url": crm.url("/popup?num=%%calleridnumber%%&id=%%uniqueid%%&ext=%%exten%%"),
        "post_call_url": crm.url("/post?id=%%uniqueid%%&src=%%src%%&dst=%%dst%%&billsec=%%billsec%%&disposition=%%disposition%%&acc2=%%acc_code2%%"),
        "timeout_ms": 500
    });
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/cti").json(&settings))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw.send(admin(M::GET, "/api/v1/tenants/demo/cti")).await;
    let got: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(got["control_url"], settings["control_url"]);
    assert_eq!(got["enabled"], true);

    let (p7, p9) = (free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let rtp = RtpPeer::new(true).await;

    // 1. The general control re-routes the call, renames the caller, records, sets a code.
    crm.set_reply_for(
        "/control",
        "<?xml version=\"1.0\"?>\n<ipbx><route>4009</route><calleridname>VIP Jane</calleridname><acc_code2>PROJ-7</acc_code2><record>yes</record></ipbx>",
    );
    let phone7 = Sipp::answering(p7, 100, rtp.port());
    let phone9 = Sipp::answering(p9, 100, rtp.port());
    let caller = Sipp::dial(&stack, "4005", "4007", rtp.port());
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.connected.as_deref(), Some("4009"));
    let asked = crm.wait_for("/control", 1, 5).await;
    let h = asked.first().expect("the control GET");
    assert_eq!(h.method, "GET");
    assert_eq!(h.param("num").as_deref(), Some("4005"));
    assert_eq!(
        h.param("name").as_deref(),
        Some("4005"),
        "no display name: the number"
    );
    assert_eq!(h.param("id").as_deref(), Some(call.id.0.as_str()));
    assert_eq!(h.param("chan").as_deref(), Some("SIP/4005"));
    assert_eq!(h.param("ext").as_deref(), Some("4007"));
    assert_eq!(h.param("acc").as_deref(), Some(""));
    let ringing = stack
        .wait_event(&call.id, 5, |k| {
            matches!(
                k,
                EventKind::Ringing {
                    side: patchbay_api::Side::B,
                    ..
                }
            )
        })
        .await;
    assert!(h.at_ms <= ringing.at_ms, "asked before anything rang");
    let EventKind::Ringing { popup_url, .. } = &ringing.kind else {
        unreachable!()
    };
    assert_eq!(
        popup_url.as_deref(),
        Some(
            crm.url(&format!("/popup?num=4005&id={}&ext=4009", call.id))
                .as_str()
        ),
        "the pop-up URL rides on the callee's ringing"
    );
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    let (code, messages) = phone9.wait_messages(10).await;
    assert_eq!(code, 0);
    let invite = received_invite(&messages);
    assert!(
        invite.contains("From: \"VIP Jane\" <sip:4005@"),
        "4009 sees the CRM's caller name: {invite}"
    );
    assert_eq!(phone7.wait(1).await, -1, "4007 never rang");
    stack.events_until_end(&call.id).await;
    let c = cdr(&stack, &call.id).await;
    assert_eq!(c.account_codes.acc_code2, "PROJ-7");
    let posted = crm.wait_for("/post", 1, 10).await;
    let p = posted.first().expect("the post-call GET");
    assert_eq!(p.method, "GET");
    assert_eq!(p.param("id").as_deref(), Some(call.id.0.as_str()));
    assert_eq!(p.param("src").as_deref(), Some("4005"));
    assert_eq!(p.param("dst").as_deref(), Some("4009"));
    assert_eq!(p.param("disposition").as_deref(), Some("ANSWERED"));
    assert_eq!(p.param("billsec"), Some(c.billsec.to_string()));
    assert_eq!(p.param("acc2").as_deref(), Some("PROJ-7"));
    let recs = gw
        .send(admin(
            M::GET,
            &format!("/api/v1/recordings?call={}", call.id),
        ))
        .await;
    assert_eq!(recs.status, 200, "{}", recs.body);
    let recs: serde_json::Value = serde_json::from_str(&recs.body).unwrap();
    assert!(
        recs.as_array()
            .is_some_and(|a| a.iter().any(|r| r["side"] == "call")),
        "<record>yes</record> recorded the call: {recs}"
    );

    // 2. Per application: ring group 4600's own CTI URL sends its call to 4009.
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/groups/4600").json(&json!({
                "strategy": "simultaneous",
                "members": [{"ext": "4007"}],
                "cti_url": crm.url("/group?ext=%%exten%%&id=%%uniqueid%%")
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    crm.set_reply_for("/control", "<ipbx/>");
    crm.set_reply_for("/group", "<ipbx><route>4009</route></ipbx>");
    let phone7 = Sipp::answering(p7, 100, rtp.port());
    let phone9 = Sipp::answering(p9, 100, rtp.port());
    let caller = Sipp::dial(&stack, "4005", "4600", rtp.port());
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.connected.as_deref(), Some("4009"));
    let g = crm.wait_for("/group", 1, 5).await;
    assert_eq!(
        g.first().and_then(|h| h.param("ext")).as_deref(),
        Some("4600")
    );
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    assert_eq!(phone7.wait(1).await, -1, "the group's member never rang");
    stack.events_until_end(&call.id).await;

    // 3. A CRM slower than the tenant's timeout: the call goes where it was dialled.
    crm.set_reply_for("/control", "<ipbx><route>4009</route></ipbx>");
    crm.set_delay_ms(1500);
    let phone7 = Sipp::answering(p7, 100, rtp.port());
    let caller = Sipp::dial(&stack, "4005", "4007", rtp.port());
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.connected.as_deref(), Some("4007"));
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    stack.events_until_end(&call.id).await;

    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    let n = |k: &str, o: &str| {
        metric(
            &m,
            &format!("patchbay_gateway_cti_total{{kind=\"{k}\",outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(n("control", "changed"), Some(1.0));
    assert_eq!(n("control", "unchanged"), Some(1.0));
    assert_eq!(n("application", "changed"), Some(1.0));
    assert!(n("control", "failed") >= Some(1.0));
    assert!(n("post_call", "queued") >= Some(1.0));

    // 4. The route hook's switch: a post-call URL alone asks nothing before calls ring; an
    // application's URL turns the questions on again.
    let hook_on = || async {
        let docs = stack.store.configs("demo", "routing").await.unwrap();
        let (_, body) = docs.into_iter().find(|(n, _)| n == "hook").expect("switch");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["enabled"] == true
    };
    assert!(hook_on().await);
    let r = gw
        .send(admin(M::DELETE, "/api/v1/tenants/demo/groups/4600"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/cti")
                .json(&json!({"post_call_url": crm.url("/post?id=%%uniqueid%%")})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!hook_on().await, "a post-call URL alone");
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/groups/4600").json(&json!({
                "strategy": "simultaneous",
                "members": [{"ext": "4007"}],
                "cti_url": crm.url("/group")
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(hook_on().await, "the group's URL");
}
