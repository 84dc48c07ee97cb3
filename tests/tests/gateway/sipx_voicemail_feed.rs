//! sipX's voicemail resources for real: 4007 sets its ring time with `/my/forward` (5 s) and
//! its active greeting to `none` (`/my/mailbox/4007/preferences/activegreeting/none`); 4005's
//! unanswered call goes to the mailbox, hears no spoken greeting, only the beep, and leaves 3 s
//! of a known signal. The RSS feed of 4007's inbox lists the message (from 4005) and its
//! enclosure, fetched without credentials through the private URL, is the WAV of what was
//! said; a wrong private key gets nothing, the right one nothing but the voicemail, and a new
//! portal password retires it.
use patchbay_api::EventKind;
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

fn curl_4007<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["-sS", "-u", "4007:web-4007"];
    all.extend_from_slice(args);
    all
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let i = s.find(open).unwrap_or_else(|| panic!("{open} in {s}")) + open.len();
    &s[i..i + s[i..]
        .find(close)
        .unwrap_or_else(|| panic!("{close} in {s}"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_lists_a_message_and_downloads_its_wav() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let rest = format!("{}/sipxconfig/rest", gw.base);
    let forward = format!("{rest}/my/forward");
    let greeting = format!("{rest}/my/mailbox/4007/preferences/activegreeting/none");
    for (url, body) in [
        (
            forward.as_str(),
            "<call-sequence><rings/><expiration>5</expiration></call-sequence>",
        ),
        (greeting.as_str(), "+"),
    ] {
        let args = curl_4007(&[
            "-w",
            "%{http_code}",
            "-X",
            "PUT",
            "--data-binary",
            body,
            url,
        ]);
        let (code, out, err) = run_tool("curl", &args, 20).await;
        assert_eq!((code, out.as_str()), (0, "200"), "{url}: {err}");
    }

    let (p5, p7) = (free_port(), free_port());
    stack.register("4007", p7).await;
    let ringing = Sipp::phone("uas_ring_cancel.xml", p7, &[]);
    let rtp = RtpCapture::new().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        p5,
        "4007",
        rtp.port(),
        &["-set", "talk_ms", "8000"],
    );
    assert_eq!(ringing.wait(15).await, 0, "4007 rang 5 s and was cancelled");
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    let beep = stack
        .wait_event(&call.id, 15, |k| {
            matches!(k, EventKind::ToneFinished { .. })
        })
        .await;
    let events = stack.api.events(&call.id, 0, Duration::ZERO).await.unwrap();
    assert!(
        !events
            .iter()
            .any(|e| e.seq < beep.seq && matches!(e.kind, EventKind::PlayFinished { .. })),
        "greeting none: no prompt before the beep: {:?}",
        kinds(&events)
    );
    let said = test_signal_seeded(8_000, 3.0, 33);
    let relay = relay_addr(&stack.api, &call.id, patchbay_api::Side::A).await;
    send_paced(&rtp.sock, relay, &phone_packets(&said)).await;
    assert_eq!(
        caller.wait(20).await,
        0,
        "the caller hung up after speaking"
    );
    stack.events_until_end(&call.id).await;

    // The inbox as RSS, as a feed reader asks for it.
    let feed_url = format!("{rest}/my/feed/voicemail/inbox");
    let mut feed = String::new();
    for _ in 0..50 {
        let (code, out, err) = run_tool("curl", &curl_4007(&[&feed_url]), 20).await;
        assert_eq!(code, 0, "{err}");
        if out.contains("<item>") {
            feed = out;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        feed.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"2.0\">\n  <channel>\n    <title>Voicemail: 4007</title>\n"),
        "{feed}"
    );
    let title = between(&feed, "<item>\n      <title>", "</title>");
    assert!(
        title.starts_with("Voice Message ") && title.ends_with(" from 4005"),
        "{title}"
    );
    let url = between(&feed, "<enclosure url=\"", "\"");
    assert!(
        url.starts_with(&format!("{rest}/private/")) && url.contains("/voicemail/inbox/"),
        "{url}"
    );
    assert!(feed.contains("type=\"audio/wav\" />"), "{feed}");

    // The enclosure: no credentials, the key in the URL.
    let wav = reqwest::get(url).await.unwrap();
    assert_eq!(wav.status(), 200);
    let bytes = wav.bytes().await.unwrap();
    let rd = hound::WavReader::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let samples: Vec<i16> = rd.into_samples::<i16>().map(Result::unwrap).collect();
    let (corr, _) = best_correlation(&pcma(&said), &without_inserted_silence(&samples));
    assert!(corr > 0.9, "the message is what was said: {corr:.3}");

    let key = between(url, "/private/", "/voicemail");
    let forged = url.replace(key, &"0".repeat(key.len()));
    let r = reqwest::get(&forged).await.unwrap();
    assert_eq!(r.status(), 401, "a wrong key reaches nothing");
    // The key opens the voicemail only, not the account.
    let http = reqwest::Client::new();
    let r = http
        .put(format!("{rest}/private/{key}/portal/password/taken-over"))
        .body("+")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "the private key cannot change the password"
    );
    // A new password retires the key.
    let pw = format!("{rest}/my/portal/password/new-secret-1");
    let args = curl_4007(&["-w", "%{http_code}", "-X", "PUT", "-d", "+", &pw]);
    let (code, out, _) = run_tool("curl", &args, 20).await;
    assert_eq!((code, out.as_str()), (0, "200"));
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 401, "the old feed links stop working");
    gw.stop().await;
    stack.stop().await;
}
