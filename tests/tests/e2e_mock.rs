//! The facade against the mock service, through every operation and every
//! fault the mock has; each test checks the outcome and the billing ledger.

use std::time::{Duration, Instant};

use ideogram::{
    AuthScheme, Client, Error, GenerateRequest, ImageData, ImageInput, Model, PollSchedule,
    Provider, RetryPolicy,
};
use ideogram_mock::{
    Delivery, FAIL_TRIGGER, Fault, MockConfig, MockServer, Service, Target, UNSAFE_TRIGGER,
    WITHHELD_TRIGGER,
};

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock starts")
}

fn builder(provider: Provider, mock: &MockServer) -> ideogram::ClientBuilder {
    Client::builder(provider)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(50)),
        )
        .poll_schedule(
            PollSchedule::default()
                .first(Duration::from_millis(20))
                .max_interval(Duration::from_millis(50)),
        )
}

fn client(provider: Provider, mock: &MockServer) -> Client {
    builder(provider, mock).build().expect("client")
}

/// A Segmind client pinned to sync v1 (the queue is the default): for what
/// only v1 does, an answer that is the image's bytes.
fn sync_client(mock: &MockServer) -> Client {
    builder(Provider::Segmind, mock)
        .segmind_sync(true)
        .build()
        .expect("client")
}

use serde_json::json;
use workspace_tests::image_dimensions as dimensions;

#[tokio::test]
async fn segmind_sync_generates_a_real_image_of_the_asked_size_and_bills_once() {
    let mock = mock().await;
    let client = sync_client(&mock);
    let dir = tempfile::tempdir().unwrap();
    for (model, img2img) in [
        (Model::V2, false),
        (Model::V2Turbo, false),
        (Model::V2a, false),
        (Model::V2, true),
        (Model::V2Turbo, true),
        (Model::V2a, true),
    ] {
        let mut request = GenerateRequest::new(format!("{model} {img2img}"))
            .model(model)
            .resolution("1280x768".parse().unwrap())
            .seed(4242);
        if img2img {
            request = request.image(ImageInput::url(format!("{}/blob/1024", mock.cdn_url())));
        }
        let generation = client.generate(&request).await.unwrap();
        let path = generation.images[0]
            .save(dir.path().join(format!("{model}-{img2img}.jpg")))
            .await
            .unwrap();
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(dimensions(&bytes), (1280, 768));
        assert_eq!(generation.images[0].seed, Some(4242));
        assert_eq!(
            generation.credits_left,
            Some((mock.credits() * 1000.0).round() / 1000.0)
        );
    }
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 6);
    assert!(
        ledger
            .entries
            .iter()
            .all(|e| e.delivery == Delivery::Answered && e.service == Service::Segmind)
    );
    let slugs: Vec<_> = ledger
        .entries
        .iter()
        .map(|e| e.operation.as_str())
        .collect();
    assert_eq!(
        slugs,
        [
            "ideogram-txt-2-img",
            "ideogram-turbo-txt-2-img",
            "ideogram-2a-txt-2-img",
            "ideogram-img-2-img",
            "ideogram-turbo-img-2-img",
            "ideogram-2a-img-2-img"
        ]
    );
}

#[tokio::test]
async fn the_same_request_gives_the_same_image() {
    let mock = mock().await;
    let client = client(Provider::Segmind, &mock);
    let request = GenerateRequest::new("same")
        .seed(777)
        .palette("#ff0000,#0000ff".parse::<ideogram::Palette>().unwrap());
    let a = client.generate(&request).await.unwrap().images[0]
        .bytes()
        .await
        .unwrap();
    let b = client.generate(&request).await.unwrap().images[0]
        .bytes()
        .await
        .unwrap();
    assert_eq!(a, b);
    let c = client
        .generate(&request.clone().seed(778))
        .await
        .unwrap()
        .images[0]
        .bytes()
        .await
        .unwrap();
    assert_ne!(a, c);
}

#[tokio::test]
async fn segmind_queue_runs_to_completion_and_bills_when_it_runs() {
    let mock = mock().await;
    // Long enough states that a loaded machine still polls each at least once.
    mock.configure(|c| {
        c.queued_for = Duration::from_millis(400);
        c.processing_for = Duration::from_millis(400);
    });
    let client = client(Provider::Segmind, &mock);
    let job = client
        .submit(&GenerateRequest::new("queued lighthouse").model(Model::V2a))
        .await
        .unwrap();
    assert!(
        mock.ledger().entries.is_empty(),
        "not billed before it runs"
    );
    let mut seen = Vec::new();
    let generation = job
        .wait_with(client.poll_schedule(), |s| seen.push(s.status.to_string()))
        .await
        .unwrap();
    assert_eq!(seen.first().map(String::as_str), Some("QUEUED"));
    assert!(seen.contains(&"PROCESSING".to_owned()));
    assert_eq!(seen.last().map(String::as_str), Some("COMPLETED"));

    let ImageData::Url(url) = &generation.images[0].data else {
        panic!("a URL")
    };
    assert!(
        url.starts_with(mock.cdn_url()),
        "served by the second origin"
    );
    let bytes = generation.images[0].bytes().await.unwrap();
    assert_eq!(dimensions(&bytes), (1024, 1024));
    assert!(
        mock.cdn_requests().iter().all(|r| !r.had_credentials),
        "the key went to the image origin"
    );

    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 1);
    assert_eq!(ledger.entries[0].id, job.id());
    assert_eq!(ledger.entries[0].delivery, Delivery::Queued);

    // Resumed from its id alone by another client.
    let again = client.job(job.id()).result().await.unwrap();
    assert_eq!(again.images[0].data, generation.images[0].data);
    assert_eq!(mock.ledger().entries.len(), 1, "resuming bills nothing");
}

