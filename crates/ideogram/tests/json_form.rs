//! A request written as JSON, by the spec's field names: read back as
//! written, refused with the field named, and described by a JSON Schema
//! read from the bodies it can go to.

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
            "color_palette": {"name": "EMBER"},
            "style_type": "DESIGN",
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
    // Refused as it is read: the request's own values.
    let cases = [
        (json!({"prompt": "x", "model": "V_9"}), "invalid model: "),
        (
            json!({"prompt": "x", "resolution": "1000x1000"}),
            "invalid resolution: ",
        ),
        (json!({"model": "V_2"}), "missing field `prompt`"),
        (
            json!({"prompt": "x", "color_palette": {"name": "NEON"}}),
            "\"NEON\" is not a preset",
        ),
    ];
    for (value, expected) in cases {
        let err = serde_json::from_value::<GenerateRequest>(value.clone()).unwrap_err();
        assert!(err.to_string().contains(expected), "{value}: {err}");
    }
    // Refused when checked: the body's fields, against the body they go to.
    let cases = [
        (
            json!({"prompt": "x", "style_type": "CUBIST"}),
            "invalid style_type: \"CUBIST\" is not allowed; use one of GENERAL",
        ),
        (
            json!({"prompt": "x", "colour": "red"}),
            "invalid colour: no operation of segmind takes it",
        ),
        (
            json!({"prompt": "x", "image": "https://cdn.invalid/a.png", "image_weight": 0}),
            "invalid image_weight: 0 is below the minimum 1",
        ),
        (
            json!({"prompt": "x", "image_weight": 50}),
            "invalid image_weight: V_2 does not take it on segmind for generate; it goes with remix",
        ),
    ];
    for (value, expected) in cases {
        let request: GenerateRequest = serde_json::from_value(value.clone()).unwrap();
        let err = request.check(Provider::Segmind).unwrap_err();
        assert!(err.to_string().starts_with(expected), "{value}: {err}");
    }
}

#[test]
fn the_schema_is_read_from_the_bodies() {
    for provider in Provider::ALL {
        let schema = GenerateRequest::json_schema(provider);
        assert_eq!(schema["required"], json!(["prompt"]));
        assert_eq!(schema["additionalProperties"], json!(false));
        let properties = schema["properties"].as_object().unwrap();
        // Every field of every generate, remix and transparent body is
        // there, images as the request's own values.
        let (spec, ops) = if provider == Provider::Segmind {
            (
                ideogram::raw::schema::segmind(),
                ideogram::raw::segmind::operations::ALL,
            )
        } else {
            (
                ideogram::raw::schema::ideogram(),
                ideogram::raw::ideogram::operations::ALL,
            )
        };
        for op in ops.iter().filter(|op| {
            op.route
                .is_some_and(|r| ["generate", "remix", "transparent"].contains(&r.task))
        }) {
            let route = op.route.unwrap();
            let body = op.body.unwrap();
            let fields = match route.nest {
                Some(nest) => spec.field_schema_name(body, nest).unwrap(),
                None => body,
            };
            for field in spec.fields(fields) {
                let binary = spec.property(fields, field).unwrap()["format"] == "binary";
                if Some(field) != route.image && !binary {
                    assert!(
                        properties.contains_key(field),
                        "{provider} {}: {field}",
                        op.id
                    );
                }
            }
        }
    }
    let schema = GenerateRequest::json_schema(Provider::Ideogram);
    // A field of several bodies takes what any of them takes.
    let styles = schema["properties"]["style_type"]["anyOf"]
        .as_array()
        .unwrap();
    // v2's lower-case enums are respellings (lowering sends the body's case).
    assert_eq!(styles.len(), 2, "the legacy and 3.0 enums");
    assert!(
        schema["properties"]["style_codes"]["description"]
            .as_str()
            .unwrap()
            .contains("Taken by V_3 on ideogram")
    );
}

#[test]
fn the_schema_carries_the_specs_bounds() {
    use ideogram::raw::ideogram::limits;

    let schema = GenerateRequest::json_schema(Provider::Ideogram);
    let field = |name: &str| &schema["properties"][name];
    assert_eq!(
        field("prompt")["maxLength"].as_u64(),
        Some(*limits::PROMPT.end() as u64)
    );
    assert_eq!(
        field("num_images")["maximum"].as_i64(),
        Some(*limits::NUM_IMAGES.end())
    );
    // The palette's note lists exactly the models whose spec takes it.
    for provider in Provider::ALL {
        let schema = GenerateRequest::json_schema(provider);
        let palette = schema["properties"]["color_palette"]["description"]
            .as_str()
            .unwrap();
        for model in Model::ALL {
            let takes = [false, true]
                .into_iter()
                .any(|img| model.takes(provider, img, "color_palette"));
            let listed = palette
                .split([' ', ',', '.'])
                .any(|word| word == model.to_string());
            assert_eq!(takes, listed, "{provider} {model}: {palette}");
        }
    }
}

#[test]
fn an_edit_request_is_json_and_refuses_unknown_fields() {
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

    // A field the operation's body lacks is refused when checked...
    let sead: EditRequest = serde_json::from_value(serde_json::json!(
        {"image": "https://a.test/a.png", "operation": {"op": "reframe", "resolution": "1280x800"}, "sead": 7}
    ))
    .unwrap();
    let err = sead.check(Provider::Ideogram).unwrap_err();
    assert_eq!(err.field, "sead");
    // ...and a field the operation itself lacks as it is read.
    let unknown = serde_json::json!({"image": "a.png", "operation": {"op": "reframe", "resolution": "1280x800", "prompt": "x"}});
    assert!(serde_json::from_value::<EditRequest>(unknown).is_err());
}
