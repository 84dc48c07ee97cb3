//! MESSAGE and NOTIFY outside any call, through the control API: a text to 4007's phone, then
//! a message-waiting NOTIFY (RFC 3842); each result names the contact and its answer. A user
//! with no phone is 404, a NOTIFY without Event 400.
use patchbay_api::{SipMessageMethod, SipMessageRequest};
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_and_mwi_notify_reach_the_phone() {
    let stack = Stack::start().await;
    let p4007 = free_port();
    stack.register("4007", p4007).await;
    let phone = Sipp::phone("uas_message.xml", p4007, &[]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let contact = format!("sip:4007@127.0.0.1:{p4007}");
    let text = SipMessageRequest {
        tenant: "demo".into(),
        to: "4007".into(),
        method: SipMessageMethod::Message,
        content_type: "text/plain".into(),
        body: "hello from patchbay".into(),
        headers: vec![],
        from: None,
    };
    let r = stack.api.sip_message(&text).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].contact.as_str(), r[0].status),
        (contact.as_str(), 200)
    );
    let mwi = SipMessageRequest {
        method: SipMessageMethod::Notify,
        content_type: "application/simple-message-summary".into(),
        body: "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n".into(),
        headers: vec![
            ("Event".into(), "message-summary".into()),
            ("Subscription-State".into(), "active".into()),
        ],
        ..text.clone()
    };
    assert_eq!(phone.wait(10).await, 0, "the phone read the text");
    let phone = Sipp::phone("uas_mwi.xml", p4007, &[]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r = stack.api.sip_message(&mwi).await.unwrap();
    assert_eq!(r[0].status, 200);
    assert_eq!(
        phone.wait(10).await,
        0,
        "the phone saw the message-waiting NOTIFY"
    );
    let nobody = SipMessageRequest {
        to: "4009".into(),
        ..text.clone()
    };
    let e = stack.api.sip_message(&nobody).await.unwrap_err();
    assert_eq!(e.kind(), patchbay_api::ApiErrorKind::NotFound, "{e:?}");
    let no_event = SipMessageRequest {
        headers: vec![],
        ..mwi
    };
    let e = stack.api.sip_message(&no_event).await.unwrap_err();
    assert_eq!(e.kind(), patchbay_api::ApiErrorKind::BadRequest, "{e:?}");
    stack.stop().await;
}
