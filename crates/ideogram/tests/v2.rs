//! Ideogram's v2 API through the facade, against the mock: models only v2
//! runs, calls answered at once or polled as jobs (`async`, or operations
//! that always run so), failures, and the poll's rate limit.

mod common;

use std::time::Duration;

use ideogram::{
    Client, DescribeRequest, EditRequest, Error, GenerateRequest, ImageData, ImageInput,
    LayerizeRequest, Model, PollSchedule, Provider, QueueStatus, TextBlocks,
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
    // Ideogram's id, not Segmind's: its retention is not Segmind's hour.
    assert!(!err.to_string().contains("Segmind"), "{err}");
    assert!(err.to_string().contains("no-such-id"), "{err}");
}

/// A v2 call with a `webhook_url` runs asynchronously: `generate` waits for
/// it on the poll, and once done the mock POSTs the signed result (to the
/// loopback receiver standing in for the URL), which verifies with the
/// mock's published keys and names the same generation.
#[tokio::test]
async fn a_webhook_url_gets_the_signed_result_when_it_is_done() {
    use ideogram::webhook::{PublicKeys, verify};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = MockConfig {
        webhook_receiver: Some(format!("http://{}/hook", receiver.local_addr().unwrap())),
        ..MockConfig::default()
    };
    let (mock, client) = mock(config).await;
    let request = GenerateRequest::new("a kite")
        .model(Model::V4)
        .set("webhook_url", "https://hooks.example/ideogram");
    let generation = client.generate(&request).await.unwrap();
    assert_eq!(generation.images.len(), 1);

    let delivery = tokio::time::timeout(Duration::from_secs(30), async {
        let (mut stream, _) = receiver.accept().await.unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if body.len() >= length {
                    break;
                }
            }
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        raw
    })
    .await
    .expect("delivered");
    let text = String::from_utf8(delivery).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        let (name, value) = line.split_once(':').unwrap();
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    let keys = PublicKeys::from_jwks(&mock.webhook_jwks());
    let verified = verify(
        &headers,
        body.as_bytes(),
        &keys,
        std::time::SystemTime::now(),
    )
    .expect("signed by the mock's key");
    let entries = mock.ledger().entries;
    assert_eq!(verified.delivery.generation_id, entries[0].id);
    assert_eq!(entries[0].operation, "/v2/image/generate/ideogram-4");
    assert_eq!(verified.delivery.data.len(), 1);
    assert_eq!(mock.ledger().entries.len(), 1, "billed once");
}

