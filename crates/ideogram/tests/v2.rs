//! Ideogram's v2 API through the facade, against the mock: models only v2
//! runs, calls answered at once or polled as jobs (`async`, or operations
//! that always run so), failures, and the poll's rate limit.

use std::time::Duration;

use ideogram::{
    Client, EditRequest, Error, GenerateRequest, ImageData, ImageInput, Model, PollSchedule,
    Provider, QueueStatus,
};
use ideogram_mock::{ImageSpec, MockConfig, MockServer};
use serde_json::json;

async fn mock(config: MockConfig) -> (MockServer, Client) {
    let mock = MockServer::start(config).await.unwrap();
    let client = Client::builder(Provider::Ideogram)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .poll_schedule(PollSchedule::fixed(Duration::from_millis(20)))
        .build()
        .unwrap();
    (mock, client)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let spec = ImageSpec {
        width,
        height,
        seed: 1,
        palette: vec![],
        transparent: false,
    };
    spec.png().to_vec()
}

#[tokio::test]
async fn a_model_only_v2_runs_answers_its_images_at_once() {
    let (mock, client) = mock(MockConfig::default()).await;
    let request = GenerateRequest::new("a lighthouse at dawn")
        .model(Model::V4_5)
        .set("quality", "low")
        .seed(7);
    let generation = client.generate(&request).await.unwrap();
    assert_eq!(generation.model, Model::V4_5);
    let image = &generation.images[0];
    assert_eq!(image.seed, Some(7));
    assert!(matches!(&image.data, ImageData::Url(url) if url.starts_with("http")));
    let ledger = mock.ledger().entries;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].operation, "/v2/image/generate/ideogram-4-5");
    assert_eq!(ledger[0].fields["quality"], "low");
    // v2 spells enums in lower case: an upper-case value is sent as v2 spells it.
    let spelled = GenerateRequest::new("a poster")
        .model(Model::PImage)
        .set("quality", "HIGH");
    client.generate(&spelled).await.unwrap();
    assert_eq!(mock.ledger().entries[1].fields["quality"], "high");
}

#[tokio::test]
async fn submit_asks_v2_for_a_job_and_wait_polls_it_to_its_images() {
    let (mock, client) = mock(MockConfig::default()).await;
    // Ideogram 3.0 runs on v1 too; a job needs v2's `async`.
    let request = GenerateRequest::new("a fox, woodcut")
        .model(Model::V3)
        .num_images(2);
    let job = client.submit(&request).await.unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "billed once, when accepted");
    assert_eq!(entries[0].operation, "/v2/image/generate/ideogram-3");
    assert_eq!(entries[0].fields["async"], true);
    let first = job.status().await.unwrap();
    assert_eq!(first.status, QueueStatus::Pending);

    let mut seen = Vec::new();
    let schedule = PollSchedule::fixed(Duration::from_millis(20));
    let generation = job
        .wait_with(&schedule, |s| seen.push(s.status.clone()))
        .await
        .unwrap();
    assert_eq!(generation.images.len(), 2);
    assert_eq!(seen.last(), Some(&QueueStatus::Completed));
    // Resumed by id alone (another process): the same images, nothing billed again.
    let again = client.job(job.id()).result().await.unwrap();
    assert_eq!(again.images.len(), 2);
    assert_eq!(mock.ledger().entries.len(), 1);
}

#[tokio::test]
async fn an_operation_that_always_runs_asynchronously_is_waited_for() {
    let (mock, client) = mock(MockConfig::default()).await;
    let request =
        EditRequest::replace_background(ImageInput::bytes(png(64, 64)), "a beach at sunset")
            .operation("post_replace_background_v2_ideogram_3");
    let generation = client.edit(&request).await.unwrap();
    assert_eq!(generation.images.len(), 1);
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].operation,
        "/v2/image/replace-background/ideogram-3"
    );
}

#[tokio::test]
async fn a_failed_generation_is_an_error_and_not_billed() {
    let (mock, client) = mock(MockConfig::default()).await;
    let request = GenerateRequest::new("mock:fail a kite").model(Model::V4_5);
    let job = client.submit(&request).await.unwrap();
    let err = job.wait().await.unwrap_err();
    assert!(
        matches!(&err, Error::JobFailed { id, detail } if id == job.id() && !detail.is_empty()),
        "{err:?}"
    );
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn a_poll_over_the_limit_waits_as_retry_after_says_and_completes() {
    let config = MockConfig {
        generation_polls: Some((1, Duration::from_secs(1))),
        ..MockConfig::default()
    };
    let (mock, client) = mock(config).await;
    let job = client
        .submit(&GenerateRequest::new("a kite").model(Model::V4_5))
        .await
        .unwrap();
    let generation = job.wait().await.unwrap();
    assert_eq!(generation.images.len(), 1);
    assert!(mock.rate_limited_count() > 0, "the limit was met");
    assert_eq!(mock.ledger().entries.len(), 1);
}

#[tokio::test]
async fn an_unknown_generation_is_expired_not_retried() {
    let (_mock, client) = mock(MockConfig::default()).await;
    let err = client.job("no-such-id").status().await.unwrap_err();
    assert!(
        matches!(err, Error::Expired { .. } | Error::NotFound { .. }),
        "{err:?}"
    );
    let _ = json!({});
}
