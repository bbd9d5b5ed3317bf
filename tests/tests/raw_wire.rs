//! What the raw client puts on the wire, operation by operation, captured by a
//! loopback server: method, path, auth header and body are pinned by insta
//! snapshots so that every wire change shows up in review.

use ideogram_raw::answer::ErrorAnswer;
use ideogram_raw::auth::{ApiKey, Auth};
use ideogram_raw::multipart::FilePart;
use ideogram_raw::{QueueStatus, http, ideogram, segmind};
use serde_json::{Value, json};
use workspace_tests::{Canned, CaptureServer, Captured};

const KEY: &str = "test-key-0123";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0fake-jpeg-bytes";

fn segmind_client(server: &CaptureServer) -> segmind::Client {
    segmind::Client::new_with_client(
        &server.base_url(),
        http::client().expect("http client"),
        Auth::segmind(ApiKey::new(KEY)),
    )
}

fn ideogram_client(base_url: &str, auth: Auth) -> ideogram::Client {
    ideogram::Client::new_with_client(base_url, http::client().expect("http client"), auth)
}

/// The auth header carried the key, and nothing else did.
fn assert_key_sent(request: &Captured, header: &str, value: &str) {
    assert_eq!(
        request.header(header),
        Some(value),
        "{header} on {}",
        request.path
    );
    for (name, v) in &request.headers {
        if name.as_str() != header {
            assert!(
                !v.as_bytes().windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                "key leaked in {name}"
            );
        }
    }
}

fn txt2img_body() -> Value {
    json!({
        "prompt": "A neon sign that says \"open late\", rainy street at night",
        "negative_prompt": "low quality, blurry",
        "magic_prompt_option": "OFF",
        "resolution": "RESOLUTION_1280_768",
        "seed": 56698,
        "style_type": "DESIGN",
        "color_palette": {"members": [
            {"color_hex": "#ff5500", "color_weight": 0.6},
            {"color_hex": "#0af", "color_weight": 0.4}
        ]}
    })
}

fn txt2img_2a_body() -> Value {
    json!({
        "prompt": "Tiny chocolatiers crafting truffles, warm light",
        "magic_prompt_option": "AUTO",
        "resolution": "RESOLUTION_1024_1024",
        "seed": 100,
        "style_type": "REALISTIC"
    })
}

fn img2img_body(palette: bool) -> Value {
    let mut body = json!({
        "prompt": "The same street in watercolour",
        "image_file": "https://example.com/input.png",
        "image_weight": 75,
        "negative_prompt": "text",
        "magic_prompt_option": "ON",
        "resolution": "RESOLUTION_768_1344",
        "seed": 999999,
        "style_type": "ANIME"
    });
    if palette {
        body["color_palette"] = json!({"name": "ULTRAMARINE"});
    }
    body
}

/// The example a Segmind body schema carries in the spec.
fn spec_example(schema: &str) -> Value {
    ideogram_raw::schema::segmind()
        .get(schema)
        .unwrap_or_else(|| panic!("the spec has {schema}"))["example"]
        .clone()
}

/// Calls a model's v1 and v2 operations with the same JSON body, decoded into
/// the model's generated request type (so the type must accept it); returns
/// the v1 image bytes and the v2 queue answer.
macro_rules! v1_and_v2 {
    ($client:expr, $body:expr, $v1:ident, $v2:ident, $ty:ident) => {{
        let body: segmind::types::$ty = serde_json::from_value($body).expect("body fits the type");
        let image = $client
            .$v1()
            .body(body.clone())
            .send()
            .await
            .expect("v1 answers 200");
        let queued = $client.$v2().body(body).send().await.expect("v2 queues");
        (image, queued.into_inner())
    }};
}

