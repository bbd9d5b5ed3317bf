//! Every documented status maps to its error; invalid requests send nothing;
//! retries never send a POST twice when it may have billed; the key never
//! shows.

mod common;

use std::time::{Duration, Instant};

use common::*;
use ideogram::{Client, Error, GenerateRequest, ImageInput, Model, Provider, RetryPolicy};
use serde_json::json;

async fn segmind_error(status: u16, body: serde_json::Value) -> (Error, usize) {
    let server = CaptureServer::start(move |_| Canned::json(status, body.clone())).await;
    let client = client(Provider::Segmind, &server);
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    (err, server.requests().len())
}

async fn ideogram_error(status: u16, body: serde_json::Value) -> (Error, usize) {
    let server = CaptureServer::start(move |_| Canned::json(status, body.clone())).await;
    let client = client(Provider::Ideogram, &server);
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    (err, server.requests().len())
}

type Check = fn(&Error) -> bool;

#[tokio::test]
async fn segmind_statuses_map_to_their_meaning() {
    let cases: [(u16, &str, Check); 7] = [
        (
            401,
            "Invalid API key",
            |e| matches!(e, Error::Unauthorized { message } if message == "Invalid API key"),
        ),
        (403, "Forbidden", |e| matches!(e, Error::Forbidden { .. })),
        (404, "Model not found", |e| {
            matches!(e, Error::NotFound { .. })
        }),
        (406, "Insufficient credits", |e| {
            matches!(e, Error::InsufficientCredits { .. })
        }),
        (406, "Invalid content type", |e| {
            matches!(e, Error::Rejected { status: 406, .. })
        }),
        (400, "bad", |e| {
            matches!(e, Error::Rejected { status: 400, .. })
        }),
        // Segmind's 422 is a validation failure, not a safety block.
        (
            422,
            "seed: out of range",
            |e| matches!(e, Error::Rejected { status: 422, message } if message.contains("seed")),
        ),
    ];
    for (status, message, check) in cases {
        let (err, _) = segmind_error(status, json!({ "error": message })).await;
        assert!(check(&err), "{status} {message}: {err:?}");
    }
    for status in [500, 502, 504] {
        let (err, sent) = segmind_error(status, json!({"error": "boom"})).await;
        assert!(
            matches!(err, Error::Server { status: s, .. } if s == status),
            "{err:?}"
        );
        assert_eq!(
            sent, 1,
            "a POST answered {status} may have billed: never re-sent"
        );
        assert!(!err.certainly_not_billed());
    }
}

#[tokio::test]
async fn ideogram_statuses_map_to_their_meaning() {
    let cases: [(u16, serde_json::Value, Check); 6] = [
        // Ideogram's 422 is the safety check.
        (422, json!({"error": "Prompt failed safety check"}), |e| {
            matches!(e, Error::SafetyRejected { .. })
        }),
        (
            402,
            json!({"error": "No funds", "reject_reason": "insufficient_funds"}),
            |e| matches!(e, Error::InsufficientCredits { message, reason } if message.contains("insufficient_funds") && reason.as_deref() == Some("insufficient_funds")),
        ),
        (
            401,
            json!({}),
            |e| matches!(e, Error::Unauthorized { message } if message == "Unauthorized (no message)"),
        ),
        (403, json!({"error": "no"}), |e| {
            matches!(e, Error::Forbidden { .. })
        }),
        (400, json!({"error": "resolution and aspect_ratio"}), |e| {
            matches!(e, Error::Rejected { status: 400, .. })
        }),
        // An undocumented status still reaches the caller with its body, sent once.
        (
            503,
            json!({"error": "maintenance"}),
            |e| matches!(e, Error::Server { status: 503, body } if body == "maintenance"),
        ),
    ];
    for (status, body, check) in cases {
        let (err, sent) = ideogram_error(status, body).await;
        assert!(check(&err), "{status}: {err:?}");
        assert_eq!(sent, 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn a_post_answered_429_is_retried_after_the_asked_delay() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let server = CaptureServer::start(move |_| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            Canned::json(
                429,
                json!({"error": "inflight", "reject_reason": "inflight_limit"}),
            )
            .with_header("retry-after", "0.05")
        } else {
            ideogram_answer(&["https://cdn.example/a.png"])
        }
    })
    .await;
    let started = Instant::now();
    let generation = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    assert_eq!(generation.images.len(), 1);
    assert_eq!(server.requests().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "Retry-After was honoured"
    );
}