#[tokio::test]
async fn finished_jobs_teach_the_learned_schedule_of_their_model() {
    let mock = mock().await;
    // What an earlier run learned, restored as the CLI restores its cache.
    let earlier = ideogram::CompletionTimes::default();
    earlier.record("/v2/ideogram-2a-txt-2-img", Duration::from_millis(300));
    let restored = ideogram::CompletionTimes::from_json(&earlier.to_json()).unwrap();
    let client = Client::builder(Provider::Segmind)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .completion_times(restored.clone())
        .build()
        .unwrap();
    assert_eq!(client.poll_schedule(), &PollSchedule::default());
    let request = GenerateRequest::new("learned").model(Model::V2a);
    let started = Instant::now();
    let job = client.clone().submit(&request).await.unwrap();
    job.wait().await.unwrap();
    let waited = started.elapsed();
    // Learned under the queue operation's path, into the store the client
    // was given, by a clone of the client.
    let observed = restored.observed("/v2/ideogram-2a-txt-2-img");
    assert_eq!(observed.len(), 2, "{observed:?}");
    assert!(
        observed[1] > Duration::ZERO && observed[1] <= waited,
        "{observed:?} {waited:?}"
    );
    assert_eq!(
        client
            .completion_times()
            .observed("/v2/ideogram-2a-txt-2-img"),
        observed
    );
    // A job resumed by id has no submit time to learn from.
    client.job(job.id()).wait().await.unwrap();
    assert_eq!(restored.observed("/v2/ideogram-2a-txt-2-img").len(), 2);
    assert!(restored.observed("").is_empty());
}

#[tokio::test]
async fn failed_and_expired_jobs() {
    let mock = mock().await;
    let client = client(Provider::Segmind, &mock);
    let job = client
        .submit(&GenerateRequest::new(format!("{FAIL_TRIGGER} please")))
        .await
        .unwrap();
    let err = job.wait().await.unwrap_err();
    assert!(
        matches!(err, Error::JobFailed { ref id, ref detail } if id == job.id() && detail.contains("safety")),
        "{err:?}"
    );
    assert!(
        mock.ledger().entries.is_empty(),
        "a failed job is not billed"
    );
    // The fault fails a job as the trigger does, whatever its prompt.
    mock.inject(Target::Method("POST".into()), Fault::FailQueued);
    let job = client
        .submit(&GenerateRequest::new("a plain kite"))
        .await
        .unwrap();
    let err = job.wait().await.unwrap_err();
    assert!(matches!(err, Error::JobFailed { .. }), "{err:?}");
    assert!(
        mock.ledger().entries.is_empty(),
        "a failed job is not billed"
    );

    mock.configure(|c| c.retention = Duration::ZERO);
    let job = client
        .submit(&GenerateRequest::new("short-lived"))
        .await
        .unwrap();
    let err = job.status().await.unwrap_err();
    assert!(
        matches!(err, Error::Expired { ref id, .. } if id == job.id()),
        "{err:?}"
    );
    let err = client.job("never-existed").wait().await.unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err:?}");
}

#[tokio::test]
async fn a_job_past_its_deadline_times_out_with_its_id() {
    let mock = mock().await;
    mock.configure(|c| c.processing_for = Duration::from_secs(5));
    let client = client(Provider::Segmind, &mock);
    let job = client.submit(&GenerateRequest::new("slow")).await.unwrap();
    let schedule =
        PollSchedule::fixed(Duration::from_millis(20)).deadline(Duration::from_millis(200));
    let err = job.wait_with(&schedule, |_| {}).await.unwrap_err();
    assert!(
        matches!(err, Error::JobTimeout { ref id, .. } if id == job.id()),
        "{err:?}"
    );
}

