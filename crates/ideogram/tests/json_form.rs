//! A request written as JSON: read back as written, refused with the field
//! named, and described by a JSON Schema that matches the serde form.

use ideogram::{GenerateRequest, ImageInput, Model, PalettePreset, Provider, StyleType};
use serde_json::json;

#[test]
fn a_request_reads_back_what_it_writes() {
    let request = GenerateRequest::new("a fox")
        .model(Model::V2Turbo)
        .resolution("1280x768".parse().unwrap())
        .palette(PalettePreset::Ember)
        .style(StyleType::Design)
        .seed(4242)
        .image(ImageInput::url("https://cdn.invalid/in.png"))
        .image_weight(ideogram::ImageWeight::new(70).unwrap());
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json,
        json!({
            "prompt": "a fox",
            "model": "V_2_TURBO",
            "resolution": "1280x768",
            "palette": {"name": "EMBER"},
            "style": "DESIGN",
            "seed": 4242,
            "image": "https://cdn.invalid/in.png",
            "image_weight": 70
        })
    );
    let back: GenerateRequest = serde_json::from_value(json).unwrap();
    assert_eq!(back, request);
    assert!(back.check(Provider::Segmind).is_ok());
}

#[test]
fn bad_json_names_the_field() {
    let cases = [
        (json!({"prompt": "x", "model": "V_9"}), "invalid model: "),
        (
            json!({"prompt": "x", "resolution": "1000x1000"}),
            "invalid resolution: ",
        ),
        (
            json!({"prompt": "x", "image_weight": 0}),
            "invalid image_weight: ",
        ),
        (
            json!({"prompt": "x", "style": "CUBIST"}),
            "unknown variant `CUBIST`",
        ),
        (
            json!({"prompt": "x", "colour": "red"}),
            "unknown field `colour`",
        ),
        (json!({"model": "V_2"}), "missing field `prompt`"),
        (
            json!({"prompt": "x", "palette": {"name": "NEON"}}),
            "\"NEON\" is not a preset",
        ),
    ];
    for (value, expected) in cases {
        let err = serde_json::from_value::<GenerateRequest>(value.clone()).unwrap_err();
        assert!(err.to_string().contains(expected), "{value}: {err}");
    }
}

#[test]
fn the_schema_describes_the_serde_form() {
    let schema = serde_json::to_value(schemars::schema_for!(GenerateRequest)).unwrap();
    assert_eq!(schema["required"], json!(["prompt"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    let mut fields: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let full = GenerateRequest::new("x")
        .model(Model::V3)
        .aspect_ratio("16:9".parse().unwrap())
        .palette(PalettePreset::Ember)
        .style(StyleType::Auto)
        .magic_prompt(ideogram::MagicPrompt::On)
        .negative_prompt("fog")
        .seed(1)
        .num_images(2)
        .rendering_speed(ideogram::RenderingSpeed::Turbo)
        .image(ImageInput::url("https://cdn.invalid/in.png"))
        .image_weight(ideogram::ImageWeight::DEFAULT)
        .resolution(ideogram::Resolution::SQUARE_1024)
        .style_reference(ImageInput::url("https://cdn.invalid/style.png"))
        .character_reference(
            ImageInput::url("https://cdn.invalid/hero.png"),
            Some(ImageInput::url("https://cdn.invalid/hero-mask.png")),
        )
        .transparent()
        .upscale(ideogram::UpscaleFactor::X2)
        .style_preset(ideogram::StylePreset::ArtDeco)
        .custom_model_uri("model/posters/version/3");
    let written = serde_json::to_value(&full).unwrap();
    let mut keys: Vec<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(fields, keys, "every field has a schema, and no more");
    // The enums are the specs'.
    let styles = &schema["$defs"]["StyleType"]["enum"];
    assert_eq!(
        styles.as_array().map(Vec::len),
        Some(ideogram::raw::enums::values::<StyleType>().len())
    );
    assert!(schema["$defs"]["ColorPalette"].is_object());
}

#[test]
fn the_schema_carries_the_specs_bounds() {
    use ideogram::raw::ideogram::limits;

    let schema = serde_json::to_value(schemars::schema_for!(GenerateRequest)).unwrap();
    let field = |name: &str| &schema["properties"][name];
    assert_eq!(
        field("prompt")["maxLength"].as_u64(),
        Some(*limits::PROMPT.end() as u64)
    );
    assert_eq!(
        field("num_images")["maximum"].as_i64(),
        Some(*limits::NUM_IMAGES.end())
    );
    let seed = field("seed")["description"].as_str().unwrap();
    for provider in Provider::ALL {
        let range = provider.seed_range();
        let said = format!("{provider}: {} to {}", range.start(), range.end());
        assert!(seed.contains(&said), "{seed}");
    }
    // The palette's note lists exactly the models whose spec takes it.
    let palette = field("palette")["description"].as_str().unwrap();
    for model in Model::ALL {
        let takes = Provider::ALL
            .iter()
            .any(|p| model.takes(*p, false, "color_palette"));
        let listed = palette
            .split([' ', ',', '.'])
            .any(|word| word == model.to_string());
        assert_eq!(takes, listed, "{model}: {palette}");
    }
}

#[test]
fn an_edit_request_is_json_with_a_schema_and_refuses_unknown_fields() {
    use ideogram::{EditRequest, ImageInput, Resolution};
    let request = EditRequest::reframe(
        ImageInput::url("https://example.com/photo.png"),
        "1280x800".parse::<Resolution>().unwrap(),
    )
    .seed(7);
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "image": "https://example.com/photo.png",
            "operation": {"op": "reframe", "resolution": "1280x800"},
            "seed": 7
        })
    );
    assert_eq!(
        serde_json::from_value::<EditRequest>(json).unwrap(),
        request
    );

    let schema = serde_json::to_value(ideogram::schemars::schema_for!(EditRequest)).unwrap();
    assert_eq!(schema["title"], "EditRequest");
    assert!(schema["properties"]["operation"].is_object(), "{schema}");

    for unknown in [
        serde_json::json!({"image": "a.png", "operation": {"op": "reframe", "resolution": "1280x800"}, "sead": 7}),
        serde_json::json!({"image": "a.png", "operation": {"op": "reframe", "resolution": "1280x800", "prompt": "x"}}),
    ] {
        assert!(serde_json::from_value::<EditRequest>(unknown).is_err());
    }
}
