//! Segmind's queue through the facade: submit, poll, fetch, resume by id,
//! failures, expiry and deadlines.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use ideogram::{
    Client, Error, GenerateRequest, ImageData, Model, PollSchedule, Provider, QueueStatus,
};
use serde_json::json;

/// A queue whose job `id` is QUEUED for one poll, PROCESSING for `processing`
/// polls, then ends as `end` ("COMPLETED" or "FAILED").
async fn queue(processing: usize, end: &'static str) -> (CaptureServer, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = polls.clone();
    let server = CaptureServer::start(move |request| {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v2/ideogram-2a-txt-2-img") => Canned::json(
                200,
                json!({
                    "request_id": "job-1", "status": "QUEUED",
                    "status_url": "https://api.segmind.com/v2/requests/job-1/status",
                    "response_url": "https://api.segmind.com/v2/requests/job-1"
                }),
            ),
            ("GET", "/v2/requests/job-1/status") => {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let status = match n {
                    0 => "QUEUED",
                    n if n <= processing => "PROCESSING",
                    _ => end,
                };
                if status == "FAILED" {
                    Canned::json(
                        422,
                        json!({"status": "FAILED", "error": "blocked by the safety filter"}),
                    )
                } else {
                    Canned::json(
                        200,
                        json!({"request_id": "job-1", "status": status, "metrics": {}}),
                    )
                }
            }
            ("GET", "/v2/requests/job-1") => Canned::json(
                200,
                json!({
                    "request_id": "job-1", "status": "COMPLETED",
                    "output": "https://cdn.example/job-1.jpeg", "metrics": {"inference_time": 3.2}
                }),
            ),
            _ => Canned::json(
                404,
                json!({"error": format!("Request {} not found", request.path)}),
            ),
        }
    })
    .await;
    (server, polls)
}

#[tokio::test]
async fn submit_returns_the_id_at_once_and_wait_polls_to_the_result() {
    let (server, polls) = queue(3, "COMPLETED").await;
    let client = client(Provider::Segmind, &server);
    let request = GenerateRequest::new("a lighthouse")
        .model(Model::V2a)
        .seed(777);
    let job = client.submit(&request).await.unwrap();
    assert_eq!(job.id(), "job-1");
    assert_eq!(polls.load(Ordering::SeqCst), 0, "submit does not wait");

    let mut seen = Vec::new();
    let generation = job
        .wait_with(client.poll_schedule(), |status| {
            seen.push(status.status.clone())
        })
        .await
        .unwrap();
    assert_eq!(
        seen,
        [
            QueueStatus::Queued,
            QueueStatus::Processing,
            QueueStatus::Processing,
            QueueStatus::Processing,
            QueueStatus::Completed
        ]
    );
    assert_eq!(generation.request_id.as_deref(), Some("job-1"));
    assert_eq!(generation.model, Model::V2a);
    assert_eq!(
        generation.images[0].data,
        ImageData::Url("https://cdn.example/job-1.jpeg".into())
    );
    assert_eq!(generation.images[0].prompt, "a lighthouse");

    let submitted = &server.requests()[0];
    assert_eq!(
        body(submitted),
        json!({"prompt": "a lighthouse", "seed": 777})
    );
    for request in server.requests() {
        assert_eq!(request.header("x-api-key"), Some(KEY));
    }
}