#[tokio::test]
async fn ideogram_operations_return_real_images_on_the_second_origin() {
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    let dir = tempfile::tempdir().unwrap();

    let legacy = GenerateRequest::new("beach")
        .model(Model::V2)
        .aspect_ratio("16:9".parse().unwrap())
        .num_images(3);
    let v3 = GenerateRequest::new("cat")
        .model(Model::V3)
        .resolution("800x1280".parse().unwrap());
    let png = ideogram_mock::ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![],
        transparent: false,
    }
    .png();
    let remix = GenerateRequest::new("remix")
        .model(Model::V2Turbo)
        .image(ImageInput::bytes(png))
        .resolution("1024x1024".parse().unwrap());
    let sizes = [
        (legacy, (1280, 720), 3),
        (v3, (800, 1280), 1),
        (remix, (1024, 1024), 1),
    ];
    for (i, (request, size, count)) in sizes.into_iter().enumerate() {
        let generation = client.generate(&request).await.unwrap();
        assert_eq!(generation.images.len(), count);
        for (j, image) in generation.images.iter().enumerate() {
            let path = image
                .save(dir.path().join(format!("{i}-{j}.png")))
                .await
                .unwrap();
            assert_eq!(dimensions(&std::fs::read(path).unwrap()), size);
            assert_eq!(
                image.resolution.as_deref(),
                Some(format!("{}x{}", size.0, size.1).as_str())
            );
        }
    }
    let ledger = mock.ledger();
    let ops: Vec<_> = ledger
        .entries
        .iter()
        .map(|e| (e.operation.as_str(), e.outputs.len()))
        .collect();
    assert_eq!(
        ops,
        [
            ("/generate", 3),
            ("/v1/ideogram-v3/generate", 1),
            ("/remix", 1)
        ]
    );
    assert_eq!(mock.cdn_requests().len(), 5);
    assert!(
        mock.cdn_requests().iter().all(|r| !r.had_credentials),
        "the key went to the image origin"
    );
}

#[tokio::test]
async fn a_gateway_with_bearer_auth() {
    let mock = mock().await;
    let client = Client::builder(Provider::Ideogram)
        .base_url(format!("{}/ideogram", mock.api_url()))
        .auth_scheme(AuthScheme::Bearer)
        .api_key(mock.api_key())
        .build()
        .unwrap();
    let generation = client
        .generate(&GenerateRequest::new("via gateway"))
        .await
        .unwrap();
    assert_eq!(generation.images.len(), 1);
    assert_eq!(mock.ledger().entries[0].operation, "/ideogram/generate");
}

#[tokio::test]
async fn auth_failures() {
    let mock = mock().await;
    let wrong = builder(Provider::Segmind, &mock)
        .api_key("wrong")
        .build()
        .unwrap();
    assert!(matches!(
        wrong.generate(&GenerateRequest::new("x")).await,
        Err(Error::Unauthorized { .. })
    ));
    let bearer = builder(Provider::Segmind, &mock)
        .auth_scheme(AuthScheme::Bearer)
        .build()
        .unwrap();
    let err = bearer
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { ref message } if message.contains("x-api-key")),
        "{err:?}"
    );
    let wrong = builder(Provider::Ideogram, &mock)
        .api_key("wrong")
        .build()
        .unwrap();
    assert!(matches!(
        wrong.generate(&GenerateRequest::new("x")).await,
        Err(Error::Unauthorized { .. })
    ));
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn running_out_of_credits() {
    let mock = mock().await;
    mock.set_credits(0.01);
    let err = client(Provider::Segmind, &mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsufficientCredits { .. }), "{err:?}");
    let err = client(Provider::Ideogram, &mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InsufficientCredits { ref message, .. } if message.contains("insufficient_funds")),
        "{err:?}"
    );
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn safety_outcomes() {
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    let err = client
        .generate(&GenerateRequest::new(format!("{UNSAFE_TRIGGER} scene")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SafetyRejected { .. }), "{err:?}");
    assert!(
        mock.ledger().entries.is_empty(),
        "a rejected prompt is not billed"
    );

    let generation = client
        .generate(&GenerateRequest::new(format!("{WITHHELD_TRIGGER} scene")).num_images(2))
        .await
        .unwrap();
    assert_eq!(generation.images[0].data, ImageData::Withheld);
    assert!(!generation.images[0].is_safe);
    assert!(matches!(generation.images[1].data, ImageData::Url(_)));
}

#[tokio::test]
async fn segmind_rejects_what_the_model_does_not_take() {
    // Sent around the facade's checks, through the raw client: the mock
    // names the field.
    let mock = mock().await;
    let raw = ideogram_raw::segmind::Client::new(
        mock.api_url(),
        ideogram_raw::auth::Auth::segmind(ideogram_raw::auth::ApiKey::new(mock.api_key())),
    );
    let body = serde_json::json!({"prompt": "x", "seed": 5});
    let body: ideogram_raw::segmind::types::Ideogram2aTxt2ImgRequest =
        serde_json::from_value(body).unwrap();
    let Err(ideogram_raw::segmind::Error::ErrorResponse(answer)) =
        raw.ideogram_2a_txt_2_img().body(body).send().await
    else {
        panic!("expected a documented error answer");
    };
    // As the model pages document: 400, naming the field and its range.
    let answer = ideogram_raw::answer::ErrorAnswer::read(answer).await;
    assert_eq!(answer.status.as_u16(), 400);
    assert_eq!(answer.message(), "seed: 5 is below the minimum 100");
}

