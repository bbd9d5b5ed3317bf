//! An image Ideogram already holds, named by its asset identifier instead
//! of uploaded (`ImageInput::Asset`): it goes in the field the spec marks
//! `x-in-place-of` the file, reaches the mock with no file part and is
//! billed once; an operation with no such field refuses it unsent.

use ideogram::raw::ideogram::types::AssetIdentifierAssetType;
use ideogram::{
    AssetIdentifier, Client, DescribeRequest, EditRequest, GenerateRequest, ImageInput, Model,
    Provider,
};
use ideogram_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

async fn mock() -> (MockServer, Client) {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let client = Client::builder(Provider::Ideogram)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .unwrap();
    (mock, client)
}

fn asset(id: &str) -> AssetIdentifier {
    AssetIdentifier::builder()
        .asset_type(AssetIdentifierAssetType::Response)
        .asset_id(id)
        .try_into()
        .unwrap()
}

fn json_of(id: &str) -> Value {
    json!({"asset_type": "RESPONSE", "asset_id": id})
}

#[tokio::test]
async fn an_edit_a_remix_and_a_describe_of_assets_send_no_file_and_are_billed_once() {
    let (mock, client) = mock().await;

    // Inpaint: both the image and its mask named, neither uploaded.
    let edit = EditRequest::edit(
        ImageInput::asset(asset("photo")),
        ImageInput::asset(asset("mask")),
        "a red hat",
    );
    client.edit(&edit).await.unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].operation, "/v2/image/inpaint/ideogram-3");
    let fields = &entries[0].fields;
    assert_eq!(fields["image_asset_identifier"], json_of("photo"));
    assert_eq!(fields["mask_asset_identifier"], json_of("mask"));
    assert!(!fields.contains_key("image") && !fields.contains_key("mask"));

    // Remix (on a model v1 runs too: only v2 takes the identifier).
    let remix = GenerateRequest::new("as a woodcut")
        .model(Model::V3)
        .image(ImageInput::asset(asset("photo")));
    client.generate(&remix).await.unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].operation, "/v2/image/remix/ideogram-3");
    assert_eq!(
        entries[1].fields["image_asset_identifier"],
        json_of("photo")
    );
    assert!(!entries[1].fields.contains_key("image"));

    // Describe: v1's `/describe` takes no identifier, v2's does.
    let describe = DescribeRequest::new(ImageInput::asset(asset("photo")));
    assert!(!client.describe_request(&describe).await.unwrap().is_empty());
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 3);
    assert!(entries[2].operation.starts_with("/v2/image/describe/"));
    assert_eq!(
        entries[2].fields["image_asset_identifier"],
        json_of("photo")
    );
    assert!(!entries[2].fields.contains_key("image"));
}

/// v2's upscale takes `image_asset_identifier` in place of `image`, as every
/// v2 upscale does in Ideogram's OpenAPI of 2026-10-07; v1's `/upscale`
/// takes none, so the request goes to v2.
#[tokio::test]
async fn an_upscale_of_an_asset_goes_to_v2_with_no_file_and_is_billed_once() {
    let (mock, client) = mock().await;
    let upscale = EditRequest::upscale(ImageInput::asset(asset("photo")));
    client.edit(&upscale).await.unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].operation, "/v2/image/upscale/auto");
    assert_eq!(
        entries[0].fields["image_asset_identifier"],
        json_of("photo")
    );
    assert!(!entries[0].fields.contains_key("image"));
}

#[tokio::test]
async fn an_asset_where_no_operation_takes_one_or_beside_its_file_is_refused_unsent() {
    let (mock, client) = mock().await;
    // Remove object takes no identifier (v2's body lists only files).
    let mask = ImageInput::bytes(&b"\xff\xd8\xff\xe0-mask"[..]);
    let removal = EditRequest::remove_object(ImageInput::asset(asset("photo")), mask);
    let err = client.edit(&removal).await.unwrap_err();
    let ideogram::Error::Validation(err) = err else {
        panic!("refused before sending: {err}")
    };
    assert_eq!(err.field, "image_asset_identifier", "{err}");
    // Segmind takes none at all.
    let remix = GenerateRequest::new("x")
        .model(Model::V3)
        .image(ImageInput::asset(asset("photo")));
    let err = remix.check(Provider::Segmind).unwrap_err();
    assert_eq!(err.field, "image_asset_identifier", "{err}");
    // A file and its identifier both: the spec's rule names the two.
    let both = GenerateRequest::new("x")
        .model(Model::V3)
        .operation("post_remix_v2_ideogram_3")
        .image(ImageInput::bytes(&b"\x89PNG\r\n\x1a\n...."[..]))
        .set("image_asset_identifier", json_of("photo"));
    let err = client.generate(&both).await.unwrap_err().to_string();
    assert!(
        err.contains("image_asset_identifier") && err.contains("cannot be given with image"),
        "{err}"
    );
    // A malformed identifier in JSON is refused naming the field and the values.
    let wrong = json!({"asset_type": "PHOTO", "asset_id": "x"});
    let err = ImageInput::from_asset_json("image_asset_identifier", &wrong).unwrap_err();
    assert_eq!(err.field, "image_asset_identifier.asset_type");
    for value in [
        "ASSET",
        "CANVAS_ASSET",
        "LAYERED_ASSET",
        "RESPONSE",
        "UPLOAD",
    ] {
        assert!(err.message.contains(value), "{err}");
    }
    assert!(mock.ledger().entries.is_empty(), "nothing billed");
    assert_eq!(mock.posts_received(), 0, "nothing sent");
}

#[test]
fn an_asset_reads_back_from_its_json_form() {
    let image = ImageInput::asset(asset("photo"));
    let value = serde_json::to_value(&image).unwrap();
    assert_eq!(value, json_of("photo"));
    assert_eq!(serde_json::from_value::<ImageInput>(value).unwrap(), image);
    assert_eq!(image.to_string(), "asset:RESPONSE:photo");
}

/// Ideogram 3.0's character generate takes its one character as an asset
/// (`character_reference_asset_identifiers`, exactly one, in place of the
/// file: both optional in Ideogram's OpenAPI of 2026-10-07), sent as a
/// one-item list with no file part; v1's generate takes no identifier, so
/// the request goes to v2.
#[tokio::test]
async fn a_character_reference_may_be_an_asset_in_place_of_its_file() {
    let (mock, client) = mock().await;
    let request = GenerateRequest::new("the same woman, in a forest")
        .model(Model::V3)
        .character_reference(ImageInput::asset(asset("face")), None);
    client.generate(&request).await.unwrap();
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].operation,
        "/v2/image/generate/ideogram-3-character"
    );
    assert_eq!(
        entries[0].fields["character_reference_asset_identifiers"],
        json!([json_of("face")])
    );
    assert!(!entries[0].fields.contains_key("character_reference_images"));
}