#[tokio::test]
async fn rate_limits_beyond_the_cap_or_the_retries_reach_the_caller() {
    let server = CaptureServer::start(|_| {
        Canned::json(429, json!({"error": "Rate limit exceeded"}))
            .with_header("x-rate-limit-reset-at-utc", "2099-01-01T00:00:00Z")
    })
    .await;
    let err = client(Provider::Segmind, &server)
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
    assert!(wait > Duration::from_secs(3600));
    assert_eq!(
        server.requests().len(),
        1,
        "a wait past the cap is the caller's decision"
    );

    let server = CaptureServer::start(|_| Canned::json(429, json!({"error": "slow down"}))).await;
    let client = Client::builder(Provider::Segmind)
        .base_url(server.base_url())
        .api_key(KEY)
        .retry(fast_retries().max_retries(2))
        .build()
        .unwrap();
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let server = CaptureServer::start(|_| Canned::json(429, json!({"error": "slow down"}))).await;
    let client = Client::builder(Provider::Segmind)
        .base_url(server.base_url())
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(client.generate(&GenerateRequest::new("x")).await.is_err());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_post_that_never_connected_is_retried() {
    // Reserve a port, close it, and open it only after the first attempt failed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder(Provider::Ideogram)
        .base_url(format!("http://{addr}"))
        .api_key(KEY)
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(300))
                // Room for a slow machine to open the server: retries go
                // on until it is up, and the count below still holds.
                .max_retries(10),
        )
        .build()
        .unwrap();
    // The client's trace says when it retries: the server opens then.
    let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let _trace = tracing::subscriber::set_default(Events(events));
    let late_server = tokio::spawn(async move {
        let retry = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let event = seen.recv().await.expect("the client's trace");
                if event.contains("retrying") {
                    return event;
                }
            }
        })
        .await
        .expect("the client never retried");
        let server = workspace_tests::CaptureServer::start_on(addr, |_| {
            ideogram_answer(&["https://cdn.example/late.png"])
        })
        .await;
        (retry, server)
    });
    let generation = client.generate(&GenerateRequest::new("x")).await.unwrap();
    assert_eq!(generation.images.len(), 1);
    let (retry, server) = late_server.await.unwrap();
    assert!(retry.contains("not sent (no connection)"), "{retry}");
    assert_eq!(server.requests().len(), 1, "sent once it could be");
}

/// A trace subscriber that sends each event's fields as text.
struct Events(tokio::sync::mpsc::UnboundedSender<String>);

impl tracing::Subscriber for Events {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        let _ = self.0.send(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn a_connection_refused_everywhere_says_nothing_was_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder(Provider::Segmind)
        .base_url(format!("http://{addr}"))
        .api_key(KEY)
        .retry(fast_retries().max_retries(1))
        .build()
        .unwrap();
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: false, .. }),
        "{err:?}"
    );
    assert!(err.certainly_not_billed());
    assert!(
        std::error::Error::source(&err).is_some(),
        "the source chain is kept"
    );
}