#[tokio::test]
async fn the_mock_refuses_every_body_its_spec_forbids() {
    let mock = mock().await;
    let segmind = ("x-api-key", mock.api_key());
    let ideogram = ("api-key", mock.api_key());
    let cases = [
        (
            "/v1/ideogram-txt-2-img",
            json!({"prompt": "x", "seed": null}),
            &segmind,
            "seed: must not be null",
        ),
        (
            "/v1/ideogram-txt-2-img",
            json!({"prompt": "x", "seed": 1_000_000}),
            &segmind,
            "seed: 1000000 is above the maximum 999999",
        ),
        (
            "/v1/ideogram-img-2-img",
            json!({"prompt": "x", "image_file": "https://x/y.png", "image_weight": 0}),
            &segmind,
            "image_weight: 0 is below the minimum 1",
        ),
        (
            "/v1/ideogram-txt-2-img",
            json!({"prompt": "x", "num_images": 1}),
            &segmind,
            "num_images: is not a field here",
        ),
        (
            "/v1/ideogram-txt-2-img",
            json!({"prompt": "x", "color_palette": {"members": [{"color_hex": "#ff550"}]}}),
            &segmind,
            "color_palette",
        ),
        (
            "/generate",
            json!({"image_request": {"prompt": "x", "num_images": 9}}),
            &ideogram,
            "image_request.num_images: 9 is above the maximum 8",
        ),
        (
            "/generate",
            json!({"image_request": {"prompt": "x", "seed": -1}}),
            &ideogram,
            "image_request.seed: -1 is below the minimum 0",
        ),
        (
            "/generate",
            json!({"image_request": {"prompt": "x", "negative_prompt": null}}),
            &ideogram,
            "image_request.negative_prompt: must not be null",
        ),
        (
            "/generate",
            json!({"image_request": {"prompt": "x", "color_palette": {"members": [{"color_hex": "#123", "color_weight": 0.01}]}}}),
            &ideogram,
            "image_request.color_palette",
        ),
        (
            "/v1/ideogram-v3/generate",
            json!({"prompt": "x", "style_codes": ["zz"]}),
            &ideogram,
            "style_codes[0]",
        ),
    ];
    for (path, body, key, expected) in cases {
        let answer = reqwest::Client::new()
            .post(format!("{}{path}", mock.api_url()))
            .header(key.0, key.1.clone())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap();
        assert_eq!(status, 400, "{path} {body}: {text}");
        assert!(text.contains(expected), "{path} {body}: {text}");
    }
    assert!(
        mock.ledger().entries.is_empty(),
        "an invalid body was billed"
    );
}