#[tokio::test]
async fn segmind_model_operations_send_their_bodies_to_v1_and_v2() {
    let cases: [(&str, Value); 13] = [
        ("ideogram-txt-2-img", txt2img_body()),
        ("ideogram-turbo-txt-2-img", txt2img_body()),
        ("ideogram-2a-txt-2-img", txt2img_2a_body()),
        ("ideogram-2a-img-2-img", img2img_body(false)),
        ("ideogram-img-2-img", img2img_body(true)),
        ("ideogram-turbo-img-2-img", img2img_body(true)),
        ("ideogram-3", spec_example("Ideogram3Request")),
        ("ideogram-3-remix", spec_example("Ideogram3RemixRequest")),
        (
            "ideogram-3-reframe",
            spec_example("Ideogram3ReframeRequest"),
        ),
        (
            "ideogram-3-replace-background",
            spec_example("Ideogram3ReplaceBackgroundRequest"),
        ),
        (
            "ideogram-character",
            spec_example("IdeogramCharacterRequest"),
        ),
        ("ideogram-describe", spec_example("IdeogramDescribeRequest")),
        // Every field the body defaults is written out: the generated type
        // sends its defaults.
        (
            "ideogram-4",
            json!({
                "prompt": "A lighthouse at dawn, travel poster",
                "image_size": "landscape_16_9",
                "rendering_speed": "TURBO",
                "num_images": 2,
                "enable_prompt_expansion": false,
                "output_format": "png",
                "seed": 2_000_000_000,
                "enable_safety_checker": true,
            }),
        ),
    ];
    for (slug, body) in cases {
        let server = CaptureServer::start(|request| {
            if request.path.starts_with("/v1/") {
                Canned::bytes(200, "image/jpeg", JPEG).with_header("x-remaining-credits", "41.5")
            } else {
                Canned::json(
                    200,
                    json!({
                        "request_id": "req-42",
                        "status": "QUEUED",
                        "poll_url": "https://api.segmind.com/v1/requests/req-42",
                        "status_url": "https://api.segmind.com/v2/requests/req-42/status",
                        "response_url": "https://api.segmind.com/v2/requests/req-42",
                    }),
                )
            }
        })
        .await;
        let client = segmind_client(&server);
        let b = body.clone();
        let (image, queued) = match slug {
            "ideogram-txt-2-img" => {
                v1_and_v2!(
                    client,
                    b,
                    ideogram_txt_2_img,
                    submit_ideogram_txt_2_img,
                    IdeogramTxt2ImgRequest
                )
            }
            "ideogram-turbo-txt-2-img" => v1_and_v2!(
                client,
                b,
                ideogram_turbo_txt_2_img,
                submit_ideogram_turbo_txt_2_img,
                IdeogramTurboTxt2ImgRequest
            ),
            "ideogram-2a-txt-2-img" => {
                v1_and_v2!(
                    client,
                    b,
                    ideogram_2a_txt_2_img,
                    submit_ideogram_2a_txt_2_img,
                    Ideogram2aTxt2ImgRequest
                )
            }
            "ideogram-2a-img-2-img" => {
                v1_and_v2!(
                    client,
                    b,
                    ideogram_2a_img_2_img,
                    submit_ideogram_2a_img_2_img,
                    Ideogram2aImg2ImgRequest
                )
            }
            "ideogram-img-2-img" => {
                v1_and_v2!(
                    client,
                    b,
                    ideogram_img_2_img,
                    submit_ideogram_img_2_img,
                    IdeogramImg2ImgRequest
                )
            }
            "ideogram-turbo-img-2-img" => v1_and_v2!(
                client,
                b,
                ideogram_turbo_img_2_img,
                submit_ideogram_turbo_img_2_img,
                IdeogramTurboImg2ImgRequest
            ),
            "ideogram-3" => v1_and_v2!(client, b, ideogram_3, submit_ideogram_3, Ideogram3Request),
            "ideogram-3-remix" => v1_and_v2!(
                client,
                b,
                ideogram_3_remix,
                submit_ideogram_3_remix,
                Ideogram3RemixRequest
            ),
            "ideogram-3-reframe" => v1_and_v2!(
                client,
                b,
                ideogram_3_reframe,
                submit_ideogram_3_reframe,
                Ideogram3ReframeRequest
            ),
            "ideogram-3-replace-background" => v1_and_v2!(
                client,
                b,
                ideogram_3_replace_background,
                submit_ideogram_3_replace_background,
                Ideogram3ReplaceBackgroundRequest
            ),
            "ideogram-character" => v1_and_v2!(
                client,
                b,
                ideogram_character,
                submit_ideogram_character,
                IdeogramCharacterRequest
            ),
            "ideogram-describe" => v1_and_v2!(
                client,
                b,
                ideogram_describe,
                submit_ideogram_describe,
                IdeogramDescribeRequest
            ),
            "ideogram-4" => v1_and_v2!(client, b, ideogram_4, submit_ideogram_4, Ideogram4Request),
            _ => unreachable!(),
        };
        // v1: the image's bytes and the service's headers come through.
        assert_eq!(image.headers()["x-remaining-credits"], "41.5");
        assert_eq!(image.headers()["content-type"], "image/jpeg");
        assert_eq!(collect(image.into_inner()).await, JPEG, "{slug}");
        // v2: the queue answer decodes.
        assert_eq!(queued.request_id, "req-42");
        assert_eq!(queued.status, Some(QueueStatus::Queued));

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        for (request, version) in requests.iter().zip(["v1", "v2"]) {
            assert_eq!(request.path, format!("/{version}/{slug}"));
            assert_key_sent(request, "x-api-key", KEY);
            // The body on the wire is exactly the body given, nothing dropped or added.
            assert_eq!(
                serde_json::from_slice::<Value>(&request.body).unwrap(),
                body,
                "{slug}"
            );
            insta::assert_json_snapshot!(
                format!("segmind_{version}_{slug}"),
                request.wire_record()
            );
        }
    }
}

