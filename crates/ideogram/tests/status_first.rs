//! Answers whatever their body: an error is mapped by its status first (the
//! official document gives 400, 401 and 429 no body; proxies answer HTML;
//! other servers `{"detail"}` or `{"code", "message"}`), loose success shapes
//! are understood, and text a server echoes back never carries the key.

mod common;

use common::*;
use ideogram::{Client, Error, GenerateRequest, Provider};
use serde_json::json;

/// Every shape an error body has been seen in.
fn bodies() -> Vec<(&'static str, Canned)> {
    let with = |status: u16, content_type: &str, body: &[u8]| {
        let mut canned = Canned::bytes(status, content_type, body);
        if content_type.is_empty() {
            canned.headers.clear();
        }
        canned
    };
    vec![
        ("empty", with(0, "", b"")),
        (
            "html",
            with(
                0,
                "text/html",
                b"<html><body><h1>Bad Gateway</h1>nginx</body></html>",
            ),
        ),
        (
            "detail",
            with(0, "application/json", br#"{"detail": "Not authenticated"}"#),
        ),
        (
            "code/message",
            with(
                0,
                "application/json",
                br#"{"code": 40100, "message": "bad token"}"#,
            ),
        ),
        (
            "envelope",
            with(
                0,
                "application/json",
                br#"{"code": "E1", "message": "upstream", "data": null}"#,
            ),
        ),
        ("plain text", with(0, "text/plain", b"try later")),
        (
            "binary",
            with(0, "application/octet-stream", b"\x00\xff\x13\x37"),
        ),
        (
            "truncated json",
            with(0, "application/json", br#"{"error": "cut"#),
        ),
    ]
}

type Check = fn(&Error) -> bool;

/// What each status means, whatever came with it.
fn expected(status: u16, provider: Provider) -> Check {
    match (status, provider) {
        (400 | 405 | 413, _) | (422, Provider::Segmind) => |e| matches!(e, Error::Rejected { .. }),
        (401, _) => |e| matches!(e, Error::Unauthorized { .. }),
        (402, _) => |e| matches!(e, Error::InsufficientCredits { .. }),
        (403, _) => |e| matches!(e, Error::Forbidden { .. }),
        (404, _) => |e| matches!(e, Error::NotFound { .. }),
        (406, _) => |e| matches!(e, Error::Rejected { status: 406, .. }),
        (422, Provider::Ideogram) => |e| matches!(e, Error::SafetyRejected { .. }),
        (429, _) => |e| matches!(e, Error::RateLimited { .. }),
        _ => |e| matches!(e, Error::Server { .. }),
    }
}

#[tokio::test]
async fn every_status_keeps_its_meaning_whatever_its_body() {
    for provider in [Provider::Segmind, Provider::Ideogram] {
        for status in [
            400, 401, 402, 403, 404, 405, 406, 413, 422, 429, 500, 502, 503, 504,
        ] {
            for (shape, canned) in bodies() {
                let answer = Canned { status, ..canned };
                let server = CaptureServer::start(move |_| answer.clone()).await;
                let client = Client::builder(provider)
                    .base_url(server.base_url())
                    .api_key(KEY)
                    .retry(fast_retries().max_retries(1))
                    .build()
                    .unwrap();
                let err = client
                    .generate(&GenerateRequest::new("x"))
                    .await
                    .unwrap_err();
                let what = format!("{provider} {status} with a {shape} body: {err:?}");
                assert!(expected(status, provider)(&err), "{what}");
                let sent = server.requests().len();
                assert_eq!(sent, if status == 429 { 2 } else { 1 }, "{what}");
                let text = err.to_string();
                assert!(
                    !text.contains('\u{0}') && !text.contains('\u{ff}'),
                    "raw bytes: {what}"
                );
                assert!(text.len() < 800, "{what}");
            }
        }
    }
}

#[tokio::test]
async fn the_words_of_any_body_reach_the_message() {
    let cases = [
        (
            Canned::bytes(401, "text/html", b"<html><title>Sign in</title></html>"),
            "Sign in",
        ),
        (
            Canned::json(401, json!({"detail": "Not authenticated"})),
            "Not authenticated",
        ),
        (
            Canned::json(
                403,
                json!({"code": 4031, "message": "plan expired", "data": null}),
            ),
            "plan expired",
        ),
        (Canned::bytes(400, "", b""), "Bad Request (no message)"),
    ];
    for (canned, words) in cases {
        let server = CaptureServer::start(move |_| canned.clone()).await;
        let err = client(Provider::Ideogram, &server)
            .generate(&GenerateRequest::new("x"))
            .await
            .unwrap_err();
        assert!(err.to_string().ends_with(words), "{err}");
    }
}

#[tokio::test]
async fn a_429_without_a_body_is_retried_and_the_post_then_succeeds() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let server = CaptureServer::start(move |_| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let mut limited = Canned::bytes(429, "", b"");
            limited.headers.clear();
            limited
        } else {
            ideogram_answer(&["https://cdn.example/a.png"])
        }
    })
    .await;
    let generation = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    assert_eq!(generation.images.len(), 1);
    assert_eq!(server.requests().len(), 2);
}