#[tokio::test]
async fn segmind_rate_limit_reaches_the_caller_with_its_reset_time() {
    let mock = mock().await;
    mock.configure(|c| c.segmind_per_minute = Some(2));
    let client = builder(Provider::Segmind, &mock)
        .retry(RetryPolicy::default().max_server_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    for _ in 0..2 {
        client.generate(&GenerateRequest::new("x")).await.unwrap();
    }
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    let Error::RateLimited {
        retry_after: Some(wait),
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(wait <= Duration::from_secs(60));
    assert_eq!(mock.ledger().entries.len(), 2);
}

/// 8 calls of 2 images at once against Ideogram's limit of 10 in flight.
async fn burst(client: &Client) -> Vec<Result<ideogram::Generation, Error>> {
    let calls = (0..8).map(|i| {
        let client = client.clone();
        async move {
            client
                .generate(&GenerateRequest::new(format!("burst {i}")).num_images(2))
                .await
        }
    });
    futures::future::join_all(calls).await
}

#[tokio::test]
async fn the_client_keeps_within_the_inflight_limit_without_429s() {
    let mock = mock().await;
    mock.configure(|c| c.latency = Duration::from_millis(150));
    let results = burst(&client(Provider::Ideogram, &mock)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(mock.rate_limited_count(), 0, "the client waited its turn");
    assert_eq!(mock.ledger().entries.len(), 8);
}

#[tokio::test]
async fn without_the_limiter_retries_absorb_429s_and_never_double_bill() {
    let mock = mock().await;
    mock.configure(|c| c.latency = Duration::from_millis(150));
    let patient = RetryPolicy::default()
        .max_retries(30)
        .initial_backoff(Duration::from_millis(40))
        .max_backoff(Duration::from_millis(120));
    let client = builder(Provider::Ideogram, &mock)
        .retry(patient)
        .max_images_in_flight(None)
        .build()
        .unwrap();
    let results = burst(&client).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(
        mock.rate_limited_count() > 0,
        "the burst went over the limit"
    );
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 8, "each request billed exactly once");
    for i in 0..8 {
        assert_eq!(ledger.for_prompt(&format!("burst {i}")).count(), 1);
    }
}

// Faults: each kind, its outcome, and the ledger.

#[tokio::test]
async fn a_post_answered_500_is_not_resent_and_not_billed() {
    let mock = mock().await;
    mock.inject(Target::Method("POST".into()), Fault::Status(500));
    let err = client(Provider::Segmind, &mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 500, .. }), "{err:?}");
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn gets_survive_5xx_while_polling() {
    let mock = mock().await;
    let client = client(Provider::Segmind, &mock);
    let job = client.submit(&GenerateRequest::new("x")).await.unwrap();
    mock.inject(Target::Method("GET".into()), Fault::Status(502));
    mock.inject(Target::Method("GET".into()), Fault::Status(504));
    mock.inject(Target::Method("GET".into()), Fault::DropBeforeBilling);
    let generation = job.wait().await.unwrap();
    assert_eq!(generation.images.len(), 1);
    assert_eq!(mock.ledger().entries.len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_before_billing_is_reported_and_not_retried() {
    let mock = mock().await;
    mock.inject(Target::Method("POST".into()), Fault::DropBeforeBilling);
    let err = client(Provider::Ideogram, &mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed());
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn a_dropped_connection_after_billing_is_reported_and_the_ledger_knows() {
    let mock = mock().await;
    mock.inject(Target::Method("POST".into()), Fault::DropAfterBilling);
    let err = sync_client(&mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 1, "billed once, not re-sent");
    assert_eq!(ledger.entries[0].delivery, Delivery::Broken);

    // The queue, Segmind's default: a submit whose answer is lost is the
    // same maybe-billed error, not sent again.
    mock.inject(Target::Method("POST".into()), Fault::DropAfterBilling);
    let err = client(Provider::Segmind, &mock)
        .generate(&GenerateRequest::new("y"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed());
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("y").count(), 1, "not re-sent");
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_still_deliver() {
    let mock = mock().await;
    let client = client(Provider::Segmind, &mock);
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_millis(200)),
    );
    let started = Instant::now();
    client
        .generate(&GenerateRequest::new("slow headers"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowBody(Duration::from_millis(200)),
    );
    let generation = client
        .generate(&GenerateRequest::new("slow body"))
        .await
        .unwrap();
    assert_eq!(
        dimensions(&generation.images[0].bytes().await.unwrap()),
        (1024, 1024)
    );
    assert_eq!(mock.ledger().entries.len(), 2);
}

#[tokio::test]
async fn slow_headers_past_the_client_timeout_end_in_a_transport_error() {
    let mock = mock().await;
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(2)),
    );
    let client = builder(Provider::Ideogram, &mock)
        .timeout(Duration::from_millis(200))
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
}

/// The client's timeout bounds an answer's body too, not only its headers:
/// a 200 whose body stalls is the same maybe-billed timeout, not sent again,
/// on each provider's answer (Ideogram's JSON, Segmind's v1 image).
#[tokio::test]
async fn a_body_stalling_past_the_client_timeout_ends_in_a_billed_timeout() {
    for (provider, sync) in [(Provider::Ideogram, false), (Provider::Segmind, true)] {
        let mock = mock().await;
        mock.inject(
            Target::Method("POST".into()),
            Fault::SlowBody(Duration::from_secs(30)),
        );
        let client = builder(provider, &mock)
            .segmind_sync(sync)
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let request = GenerateRequest::new("stalled");
        // A bound on the test, far past the client's: a body read without
        // the client's deadline would take the fault's 30 s.
        let err = tokio::time::timeout(Duration::from_secs(10), client.generate(&request))
            .await
            .expect("the client's timeout ends the call")
            .unwrap_err();
        let Error::Transport { sent: true, source } = &err else {
            panic!("{provider}: {err:?}")
        };
        assert!(source.is_timeout(), "{provider}: {source:?}");
        // A timeout, not an answer that did not decode.
        assert!(!source.is_decode(), "{provider}: {source:?}");
        mock.settled().await;
        assert_eq!(mock.ledger().entries.len(), 1, "{provider}: not re-sent");
    }
}

/// A generated client handed out (`raw_segmind`) bounds its calls itself,
/// made through the facade or not: it runs on reqwest's timeout.
#[tokio::test]
async fn a_raw_client_handed_out_keeps_the_client_timeout() {
    use ideogram::raw::segmind::types::Ideogram2aTxt2ImgRequest;
    let mock = mock().await;
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(30)),
    );
    let client = builder(Provider::Segmind, &mock)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let api = client.raw_segmind().unwrap();
    let body = Ideogram2aTxt2ImgRequest::builder().prompt("a raw call");
    let call = api.ideogram_2a_txt_2_img().body(body).send();
    let answer = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the client's timeout ends the call");
    let Err(err) = answer else {
        panic!("a call past the timeout is an error")
    };
    let source = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<reqwest::Error>());
    assert!(source.is_some_and(reqwest::Error::is_timeout), "{err:?}");
}