async fn collect(stream: segmind::ByteStream) -> Vec<u8> {
    use futures::TryStreamExt as _;
    let mut stream = stream.into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.try_next().await.expect("body chunk") {
        out.extend_from_slice(&chunk);
    }
    out
}

#[tokio::test]
async fn segmind_queue_status_and_result_decode_every_documented_answer() {
    let server = CaptureServer::start(|request| match request.path.as_str() {
        "/v2/requests/req-1/status" => {
            Canned::json(200, json!({"request_id": "req-1", "status": "PROCESSING", "metrics": {}}))
        }
        "/v2/requests/req-1" => Canned::json(
            200,
            json!({"request_id": "req-1", "status": "COMPLETED",
                   "output": "https://cdn.example/req-1.jpeg", "metrics": {"inference_time": 13.06}}),
        ),
        "/v2/requests/req-2/status" => {
            Canned::json(200, json!({"request_id": "req-2", "status": "CANCELLED_BY_OPERATOR"}))
        }
        "/v2/requests/failed/status" | "/v2/requests/failed" => Canned::json(
            422,
            json!({"status": "FAILED", "error": "blocked by safety filter", "metrics": {"inference_time": 2.4}}),
        ),
        _ => Canned::json(404, json!({"error": format!("Request {} not found", request.path)})),
    })
    .await;
    let client = segmind_client(&server);

    let status = client
        .get_request_status()
        .request_id("req-1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status, QueueStatus::Processing);
    let result = client
        .get_request_result()
        .request_id("req-1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result.status, QueueStatus::Completed);
    assert_eq!(
        result.output.as_ref().and_then(|o| o.as_str()),
        Some("https://cdn.example/req-1.jpeg")
    );
    assert_eq!(result.metrics.unwrap().inference_time, Some(13.06));

    // A state added later decodes instead of failing.
    let status = client
        .get_request_status()
        .request_id("req-2")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        QueueStatus::Other("CANCELLED_BY_OPERATOR".into())
    );

    // FAILED is served as 422 on both GETs, with the reason.
    for path in ["status", "result"] {
        let err = if path == "status" {
            client
                .get_request_status()
                .request_id("failed")
                .send()
                .await
                .unwrap_err()
        } else {
            client
                .get_request_result()
                .request_id("failed")
                .send()
                .await
                .unwrap_err()
        };
        let ideogram_raw::segmind::Error::ErrorResponse(answer) = err else {
            panic!("expected a documented error, got {err:?}");
        };
        // Error answers come unread; read, they decode as the spec's ErrorBody.
        let answer = ErrorAnswer::read(answer).await;
        assert_eq!(answer.status.as_u16(), 422);
        let body: ideogram_raw::segmind::types::ErrorBody =
            serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body.status, Some(QueueStatus::Failed));
        assert_eq!(body.error, "blocked by safety filter");
        assert_eq!(answer.message(), "blocked by safety filter");
    }

    // Unknown or expired ids answer 404 with the id in the text.
    let err = client
        .get_request_status()
        .request_id("gone")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));

    let requests = server.requests();
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_key_sent(request, "x-api-key", KEY);
        assert!(request.body.is_empty());
    }
    let records: Vec<Value> = requests.iter().take(2).map(Captured::wire_record).collect();
    insta::assert_json_snapshot!("segmind_queue_gets", records);
}

