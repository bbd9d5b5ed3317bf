//! Shared set-up for the facade's loopback tests.
#![allow(dead_code)]

use ideogram::{Client, PollSchedule, Provider, RetryPolicy};
use serde_json::{Value, json};
pub(crate) use workspace_tests::{Canned, CaptureServer, Captured};

pub(crate) const KEY: &str = "sk-facade-secret-0042";
pub(crate) const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF-test-image";
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-test-image";

/// A client for `provider` at `server`, with fast retries and polls. On
/// Segmind it pins sync v1: the canned answers these tests give are v1's
/// (the queue, the default, is tested on the mock in `queue.rs`).
pub(crate) fn client(provider: Provider, server: &CaptureServer) -> Client {
    Client::builder(provider)
        .base_url(server.base_url())
        .api_key(KEY)
        .segmind_sync(true)
        .retry(fast_retries())
        .poll_schedule(
            PollSchedule::default()
                .first(std::time::Duration::from_millis(10))
                .max_interval(std::time::Duration::from_millis(20)),
        )
        .build()
        .expect("client")
}

pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(std::time::Duration::from_millis(5))
        .max_backoff(std::time::Duration::from_millis(20))
}

/// Ideogram's answer with one image per URL, in a shape both versions
/// decode (v1's `created`, v2's `generation_id`).
pub(crate) fn ideogram_answer(urls: &[&str]) -> Canned {
    let data: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            json!({"url": url, "prompt": "rewritten", "resolution": "1024x1024",
                   "is_image_safe": true, "seed": 1000 + i, "style_type": "GENERAL"})
        })
        .collect();
    Canned::json(
        200,
        json!({"created": "2026-11-01T00:00:00Z", "generation_id": "gen-1", "data": data}),
    )
}

/// A Segmind v1 answer: the image's bytes and the documented headers.
pub(crate) fn segmind_image() -> Canned {
    Canned::bytes(200, "image/jpeg", JPEG)
        .with_header("x-remaining-credits", "12.5")
        .with_header("x-seed-value", "4242")
        .with_header("x-request-id", "seg-req-1")
}

/// The request's body as JSON.
pub(crate) fn body(request: &Captured) -> Value {
    serde_json::from_slice(&request.body).expect("JSON body")
}