#[tokio::test]
async fn a_truncated_image_is_reported_billed() {
    let mock = mock().await;
    mock.inject(Target::Method("POST".into()), Fault::TruncatedBody);
    let err = sync_client(&mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert_eq!(mock.ledger().entries[0].delivery, Delivery::Broken);
}

#[tokio::test]
async fn malformed_json_is_a_billed_answer_that_does_not_decode_not_a_retry() {
    let mock = mock().await;
    mock.inject(Target::Method("POST".into()), Fault::MalformedJson);
    let err = client(Provider::Ideogram, &mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Undecoded {
                provider: Provider::Ideogram,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.certainly_billed(), "{err:?}");
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 1);
    assert_eq!(ledger.entries[0].delivery, Delivery::Broken);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let mock = mock().await;
    mock.inject(Target::Method("POST".into()), Fault::Redirect);
    let err = client(Provider::Ideogram, &mock)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 307, .. }),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed());
    assert!(
        mock.cdn_requests().is_empty(),
        "the other origin was contacted"
    );
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn any_generated_operation_runs_through_the_facade_with_its_guarantees() {
    use ideogram::Billing;
    use ideogram::raw::segmind::types::Ideogram2aTxt2ImgRequest;
    let mock = mock().await;
    let client = client(Provider::Segmind, &mock);
    let api = client.raw_segmind().unwrap();

    // A 429 is sent again, as for the facade's own calls.
    mock.inject(Target::Method("POST".into()), Fault::Status(429));
    let body = Ideogram2aTxt2ImgRequest::builder()
        .prompt("a raw call")
        .seed(Some(4242.into()));
    let queued = client
        .call(Billing::Billed, 1, || {
            api.submit_ideogram_2a_txt_2_img().body(body.clone()).send()
        })
        .await
        .unwrap()
        .into_inner();
    let generation = client.job(&queued.request_id).wait().await.unwrap();
    assert_eq!(generation.images.len(), 1);

    // A 500 is not: the POST may have billed. Its error is the facade's.
    mock.inject(Target::Method("POST".into()), Fault::Status(500));
    let Err(err) = client
        .call(Billing::Billed, 1, || {
            api.ideogram_2a_txt_2_img().body(body.clone()).send()
        })
        .await
    else {
        panic!("a 500 is an error")
    };
    assert!(matches!(err, Error::Server { status: 500, .. }), "{err:?}");
    assert!(!err.certainly_not_billed());

    // What the generated types refuse is a validation error, unsent.
    let billed = mock.ledger().entries.len();
    let bad = Ideogram2aTxt2ImgRequest::builder().prompt("");
    let Err(err) = client
        .call(Billing::Billed, 1, || {
            api.ideogram_2a_txt_2_img().body(bad.clone()).send()
        })
        .await
    else {
        panic!("an empty prompt is refused")
    };
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(mock.ledger().entries.len(), billed);
    assert!(client.raw_ideogram().is_err());
}

#[tokio::test]
async fn generated_answers_become_generations_through_the_facade() {
    use ideogram::Billing;
    use ideogram::raw::ideogram::types::{GenerateImageRequest, ImageRequest};
    use ideogram::raw::segmind::types::Ideogram2aTxt2ImgRequest;
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();

    // Segmind v1: the image itself, with the seed from its headers.
    let segmind = client(Provider::Segmind, &mock);
    let api = segmind.raw_segmind().unwrap();
    let body = Ideogram2aTxt2ImgRequest::builder()
        .prompt("raw v1")
        .seed(Some(4242.into()));
    let answer = segmind
        .call(Billing::Billed, 1, || {
            api.ideogram_2a_txt_2_img().body(body.clone()).send()
        })
        .await
        .unwrap();
    let generation = segmind
        .generation_from_segmind_v1(Model::V2a, "raw v1", answer)
        .await
        .unwrap();
    assert!(matches!(generation.images[0].data, ImageData::Bytes { .. }));
    assert_eq!(generation.images[0].seed, Some(4242));
    assert_eq!(generation.model, Model::V2a);

    // Segmind's queue: the result fetched with the generated GET.
    let queued = segmind
        .call(Billing::Billed, 1, || {
            api.submit_ideogram_2a_txt_2_img().body(body.clone()).send()
        })
        .await
        .unwrap()
        .into_inner();
    let job = segmind.job(&queued.request_id);
    while job.status().await.unwrap().status != ideogram::QueueStatus::Completed {
        tokio::task::yield_now().await;
    }
    let result = segmind
        .call(Billing::Free, 0, || {
            api.get_request_result()
                .request_id(queued.request_id.as_str())
                .send()
        })
        .await
        .unwrap()
        .into_inner();
    let generation = segmind
        .generation_from_segmind_queue(Model::V2a, "raw v2", result)
        .unwrap();
    assert_eq!(generation.request_id.as_deref(), Some(&*queued.request_id));
    let saved = generation.images[0]
        .save(dir.path().join("queued.jpg"))
        .await
        .unwrap();
    let (width, _) = dimensions(&std::fs::read(saved).unwrap());
    assert!(width > 0);

    // Ideogram: URLs the client downloads, the image's own metadata kept.
    let ideogram = client(Provider::Ideogram, &mock);
    let api = ideogram.raw_ideogram().unwrap();
    let body = GenerateImageRequest::builder().image_request(
        ImageRequest::builder()
            .prompt("raw ideogram")
            .seed(Some(7.into())),
    );
    let answer = ideogram
        .call(Billing::Billed, 1, || {
            api.post_generate_image().body(body.clone()).send()
        })
        .await
        .unwrap()
        .into_inner();
    let generation = ideogram
        .generation_from_ideogram(Model::V2, answer)
        .unwrap();
    assert_eq!(generation.images[0].seed, Some(7));
    assert!(matches!(generation.images[0].data, ImageData::Url(_)));
    let saved = generation.images[0]
        .save(dir.path().join("ideogram.png"))
        .await
        .unwrap();
    let (width, _) = dimensions(&std::fs::read(saved).unwrap());
    assert!(width > 0);
    assert_eq!(mock.ledger().entries.len(), 3, "each call billed once");
}

/// A real PNG of `width` x `height` in one colour.
fn png_of(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    ideogram_mock::ImageSpec {
        width,
        height,
        seed: 1,
        palette: vec![rgb],
        transparent: false,
    }
    .png()
}