#[tokio::test]
async fn segmind_request_ids_are_percent_encoded_into_the_path() {
    let server = CaptureServer::start(|_| Canned::json(200, json!({"status": "QUEUED"}))).await;
    segmind_client(&server)
        .get_request_status()
        .request_id("a/b c")
        .send()
        .await
        .unwrap();
    assert_eq!(
        server.single_request().path,
        "/v2/requests/a%2Fb%20c/status"
    );
}

fn generated_answer(urls: Value) -> Canned {
    Canned::json(
        200,
        json!({
            "created": "2026-11-01T04:56:07+00:00",
            "data": [
                {"url": urls, "prompt": "rewritten prompt", "resolution": "1024x1024",
                 "is_image_safe": true, "seed": 12345, "style_type": "REALISTIC"},
                {"url": null, "prompt": "rewritten prompt", "resolution": "1024x1024",
                 "is_image_safe": false, "seed": 12346}
            ]
        }),
    )
}

#[tokio::test]
async fn ideogram_generate_sends_the_image_request_with_api_key() {
    let server =
        CaptureServer::start(|_| generated_answer(json!("https://cdn.example/a.png"))).await;
    let client = ideogram_client(&server.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    let body: ideogram::types::GenerateImageRequest = serde_json::from_value(json!({
        "image_request": {
            "prompt": "A serene tropical beach at sunset",
            "model": "V_2_TURBO",
            "aspect_ratio": "ASPECT_16_9",
            "magic_prompt_option": "AUTO",
            "magic_prompt_version": "V_0_3",
            "seed": 2147483647,
            "style_type": "REALISTIC",
            "negative_prompt": "brush strokes",
            "num_images": 2,
            "color_palette": {"name": "PASTEL"}
        }
    }))
    .unwrap();
    let answer = client
        .post_generate_image()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.data.len(), 2);
    assert_eq!(
        answer.data[0].url.as_deref(),
        Some("https://cdn.example/a.png")
    );
    assert!(!answer.data[1].is_image_safe && answer.data[1].url.is_none());
    assert_eq!(answer.data[1].seed, 12346);

    let request = server.single_request();
    assert_key_sent(&request, "api-key", KEY);
    insta::assert_json_snapshot!("ideogram_generate", request.wire_record());
}

#[tokio::test]
async fn ideogram_v3_generate_sends_json() {
    let server =
        CaptureServer::start(|_| generated_answer(json!("https://cdn.example/v3.png"))).await;
    let client = ideogram_client(&server.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    let body: ideogram::types::GenerateImageRequestV3 = serde_json::from_value(json!({
        "prompt": "A photo of a cat sleeping on a couch",
        "resolution": "1280x800",
        "rendering_speed": "TURBO",
        "magic_prompt": "OFF",
        "num_images": 1,
        "style_codes": ["AAFF5733"],
        "color_palette": {"members": [{"color_hex": "#112233"}]},
        "seed": 0
    }))
    .unwrap();
    let answer = client
        .post_generate_image_v3()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.data[0].resolution, "1024x1024");

    let request = server.single_request();
    assert_key_sent(&request, "api-key", KEY);
    insta::assert_json_snapshot!("ideogram_v3_generate", request.wire_record());
}