#[tokio::test]
async fn invalid_requests_send_nothing() {
    let server = CaptureServer::start(|_| segmind_image()).await;
    let segmind = client(Provider::Segmind, &server);
    let ideogram = client(Provider::Ideogram, &server);
    let cases: Vec<(&Client, GenerateRequest, &str)> = vec![
        (
            &segmind,
            GenerateRequest::new("  "),
            "invalid prompt: must not be empty",
        ),
        (
            &segmind,
            GenerateRequest::new("x").seed(99),
            "invalid seed: 99 is below the minimum 100",
        ),
        (
            &segmind,
            GenerateRequest::new("x").seed(1_000_000),
            "invalid seed: 1000000 is above the maximum 999999",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V2a)
                .palette(ideogram::PalettePreset::Ember),
            "invalid color_palette: V_2A does not take it on segmind for generate; V_2, V_2_TURBO, V_3 do",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V2a)
                .negative_prompt("dogs"),
            "invalid negative_prompt: V_2A does not take it on segmind for generate; V_2, V_2_TURBO, V_3 do",
        ),
        (
            &segmind,
            GenerateRequest::new("x").model(Model::V1),
            "invalid model: segmind does not run V_1 for generate; it runs V_2, V_2_TURBO, V_2A, V_3, V_4",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V4)
                .aspect_ratio("4:5".parse().unwrap()),
            "invalid aspect_ratio: V_4 on segmind takes 1:1, 3:4, 9:16, 4:3, 16:9, not 4:5",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V3)
                .character_reference(ImageInput::bytes(PNG), None)
                .palette(ideogram::PalettePreset::Ember),
            "invalid color_palette: no operation of V_3 on segmind takes the whole request: ideogram_3 takes no character_reference_images; ideogram_character takes no color_palette",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V3)
                .character_reference(ImageInput::bytes(PNG), Some(ImageInput::bytes(PNG))),
            "invalid character_reference_images_mask: no operation of V_3 on segmind takes the whole request: ideogram_3 takes no character_reference_images; ideogram_character takes no character_reference_images_mask",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V3)
                .rendering_speed(ideogram::RenderingSpeed::Flash),
            "invalid rendering_speed: \"FLASH\" is not allowed; use one of TURBO, DEFAULT, QUALITY",
        ),
        (
            &segmind,
            GenerateRequest::new("x").num_images(2),
            "invalid num_images: V_2 does not take it on segmind for generate; V_4 does",
        ),
        (
            &segmind,
            GenerateRequest::new("x").resolution("800x1280".parse().unwrap()),
            "invalid resolution: 800x1280 is not a size V_2 renders here; the nearest is 768x1232",
        ),
        (
            &segmind,
            GenerateRequest::new("x").style(ideogram::StyleType::Auto),
            "invalid style_type: \"AUTO\" is not allowed; use one of GENERAL, REALISTIC, DESIGN, RENDER_3D, ANIME",
        ),
        (
            &segmind,
            GenerateRequest::new("x").image_weight(ideogram::ImageWeight::new(5).unwrap()),
            "invalid image_weight: V_2 does not take it on segmind for generate; it goes with remix",
        ),
        (
            &segmind,
            GenerateRequest::new("x").image(ImageInput::bytes(&b"GIF89a"[..])),
            "invalid image: the image bytes is not a JPEG, PNG or WebP image",
        ),
        (
            &segmind,
            GenerateRequest::new("x").image(ImageInput::file("/nonexistent/in.png")),
            "invalid image: cannot read /nonexistent/in.png",
        ),
        (
            &segmind,
            GenerateRequest::new("x").rendering_speed(ideogram::RenderingSpeed::Turbo),
            "invalid rendering_speed: V_2 does not take it on segmind for generate; V_3, V_4 do",
        ),
        (
            &ideogram,
            GenerateRequest::new("x").num_images(9),
            "invalid num_images: 9 is above the maximum 8",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .resolution(ideogram::Resolution::SQUARE_1024)
                .aspect_ratio("1:1".parse().unwrap()),
            "invalid resolution: give a resolution or an aspect ratio, not both",
        ),
        (
            &ideogram,
            GenerateRequest::new("x").aspect_ratio("4:5".parse().unwrap()),
            "invalid aspect_ratio: V_2 on ideogram takes 10:16, 16:10, 9:16, 16:9, 3:2, 2:3, 4:3, 3:4, 1:1, 1:3, 3:1, not 4:5",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::V1)
                .style(ideogram::StyleType::General),
            "invalid style_type: V_1 does not take it on ideogram for generate; V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3 do",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::PImage)
                .image(ImageInput::bytes(PNG)),
            "invalid image: ideogram does not run P_IMAGE for remix; it runs V_1, V_1_TURBO, V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3, V_4",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::V4)
                .rendering_speed(ideogram::RenderingSpeed::Flash),
            "invalid rendering_speed: \"FLASH\" is not allowed; use one of TURBO, BALANCED, DEFAULT, QUALITY",
        ),
        (
            &ideogram,
            GenerateRequest::new("x").style_preset(ideogram::StylePreset::PopArt),
            "invalid style_preset: V_2 does not take it on ideogram for generate; V_3 does",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::V3)
                .custom_model_uri("my-model"),
            "invalid custom_model_uri: ",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V3)
                .style_preset(ideogram::StylePreset::PopArt),
            "invalid style_preset: no operation of segmind takes it",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::V4)
                .set("style_type", "GENERAL"),
            "invalid style_type: V_4 does not take it on ideogram for generate; V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3 do",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .image(ImageInput::url("https://cdn.invalid/in.png"))
                .model(Model::V1)
                .palette(ideogram::PalettePreset::Magic),
            "invalid color_palette: V_1 does not take it on ideogram for remix; V_2, V_2_TURBO, V_3 do",
        ),
    ];
    for (client, request, expected) in cases {
        let err = client.generate(&request).await.unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{request:?}: {err:?}");
        assert!(
            err.to_string().starts_with(expected),
            "{request:?}:\n  got      {err}\n  expected {expected}"
        );
    }
    // One byte over what Segmind's image fields take (the spec's `x-max-bytes`).
    let mut big = JPEG.to_vec();
    big.resize(
        ideogram::raw::segmind::limits::MAX_FILE_BYTES as usize + 1,
        0,
    );
    let err = segmind
        .generate(&GenerateRequest::new("x").image(ImageInput::bytes(big)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 10 MB"), "{err}");
    let err = ideogram
        .submit(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("only segmind has a queue"),
        "{err}"
    );
    assert!(
        server.requests().is_empty(),
        "an invalid request reached the server"
    );
}

/// A field refused because the body has no place for it names who takes
/// it, in words that agree (`V_3 does`, `V_2, V_3 do`); and when the
/// refusing body is an operation the request pins, whose model takes the
/// field through another, the message names that operation instead of
/// telling the model it does not take what it takes.
#[test]
fn a_field_not_taken_names_the_models_and_operations_that_take_it() {
    let cases = [
        (
            Provider::Ideogram,
            GenerateRequest::new("x").style_preset(ideogram::StylePreset::PopArt),
            "invalid style_preset: V_2 does not take it on ideogram for generate; V_3 does",
        ),
        (
            Provider::Ideogram,
            GenerateRequest::new("x")
                .model(Model::V4)
                .set("style_type", "GENERAL"),
            "invalid style_type: V_4 does not take it on ideogram for generate; V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3 do",
        ),
        (
            Provider::Ideogram,
            GenerateRequest::new("x")
                .model(Model::V3)
                .transparent()
                .operation("post_generate_image_v3_transparent")
                .set("async", true),
            "invalid async: post_generate_image_v3_transparent does not take it; on ideogram for transparent, \
             V_3 takes it through post_generate_v2_ideogram_3_transparent, and V_4 does too",
        ),
        (
            Provider::Ideogram,
            GenerateRequest::new("x")
                .model(Model::V4)
                .transparent()
                .operation("post_generate_v2_ideogram_4_transparent")
                .set("upscale_factor", "X2"),
            "invalid upscale_factor: V_4 does not take it on ideogram for transparent; V_3 does",
        ),
        // A transparent operation pinned for a generate.
        (
            Provider::Ideogram,
            GenerateRequest::new("x")
                .model(Model::V3)
                .operation("post_generate_v2_ideogram_3_transparent")
                .set("style_type", "AUTO"),
            "invalid style_type: post_generate_v2_ideogram_3_transparent does not take it; on ideogram \
             for generate, V_3 takes it through post_generate_image_v3, post_generate_v2_ideogram_3, \
             post_generate_v2_ideogram_3_character, post_generate_v2_ideogram_3_custom_model, and \
             V_2, V_2_TURBO, V_2A, V_2A_TURBO do too",
        ),
    ];
    for (provider, request, expected) in cases {
        let refused = request.check(provider).unwrap_err();
        assert_eq!(refused.to_string(), expected, "{request:?}");
    }
}

#[tokio::test]
async fn bad_prompts_and_unreadable_images_send_nothing() {
    let server = CaptureServer::start(|_| segmind_image()).await;
    let segmind = client(Provider::Segmind, &server);
    let ideogram = client(Provider::Ideogram, &server);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.png");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let cases: Vec<(&Client, GenerateRequest, &str)> = vec![
        (
            &segmind,
            GenerateRequest::new("\u{200b}\u{200b} \u{feff}\u{2060}"),
            "invalid prompt: holds only invisible characters",
        ),
        (
            &ideogram,
            GenerateRequest::new(
                "\u{034f}\u{fe0f}\u{e0020}\u{061c}\u{3164}\u{115f}\u{ffa0}\u{1d173}\u{fff9}\u{2800}",
            ),
            "invalid prompt: holds only invisible characters",
        ),
        (
            &segmind,
            GenerateRequest::new("x")
                .model(Model::V2a)
                .image(ImageInput::url(format!(
                    "{}/in.png",
                    workspace_tests::closed_port_url()
                ))),
            "invalid image: cannot fetch",
        ),
        (
            &ideogram,
            GenerateRequest::new("x").negative_prompt("\u{200d}"),
            "invalid negative_prompt: holds only invisible characters",
        ),
        (
            &ideogram,
            GenerateRequest::new("y".repeat(10_001)),
            "invalid prompt: is 10001 characters; at most 10000 are accepted",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::V1)
                .resolution(ideogram::Resolution::SQUARE_1024),
            "invalid resolution: V_1 does not take it on ideogram for generate; V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3, P_IMAGE, V_4 do",
        ),
        (
            &ideogram,
            GenerateRequest::new("x")
                .model(Model::V1Turbo)
                .resolution(ideogram::Resolution::SQUARE_1024),
            "invalid resolution: V_1_TURBO does not take it on ideogram for generate; V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3, P_IMAGE, V_4 do",
        ),
        (
            &segmind,
            GenerateRequest::new("x").image(ImageInput::file(&fifo)),
            "invalid image: ",
        ),
        (
            &ideogram,
            GenerateRequest::new("x").image(ImageInput::file("/dev/zero")),
            "invalid image: /dev/zero is a device, not a regular file",
        ),
        (
            &ideogram,
            GenerateRequest::new("x").image(ImageInput::file(dir.path())),
            "invalid image: ",
        ),
    ];
    for (client, request, expected) in cases {
        // A FIFO with no writer would block a reader for ever: bound the wait.
        let err = tokio::time::timeout(Duration::from_secs(10), client.generate(&request))
            .await
            .expect("refused without reading")
            .unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with(expected),
            "got {text}, expected {expected}"
        );
        assert!(
            !text.contains("yyyyyyyyyy"),
            "the prompt is not echoed whole"
        );
    }
    assert!(
        server.requests().is_empty(),
        "an invalid request reached the server"
    );

    // An input image at a URL whose body never ends: read up to the cap only.
    let (url, sent, endless) = workspace_tests::endless_server(
        "HTTP/1.1 200 OK\r\ncontent-type: image/png",
        {
            let mut chunk = b"\x89PNG\r\n\x1a\n".to_vec();
            chunk.resize(1 << 20, 0);
            chunk
        },
        200,
    )
    .await;
    let err = ideogram
        .generate(&GenerateRequest::new("x").image(ImageInput::url(format!("{url}/in.png"))))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 10 MiB"), "{err}");
    assert!(server.requests().is_empty());
    let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 60, "read {sent} MiB of an endless input image");
    endless.abort();
}