#[tokio::test]
async fn edit_reframe_and_replace_background_answer_the_sizes_they_promise() {
    use ideogram::{EditRequest, Resolution};
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    let dir = tempfile::tempdir().unwrap();
    let photo = || ImageInput::bytes(png_of(96, 64, [90, 120, 200]));
    let mask = ImageInput::bytes(png_of(96, 64, [0, 0, 0]));
    let square = ImageInput::bytes(png_of(64, 64, [200, 90, 20]));
    let cases = [
        (
            EditRequest::edit(photo(), mask, "a red door")
                .num_images(2)
                .style_reference(square.clone()),
            (96, 64),
            2,
        ),
        (
            EditRequest::reframe(square.clone(), "1280x800".parse::<Resolution>().unwrap()).seed(7),
            (1280, 800),
            1,
        ),
        (
            EditRequest::replace_background(photo(), "a beach at noon")
                .magic_prompt(ideogram::MagicPrompt::Off),
            (96, 64),
            1,
        ),
    ];
    for (request, size, count) in cases {
        let name = request.kind().name();
        let generation = client.edit(&request).await.unwrap();
        assert_eq!(generation.images.len(), count, "{name}");
        assert_eq!(generation.model, Model::V3);
        for (i, image) in generation.images.iter().enumerate() {
            let saved = image
                .save(dir.path().join(format!("{name}-{i}.png")))
                .await
                .unwrap();
            assert_eq!(dimensions(&std::fs::read(saved).unwrap()), size, "{name}");
        }
    }
    assert_eq!(mock.ledger().entries.len(), 3, "one billed call each");
}

