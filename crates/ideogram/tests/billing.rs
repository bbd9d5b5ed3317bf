//! "Was it billed?" answered truthfully: `certainly_not_billed` is true only
//! where the request certainly did not run, for every way a call can end.

mod common;

use std::time::Duration;

use common::*;
use ideogram::{Client, Error, GenerateRequest, PollSchedule, Provider};
use serde_json::json;

/// A client against `url` with fast retries and polls.
fn at(provider: Provider, url: &str) -> Client {
    Client::builder(provider)
        .base_url(url)
        .api_key(KEY)
        .retry(fast_retries().max_retries(1))
        .timeout(Duration::from_millis(500))
        .poll_schedule(
            PollSchedule::fixed(Duration::from_millis(5)).deadline(Duration::from_millis(60)),
        )
        .build()
        .unwrap()
}

async fn generate_err(provider: Provider, canned: Canned) -> Error {
    let server = CaptureServer::start(move |_| canned.clone()).await;
    at(provider, &server.base_url())
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn answers_that_may_have_run_never_claim_otherwise() {
    // A POST answered with a redirect (which is not followed).
    let err = generate_err(
        Provider::Ideogram,
        Canned::json(303, json!({})).with_header("location", "https://elsewhere.example/done"),
    )
    .await;
    assert!(
        matches!(err, Error::Redirected { status: 303, .. }),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed(), "{err:?}");

    // An undecodable 2xx, and a 2xx the spec does not list.
    for canned in [
        Canned::bytes(
            200,
            "application/json",
            b"{\"created\": \"x\", \"data\": [{",
        ),
        Canned::json(202, json!({"accepted": true})),
    ] {
        let err = generate_err(Provider::Ideogram, canned).await;
        assert!(
            matches!(err, Error::InvalidResponse { .. } | Error::Undecoded { .. }),
            "{err:?}"
        );
        assert!(!err.certainly_not_billed(), "{err:?}");
    }

    // A 200 that does not decode ran and was billed; the URLs in its body
    // come with the error, so the images can still be fetched.
    let err = generate_err(
        Provider::Ideogram,
        Canned::json(
            200,
            json!({"created": "2025-01-01T00:00:00Z", "data": [
                {"url": "https://cdn.example/a.png", "prompt": "p", "resolution": "1024x1024", "seed": 1}
            ]}),
        ),
    )
    .await;
    match &err {
        Error::Undecoded { urls, .. } => assert_eq!(urls, &["https://cdn.example/a.png"]),
        other => panic!("{other:?}"),
    }
    assert!(err.certainly_billed(), "{err:?}");

    // 5xx: the generation may have run.
    let err = generate_err(
        Provider::Segmind,
        Canned::json(504, json!({"error": "timeout"})),
    )
    .await;
    assert!(!err.certainly_not_billed(), "{err:?}");
}

#[tokio::test]
async fn answers_documented_as_not_run_say_so() {
    for (provider, status) in [
        (Provider::Segmind, 400),
        (Provider::Segmind, 401),
        (Provider::Segmind, 406),
        (Provider::Segmind, 422),
        (Provider::Ideogram, 402),
        (Provider::Ideogram, 422),
        (Provider::Ideogram, 429),
    ] {
        let err = generate_err(provider, Canned::json(status, json!({"error": "no"}))).await;
        assert!(err.certainly_not_billed(), "{provider} {status}: {err:?}");
    }
}

#[tokio::test]
async fn a_transport_error_is_not_billed_only_when_nothing_was_sent() {
    // Nothing listens: the request never left.
    let closed = workspace_tests::closed_port_url();
    let err = at(Provider::Segmind, &closed)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: false, .. }),
        "{err:?}"
    );
    assert!(err.certainly_not_billed());

    // Received and never answered: it may be running.
    let (url, silent) = workspace_tests::silent_server().await;
    let err = at(Provider::Segmind, &url)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed());
    silent.abort();
}

#[tokio::test]
async fn queued_jobs_that_may_run_on_are_never_called_unbilled() {
    // Still running at the deadline: it runs on and bills.
    let server = CaptureServer::start(|_| Canned::json(200, json!({"status": "PROCESSING"}))).await;
    let err = at(Provider::Segmind, &server.base_url())
        .job("slow-1")
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobTimeout { .. }), "{err:?}");
    assert!(!err.certainly_not_billed());

    // Expired: it may have run.
    let server = CaptureServer::start(|_| Canned::json(404, json!({"error": "not found"}))).await;
    let err = at(Provider::Segmind, &server.base_url())
        .job("old-1")
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err:?}");
    assert!(!err.certainly_not_billed());

    // The status service is down or unreachable: the job runs on regardless,
    // even when the poll itself never left this machine.
    let server = CaptureServer::start(|_| Canned::json(503, json!({"error": "down"}))).await;
    let err = at(Provider::Segmind, &server.base_url())
        .job("queued-1")
        .wait()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Polling { ref id, .. } if id == "queued-1"),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed());
    let closed = workspace_tests::closed_port_url();
    let err = at(Provider::Segmind, &closed)
        .job("queued-2")
        .wait()
        .await
        .unwrap_err();
    assert!(
        matches!(err.root(), Error::Transport { sent: false, .. }),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed(), "{err:?}");
    assert!(err.to_string().contains("resume it with its id"), "{err}");

    // FAILED is not billed; FAILED for want of credits is the credits error.
    let server = CaptureServer::start(|_| {
        Canned::json(
            422,
            json!({"status": "FAILED", "error": "Insufficient credits"}),
        )
    })
    .await;
    let err = at(Provider::Segmind, &server.base_url())
        .job("broke-1")
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsufficientCredits { .. }), "{err:?}");
    assert!(err.certainly_not_billed());
}

#[tokio::test]
async fn a_download_that_fails_after_the_answer_was_billed() {
    // The image host is gone: the generation was paid for all the same.
    let closed = workspace_tests::closed_port_url();
    let url = format!("{closed}/images/a.png");
    let server = CaptureServer::start(move |_| ideogram_answer(&[url.as_str()])).await;
    let generation = at(Provider::Ideogram, &server.base_url())
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = generation.images[0]
        .save(dir.path().join("a.png"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    assert!(!err.certainly_not_billed(), "{err:?}");
}
