//! Ozeki's `SendSms` to an extension: API extension 9000 texts 4007, whose SIPp phone takes
//! the SIP MESSAGE (from 9000, the text in its body) and answers 200; the reply carries the
//! `SmsId` and the app's `DeliveryReportURL` hears `Delivered`. A recipient with no phone is
//! `501`, an unknown API extension `401`, a missing `Message` `302`. OzML's `SendSms` on a
//! call to the API extension texts 4007 the same way.
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_to_an_extension() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let mut app = Receiver::on(free_port());
    app.start().await;
    gw.api_extension("9000", json!({"incoming_call_url": app.url("/incoming")}))
        .await;
    let g = &gw;
    let ozeki = |q: String| async move { g.ozeki(&q).await };
    let p7 = free_port();
    stack.register("4007", p7).await;
    let phone = Sipp::phone("uas_message.xml", p7, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = ozeki(format!(
        "command=SendSms&ApiExtension=9000&Recipient=4007&Message=hello+from+the+clinic&DeliveryReportURL={}",
        app.url("/report")
    ))
    .await;
    assert!(r.contains("<Code>200</Code>"), "{r}");
    let i = r.find("<SmsId>").expect("SmsId") + 7;
    let sms_id = r[i..i + 36].to_string();
    assert!(
        r.contains(&format!(
            "  <Message>Command successfully executed</Message>\r\n  <SmsId>{sms_id}</SmsId>\r\n</Response>"
        )),
        "{r}"
    );
    let (code, messages) = phone.wait_messages(10).await;
    assert_eq!(code, 0, "the phone read the text");
    assert!(messages.contains("From: <sip:9000@"), "{messages}");
    assert!(messages.contains("hello from the clinic"), "{messages}");
    let report = app.wait_for("/report", 1, 10).await;
    let report = report.first().expect("SMSDeliveryReport");
    assert_eq!(
        report.field("NotificationName").as_deref(),
        Some("SMSDeliveryReport")
    );
    assert_eq!(report.field("SmsId"), Some(sms_id));
    assert_eq!(report.field("Status").as_deref(), Some("Delivered"));

    let r = ozeki("command=SendSms&ApiExtension=9000&Recipient=4009&Message=hi".into()).await;
    assert!(
        r.contains("<Code>501</Code>\r\n  <Message>Destination of the SMS is not found</Message>"),
        "{r}"
    );
    let r = ozeki("command=SendSms&ApiExtension=9100&Recipient=4007&Message=hi".into()).await;
    assert!(r.contains("<Code>401</Code>"), "{r}");
    let r = ozeki("command=SendSms&ApiExtension=9000&Recipient=4007".into()).await;
    assert!(
        r.contains("Missing or invalid parameter 'Message' for command 'SendSms'"),
        "{r}"
    );

    // OzML's SendSms: a caller of 9000 makes the app text 4007, then the program ends.
    app.set_reply_for(
        "/incoming",
        "<Response><SendSms Recipient=\"4007\">hello from the IVR</SendSms></Response>",
    );
    let phone = Sipp::phone("uas_message.xml", p7, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rtp5 = patchbay_tests::media::RtpCapture::new().await;
    let caller = Sipp::dial(&stack, "4005", "9000", rtp5.port());
    let (code, messages) = phone.wait_messages(15).await;
    assert_eq!(code, 0, "the phone read the IVR's text");
    assert!(messages.contains("hello from the IVR"), "{messages}");
    assert!(messages.contains("From: <sip:9000@"), "{messages}");
    assert_eq!(caller.wait(15).await, 0, "the program ended: hung up");
    gw.stop().await;
    stack.stop().await;
}
