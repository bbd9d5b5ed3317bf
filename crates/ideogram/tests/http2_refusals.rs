//! An HTTP/2 server's refusal of a request (RFC 9113, section 8.7) says it
//! did not process it: the client sends it again and reports it unsent. Any
//! other reset may come after the service ran it: never sent again, and
//! reported as possibly received. (reqwest's own retry of refusals is off:
//! it copied every request made; the client's retry reads the refusal.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::{KEY, fast_retries};
use ideogram::{Client, Error, GenerateRequest, Model, Provider};
use serde_json::json;
use tokio::net::TcpListener;

/// A cleartext HTTP/2 server on loopback that resets the first `resets`
/// streams with `reason`, then answers each with one generated image. It
/// counts the requests it receives.
async fn server(resets: usize, reason: h2::Reason) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut connection = h2::server::handshake(socket).await.expect("HTTP/2");
                while let Some(Ok((_request, mut respond))) = connection.accept().await {
                    if counted.fetch_add(1, Ordering::SeqCst) < resets {
                        respond.send_reset(reason);
                        continue;
                    }
                    let answer = json!({"created": "2026-11-01T00:00:00Z", "data": [{
                        "url": "https://cdn.example/a.png", "prompt": "a fox",
                        "resolution": "1024x1024", "is_image_safe": true, "seed": 7,
                        "style_type": "GENERAL"}]});
                    let head = http::Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(())
                        .expect("a response");
                    let mut body = respond.send_response(head, false).expect("sent");
                    let bytes = Bytes::from(answer.to_string());
                    body.send_data(bytes, true).expect("body sent");
                }
            });
        }
    });
    (base, seen)
}

/// A client speaking HTTP/2 to `base` (cleartext, as the server above), on
/// the crate's own HTTP defaults.
fn client(base: &str) -> Client {
    let http = ideogram_raw::http::client_builder()
        .http2_prior_knowledge()
        .build()
        .expect("an HTTP/2 client");
    Client::builder(Provider::Ideogram)
        .base_url(base)
        .api_key(KEY)
        .http_client(http)
        .retry(fast_retries())
        .build()
        .expect("client")
}

fn request() -> GenerateRequest {
    GenerateRequest::new("a fox").model(Model::V3)
}

#[tokio::test]
async fn a_refused_stream_is_sent_again_and_answered_once() {
    let (base, seen) = server(1, h2::Reason::REFUSED_STREAM).await;
    let generation = client(&base).generate(&request()).await.expect("answered");
    assert_eq!(generation.images.len(), 1);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "refused once, then answered"
    );
}

#[tokio::test]
async fn refusals_past_the_retries_are_reported_unsent() {
    let (base, seen) = server(usize::MAX, h2::Reason::REFUSED_STREAM).await;
    let err = client(&base).generate(&request()).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: false, .. }),
        "{err:?}"
    );
    let attempts = 1 + 4; // the first, and the default policy's retries
    assert_eq!(seen.load(Ordering::SeqCst), attempts);
}

#[tokio::test]
async fn any_other_reset_may_have_billed_and_is_never_sent_again() {
    for reason in [h2::Reason::INTERNAL_ERROR, h2::Reason::CANCEL] {
        let (base, seen) = server(usize::MAX, reason).await;
        let err = client(&base).generate(&request()).await.unwrap_err();
        assert!(
            matches!(err, Error::Transport { sent: true, .. }),
            "{reason:?}: {err:?}"
        );
        assert_eq!(seen.load(Ordering::SeqCst), 1, "{reason:?}: sent once");
    }
}
