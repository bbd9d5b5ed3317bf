//! What the facade sends for Ideogram 3.0's operations on an uploaded
//! image and for describe: the wire of each, pinned by snapshots that
//! `tests/python/official_wire.py` also holds against Ideogram's own
//! document.

mod common;

use common::{CaptureServer, JPEG, KEY, PNG, client, ideogram_answer};
use ideogram::{EditRequest, ImageInput, Provider, RenderingSpeed, Resolution};
use workspace_tests::Canned;

#[tokio::test]
async fn each_operation_sends_its_multipart_body() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/e.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let image = || ImageInput::bytes(PNG);
    let requests = [
        // A JPEG mask: its pixels are not decoded (a PNG's must be gray).
        EditRequest::edit(image(), ImageInput::bytes(JPEG), "a red door")
            .num_images(2)
            .rendering_speed(RenderingSpeed::Quality)
            .palette(ideogram::PalettePreset::Ember)
            .style_reference(image()),
        EditRequest::reframe(image(), "1280x800".parse::<Resolution>().unwrap()).seed(7),
        EditRequest::replace_background(image(), "a beach at noon")
            .magic_prompt(ideogram::MagicPrompt::Off),
        EditRequest::new(
            image(),
            ideogram::EditKind::Upscale {
                prompt: Some("a harbour".into()),
                resemblance: Some(70),
                detail: Some(30),
            },
        )
        .magic_prompt(ideogram::MagicPrompt::On),
    ];
    for request in &requests {
        client.edit(request).await.unwrap();
    }
    let sent = server.requests();
    for (request, captured) in requests.iter().zip(&sent) {
        assert_eq!(captured.header("api-key"), Some(KEY));
        insta::assert_json_snapshot!(
            format!("ideogram_{}", request.kind().name().replace('-', "_")),
            captured.wire_record()
        );
    }
}

#[tokio::test]
async fn segmind_serves_reframe_replace_background_and_describe() {
    use common::{body, segmind_image};
    let server = CaptureServer::start(|request| {
        if request.path == "/v1/ideogram-describe" {
            Canned::bytes(200, "text/plain; charset=utf-8", b"A cat on a mat.\n")
        } else {
            segmind_image()
        }
    })
    .await;
    let client = client(Provider::Segmind, &server);
    let image = || ImageInput::bytes(PNG);
    let reframe = EditRequest::reframe(image(), "1280x800".parse::<Resolution>().unwrap())
        .seed(700)
        .rendering_speed(RenderingSpeed::Turbo);
    let generation = client.edit(&reframe).await.unwrap();
    assert_eq!(generation.provider, Provider::Segmind);
    let background = EditRequest::replace_background(image(), "a beach at noon")
        .magic_prompt(ideogram::MagicPrompt::Off)
        .style_reference(image());
    client.edit(&background).await.unwrap();
    // Plain text is not the JSON the spec promises: billed, but an error.
    let err = client.describe(&image()).await.unwrap_err();
    assert!(err.to_string().contains("billed"), "{err}");
    // What Segmind does not serve is refused, naming where it runs.
    let err = client
        .edit(&EditRequest::edit(image(), image(), "a red door"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("edit runs on ideogram only"),
        "{err}"
    );

    let sent = server.requests();
    let paths: Vec<_> = sent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/ideogram-3-reframe",
            "/v1/ideogram-3-replace-background",
            "/v1/ideogram-describe"
        ]
    );
    for captured in &sent {
        assert_eq!(captured.header("x-api-key"), Some(KEY));
        let mut sent = body(captured);
        for field in ["image", "image_file"] {
            if sent.get(field).is_some() {
                sent[field] = "<base64>".into();
            }
        }
        if sent.get("style_reference_images").is_some() {
            sent["style_reference_images"] = serde_json::json!(["<base64>"]);
        }
        insta::assert_json_snapshot!(format!("segmind{}", captured.path.replace('/', "_")), sent);
    }
}

#[tokio::test]
async fn describe_sends_the_image_and_reads_the_words() {
    let server = CaptureServer::start(|_| {
        Canned::json(
            200,
            serde_json::json!({"descriptions": [{"text": "a cat"}, {"text": "a feline"}]}),
        )
    })
    .await;
    let texts = client(Provider::Ideogram, &server)
        .describe(&ImageInput::bytes(PNG))
        .await
        .unwrap();
    assert_eq!(texts, ["a cat", "a feline"]);
    insta::assert_json_snapshot!("ideogram_describe", server.single_request().wire_record());
}

#[tokio::test]
async fn layerize_text_sends_the_image_and_reads_the_blocks() {
    let server = CaptureServer::start(|_| {
        Canned::json(
            200,
            serde_json::json!({
                "base_image_url": "https://cdn.example/base.png", "original_image_url": null,
                "text_blocks": [{"x": 1, "y": 2, "width": 30, "height": 8, "text": "OPEN",
                                 "alignment": "center", "formatting": ["bold", KEY], "role": "heading",
                                 "font_name": format!("echo {KEY}")}],
                "seed": 9
            }),
        )
    })
    .await;
    let layers = client(Provider::Ideogram, &server)
        .layerize_text(&ImageInput::bytes(PNG), Some("a shop sign"))
        .await
        .unwrap();
    let ideogram::TextBlocks::V1(blocks) = &layers.blocks else {
        panic!("v1's blocks: {:?}", layers.blocks);
    };
    assert_eq!((blocks[0].text.as_str(), layers.seed), ("OPEN", 9));
    // Every word the server sent back is repeated without the key.
    let repeated = format!("{:?}", layers.blocks);
    assert!(!repeated.contains(KEY), "{repeated}");
    insta::assert_json_snapshot!(
        "ideogram_layerize_text",
        server.single_request().wire_record()
    );
}