#[tokio::test]
async fn the_key_never_prints() {
    let server =
        CaptureServer::start(|_| Canned::json(401, json!({"error": "Unauthorized"}))).await;
    let client = client(Provider::Segmind, &server);
    let err = client
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    let printed = format!("{client:?} {err} {err:?}");
    assert!(!printed.contains(KEY), "{printed}");
    let bad_key = Client::builder(Provider::Segmind)
        .api_key("abc\ndef")
        .build()
        .unwrap_err();
    assert!(!bad_key.to_string().contains("abc"), "{bad_key}");
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let err = Client::builder(Provider::Ideogram)
        .base_url("http://gateway.example")
        .api_key(KEY)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("plain http"), "{err}");
    assert!(
        Client::builder(Provider::Ideogram)
            .base_url("http://gateway.example")
            .api_key(KEY)
            .allow_insecure_http(true)
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn a_post_redirected_within_the_origin_is_not_sent_again() {
    // A 307 or 308 asks for the same POST, body and all, at the new place:
    // following it would send a request that may already have run.
    for status in [307, 308] {
        let api = CaptureServer::start(move |request| {
            if request.path == "/v1/ideogram-txt-2-img" {
                Canned::json(status, json!({})).with_header("location", "/v1/moved")
            } else {
                segmind_image()
            }
        })
        .await;
        let err = client(Provider::Segmind, &api)
            .generate(&GenerateRequest::new("x"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Redirected { status: s, location: Some(ref l) } if s == status && l == "/v1/moved"),
            "{err:?}"
        );
        assert!(!err.certainly_not_billed());
        assert_eq!(
            api.requests().len(),
            1,
            "the POST was sent again on {status}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_with_the_key() {
    let elsewhere = CaptureServer::start(|_| segmind_image()).await;
    let target = format!("{}/v1/ideogram-txt-2-img", elsewhere.base_url());
    let api = CaptureServer::start(move |_| {
        Canned::json(307, json!({})).with_header("location", &target)
    })
    .await;
    let err = client(Provider::Segmind, &api)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 307, location: Some(ref l) } if l.ends_with("/v1/ideogram-txt-2-img")),
        "{err:?}"
    );
    assert!(
        !err.certainly_not_billed(),
        "a POST answered with a redirect may have run"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "the key went to another origin"
    );
}

/// Every `reject_reason` Ideogram documents for its 402 and 429 bodies
/// (`GenerationErrorResponse`, its OpenAPI of 2026-10-07) is one the spec's
/// `RejectReason` names: a reason the service gives is known, not only
/// repeated as words.
#[test]
fn every_documented_reject_reason_is_one_the_spec_names() {
    use ideogram::raw::ideogram::types::RejectReason;
    let documented = [
        "insufficient_funds",
        "subscription_required",
        "daily_limit",
        "priority_credit_required",
        "inflight_limit",
        "feature_limit",
    ];
    for reason in documented {
        let parsed = reason.parse::<RejectReason>();
        assert!(parsed.is_ok(), "{reason}: {parsed:?}");
    }
}