/// A server that echoes every request header into its answer.
fn echoing(status: u16) -> impl Fn(&Captured) -> Canned + Send + Sync + 'static {
    move |request: &Captured| {
        let headers: Vec<String> = request
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
            .collect();
        let echoed = headers.join("\n");
        match status {
            200 => Canned::json(
                200,
                json!({"created": "2026-11-01T00:00:00Z", "data": [{
                    "url": format!("https://cdn.example/{KEY}.png"), "prompt": echoed,
                    "resolution": echoed, "is_image_safe": true, "seed": 1, "style_type": echoed,
                }]}),
            ),
            _ => Canned::json(status, json!({"error": echoed, "reject_reason": echoed})),
        }
    }
}

#[tokio::test]
async fn a_server_echoing_the_key_never_gets_it_into_an_error_or_a_result() {
    for scheme in [None, Some(ideogram::AuthScheme::Bearer)] {
        for status in [400, 401, 402, 429, 500, 503] {
            let server = CaptureServer::start(echoing(status)).await;
            let mut builder = Client::builder(Provider::Ideogram)
                .base_url(server.base_url())
                .api_key(KEY)
                .retry(fast_retries().max_retries(0));
            if let Some(scheme) = scheme.clone() {
                builder = builder.auth_scheme(scheme);
            }
            let err = builder
                .build()
                .unwrap()
                .generate(&GenerateRequest::new("x"))
                .await
                .unwrap_err();
            let printed = format!("{err} {err:?}");
            assert!(
                printed.contains("[REDACTED]"),
                "the echo was kept: {printed}"
            );
            assert!(!printed.contains(KEY), "{scheme:?} {status}: {printed}");
        }
        let server = CaptureServer::start(echoing(200)).await;
        let generation = client(Provider::Ideogram, &server)
            .generate(&GenerateRequest::new("x"))
            .await
            .unwrap();
        let printed = format!("{generation:?}");
        assert!(!printed.contains(KEY), "{printed}");
    }
    // Segmind's headers and queue answers too.
    let server = CaptureServer::start(|request: &Captured| {
        if request.method == "POST" {
            Canned::json(200, json!({"request_id": format!("id-{KEY}")}))
        } else {
            Canned::json(
                422,
                json!({"status": "FAILED", "error": format!("bad key {KEY}")}),
            )
        }
    })
    .await;
    let job = client(Provider::Segmind, &server)
        .submit(&GenerateRequest::new("x"))
        .await
        .unwrap();
    assert!(!job.id().contains(KEY), "{}", job.id());
    let err = job.wait().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
}