#[tokio::test]
async fn edits_the_service_would_refuse_send_nothing() {
    use ideogram::{EditRequest, Resolution};
    // A server that records whatever reaches it.
    let server = workspace_tests::CaptureServer::start(|_| {
        workspace_tests::Canned::json(500, json!({"error": "reached"}))
    })
    .await;
    let at = |provider| {
        Client::builder(provider)
            .base_url(server.base_url())
            .api_key("k")
            .build()
            .unwrap()
    };
    let ideogram = at(Provider::Ideogram);
    let photo = || ImageInput::bytes(png_of(96, 64, [90, 120, 200]));
    let cases = [
        (
            ideogram.clone(),
            EditRequest::edit(photo(), ImageInput::bytes(png_of(32, 32, [0, 0, 0])), "x"),
            "invalid mask: is 32x32, the image 96x64",
        ),
        (
            ideogram.clone(),
            EditRequest::reframe(photo(), "1280x800".parse::<Resolution>().unwrap())
                .magic_prompt(ideogram::MagicPrompt::On),
            "invalid magic_prompt: V_3 does not take it on ideogram for reframe; it goes with generate, remix, edit, transparent, replace-background",
        ),
        (
            ideogram.clone(),
            EditRequest::replace_background(photo(), "x").num_images(9),
            "invalid num_images",
        ),
        (
            ideogram.clone(),
            EditRequest::replace_background(ImageInput::bytes(&b"GIF89a"[..]), "x"),
            "invalid image: ",
        ),
        (
            ideogram.clone(),
            EditRequest::edit(photo(), ImageInput::bytes(&b"GIF89a"[..]), "x"),
            "invalid mask: ",
        ),
        (
            ideogram.clone(),
            EditRequest::replace_background(photo(), "\u{200b}"),
            "invalid prompt",
        ),
        (
            ideogram.clone(),
            EditRequest::edit(photo(), photo(), "x"),
            "invalid mask: a mask is black and white",
        ),
        (
            at(Provider::Segmind),
            EditRequest::edit(photo(), photo(), "x"),
            "invalid provider: edit runs on ideogram only (--provider ideogram): segmind serves no such operation",
        ),
        (
            at(Provider::Segmind),
            EditRequest::replace_background(photo(), "x").num_images(2),
            "invalid num_images: V_3 does not take it on segmind for replace-background; it goes with generate",
        ),
        (
            at(Provider::Segmind),
            EditRequest::reframe(photo(), "1280x800".parse::<Resolution>().unwrap())
                .rendering_speed(ideogram::RenderingSpeed::Flash),
            "invalid rendering_speed: \"FLASH\" is not allowed",
        ),
    ];
    for (client, request, expected) in cases {
        let err = client.edit(&request).await.unwrap_err();
        assert!(
            matches!(err, Error::Validation(_)) && err.to_string().starts_with(expected),
            "{}: {err}",
            request.kind().name()
        );
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn describe_answers_words_for_an_image() {
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    let texts = client
        .describe(&ImageInput::bytes(png_of(96, 64, [1, 2, 3])))
        .await
        .unwrap();
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains("96x64"), "{texts:?}");
    assert_eq!(mock.ledger().entries.len(), 1, "describe is billed");
}

#[tokio::test]
async fn ideogram_3_generates_with_references_and_with_transparency() {
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    let dir = tempfile::tempdir().unwrap();
    let hero = png_of(48, 48, [200, 40, 40]);
    let mask = png_of(48, 48, [128, 128, 128]);
    let referenced = GenerateRequest::new("a knight in the rain")
        .model(Model::V3)
        .style_reference(ImageInput::bytes(png_of(32, 32, [1, 2, 3])))
        .character_reference(
            ImageInput::bytes(hero.clone()),
            Some(ImageInput::bytes(mask)),
        );
    let generation = client.generate(&referenced).await.unwrap();
    assert_eq!(generation.images.len(), 1);
    let transparent = GenerateRequest::new("a paper lantern")
        .model(Model::V3)
        .aspect_ratio("1:1".parse().unwrap())
        .transparent()
        .upscale(ideogram::UpscaleFactor::X2);
    let generation = client.generate(&transparent).await.unwrap();
    let saved = generation.images[0]
        .save(dir.path().join("lantern.png"))
        .await
        .unwrap();
    let png = std::fs::read(saved).unwrap();
    assert_eq!(dimensions(&png), (2048, 2048), "upscaled X2");
    assert_eq!(png[25], 6, "a PNG with alpha (RGBA)");
    assert_eq!(mock.ledger().entries.len(), 2);

    // What the service would refuse is refused here, unsent.
    let colour_mask = Some(ImageInput::bytes(png_of(48, 48, [255, 0, 0])));
    let cases = [
        (
            GenerateRequest::new("x")
                .model(Model::V3)
                .character_reference(ImageInput::bytes(hero.clone()), colour_mask),
            "invalid character_reference_images_mask: a mask is black and white (grayscale); this one is not, or does not decode",
        ),
        (
            GenerateRequest::new("x")
                .model(Model::V3)
                .character_reference(
                    ImageInput::bytes(hero.clone()),
                    Some(ImageInput::bytes(png_of(16, 16, [0, 0, 0]))),
                ),
            "invalid character_reference_images_mask: is 16x16, the character_reference_images 48x48: a mask is its image's size",
        ),
        (
            GenerateRequest::new("x")
                .model(Model::V2)
                .style_reference(ImageInput::bytes(hero.clone())),
            "invalid style_reference_images: V_2 does not take it on ideogram for generate; V_3 does",
        ),
        (
            GenerateRequest::new("x")
                .model(Model::V3)
                .transparent()
                .palette(ideogram::PalettePreset::Ember),
            "invalid color_palette: V_3 does not take it on ideogram for transparent; it goes with generate, remix, edit, reframe, replace-background",
        ),
        (
            GenerateRequest::new("x")
                .model(Model::V3)
                .upscale(ideogram::UpscaleFactor::X4),
            "invalid upscale_factor: V_3 does not take it on ideogram for generate; it goes with upscale, transparent",
        ),
    ];
    for (request, expected) in cases {
        let err = client.generate(&request).await.unwrap_err();
        assert!(err.to_string().starts_with(expected), "{err}");
    }
    assert_eq!(mock.ledger().entries.len(), 2, "nothing more was billed");
}

#[tokio::test]
async fn upscale_enlarges_and_layerize_text_separates_the_text() {
    use ideogram::{EditKind, EditRequest};
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    let dir = tempfile::tempdir().unwrap();
    let photo = || ImageInput::bytes(png_of(96, 64, [90, 120, 200]));
    let request = EditRequest::new(
        photo(),
        EditKind::Upscale {
            prompt: Some("a harbour".into()),
            resemblance: Some(80),
            detail: None,
        },
    )
    .num_images(2);
    let generation = client.edit(&request).await.unwrap();
    assert_eq!(generation.images.len(), 2);
    let saved = generation.images[0]
        .save(dir.path().join("up.png"))
        .await
        .unwrap();
    assert_eq!(dimensions(&std::fs::read(saved).unwrap()), (192, 128));

    let layers = client.layerize_text(&photo(), None).await.unwrap();
    assert_eq!(layers.blocks.placed()[0].text, "OPEN LATE");
    let saved = layers.base.save(dir.path().join("base.png")).await.unwrap();
    assert_eq!(dimensions(&std::fs::read(saved).unwrap()), (96, 64));
    assert_eq!(mock.ledger().entries.len(), 2);

    for (request, expected) in [
        (
            EditRequest::upscale(photo()).rendering_speed(ideogram::RenderingSpeed::Turbo),
            "invalid rendering_speed: post_upscale_v2 does not take it on ideogram for upscale; it goes with generate, remix, edit, transparent, reframe, replace-background",
        ),
        (
            EditRequest::new(
                photo(),
                EditKind::Upscale {
                    prompt: None,
                    resemblance: Some(101),
                    detail: None,
                },
            ),
            "invalid resemblance: 101 is above the maximum 100",
        ),
    ] {
        let err = client.edit(&request).await.unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    assert_eq!(mock.ledger().entries.len(), 2, "nothing more was billed");
}

#[tokio::test]
async fn uploads_near_the_documented_size_go_through() {
    let mock = mock().await;
    let client = client(Provider::Ideogram, &mock);
    // A 9 MB PNG (its header, then padding): under the 10 MB the services take.
    let mut big = png_of(64, 48, [1, 2, 3]);
    big.resize(9 * 1024 * 1024, 0);
    let texts = client.describe(&ImageInput::bytes(big)).await.unwrap();
    assert!(texts[0].contains("64x48"), "{texts:?}");
}
