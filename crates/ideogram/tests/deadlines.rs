//! The client's timeout against a server that answers an error status and
//! then stalls its body: the status still decides (a 429 is sent again, a
//! 401 was refused), never a timeout that says the call may have billed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ideogram::{Client, Error, GenerateRequest, Provider, RetryPolicy};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A loopback server that answers every request with `head` (status line
/// and headers announcing 1,000 bytes) and the body's first bytes, then
/// stalls; it counts the requests.
async fn stalling(head: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1 << 16];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                seen.fetch_add(1, Ordering::SeqCst);
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(b"{\"message\":").await;
                let _ = socket.flush().await;
                // Held open, what the client sends drained, never finished.
                while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
            });
        }
    });
    (format!("http://{addr}"), count)
}

fn client(url: String, retry: RetryPolicy) -> Client {
    Client::builder(Provider::Ideogram)
        .base_url(url)
        .api_key("sk-deadline-test")
        .timeout(Duration::from_millis(300))
        .retry(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_429_whose_body_stalls_is_sent_again_and_never_reported_billed() {
    let (url, count) = stalling(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n",
    )
    .await;
    let retry = RetryPolicy::default()
        .max_retries(1)
        .initial_backoff(Duration::from_millis(10));
    let (client, request) = (client(url, retry), GenerateRequest::new("x"));
    // A bound on the test only: the client ends the call itself.
    let err = tokio::time::timeout(Duration::from_secs(20), client.generate(&request))
        .await
        .expect("the client ends the call")
        .unwrap_err();
    let sent = count.load(Ordering::SeqCst);
    assert!(
        matches!(err, Error::RateLimited { .. }),
        "{err:?} after {sent} request(s)"
    );
    assert!(err.certainly_not_billed(), "{err:?}");
    assert_eq!(sent, 2, "a 429 is sent again");
}

#[tokio::test]
async fn a_401_whose_body_stalls_is_unauthorized() {
    let (url, _) = stalling(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n",
    )
    .await;
    let (client, request) = (client(url, RetryPolicy::none()), GenerateRequest::new("x"));
    let err = tokio::time::timeout(Duration::from_secs(20), client.generate(&request))
        .await
        .expect("the client ends the call")
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
}