/// A server's words about a v2 generation are repeated without the key:
/// the generation id a submit answered, and a failure's reason.
#[tokio::test]
async fn a_key_the_server_echoes_in_a_v2_answer_is_never_repeated() {
    use common::{Canned, CaptureServer, KEY, client};
    let server = CaptureServer::start(|request| match request.method.as_str() {
        "POST" => Canned::json(200, json!({"generation_id": format!("g-{KEY}")})),
        _ => Canned::json(
            200,
            json!({"generation_id": format!("g-{KEY}"), "status": "failed",
                   "failure_reason": format!("bad key {KEY} in request")}),
        ),
    })
    .await;
    let client = client(Provider::Ideogram, &server);
    let request = GenerateRequest::new("a kite").model(Model::V4_5);
    let job = client.submit(&request).await.unwrap();
    assert!(!job.id().contains(KEY), "{}", job.id());
    let err = job.wait().await.unwrap_err();
    assert!(matches!(err, Error::JobFailed { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
}

/// A describe body only v2's 4.0 describe takes (`include_tags`) goes
/// there; its answer's structured prompt is the one description, as JSON
/// text a 4.0 generate takes, and nothing else of the answer (its
/// `description_id`, its date) is repeated as a description.
#[tokio::test]
async fn a_v2_describe_s_json_prompt_is_one_description_not_its_strings() {
    let (mock, client) = mock(MockConfig::default()).await;
    let words = client
        .describe_with(
            &ImageInput::bytes(png(64, 48)),
            [("include_tags", json!(true))],
        )
        .await
        .unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "billed once");
    assert_eq!(entries[0].operation, "/v2/image/describe/ideogram-4");
    assert_eq!(words.len(), 1, "{words:?}");
    assert!(
        !words.iter().any(|w| w.contains(&entries[0].id)),
        "{words:?}"
    );
    let structured: serde_json::Value = serde_json::from_str(&words[0]).expect("JSON text");
    assert_eq!(structured["width"], 64, "{structured}");
}

#[tokio::test]
async fn describe_on_4_0_and_3_0_runs_v2_and_without_a_model_v1() {
    let (mock, client) = mock(MockConfig::default()).await;
    let image = ImageInput::bytes(png(64, 48));
    let v4 = DescribeRequest::new(image.clone()).model(Model::V4);
    let words = client.describe_request(&v4).await.unwrap();
    assert_eq!(words.len(), 1);
    assert!(words[0].starts_with('{'), "{words:?}");
    // 3.0 runs on v1 too (v1 sorts first); v2's by its operation.
    let v3 = DescribeRequest::new(image.clone()).operation("post_describe_v2_ideogram_3");
    let words = client.describe_request(&v3).await.unwrap();
    assert!(words[0].starts_with("A 64x48 image"), "{words:?}");
    client.describe(&image).await.unwrap();
    let operations: Vec<String> = mock
        .ledger()
        .entries
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        operations,
        [
            "/v2/image/describe/ideogram-4",
            "/v2/image/describe/ideogram-3",
            "/describe"
        ]
    );
    // A model no describe runs is refused before anything is sent.
    let err = client
        .describe_request(&DescribeRequest::new(image).model(Model::V4_5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(mock.ledger().entries.len(), 3);
}

#[tokio::test]
async fn a_v2_layerize_answers_its_base_design_and_typed_blocks_at_once() {
    let (mock, client) = mock(MockConfig::default()).await;
    let request = LayerizeRequest::new(ImageInput::bytes(png(64, 64)))
        .operation("post_layerize_v2_ideogram_3");
    let layers = client.layerize(&request).await.unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "billed once");
    assert_eq!(entries[0].operation, "/v2/design/layerize/ideogram-3");
    assert!(matches!(&layers.blocks, TextBlocks::V2(blocks) if blocks[0].text == "OPEN LATE"));
    assert_eq!(layers.blocks.placed()[0].height, Some(16));
    // Serialised as the list the spec describes.
    let blocks = serde_json::to_value(&layers.blocks).unwrap();
    assert_eq!(blocks[0]["role"], "heading", "{blocks}");
    let url = |data: &ImageData| match data {
        ImageData::Url(url) => url.clone(),
        other => panic!("{other:?}"),
    };
    let design = layers.design.as_ref().expect("the design's url");
    let urls = [url(&layers.base.data), url(&design.data)];
    assert_ne!(urls[0], urls[1]);
    assert!(
        urls.iter().all(|u| entries[0].outputs.contains(u)),
        "{urls:?}"
    );
}

/// v2 layerize's `font_candidate_files` take fonts (the spec's
/// `x-media-types`), not images: each goes as a part of its own type and
/// name, the mock takes them, and an image given as a font is refused
/// unsent, naming the field and the kinds it takes.
#[tokio::test]
async fn a_v2_layerize_sends_its_font_files_as_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let font = |name: &str, magic: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, [magic, &[0; 64][..]].concat()).unwrap();
        path.display().to_string()
    };
    let fonts = [font("sign.ttf", b"\0\x01\0\0"), font("sign.woff2", b"wOF2")];
    let layerize = |files: &[String]| {
        LayerizeRequest::new(ImageInput::bytes(png(64, 64)))
            .operation("post_layerize_v2_ideogram_3")
            .set("font_candidate_files", files)
    };

    let (mock, client) = mock(MockConfig::default()).await;
    let layers = client.layerize(&layerize(&fonts)).await;
    assert!(layers.is_ok(), "{layers:?}");
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "billed once");
    assert_eq!(
        entries[0].fields["font_candidate_files"],
        json!(["<file, 68 bytes>", "<file, 68 bytes>"])
    );

    // A font at a URL is fetched as a font, not refused as no image.
    use common::{Canned, CaptureServer, client as capture_client};
    let host = CaptureServer::start(|_| Canned::bytes(200, "font/ttf", b"\0\x01\0\0a font")).await;
    let at_url = format!("{}/sign.ttf", host.base_url());
    let layers = client.layerize(&layerize(&[at_url])).await;
    assert!(layers.is_ok(), "{layers:?}");
    let entries = mock.ledger().entries;
    assert_eq!(
        entries[1].fields["font_candidate_files"],
        json!(["<file, 10 bytes>"])
    );

    // On the wire: each font a part of its own type and extension.
    let server = CaptureServer::start(|_| Canned::json(400, json!({"detail": "no"}))).await;
    let capture = capture_client(Provider::Ideogram, &server);
    let _ = capture.layerize(&layerize(&fonts)).await;
    let body = String::from_utf8_lossy(&server.single_request().body).into_owned();
    for part in [
        "filename=\"font_candidate_files-1.ttf\"\r\nContent-Type: font/ttf\r\n",
        "filename=\"font_candidate_files-2.woff2\"\r\nContent-Type: font/woff2\r\n",
    ] {
        assert!(body.contains(part), "{part:?} in {body:?}");
    }

    let image = dir.path().join("not-a-font.png");
    std::fs::write(&image, png(8, 8)).unwrap();
    let err = client
        .layerize(&layerize(&[image.display().to_string()]))
        .await
        .unwrap_err();
    let Error::Validation(err) = err else {
        panic!("refused before sending: {err}")
    };
    assert_eq!(err.field, "font_candidate_files", "{err}");
    assert!(
        err.message
            .ends_with("is not one of font/ttf, font/otf, font/woff, font/woff2"),
        "{err}"
    );
    assert_eq!(mock.ledger().entries.len(), 2, "nothing more was billed");
}

