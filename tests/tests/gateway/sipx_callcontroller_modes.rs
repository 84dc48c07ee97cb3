//! The call controller's INVITE mode with everything a dialer sends: 4005 forwards its
//! calls to 4006, so `isForwardingAllowed=true` rings 4006 first; `subject` reaches the
//! first INVITE (the calling party's) as `Subject`; the status document lists both dialogs
//! `Confirmed`; a second INVITE-mode POST while the call is up is refused; `action=transfer`
//! moves the called party's place to 4009; after the hangup both dialogs are `Terminated`.
use patchbay_api::{CallState, EventKind};
use patchbay_store::{Store, User};
use patchbay_tests::*;
use std::time::Duration;

const NS: &str = "http://www.sipfoundry.org/sipX/schema/xml/call-status-00-00";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_mode_forwarding_subject_and_transfer() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let u = User {
        tenant: "demo".into(),
        ext: "4006".into(),
        display_name: "Desk 4006".into(),
    };
    stack.store.upsert_user(&u, "demo-4006").await.unwrap();
    let mut st = stack
        .store
        .user_settings("demo", "4005")
        .await
        .unwrap()
        .expect("4005");
    st.forward_to = Some("4006".into());
    st.forward_on = true;
    stack
        .store
        .set_user_settings("demo", "4005", &st)
        .await
        .unwrap();
    let (p6, p7, p9) = (free_port(), free_port(), free_port());
    for (u, p) in [("4006", p6), ("4007", p7), ("4009", p9)] {
        stack.register(u, p).await;
    }
    let (r6, r7, r9) = (
        RtpPeer::new(false).await,
        RtpPeer::new(true).await,
        RtpPeer::new(true).await,
    );
    let a = Sipp::answering(p6, 200, r6.port());
    let b = Sipp::answering(p7, 200, r7.port());
    let t = Sipp::answering(p9, 200, r9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let path = "/callcontroller/4005/4007";
    let basic = |method: reqwest::Method, query: &str| {
        gw.http
            .request(method, format!("{}{path}?{query}", gw.sipx_cc))
            .basic_auth("4005", Some("web-4005"))
    };
    let r = gw
        .send(
            basic(
                reqwest::Method::POST,
                "sipMethod=INVITE&isForwardingAllowed=true&subject=c2c&timeout=20",
            )
            .body("+"),
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.connected.as_deref(), Some("4007"));

    // The status documents are built from the call's events as the gateway reads them from
    // the store's event log (within events_poll_ms): asked until they show `done`.
    let status = |when: &'static str, done: fn(&str) -> bool| {
        let gw = &gw;
        let basic = &basic;
        async move {
            let mut body = String::new();
            for _ in 0..50 {
                let r = gw
                    .send(basic(reqwest::Method::GET, "sipMethod=INVITE"))
                    .await;
                assert_eq!(r.status, 200, "{when}: {}", r.body);
                assert_eq!(r.header("content-type"), "text/xml");
                body = r.body;
                if done(&body) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            body
        }
    };
    let doc = status("bridged", |d| d.matches("Confirmed").count() == 2).await;
    let dialog = |remote: &str, state: &str| {
        format!(
            "\t<dialog>\n\t\t<dialog-id>{id}@demo:{tag}</dialog-id>\n\t\t<local-party>sip:4005@demo</local-party>\n\t\t<remote-party>sip:{remote}@demo</remote-party>\n\t\t<dialog-state>{state}</dialog-state>\n\t</dialog>\n",
            id = call.id.0,
            tag = if remote == "4006" { "a" } else { "b" },
        )
    };
    assert_eq!(
        doc,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dialogs xmlns=\"{NS}\">\n{}{}</dialogs>\n",
            dialog("4006", "Confirmed"),
            dialog("4007", "Confirmed")
        ),
        "4005's forwarding rang 4006"
    );

    // A second call of the same key while this one is up.
    let r = gw
        .send(basic(reqwest::Method::POST, "sipMethod=INVITE"))
        .await;
    assert_eq!(r.status, 406);
    assert!(
        r.body
            .contains("<error-code>403</error-code>\n<error-text>Call in progress INVITE not supported</error-text>"),
        "{}",
        r.body
    );

    // 4007's place goes to 4009.
    let r = gw
        .send(basic(reqwest::Method::POST, "action=transfer&target=4009"))
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let mut transferred = None;
    for _ in 0..50 {
        let evs = stack
            .api
            .events(&call.id, 0, Duration::from_millis(200))
            .await
            .unwrap();
        transferred = evs.into_iter().find_map(|e| match e.kind {
            EventKind::Transferred { target } => Some(target),
            _ => None,
        });
        if transferred.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(transferred.as_deref(), Some("4009"));
    assert_eq!(b.wait_messages(15).await.0, 0, "4007 was let go with a BYE");

    stack.api.hangup(&call.id).await.unwrap();
    assert_one_terminal(&stack.events_until_end(&call.id).await);
    let doc = status("ended", |d| {
        d.matches("<dialog-state>Terminated</dialog-state>").count() == 2
    })
    .await;
    assert!(
        doc.matches("<dialog-state>Terminated</dialog-state>")
            .count()
            == 2,
        "{doc}"
    );
    let (code, trace) = a.wait_messages(15).await;
    assert_eq!(code, 0, "4006 answered and hung up cleanly");
    assert!(
        received_invite(&trace).contains("\nSubject: c2c"),
        "the first INVITE carries the subject: {trace}"
    );
    assert_eq!(t.wait(15).await, 0, "4009 answered and hung up cleanly");
    gw.stop().await;
    stack.stop().await;
}
