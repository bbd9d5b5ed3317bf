//! Issue #24's symptoms, each a field or value the specs take that the
//! facade once could not send: now reached by the spec's field name (or an
//! ergonomic value) and routed to the body that takes it.

mod common;

use common::*;
use ideogram::{EditRequest, GenerateRequest, ImageInput, Model, Provider};
use serde_json::json;

/// The names of a multipart record's parts.
fn part_names(record: &serde_json::Value) -> Vec<String> {
    record["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn ideogram_3_remix_takes_style_and_character_references() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/r.png"])).await;
    let request = GenerateRequest::new("the same woman, in the rain")
        .model(Model::V3)
        .image(ImageInput::bytes(PNG))
        .style_reference(ImageInput::bytes(PNG))
        .character_reference(ImageInput::bytes(PNG), None);
    client(Provider::Ideogram, &server)
        .generate(&request)
        .await
        .unwrap();
    let sent = server.single_request();
    assert_eq!(sent.path, "/v1/ideogram-v3/remix");
    let names = part_names(&sent.wire_record());
    for field in [
        "image",
        "style_reference_images",
        "character_reference_images",
        "image_weight",
    ] {
        assert!(names.iter().any(|n| n == field), "{field}: {names:?}");
    }

    // Segmind's 3.0 remix takes style references in its JSON body.
    let segmind = CaptureServer::start(|_| segmind_image()).await;
    let request = GenerateRequest::new("the same harbour, in this style")
        .model(Model::V3)
        .image(ImageInput::bytes(PNG))
        .style_reference(ImageInput::bytes(PNG));
    client(Provider::Segmind, &segmind)
        .generate(&request)
        .await
        .unwrap();
    let sent = segmind.single_request();
    assert_eq!(sent.path, "/v1/ideogram-3-remix");
    let body = body(&sent);
    assert_eq!(
        body["style_reference_images"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn style_codes_and_every_version_field_are_reachable_by_name() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/c.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let coded = GenerateRequest::new("a poster")
        .model(Model::V3)
        .set("style_codes", ["AAFF5733", "0133FF57"]);
    client.generate(&coded).await.unwrap();
    let legacy = GenerateRequest::new("a poster")
        .model(Model::V2)
        .set("magic_prompt_version", "V_0");
    client.generate(&legacy).await.unwrap();
    let sent = server.requests();
    assert_eq!(
        body(&sent[0])["style_codes"],
        json!(["AAFF5733", "0133FF57"])
    );
    assert_eq!(
        body(&sent[1])["image_request"]["magic_prompt_version"],
        "V_0"
    );

    let describe = CaptureServer::start(|_| {
        Canned::json(200, json!({"descriptions": [{"text": "a poster"}]}))
    })
    .await;
    let words = common::client(Provider::Ideogram, &describe)
        .describe_with(
            &ImageInput::bytes(PNG),
            [("describe_model_version", json!("V_2"))],
        )
        .await
        .unwrap();
    assert_eq!(words, ["a poster"]);
    let record = describe.single_request().wire_record();
    assert!(record.to_string().contains("\"V_2\""), "{record}");
}

#[tokio::test]
async fn edit_takes_every_field_of_its_body() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/e.png"])).await;
    let request = EditRequest::edit(
        ImageInput::bytes(PNG),
        ImageInput::bytes(JPEG),
        "a red door",
    )
    .set("style_type", "DESIGN")
    .set("style_preset", "ART_DECO")
    .set("custom_model_uri", "model/doors/version/2")
    // An image field by its spec name: read and sent as a file.
    .set(
        "character_reference_images",
        [ImageInput::bytes(PNG).to_string()],
    );
    client(Provider::Ideogram, &server)
        .edit(&request)
        .await
        .unwrap();
    let record = server.single_request().wire_record();
    let names = part_names(&record);
    for field in [
        "style_type",
        "style_preset",
        "custom_model_uri",
        "character_reference_images",
    ] {
        assert!(names.iter().any(|n| n == field), "{field}: {names:?}");
    }
}

#[tokio::test]
async fn segmind_ideogram_4_takes_an_image_count() {
    let server = CaptureServer::start(|_| segmind_image()).await;
    let request = GenerateRequest::new("a lighthouse")
        .model(Model::V4)
        .num_images(3);
    client(Provider::Segmind, &server)
        .generate(&request)
        .await
        .unwrap();
    let sent = server.single_request();
    assert_eq!(sent.path, "/v1/ideogram-4");
    assert_eq!(body(&sent)["num_images"], 3);
}

#[tokio::test]
async fn a_request_can_name_its_operation_and_any_image_field() {
    let server = CaptureServer::start(|_| segmind_image()).await;
    // Segmind's character model, chosen by its spec id, its reference
    // given by its spec name: read as an image (base64 here), never passed
    // on as text.
    let request = GenerateRequest::new("a woman reading")
        .model(Model::V3)
        .operation("ideogram_character")
        .set(
            "character_reference_image",
            ImageInput::bytes(PNG).to_string(),
        );
    client(Provider::Segmind, &server)
        .generate(&request)
        .await
        .unwrap();
    let sent = server.single_request();
    assert_eq!(sent.path, "/v1/ideogram-character");
    use base64::Engine as _;
    assert_eq!(
        body(&sent)["character_reference_image"],
        base64::engine::general_purpose::STANDARD.encode(PNG)
    );
    // An image field's value is an image, checked as one.
    let err = GenerateRequest::new("x")
        .model(Model::V3)
        .operation("ideogram_character")
        .set("character_reference_image", 5)
        .check(Provider::Segmind)
        .unwrap_err();
    assert_eq!(err.field, "character_reference_image", "{err}");
    let err = GenerateRequest::new("x")
        .operation("no_such_operation")
        .check(Provider::Segmind)
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "invalid operation: \"no_such_operation\" is not an operation of segmind that does generate; use one of "
        ),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

/// Against the mock, which reads bodies as the spec says: an upscale with
/// every option at its default still sends the `image_request` part its
/// body requires, and every field set by name is in the mock's ledger.
#[tokio::test]
async fn the_mock_s_ledger_holds_every_field_sent() {
    let mock = ideogram_mock::MockServer::start(Default::default())
        .await
        .unwrap();
    let client = ideogram::Client::builder(Provider::Ideogram)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .unwrap();
    let png = ideogram_mock::ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![],
        transparent: false,
    }
    .png();
    client
        .edit(&EditRequest::upscale(ImageInput::bytes(png.clone())))
        .await
        .unwrap();
    let coded = GenerateRequest::new("a poster")
        .model(Model::V3)
        .set("style_codes", ["AAFF5733"])
        .negative_prompt("fog");
    client.generate(&coded).await.unwrap();
    let ledger = mock.ledger();
    let entries = ledger.entries;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].fields["image_request"], json!({}));
    assert_eq!(entries[1].fields["style_codes"], json!(["AAFF5733"]));
    assert_eq!(entries[1].fields["negative_prompt"], "fog");
}