#[tokio::test]
async fn a_gateway_envelope_is_unwrapped_or_mapped() {
    let ok = json!({"code": 0, "message": "ok", "data": {
        "created": "2026-11-01T00:00:00Z",
        "data": [{"url": "https://cdn.example/e.png", "prompt": "p", "resolution": "1024x1024",
                  "is_image_safe": true, "seed": 3}]
    }});
    let server = CaptureServer::start(move |_| Canned::json(200, ok.clone())).await;
    let generation = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    assert_eq!(
        generation.images[0].data,
        ideogram::ImageData::Url("https://cdn.example/e.png".into())
    );

    let cases: [(serde_json::Value, Check); 3] = [
        (
            json!({"code": "401", "message": "bad token", "data": null}),
            |e| matches!(e, Error::Unauthorized { message } if message == "bad token"),
        ),
        (
            json!({"code": 429, "message": "slow down", "data": null}),
            |e| matches!(e, Error::RateLimited { .. }),
        ),
        (
            json!({"code": "E_UPSTREAM", "message": "upstream failed", "data": null}),
            |e| matches!(e, Error::Gateway { code, message } if code == "E_UPSTREAM" && message == "upstream failed"),
        ),
    ];
    for (body, check) in cases {
        let server = CaptureServer::start(move |_| Canned::json(200, body.clone())).await;
        let err = client(Provider::Ideogram, &server)
            .generate(&GenerateRequest::new("x"))
            .await
            .unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn a_200_with_no_images_is_an_error_that_says_so() {
    let server = CaptureServer::start(|_| {
        Canned::json(200, json!({"created": "2026-11-01T00:00:00Z", "data": []}))
    })
    .await;
    let err = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse { ref message, .. } if message.contains("no images")),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed());
}

#[tokio::test]
async fn a_queue_needs_only_a_request_id_and_outputs_of_any_shape_give_their_images() {
    for output in [
        json!("https://cdn.example/a.jpg"),
        json!(["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]),
        json!({"images": [{"url": "https://cdn.example/a.jpg"}, {"url": "https://cdn.example/b.jpg"}]}),
    ] {
        let expected = output.to_string().matches("https://").count();
        let server =
            CaptureServer::start(move |request: &Captured| match request.method.as_str() {
                "POST" => Canned::json(200, json!({"request_id": "r-1"})),
                _ if request.path.ends_with("/status") => {
                    Canned::json(200, json!({"status": "COMPLETED"}))
                }
                _ => Canned::json(
                    200,
                    json!({"status": "COMPLETED", "output": output.clone()}),
                ),
            })
            .await;
        let client = client(Provider::Segmind, &server);
        let job = client.submit(&GenerateRequest::new("x")).await.unwrap();
        assert_eq!(job.id(), "r-1");
        let generation = job.wait().await.unwrap();
        assert_eq!(generation.images.len(), expected);
    }
}

#[tokio::test]
async fn the_key_is_redacted_wherever_and_however_an_answer_echoes_it() {
    let key = "sk/LEAK+9z==";
    let encoded = "sk%2FLEAK%2B9z%3D%3D";
    let cases: Vec<Canned> = vec![
        // A redirect pointing at a URL that carries the key.
        Canned::json(302, json!({}))
            .with_header("location", &format!("https://x.example/cb?k={key}")),
        // A 200 that does not decode: the decoder's error quotes the value.
        Canned::json(200, json!({"data": format!("echo {key}")})),
        // The key at the very end of a long message: redacted before the cut.
        Canned::bytes(
            500,
            "text/plain",
            format!("{}{key}", "A".repeat(490)).as_bytes(),
        ),
        // Percent-encoded.
        Canned::bytes(500, "text/plain", format!("key={encoded}").as_bytes()),
    ];
    for canned in cases {
        let server = CaptureServer::start(move |_| canned.clone()).await;
        let client = Client::builder(Provider::Ideogram)
            .base_url(server.base_url())
            .api_key(key)
            .retry(fast_retries().max_retries(0))
            .build()
            .unwrap();
        let err = client
            .generate(&GenerateRequest::new("x"))
            .await
            .unwrap_err();
        let printed = format!("{err} {err:?}");
        for part in ["sk/LEAK", "LEAK+9z", encoded, "sk%2F"] {
            assert!(!printed.contains(part), "{part} in {printed}");
        }
    }
    // Queue answers that do not decode quote what they hold too.
    let server = CaptureServer::start(move |_| {
        Canned::json(
            200,
            json!({"status": "PROCESSING", "metrics": format!("leak {key}")}),
        )
    })
    .await;
    let client = Client::builder(Provider::Segmind)
        .base_url(server.base_url())
        .api_key(key)
        .retry(fast_retries().max_retries(0))
        .build()
        .unwrap();
    let err = client.job("j-1").status().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("LEAK"), "{err:?}");
}