#[tokio::test]
async fn an_async_v2_layerize_is_polled_to_its_layers_and_billed_once() {
    let (mock, client) = mock(MockConfig::default()).await;
    // `async` is v2's: the request goes there without naming the operation.
    let request = LayerizeRequest::new(ImageInput::bytes(png(64, 64))).set("async", true);
    let layers = client.layerize(&request).await.unwrap();
    assert_eq!(layers.blocks.len(), 1);
    assert!(matches!(layers.blocks, TextBlocks::V2(_)));
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "billed once");
    assert_eq!(entries[0].operation, "/v2/design/layerize/ideogram-3");
    assert_eq!(entries[0].fields["async"], true);
    // v1 stays the default, its blocks v1's.
    let v1 = client
        .layerize_text(&ImageInput::bytes(png(64, 64)), Some("a shop sign"))
        .await
        .unwrap();
    assert!(matches!(v1.blocks, TextBlocks::V1(_)));
    assert!(v1.design.is_none());
    assert_eq!(
        mock.ledger().entries[1].operation,
        "/v1/ideogram-v3/layerize-text"
    );
}

/// An operation pinned without a model runs the one model its route names:
/// the generation says that model (what its cost is recorded under), not
/// the default a request without one would have run.
#[tokio::test]
async fn a_pinned_operation_s_generation_names_the_model_it_ran() {
    let (_mock, client) = mock(MockConfig::default()).await;
    for (operation, model) in [
        ("post_generate_v2_ideogram_4_5", Model::V4_5),
        ("post_generate_v2_ideogram_4", Model::V4),
    ] {
        let request = GenerateRequest::new("a pinned lantern").operation(operation);
        let generation = client.generate(&request).await.unwrap();
        assert_eq!(generation.model, model, "{operation}");
    }
}

/// Precise edit and remove background may answer their images without a
/// `generation_id` (optional in their answers' schemas, Ideogram's OpenAPI
/// of 2026-10-07): the paid images are the generation, never an answer
/// that does not decode.
#[tokio::test]
async fn a_v2_answer_with_images_and_no_generation_id_is_its_images() {
    use common::{Canned, CaptureServer, client};
    let server = CaptureServer::start(|request| {
        let image = json!({"url": "https://ideogram.ai/api/images/ephemeral/done.png",
                           "is_image_safe": true});
        match request.path.as_str() {
            "/v2/image/remove-background/ideogram-1" => Canned::json(200, json!({"data": [image]})),
            _ => {
                let mut image = image;
                image["prompt"] = json!("a red scarf");
                image["resolution"] = json!("64x64");
                image["seed"] = json!(5);
                Canned::json(200, json!({"generation_kind": "sampling", "data": [image]}))
            }
        }
    })
    .await;
    let client = client(Provider::Ideogram, &server);
    let removed = EditRequest::remove_background(ImageInput::bytes(png(64, 64)));
    // A black and white mask (a PNG mask's pixels must be gray).
    let mask = ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![[0, 0, 0], [255, 255, 255]],
        transparent: false,
    };
    let precise = EditRequest::edit(
        ImageInput::bytes(png(64, 64)),
        ImageInput::bytes(mask.png()),
        "give her a red scarf",
    )
    .operation("post_precise_edit_v2_ideogram_4_5");
    for request in [removed, precise] {
        let generation = client.edit(&request).await.unwrap();
        assert_eq!(generation.images.len(), 1, "{request:?}");
        assert!(
            matches!(&generation.images[0].data, ImageData::Url(url) if url.ends_with("done.png")),
            "{generation:?}"
        );
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/v2/image/remove-background/ideogram-1",
            "/v2/image/precise-edit/ideogram-4-5"
        ]
    );
}

