//! A prompt at a URL: an application call plays a WAV served by a local HTTP server (private
//! destinations allowed in this stack's config); the phone hears it; played again it comes
//! from the cache (the server sees one request); a redirect is followed; a 404 ends the play
//! with `error` naming the status. (Refusing private destinations by default is the fetcher's
//! unit test: this stack needs its local server.)
use patchbay_api::{EventKind, MediaOp, MediaReason, PlayRequest, Side};
use patchbay_media::engine::audio::decode_wav;
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A tiny HTTP/1.1 server: `/greeting.wav`, `/moved` (302 to it), anything else 404.
async fn serve(wav: Vec<u8>) -> (String, Arc<AtomicU64>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            h.fetch_add(1, Ordering::Relaxed);
            let wav = wav.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("");
                let head = match path {
                    "/greeting.wav" => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        wav.len()
                    ),
                    "/moved" => "HTTP/1.1 302 Found\r\nlocation: /greeting.wav\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                    _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                };
                let _ = s.write_all(head.as_bytes()).await;
                if path == "/greeting.wav" {
                    let _ = s.write_all(&wav).await;
                }
            });
        }
    });
    (base, hits)
}

fn play_url(url: &str) -> MediaOp {
    MediaOp::Play(PlayRequest {
        side: Side::A,
        file: None,
        url: Some(url.into()),
        text: None,
        recording: None,
        voice: None,
        repeat: false,
        barge_in: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_at_a_url_is_fetched_once_and_heard() {
    let stack = Stack::start_with(|c| c.url_prompts_allow_private = true).await;
    let path = stack.dir.join("url-src.wav");
    write_wav(&path, 16_000, &test_signal(16_000, 1.0));
    let bytes = std::fs::read(&path).unwrap();
    let want = decode_wav(bytes.clone()).unwrap();
    let (base, hits) = serve(bytes).await;
    let (call, phone, rtp) = app_call_captured(&stack, "uas_answer.xml").await;

    let cmd = stack
        .command(&call.id, &play_url(&format!("{base}/greeting.wav")))
        .await;
    let done = stack.done(&call.id, cmd, 10).await;
    assert!(
        matches!(
            done.kind,
            EventKind::PlayFinished {
                reason: MediaReason::Finished,
                played_ms: 1_000,
                ..
            }
        ),
        "{done:?}"
    );
    let (corr, _) = best_correlation(&want, &rtp.audio());
    assert!(corr > 0.95, "the phone heard the fetched prompt: {corr:.3}");
    let cmd = stack
        .command(&call.id, &play_url(&format!("{base}/greeting.wav")))
        .await;
    stack.done(&call.id, cmd, 10).await;
    assert_eq!(
        hits.load(Ordering::Relaxed),
        1,
        "the second play came from the cache"
    );

    let cmd = stack
        .command(&call.id, &play_url(&format!("{base}/moved")))
        .await;
    let done = stack.done(&call.id, cmd, 10).await;
    assert!(matches!(
        done.kind,
        EventKind::PlayFinished {
            reason: MediaReason::Finished,
            ..
        }
    ));
    assert_eq!(
        hits.load(Ordering::Relaxed),
        3,
        "the redirect, then its target"
    );

    let cmd = stack
        .command(&call.id, &play_url(&format!("{base}/nothing.wav")))
        .await;
    let done = stack.done(&call.id, cmd, 10).await;
    assert!(
        matches!(&done.kind, EventKind::PlayFinished { reason: MediaReason::Error, error: Some(e), .. } if e.contains("404")),
        "{done:?}"
    );
    // Not a URL the API takes.
    assert!(
        stack
            .api
            .primitive(&call.id, &play_url("ftp://x/y.wav"))
            .await
            .is_err()
    );

    stack.api.hangup(&call.id).await.unwrap();
    assert_one_terminal(&stack.events_until_end(&call.id).await);
    assert_eq!(phone.wait(10).await, 0);
    stack.stop().await;
}