#[tokio::test]
async fn ideogram_remix_sends_multipart_through_the_hooks() {
    let server =
        CaptureServer::start(|_| generated_answer(json!("https://cdn.example/remix.png"))).await;
    let client = ideogram_client(&server.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    let request = ideogram::types::InitialImageRequest::builder()
        .prompt(
            "the same beach in watercolour"
                .parse::<ideogram::types::Prompt>()
                .unwrap(),
        )
        .model(ideogram::types::ModelEnum::V2)
        .aspect_ratio(ideogram::types::AspectRatio::Aspect11)
        .image_weight(60);
    let answer = client
        .post_remix_image()
        .body(
            ideogram::types::RemixImageRequest::builder()
                .image_request(request)
                .image_file(FilePart::new(&b"PNG-BYTES"[..], "input.png", "image/png")),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.data[0].url.as_deref(),
        Some("https://cdn.example/remix.png")
    );

    let request = server.single_request();
    assert_key_sent(&request, "api-key", KEY);
    insta::assert_json_snapshot!("ideogram_remix", request.wire_record());
}

#[tokio::test]
async fn multipart_file_names_cannot_break_their_header() {
    let server =
        CaptureServer::start(|_| generated_answer(json!("https://cdn.example/remix.png"))).await;
    let client = ideogram_client(&server.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    let request = ideogram::types::InitialImageRequest::builder()
        .prompt("x".parse::<ideogram::types::Prompt>().unwrap());
    client
        .post_remix_image()
        .body(
            ideogram::types::RemixImageRequest::builder()
                .image_request(request)
                .image_file(FilePart::new(
                    &b"PNG-BYTES"[..],
                    "../a\"b\r\nX-Injected: 1\u{200b}.png",
                    "image/png",
                )),
        )
        .send()
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&server.single_request().body).into_owned();
    let disposition = body
        .lines()
        .find(|l| l.contains("name=\"image_file\""))
        .expect("the image part");
    assert_eq!(
        disposition,
        r#"Content-Disposition: form-data; name="image_file"; filename="..a\"bX-Injected: 1.png""#
    );
    assert!(!body.lines().any(|l| l.starts_with("X-Injected")), "{body}");
}

#[tokio::test]
async fn ideogram_remix_maps_documented_errors_and_needs_both_parts() {
    let server = CaptureServer::start(|_| {
        Canned::json(422, json!({"error": "Provided image failed safety check."}))
    })
    .await;
    let client = ideogram_client(&server.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    let request = ideogram::types::InitialImageRequest::builder()
        .prompt("x".parse::<ideogram::types::Prompt>().unwrap());
    let err = client
        .post_remix_image()
        .body_map(|b| {
            b.image_request(request.clone()).image_file(FilePart::new(
                &b"JPEG"[..],
                "in.jpg",
                "image/jpeg",
            ))
        })
        .send()
        .await
        .unwrap_err();
    let ideogram::Error::ErrorResponse(answer) = err else {
        panic!("{err:?}")
    };
    let answer = ErrorAnswer::read(answer).await;
    assert_eq!(answer.status.as_u16(), 422);
    assert_eq!(answer.message(), "Provided image failed safety check.");

    // Missing the image: refused before anything is sent.
    let err = client
        .post_remix_image()
        .body_map(|b| b.image_request(request))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ideogram::Error::InvalidRequest(ref m) if m.contains("image_file")),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn gateways_get_a_bearer_token_under_their_own_base_path() {
    let server =
        CaptureServer::start(|_| generated_answer(json!("https://cdn.example/g.png"))).await;
    let base = format!("{}/ideogram", server.base_url());
    let client = ideogram_client(&base, Auth::bearer(ApiKey::new(KEY)));
    let body: ideogram::types::GenerateImageRequest =
        serde_json::from_value(json!({"image_request": {"prompt": "a cat"}})).unwrap();
    client
        .post_generate_image()
        .body(body)
        .send()
        .await
        .unwrap();

    let request = server.single_request();
    assert_eq!(request.path, "/ideogram/generate");
    assert_key_sent(&request, "authorization", &format!("Bearer {KEY}"));
    assert!(request.header("api-key").is_none());
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed_with_the_key() {
    let elsewhere = CaptureServer::start(|_| generated_answer(json!(null))).await;
    let target = format!("{}/generate", elsewhere.base_url());
    let api = CaptureServer::start(move |_| {
        Canned::json(307, json!({})).with_header("location", &target)
    })
    .await;
    let client = ideogram_client(&api.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    let body: ideogram::types::GenerateImageRequest =
        serde_json::from_value(json!({"image_request": {"prompt": "a cat"}})).unwrap();
    let err = client
        .post_generate_image()
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    assert!(
        elsewhere.requests().is_empty(),
        "the other origin was contacted"
    );
}

#[tokio::test]
async fn redirects_within_the_origin_keep_the_key() {
    let api = CaptureServer::start(|request| {
        if request.path == "/v2/requests/r/status" {
            Canned::json(302, json!({})).with_header("location", "/v2/requests/moved/status")
        } else {
            Canned::json(200, json!({"status": "COMPLETED"}))
        }
    })
    .await;
    let status = segmind_client(&api)
        .get_request_status()
        .request_id("r")
        .send()
        .await
        .unwrap();
    assert_eq!(status.status, QueueStatus::Completed);
    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    assert_key_sent(&requests[1], "x-api-key", KEY);
}

#[test]
fn request_types_reject_what_their_model_does_not_take() {
    use segmind::types::{Ideogram2aTxt2ImgRequest, IdeogramTxt2ImgRequest};
    // 2a takes no palette and no negative prompt: unknown fields are refused.
    for extra in [
        json!({"color_palette": {"name": "EMBER"}}),
        json!({"negative_prompt": "x"}),
    ] {
        let mut body = json!({"prompt": "a cat"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert!(serde_json::from_value::<Ideogram2aTxt2ImgRequest>(body).is_err());
    }
    // Patterns and enums from the spec are enforced by the types.
    let bad_hex = json!({"prompt": "a", "color_palette": {"members": [{"color_hex": "#12345"}]}});
    assert!(serde_json::from_value::<IdeogramTxt2ImgRequest>(bad_hex).is_err());
    let bad_resolution = json!({"prompt": "a", "resolution": "RESOLUTION_1000_1000"});
    assert!(serde_json::from_value::<IdeogramTxt2ImgRequest>(bad_resolution).is_err());
    assert!("".parse::<segmind::types::Prompt>().is_err());
}

#[test]
fn request_types_publish_their_json_schema() {
    let schema = schemars::schema_for!(segmind::types::IdeogramTxt2ImgRequest);
    let text = serde_json::to_string(&schema).unwrap();
    for needle in [
        "prompt",
        "color_palette",
        "RESOLUTION_1024_1024",
        "additionalProperties",
    ] {
        assert!(text.contains(needle), "{needle} missing from the schema");
    }
}

#[tokio::test]
async fn every_kind_of_part_goes_as_the_spec_describes() {
    use ideogram_raw::multipart::{Form, file_parts, value_part};
    let server = CaptureServer::start(|_| Canned::json(200, json!({}))).await;
    let png = FilePart::new(&b"PNG"[..], "a.png", "image/png");
    let jpeg = FilePart::new(&b"JPEG"[..], "b \"q\".jpg", "image/jpeg");
    let form = Form::new();
    let form = value_part(form, "prompt", &"a fox", false).unwrap();
    let form = value_part(form, "seed", &Some(7), false).unwrap();
    let form = value_part(form, "absent", &None::<String>, false).unwrap();
    let form = value_part(form, "unset_map", &serde_json::Map::new(), true).unwrap();
    let form = value_part(form, "style_codes", &["AAAAAAAA", "BBBBBBBB"], false).unwrap();
    let form = value_part(form, "color_palette", &json!({"name": "EMBER"}), false).unwrap();
    let form = value_part(form, "forced_json", &"text", true).unwrap();
    let form = file_parts(form, "image", &png).unwrap();
    let form = file_parts(form, "references", &vec![png.clone(), jpeg]).unwrap();
    let form = file_parts(form, "mask", &None::<FilePart>).unwrap();
    form.apply(reqwest::Client::new().post(format!("{}/parts", server.base_url())))
        .send()
        .await
        .unwrap();
    let record = server.single_request().wire_record();
    let parts: Vec<Value> = record["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| {
            json!([
                part["name"],
                part["content_type"],
                part["filename"],
                part["content"]
            ])
        })
        .collect();
    assert_eq!(
        parts,
        [
            json!(["prompt", null, null, "a fox"]),
            // The capture reads a part's text as JSON where it parses.
            json!(["seed", null, null, 7]),
            json!(["style_codes", null, null, "AAAAAAAA"]),
            json!(["style_codes", null, null, "BBBBBBBB"]),
            json!(["color_palette", "application/json", null, {"name": "EMBER"}]),
            json!(["forced_json", "application/json", null, "text"]),
            json!(["image", "image/png", "a.png", "PNG"]),
            json!(["references", "image/png", "a.png", "PNG"]),
            // Quoted and escaped in its Content-Disposition, as on the wire.
            json!(["references", "image/jpeg", r#"b \"q\".jpg"#, "JPEG"]),
        ]
    );
}

/// Sends one multipart operation with the builder `call` makes, and returns
/// its wire record.
async fn multipart_wire<F, Fut, T>(answer: Value, call: F) -> Value
where
    F: FnOnce(ideogram::Client) -> Fut,
    Fut: std::future::Future<Output = Result<T, ideogram::Error<ideogram_raw::ideogram::ByteStream>>>,
    T: std::fmt::Debug,
{
    let server = CaptureServer::start(move |_| Canned::json(200, answer.clone())).await;
    let client = ideogram_client(&server.base_url(), Auth::ideogram(ApiKey::new(KEY)));
    call(client).await.expect("the call succeeds");
    let request = server.single_request();
    assert_key_sent(&request, "api-key", KEY);
    request.wire_record()
}

#[tokio::test]
async fn ideogram_v3_multipart_operations_send_every_part_as_the_spec_says() {
    use ideogram::types::{
        ColorPalette, DescribeRequest, EditImageRequestV3, GenerateImageRequestV3Multipart,
        GenerateTransparentImageRequestV3, ReframeImageRequestV3, RemixImageRequestV3,
        ReplaceBackgroundRequestV3,
    };
    let image = || FilePart::new(&b"\x89PNG-image"[..], "photo.png", "image/png");
    let mask = || FilePart::new(&b"\x89PNG-mask"[..], "mask.png", "image/png");
    let style = |n: u8| FilePart::new(vec![b'S', n], format!("style{n}.jpg"), "image/jpeg");
    let palette: ColorPalette = serde_json::from_value(json!({"name": "EMBER"})).unwrap();
    let images = json!({
        "created": "2026-11-01T04:56:07+00:00",
        "data": [{"url": "https://cdn.example/a.png", "prompt": "p", "resolution": "1024x1024",
                  "upscaled_resolution": "2048x2048", "is_image_safe": true, "seed": 1}]
    });

    let edit = multipart_wire(images.clone(), |c| async move {
        c.post_edit_image_v3()
            .body(
                EditImageRequestV3::builder()
                    .image(image())
                    .mask(mask())
                    .prompt("a red door".parse::<ideogram::types::Prompt>().unwrap())
                    .num_images(Some(std::num::NonZeroU32::new(2).unwrap().into()))
                    .color_palette(Some(palette.clone()))
                    .style_reference_images(vec![style(1), style(2)])
                    .rendering_speed(Some(ideogram::types::RenderingSpeed::Turbo)),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_edit", edit);

    let remix = multipart_wire(images.clone(), |c| async move {
        c.post_remix_image_v3()
            .body(
                RemixImageRequestV3::builder()
                    .image(image())
                    .prompt("at night".parse::<ideogram::types::Prompt>().unwrap())
                    .image_weight(std::num::NonZeroU32::new(70).unwrap())
                    .style_codes(Some(
                        serde_json::from_value(json!(["AAFF5733", "0133FF57"])).unwrap(),
                    ))
                    .aspect_ratio(Some(ideogram::types::AspectRatioV3::X16x9)),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_remix", remix);

    let reframe = multipart_wire(images.clone(), |c| async move {
        c.post_reframe_image_v3()
            .body(
                ReframeImageRequestV3::builder()
                    .image(image())
                    .resolution(ideogram::types::ResolutionV3::X1280x800)
                    .seed(Some(7.into())),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_reframe", reframe);

    let background = multipart_wire(images.clone(), |c| async move {
        c.post_replace_background_v3()
            .body(
                ReplaceBackgroundRequestV3::builder()
                    .image(image())
                    .prompt("a beach".parse::<ideogram::types::Prompt>().unwrap())
                    .magic_prompt(Some(ideogram::types::MagicPromptOption::Off)),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_replace_background", background);

    let generate = multipart_wire(images.clone(), |c| async move {
        c.post_generate_image_v3_multipart()
            .body(
                GenerateImageRequestV3Multipart::builder()
                    .prompt("a knight".parse::<ideogram::types::Prompt>().unwrap())
                    .character_reference_images(vec![image()])
                    .character_reference_images_mask(vec![mask()])
                    .style_type(Some(ideogram::types::StyleTypeV3::Fiction)),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_generate_multipart", generate);

    let transparent = multipart_wire(images.clone(), |c| async move {
        c.post_generate_image_v3_transparent_multipart()
            .body(
                GenerateTransparentImageRequestV3::builder()
                    .prompt("a lantern".parse::<ideogram::types::Prompt>().unwrap())
                    .upscale_factor(Some(ideogram::types::UpscaleFactor::X2)),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_transparent_multipart", transparent);

    let describe = multipart_wire(
        json!({"descriptions": [{"text": "a cat"}]}),
        |c| async move {
            c.post_describe()
                .body(
                    DescribeRequest::builder()
                        .image_file(image())
                        .describe_model_version(Some(ideogram::types::DescribeModelVersion::V3)),
                )
                .send()
                .await
        },
    )
    .await;
    insta::assert_json_snapshot!("ideogram_describe", describe);

    let upscale = multipart_wire(images.clone(), |c| async move {
        c.post_upscale_image()
            .body(
                ideogram::types::UpscaleImageRequest::builder()
                    .image_file(image())
                    .image_request(
                        ideogram::types::UpscaleInitialImageRequest::builder()
                            .resemblance(std::num::NonZeroU32::new(70).unwrap())
                            .detail(std::num::NonZeroU32::new(30).unwrap()),
                    ),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_upscale", upscale);

    let layers = json!({
        "base_image_url": "https://cdn.example/base.png", "original_image_url": null,
        "text_blocks": [{"x": 1, "y": 2, "width": 3, "height": 4, "text": "HI",
                         "alignment": "center", "formatting": ["bold"], "role": "heading"}],
        "seed": 5
    });
    let layerize = multipart_wire(layers, |c| async move {
        c.post_layerize_text_v3()
            .body(
                ideogram::types::LayerizeTextRequest::builder()
                    .image(image())
                    .seed(Some(5.into())),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v3_layerize_text", layerize);

    let v4 = multipart_wire(images.clone(), |c| async move {
        c.post_generate_image_v4_multipart()
            .body(
                ideogram::types::GenerateImageRequestV4::builder()
                    .prompt(Some("a lighthouse".parse().unwrap()))
                    .magic_prompt_option(Some(ideogram::types::MagicPromptOption::On)),
            )
            .send()
            .await
    })
    .await;
    // The shape of Ideogram's published document; the live one
    // (`text_prompt`, `json_prompt`) is served by the mock too and checked
    // in tests/python/mock_conformance.py.
    insta::assert_json_snapshot!("ideogram_v4_generate_multipart", v4);

    let v4 = multipart_wire(images.clone(), |c| async move {
        c.post_generate_image_v4()
            .body(
                ideogram::types::GenerateImageRequestV4::builder()
                    .prompt(Some("a lighthouse".parse().unwrap()))
                    .seed(Some(7)),
            )
            .send()
            .await
    })
    .await;
    insta::assert_json_snapshot!("ideogram_v4_generate", v4);
}