/// Ideogram 4.0's sizes on v2 include every one its OpenAPI's
/// `ResolutionV4` lists (2026-10-07), such as 1024x3072 and 720x1280:
/// a size the service takes is sent, not refused.
#[tokio::test]
async fn ideogram_4_on_v2_takes_every_size_its_openapi_lists() {
    let (mock, client) = mock(MockConfig::default()).await;
    let sizes = [
        "1024x3072",
        "3072x1024",
        "720x1280",
        "1280x720",
        "720x1440",
        "1440x720",
    ];
    for size in sizes {
        let request = GenerateRequest::new("a tall banner")
            .operation("post_generate_v2_ideogram_4")
            .set("resolution", size);
        let sent = client.generate(&request).await;
        assert!(sent.is_ok(), "{size}: {sent:?}");
    }
    let entries = mock.ledger().entries;
    let sent: Vec<&str> = entries
        .iter()
        .map(|e| e.fields["resolution"].as_str().unwrap())
        .collect();
    assert_eq!(sent, sizes);
    assert!(
        entries
            .iter()
            .all(|e| e.operation == "/v2/image/generate/ideogram-4")
    );
}

/// Ideogram 4.5 takes up to 5 `images` of up to 25 MB each: two images of
/// 6 MB (12 MB together) are sent. Only the lists the spec caps in all
/// (`x-max-total-bytes`: style and character references, 10 MB) are
/// refused by their total, naming the field, before anything is sent.
#[tokio::test]
async fn only_a_list_the_spec_caps_in_all_is_refused_by_its_total() {
    use common::{CaptureServer, client, ideogram_answer};
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/a.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = ["one.jpg", "two.jpg"]
        .iter()
        .map(|name| {
            let mut jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF".to_vec();
            jpeg.resize(6 * 1024 * 1024, 0);
            let path = dir.path().join(name);
            std::fs::write(&path, jpeg).unwrap();
            path.display().to_string()
        })
        .collect();
    let edit = GenerateRequest::new("the two of them at the seaside")
        .model(Model::V4_5)
        .set("images", &paths);
    client.generate(&edit).await.unwrap();
    let sent = server.single_request();
    assert_eq!(sent.path, "/v2/image/generate/ideogram-4-5");
    assert!(sent.body.len() > 12 * 1024 * 1024, "{}", sent.body.len());
    // Style references: 10 MB in all, refused unsent, as soon as the files
    // read pass it (a third, missing, is never read).
    let styled = GenerateRequest::new("a fox")
        .model(Model::V3)
        .style_reference(ImageInput::file(&paths[0]))
        .style_reference(ImageInput::file(&paths[1]))
        .style_reference(ImageInput::file(dir.path().join("missing.jpg")));
    let err = client.generate(&styled).await.unwrap_err();
    let Error::Validation(err) = err else {
        panic!("refused before sending: {err}")
    };
    assert_eq!(err.field, "style_reference_images", "{err}");
    assert!(
        err.message
            .ends_with("12.0 MB in its first 2; at most 10 MB is accepted in all"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1, "nothing more sent");
}

/// With source images, Ideogram 4.5 takes an exact size of multiples of
/// 32, each side at least 256, at most 2048x2048 pixels and 6:1 (the
/// spec's `x-size-with`): any other is refused unsent, naming `size` and
/// the rule, and the mock refuses it too. Without sources a size must be
/// one of presets no page lists: it is sent, for the service to judge.
#[tokio::test]
async fn with_sources_4_5_takes_only_sizes_of_its_rules() {
    let (mock, client) = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.png");
    std::fs::write(&source, png(64, 64)).unwrap();
    let source = source.display().to_string();
    let with_source = |size: &str| {
        GenerateRequest::new("the same room, in winter")
            .model(Model::V4_5)
            .set("images", [&source])
            .set("size", size)
    };
    for (size, why) in [
        ("1000x1000", "each side is a multiple of 32"),
        ("128x256", "each side is at least 256"),
        ("4096x2048", "it is at most 4194304 pixels in all"),
        (
            "2048x320",
            "its long side is at most 6 times its short side",
        ),
        ("5000000000x256", "it is at most 4194304 pixels in all"),
        (
            "99999999999999999999999x256",
            "each side is a multiple of 32",
        ),
    ] {
        let err = client.generate(&with_source(size)).await.unwrap_err();
        let Error::Validation(err) = err else {
            panic!("{size}: refused before sending: {err}")
        };
        assert_eq!(err.field, "size", "{size}: {err}");
        let expected = format!("{size:?} is not a size taken with images: {why}");
        assert_eq!(err.message, expected, "{size}");
    }
    assert!(mock.ledger().entries.is_empty(), "nothing was billed");

    client.generate(&with_source("1536x256")).await.unwrap();
    let without = GenerateRequest::new("a winter room")
        .model(Model::V4_5)
        .set("size", "1000x1000");
    client.generate(&without).await.unwrap();
    let sizes: Vec<_> = mock
        .ledger()
        .entries
        .iter()
        .map(|e| e.fields["size"].clone())
        .collect();
    assert_eq!(sizes, [json!("1536x256"), json!("1000x1000")]);

    // The mock holds a body sent past the client to the same rule.
    let asset = json!({"asset_type": "RESPONSE", "asset_id": "b2Zm"});
    let body = json!({"prompt": "x", "size": "1000x1000", "image_asset_identifiers": [asset]});
    let answer = reqwest::Client::new()
        .post(format!("{}/v2/image/generate/ideogram-4-5", mock.api_url()))
        .header("Api-Key", mock.api_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let text = answer.text().await.unwrap();
    assert!(text.contains("each side is a multiple of 32"), "{text}");
    assert_eq!(
        mock.ledger().entries.len(),
        2,
        "the mock billed nothing more"
    );
}

/// 4.5 takes source images of 1:6 to 6:1 (the spec's `x-max-aspect`, on
/// generate's `images` and precise edit's `image`): a 7:1 one is refused
/// unsent, naming the field and its size; 6:1 is sent. The mock refuses
/// a 7:1 image sent past the client.
#[tokio::test]
async fn a_4_5_source_image_is_at_most_6_to_1() {
    let (mock, client) = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let image = |width: u32, height: u32| {
        let path = dir.path().join(format!("{width}x{height}.png"));
        std::fs::write(&path, png(width, height)).unwrap();
        path.display().to_string()
    };
    let (wide, widest) = (image(384, 64), image(448, 64));
    let with_source = |path: &str| {
        GenerateRequest::new("a long shop sign")
            .model(Model::V4_5)
            .set("images", [path])
    };
    let refused = |err: Error| match err {
        Error::Validation(err) => err,
        other => panic!("refused before sending: {other}"),
    };
    let err = refused(client.generate(&with_source(&widest)).await.unwrap_err());
    assert_eq!(err.field, "images", "{err}");
    assert!(
        err.message
            .ends_with("448x64.png is 448x64; its long side is at most 6 times its short"),
        "{err}"
    );
    let precise = EditRequest::edit(
        ImageInput::file(&widest),
        ImageInput::bytes(png(448, 64)),
        "a red door",
    )
    .operation("post_precise_edit_v2_ideogram_4_5");
    let err = refused(client.edit(&precise).await.unwrap_err());
    assert_eq!(err.field, "image", "{err}");
    assert!(mock.ledger().entries.is_empty(), "nothing was billed");
    client.generate(&with_source(&wide)).await.unwrap();
    assert_eq!(mock.ledger().entries.len(), 1);

    let form = ideogram_raw::multipart::Form::new()
        .text("prompt", "a long shop sign")
        .file(
            "images",
            &ideogram_raw::multipart::FilePart::new(png(448, 64), "wide.png", "image/png"),
        )
        .unwrap();
    let url = format!("{}/v2/image/generate/ideogram-4-5", mock.api_url());
    let answer = form
        .apply(reqwest::Client::new().post(url))
        .header("Api-Key", mock.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let text = answer.text().await.unwrap();
    assert!(
        text.contains("images: 448x64 is outside 1:6 to 6:1"),
        "{text}"
    );
    assert_eq!(
        mock.ledger().entries.len(),
        1,
        "the mock billed nothing more"
    );
}

/// Each file is held to its own field's `x-max-bytes`, on both sides of
/// the wire: 4.5 takes images of up to 25 MB (a 12 MB one is sent and the
/// mock takes it), refuses a 26 MB one unsent naming the field and its
/// size, and 3.0's edit still refuses an 11 MB image (10 MB) unsent. The
/// mock itself answers a 26 MB image 400, naming the part.
#[tokio::test]
async fn each_file_is_held_to_its_own_field_s_size() {
    let (mock, client) = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // A real PNG's header (the mock reads its size), padded to `mb`.
    let file = |name: &str, mb: usize| {
        let mut bytes = png(64, 64);
        bytes.resize(mb * 1024 * 1024, 0);
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        (path.display().to_string(), bytes)
    };
    let (twelve, _) = file("twelve.png", 12);
    let (large, large_bytes) = file("large.png", 26);
    let (eleven, _) = file("eleven.png", 11);
    let mask = dir.path().join("mask.png");
    let black_and_white = ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![[0, 0, 0], [255, 255, 255]],
        transparent: false,
    };
    std::fs::write(&mask, black_and_white.png()).unwrap();

    let on_4_5 = |path: &str| {
        GenerateRequest::new("the lighthouse, at night")
            .model(Model::V4_5)
            .set("images", [path])
    };
    let sent = client.generate(&on_4_5(&twelve)).await;
    assert!(sent.is_ok(), "a 12 MB image on 4.5: {sent:?}");
    assert_eq!(mock.ledger().entries.len(), 1);

    let refused = |err: Error| match err {
        Error::Validation(err) => err,
        other => panic!("refused before sending: {other}"),
    };
    let err = refused(client.generate(&on_4_5(&large)).await.unwrap_err());
    assert_eq!(err.field, "images", "{err}");
    assert!(
        err.message
            .contains("is 26.0 MB; at most 25 MB is accepted"),
        "{err}"
    );
    let edit = EditRequest::edit(
        ImageInput::file(&eleven),
        ImageInput::file(&mask),
        "a red door",
    )
    .model(Model::V3);
    let err = refused(client.edit(&edit).await.unwrap_err());
    assert_eq!(err.field, "image", "{err}");
    assert!(err.message.contains("at most 10 MB is accepted"), "{err}");
    assert_eq!(mock.ledger().entries.len(), 1, "nothing more was billed");

    // The mock holds a body sent past the client to the same sizes.
    let form = ideogram_raw::multipart::Form::new()
        .text("prompt", "the lighthouse")
        .file(
            "images",
            &ideogram_raw::multipart::FilePart::new(large_bytes, "large.png", "image/png"),
        )
        .unwrap();
    let url = format!("{}/v2/image/generate/ideogram-4-5", mock.api_url());
    let answer = form
        .apply(reqwest::Client::new().post(url))
        .header("Api-Key", mock.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let text = answer.text().await.unwrap();
    assert!(text.contains("images: larger than 25 MB"), "{text}");
    assert_eq!(
        mock.ledger().entries.len(),
        1,
        "the mock billed nothing more"
    );
}

/// With a mask, Ideogram 4.5's generate takes at most 3 images besides the
/// first, and its precise edit at most 3 references (the model's pages):
/// one more is refused before sending, naming the field and its limit;
/// the limit itself is sent.
#[tokio::test]
async fn with_a_mask_4_5_takes_at_most_3_more_images_and_one_more_is_refused_unsent() {
    use common::{CaptureServer, client, ideogram_answer};
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/a.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, palette: Vec<[u8; 3]>| {
        let spec = ImageSpec {
            width: 64,
            height: 64,
            seed: 1,
            palette,
            transparent: false,
        };
        let path = dir.path().join(name);
        std::fs::write(&path, spec.png()).unwrap();
        path.display().to_string()
    };
    let mask = write("mask.png", vec![[0, 0, 0], [255, 255, 255]]);
    let images: Vec<String> = (0..5).map(|i| write(&format!("{i}.png"), vec![])).collect();

    let generate = |n: usize| {
        GenerateRequest::new("a red door")
            .model(Model::V4_5)
            .set("images", &images[..n])
            .set("mask", &mask)
    };
    let err = client.generate(&generate(5)).await.unwrap_err();
    let Error::Validation(err) = err else {
        panic!("refused before sending: {err}")
    };
    assert_eq!(err.field, "images", "{err}");
    assert!(
        err.message
            .contains("holds 5 items; at most 4 are accepted with mask"),
        "{err}"
    );
    client.generate(&generate(4)).await.unwrap();

    let precise = |n: usize| {
        EditRequest::edit(
            ImageInput::file(&images[0]),
            ImageInput::file(&mask),
            "a red door",
        )
        .operation("post_precise_edit_v2_ideogram_4_5")
        .set("reference_images", &images[1..=n])
    };
    let err = client.edit(&precise(4)).await.unwrap_err();
    let Error::Validation(err) = err else {
        panic!("refused before sending: {err}")
    };
    assert_eq!(err.field, "reference_images", "{err}");
    assert!(
        err.message
            .contains("holds 4 items; at most 3 are accepted with mask"),
        "{err}"
    );
    client.edit(&precise(3)).await.unwrap();

    let sent: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        sent,
        [
            "/v2/image/generate/ideogram-4-5",
            "/v2/image/precise-edit/ideogram-4-5"
        ]
    );
}

#[tokio::test]
async fn on_4_5_size_source_and_quality_very_low_need_source_images_and_are_refused_unsent() {
    use common::{CaptureServer, client, ideogram_answer};
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/a.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("source.png");
    std::fs::write(&image, png(64, 64)).unwrap();
    let image = image.display().to_string();

    let request = |field: &str, value: &str| {
        GenerateRequest::new("a red door")
            .model(Model::V4_5)
            .set(field, value)
    };
    for (field, value) in [("size", "source"), ("quality", "very_low")] {
        let err = client.generate(&request(field, value)).await.unwrap_err();
        let Error::Validation(err) = err else {
            panic!("refused before sending: {err}")
        };
        assert_eq!(err.field, field, "{err}");
        assert!(err.message.contains("is accepted only with"), "{err}");
        // With a source image it is sent.
        let sourced = request(field, value).set("images", [&image]);
        client.generate(&sourced).await.unwrap();
    }
    // Other values need none.
    client.generate(&request("quality", "low")).await.unwrap();
    assert_eq!(
        server.requests().len(),
        3,
        "only the valid requests were sent"
    );
}

/// A v2 answer with neither images nor a generation id: the call may run
/// and bill unseen, so it is an error that says so, for a call waited on
/// and for one submitted; an id echoing the key is kept without it.
#[tokio::test]
async fn a_v2_answer_without_images_or_a_generation_id_is_an_error_that_may_have_billed() {
    use common::{Canned, CaptureServer, KEY, client};
    let server = CaptureServer::start(|request| {
        if request.path.contains("ideogram-4-5") {
            Canned::json(200, json!({"data": []}))
        } else {
            Canned::json(
                200,
                json!({"generation_id": format!("gen-{KEY}"), "data": []}),
            )
        }
    })
    .await;
    let client = client(Provider::Ideogram, &server);
    let request = GenerateRequest::new("a kite").model(Model::V4_5);
    let waited = client.generate(&request).await.unwrap_err();
    assert!(
        waited
            .to_string()
            .contains("without images or a generation id; it may run and bill"),
        "{waited}"
    );
    let submitted = client.submit(&request).await.unwrap_err();
    assert!(
        submitted
            .to_string()
            .contains("without a generation id; it may run and bill"),
        "{submitted}"
    );
    // An id holding the key: the job's id is kept, the key never.
    let job = client
        .submit(&GenerateRequest::new("a kite").model(Model::V4))
        .await
        .unwrap();
    assert!(!job.id().contains(KEY), "{}", job.id());
}