/// Segmind's sync v1 is in maintenance mode: `generate` queues, polls and
/// returns the result's URL unless the client pins v1.
#[tokio::test]
async fn generate_on_segmind_goes_through_the_queue_unless_sync_is_pinned() {
    let (server, polls) = queue(1, "COMPLETED").await;
    let queued = Client::builder(Provider::Segmind)
        .base_url(server.base_url())
        .api_key(KEY)
        .poll_schedule(
            PollSchedule::default()
                .first(Duration::from_millis(10))
                .max_interval(Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    let request = GenerateRequest::new("a lighthouse").model(Model::V2a);
    let generation = queued.generate(&request).await.unwrap();
    assert_eq!(generation.request_id.as_deref(), Some("job-1"));
    assert_eq!(
        generation.images[0].data,
        ImageData::Url("https://cdn.example/job-1.jpeg".into())
    );
    assert!(polls.load(Ordering::SeqCst) >= 3, "waited on the status");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[0], "/v2/ideogram-2a-txt-2-img");
    assert_eq!(paths.last().unwrap(), "/v2/requests/job-1");
    assert!(!paths.iter().any(|p| p.starts_with("/v1/")), "{paths:?}");

    // Pinned to v1: one POST there, no queue.
    let sync = CaptureServer::start(|_| segmind_image()).await;
    let pinned = client(Provider::Segmind, &sync);
    pinned.generate(&request).await.unwrap();
    let paths: Vec<String> = sync.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/ideogram-2a-txt-2-img"]);
}

#[tokio::test]
async fn a_job_resumes_from_its_id_alone() {
    let (server, _) = queue(1, "COMPLETED").await;
    let job = client(Provider::Segmind, &server).job("job-1");
    let status = job.status().await.unwrap();
    assert_eq!(status.status, QueueStatus::Queued);
    let generation = job.wait().await.unwrap();
    assert_eq!(
        generation.images[0].data,
        ImageData::Url("https://cdn.example/job-1.jpeg".into())
    );
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "resuming submits nothing"
    );
}

#[tokio::test]
async fn a_failed_job_reports_its_id_and_reason() {
    let (server, _) = queue(1, "FAILED").await;
    let job = client(Provider::Segmind, &server).job("job-1");
    let err = job.wait().await.unwrap_err();
    let Error::JobFailed { id, detail } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (id.as_str(), detail.as_str()),
        ("job-1", "blocked by the safety filter")
    );
    let status = job.status().await.unwrap();
    assert_eq!(status.status, QueueStatus::Failed);
    assert_eq!(
        status.error.as_deref(),
        Some("blocked by the safety filter")
    );
}

#[tokio::test]
async fn unknown_or_expired_ids_are_expired_errors() {
    let (server, _) = queue(1, "COMPLETED").await;
    let err = client(Provider::Segmind, &server)
        .job("gone")
        .wait()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Expired { ref id, .. } if id == "gone"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_deadline_ends_the_wait_with_the_id() {
    let (server, _) = queue(usize::MAX - 1, "COMPLETED").await;
    let job = client(Provider::Segmind, &server).job("job-1");
    let schedule =
        PollSchedule::fixed(Duration::from_millis(20)).deadline(Duration::from_millis(150));
    let err = job.wait_with(&schedule, |_| {}).await.unwrap_err();
    let Error::JobTimeout { id, waited } = err else {
        panic!("{err:?}")
    };
    assert_eq!(id, "job-1");
    // At most one poll per interval within the deadline, and one at it,
    // however slow the machine.
    let polls = server.requests().len();
    assert!(
        (2..=150 / 20 + 2).contains(&polls),
        "{polls} polls in 150 ms at 20 ms"
    );
    // The wait ran its whole deadline.
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
}

#[tokio::test]
async fn extreme_schedules_neither_panic_nor_spin_on_a_submitted_job() {
    let (server, _) = queue(usize::MAX - 1, "COMPLETED").await;
    let client = client(Provider::Segmind, &server);
    let job = client
        .submit(&GenerateRequest::new("x").model(Model::V2a))
        .await
        .unwrap();
    // Poll times at the end of time: one poll by the deadline, then out.
    let never = PollSchedule::default()
        .first(Duration::MAX)
        .max_interval(Duration::MAX)
        .deadline(Duration::from_millis(100));
    let err = job.wait_with(&never, |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::JobTimeout { .. }), "{err:?}");
    // A zero interval polls back to back until the deadline, and stops.
    let zero = PollSchedule::fixed(Duration::ZERO).deadline(Duration::from_millis(100));
    let err = job.wait_with(&zero, |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::JobTimeout { .. }), "{err:?}");
    assert!(server.requests().len() > 3, "{}", server.requests().len());
}

#[tokio::test]
async fn status_polls_survive_server_errors() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let server = CaptureServer::start(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Canned::json(502, json!({"error": "Bad gateway"})),
        1 => Canned::bytes(503, "text/html", b"<html>busy</html>"),
        _ => Canned::json(200, json!({"status": "PROCESSING"})),
    })
    .await;
    let status = client(Provider::Segmind, &server)
        .job("j")
        .status()
        .await
        .unwrap();
    assert_eq!(status.status, QueueStatus::Processing);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "GETs are retried on 5xx");
}
