//! Servers that misbehave: bodies that claim one type and carry another,
//! JSON nested past any sane depth, answers that never come, queues that
//! never finish. Each ends in a clear error, never a hang or a panic.

mod common;

use std::time::Duration;

use common::*;
use ideogram::{Client, Error, GenerateRequest, PollSchedule, Provider};
use serde_json::json;

#[tokio::test]
async fn an_image_that_is_not_one_is_refused() {
    let server =
        CaptureServer::start(|_| Canned::bytes(200, "image/jpeg", b"<html>login page</html>"))
            .await;
    let err = client(Provider::Segmind, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse { ref message, .. } if message.contains("not an image")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_key_echoed_anywhere_in_an_answer_is_never_shown_even_in_part() {
    // The key straddles the 200th byte, where an excerpt used to be cut
    // before redaction, and comes whole further on.
    let echo = format!("{}{KEY} and again {KEY}", "x".repeat(190));
    for (content_type, describe) in [("text/html", false), ("application/json", true)] {
        let body = echo.clone().into_bytes();
        let server = CaptureServer::start(move |_| Canned::bytes(200, content_type, &body)).await;
        let client = client(Provider::Segmind, &server);
        let shown = if describe {
            // A describe answer labelled JSON that is not: an error that
            // says it was billed, never the body repeated as words.
            let err = client
                .describe(&ideogram::ImageInput::bytes(PNG))
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidResponse { .. }) && err.to_string().contains("billed"),
                "{err}"
            );
            err.to_string()
        } else {
            let err = client
                .generate(&GenerateRequest::new("x"))
                .await
                .unwrap_err();
            err.to_string()
        };
        assert!(!shown.contains("sk-facade"), "{content_type}: {shown}");
        assert!(!shown.contains("0042"), "{content_type}: {shown}");
    }
}

#[tokio::test]
async fn json_nested_a_thousand_deep_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let server =
        CaptureServer::start(move |_| Canned::bytes(200, "application/json", deep.as_bytes()))
            .await;
    let err = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    // A 200 is billed: an answer that does not decode, with no URL in it.
    assert!(
        matches!(&err, Error::Undecoded { urls, .. } if urls.is_empty()),
        "{err:?}"
    );
    // The same from Segmind, where a JSON answer carries the image.
    let deep = format!("{}{}", "{\"image\":".repeat(1000), "}".repeat(1000));
    let server =
        CaptureServer::start(move |_| Canned::bytes(200, "application/json", deep.as_bytes()))
            .await;
    let err = client(Provider::Segmind, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Undecoded { urls, .. } if urls.is_empty()),
        "{err:?}"
    );
}

#[tokio::test]
async fn json_where_an_image_was_expected_and_html_where_json_was() {
    let server =
        CaptureServer::start(|_| Canned::bytes(200, "text/html", b"<html>maintenance</html>"))
            .await;
    let err = client(Provider::Segmind, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    let server =
        CaptureServer::start(|_| Canned::bytes(401, "text/html", b"<html>who are you</html>"))
            .await;
    let err = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    // Mapped by its status whatever the body: an HTML 401 is a wrong key.
    assert!(
        matches!(err, Error::Unauthorized { ref message } if message == "who are you"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts the connection and reads, but never writes a byte (slowloris).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Client::builder(Provider::Ideogram)
        .base_url(format!("http://{addr}"))
        .api_key(KEY)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    let Error::Transport { sent: true, source } = &err else {
        panic!("{err:?}")
    };
    assert!(source.is_timeout(), "{source:?}");
    hold.abort();
}

#[tokio::test]
async fn a_queue_that_never_finishes_ends_at_the_deadline_with_the_id() {
    let server = CaptureServer::start(|_| Canned::json(200, json!({"status": "PROCESSING"}))).await;
    let job = client(Provider::Segmind, &server).job("stuck-1");
    let schedule =
        PollSchedule::fixed(Duration::from_millis(10)).deadline(Duration::from_millis(100));
    let err = job.wait_with(&schedule, |_| {}).await.unwrap_err();
    assert!(
        matches!(err, Error::JobTimeout { ref id, .. } if id == "stuck-1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("resume it with its id"), "{err}");
}

/// The messages of an error and its sources, joined.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_huge_declared_body_is_refused_before_it_is_read() {
    const MIB: u64 = 1024 * 1024;
    let (url, sent, server) = workspace_tests::declared_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json",
        65 * MIB,
        vec![b' '; 64 * 1024],
    )
    .await;
    let client = Client::builder(Provider::Ideogram)
        .base_url(url)
        .api_key(KEY)
        .retry(fast_retries())
        .build()
        .unwrap();
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert!(
        chain(&err).contains("larger than 64 MiB"),
        "{}",
        chain(&err)
    );
    // Refused on its header: the client hung up, and its socket took no
    // more than the kernel's buffers hold, nowhere near the cap.
    tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("the client never hung up")
        .unwrap();
    let read = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(read < 16 * MIB, "{read} bytes of the body were taken");
}

#[tokio::test]
async fn an_endless_body_is_cut_off_at_the_cap() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, " ".repeat(1 << 20));
        // Bounded: stops after 200 MiB or when the client hangs up.
        let mut sent = 0u64;
        for _ in 0..200 {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let client = Client::builder(Provider::Ideogram)
        .base_url(format!("http://{addr}"))
        .api_key(KEY)
        .build()
        .unwrap();
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        chain(&err).contains("larger than 64 MiB"),
        "{}",
        chain(&err)
    );
    let sent_mib = server.await.unwrap();
    assert!(
        sent_mib < 200,
        "the client read everything ({sent_mib} MiB)"
    );
}

#[tokio::test]
async fn a_describe_answer_that_is_not_json_is_a_bounded_error_that_says_it_was_billed() {
    let body = format!("<html>{}{KEY}</html>", "words ".repeat(20_000));
    for content_type in ["text/plain; charset=utf-8", "text/html", "application/json"] {
        let body = body.clone().into_bytes();
        let server = CaptureServer::start(move |_| Canned::bytes(200, content_type, &body)).await;
        let err = client(Provider::Segmind, &server)
            .describe(&ideogram::ImageInput::bytes(PNG))
            .await
            .unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert!(shown.contains("billed"), "{shown}");
        assert!(
            shown.len() < 1000,
            "{content_type}: {} bytes shown",
            shown.len()
        );
        assert!(!shown.contains("sk-facade"), "{shown}");
    }
}