/// v2's design layerize takes a `prompt` and a `seed`
/// (`LayerizeDesignIdeogramV3Request` of Ideogram's OpenAPI of 2026-10-07);
/// the spec once listed neither, so a prompted layerize never ran on v2 and
/// one pinned there was refused before sending.
#[tokio::test]
async fn a_v2_layerize_sends_its_prompt_and_seed() {
    let server = CaptureServer::start(|_| {
        Canned::json(
            200,
            serde_json::json!({
                "generation_id": "gen-1", "seed": 9,
                "data": [{"object_type": "layerized_image", "url": "https://cdn.example/d.png",
                          "base_image_url": "https://cdn.example/b.png", "resolution": "64x64",
                          "is_image_safe": true, "seed": 9,
                          "text_blocks": [{"text": "OPEN", "x": 1, "y": 2, "width": 30}]}]
            }),
        )
    })
    .await;
    let request = ideogram::LayerizeRequest::new(ImageInput::bytes(PNG))
        .prompt("a shop sign")
        .set("seed", 7)
        .operation("post_layerize_v2_ideogram_3");
    let layers = client(Provider::Ideogram, &server)
        .layerize(&request)
        .await
        .unwrap();
    assert!(matches!(&layers.blocks, ideogram::TextBlocks::V2(blocks) if blocks[0].text == "OPEN"));
    insta::assert_json_snapshot!(
        "ideogram_v2_layerize",
        server.single_request().wire_record()
    );
}

/// v2's remove-object takes a `seed` (`RemoveObjectFromV2AssetsRequest` of
/// Ideogram's OpenAPI of 2026-10-07); the spec once listed none, so a
/// seeded removal was refused before sending.
#[tokio::test]
async fn a_remove_object_takes_its_seed() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/e.png"])).await;
    let client = client(Provider::Ideogram, &server);
    // A JPEG mask: its pixels are not decoded (a PNG's must be gray).
    let request =
        EditRequest::remove_object(ImageInput::bytes(PNG), ImageInput::bytes(JPEG)).set("seed", 7);
    let prepared = client.prepare_edit(&request).await.unwrap();
    assert_eq!(prepared.wire().operation().id, "post_remove_object_v2");
    assert_eq!(prepared.wire().body()["seed"], 7);
    assert!(server.requests().is_empty(), "prepared, not sent");
}

/// A field of an edit's spec body with no setter on the facade is reached
/// by its spec name or through the body, sent, and checked against the spec
/// first.
#[tokio::test]
async fn an_edit_field_with_no_setter_is_reached_by_its_spec_name() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/e.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let request = EditRequest::edit(
        ImageInput::bytes(PNG),
        ImageInput::bytes(JPEG),
        "a red door",
    );

    let coded = request.clone().set("style_codes", ["AAFF5733"]);
    let prepared = client.prepare_edit(&coded).await.unwrap();
    assert_eq!(prepared.wire().schema(), "EditImageRequestV3");
    prepared.generate().await.unwrap();
    let record = server.single_request().wire_record();
    assert!(record.to_string().contains("AAFF5733"), "{record}");

    let mut prepared = client.prepare_edit(&request).await.unwrap();
    prepared
        .wire_mut()
        .body_mut()
        .insert("seed".into(), (-1).into());
    let err = prepared.generate().await.unwrap_err();
    assert_eq!(err.to_string(), "invalid seed: -1 is below the minimum 0");
    assert_eq!(server.requests().len(), 1, "nothing more was sent");
}

/// What is set through `body_mut` is checked before a queue submit as
/// before a send, and a body of the other provider is an error, not a
/// panic: nothing is sent either way.
#[tokio::test]
async fn a_changed_edit_body_is_checked_before_it_is_queued() {
    let server = CaptureServer::start(|_| common::segmind_image()).await;
    let segmind = client(Provider::Segmind, &server);
    let ideogram = client(Provider::Ideogram, &server);
    let request = EditRequest::reframe(
        ImageInput::bytes(PNG),
        "1280x800".parse::<Resolution>().unwrap(),
    );

    let mut prepared = segmind.prepare_edit(&request).await.unwrap();
    assert_eq!(prepared.wire().schema(), "Ideogram3ReframeRequest");
    prepared
        .wire_mut()
        .body_mut()
        .insert("seed".into(), 5.into());
    let err = prepared.submit().await.unwrap_err();
    assert!(err.to_string().starts_with("invalid seed"), "{err}");

    let mut prepared = segmind.prepare_edit(&request).await.unwrap();
    let mut other = ideogram.prepare_edit(&request).await.unwrap();
    assert_eq!(other.wire().schema(), "ReframeImageRequestV3");
    std::mem::swap(prepared.wire_mut(), other.wire_mut());
    let err = prepared.generate().await.unwrap_err();
    assert!(
        err.to_string().contains("is not a body segmind takes"),
        "{err}"
    );
    let err = other.generate().await.unwrap_err();
    assert!(
        err.to_string().contains("is not a body ideogram takes"),
        "{err}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}
