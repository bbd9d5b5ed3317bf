//! The JSON form of requests (an agent's tool call, a batch line) and their
//! JSON Schema: each value as the text its `FromStr` reads and `Display`
//! writes, its schema listing what the specs allow.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::aspect::AspectRatio;
use crate::catalog;
use crate::image_input::ImageInput;
use crate::model::{DEFAULT_MODEL, Model};
use crate::provider::Provider;
use crate::resolution::Resolution;

/// Serde as text (`Display`, `FromStr`) and a string schema with `$description` and `$key`s.
macro_rules! as_text {
    ($type:ident, $description:expr, $($key:literal: $value:expr),*) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = Cow::<str>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $type {
            fn schema_name() -> Cow<'static, str> {
                stringify!($type).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "description": $description, $($key: $value),*})
            }
        }
    };
}

as_text!(
    Model,
    "The Ideogram version; short forms such as `2a-turbo` and Segmind slugs are read too.",
    "enum": names(Model::ALL)
);
as_text!(
    Resolution,
    "Width x height: a size some model renders (the 2.x models' or Ideogram 3.0's).",
    "enum": names(Resolution::every())
);
as_text!(
    AspectRatio,
    "Width:height, instead of a resolution: a ratio the legacy models or Ideogram 3.0 take (Segmind gets the nearest size).",
    "enum": names(ratios())
);
/// Text (`Display`, `FromStr`), or for an [`ImageInput::Asset`] the
/// spec's `AssetIdentifier` object, checked as the spec checks it. Its
/// schema stays text: the agents' tools leave assets out (`x-asset`).
impl Serialize for ImageInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ImageInput::Asset(asset) => asset.serialize(serializer),
            _ => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for ImageInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => text.parse().map_err(serde::de::Error::custom),
            object @ Value::Object(_) => {
                ImageInput::from_asset_json("image", &object).map_err(serde::de::Error::custom)
            }
            other => Err(serde::de::Error::custom(format!(
                "{other} is neither an image (a URL, a path or a data: URL) nor an asset identifier"
            ))),
        }
    }
}

impl JsonSchema for ImageInput {
    fn schema_name() -> Cow<'static, str> {
        "ImageInput".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let description = format!(
            "The input image of image to image: an http(s) URL, a local path, or a data:image/...;base64, URL. JPEG, PNG or WebP, at most the size its operation takes for it (never over {} bytes).",
            crate::image_input::MAX_IMAGE_BYTES
        );
        json_schema!({"type": "string", "description": description, "minLength": 1})
    }
}

/// Adds to a request's derived schema the specs' and defaults' facts.
pub(crate) fn spec_facts(schema: &mut Schema) {
    let prompt = ideogram_raw::ideogram::limits::PROMPT;
    if let Some(property) = schema.pointer_mut("/properties/prompt") {
        property["minLength"] = (*prompt.start()).into();
        property["maxLength"] = (*prompt.end()).into();
    }
    if let Some(property) = schema.pointer_mut("/properties/model") {
        property["default"] = DEFAULT_MODEL.to_string().into();
    }
}

/// The JSON Schema of a request `T` for `provider`, without `$ref` (some agents' hosts do
/// not follow them): `T`'s own fields some body here takes, then every body field of `tasks`
/// with who takes it (any value where bodies' schemas differ: its body checks it).
pub(crate) fn request_schema<T: JsonSchema>(provider: Provider, tasks: &[&str]) -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<T>()).expect("a schema is JSON");
    let schemas = catalog::schemas(provider);
    // Each body field: its schemas in the bodies, and who takes it.
    let mut fields: BTreeMap<&str, (Vec<Value>, Vec<String>)> = BTreeMap::new();
    let mut seen: Vec<&catalog::Field> = Vec::new();
    for task in tasks {
        for op in catalog::routes(provider, task, None) {
            for field in catalog::fields(provider, op) {
                if op.route.and_then(|r| r.image) == Some(field.name) {
                    continue;
                }
                seen.push(field);
                let property = match (field.image, field.list) {
                    (false, _) => inline(schemas, &field.property, 0),
                    (true, false) => json!({"type": "string", "description": IMAGE}),
                    (true, true) => json!({
                        "type": "array",
                        "items": {"type": "string", "description": IMAGE},
                        "maxItems": field.property["maxItems"],
                    }),
                };
                let (variants, who) = fields.entry(field.name).or_default();
                if !variants
                    .iter()
                    .any(|v| *v == property || spelled_within(&property, v))
                {
                    variants.push(property);
                }
                for taker in catalog::takers(provider, task, field.name) {
                    if !who.contains(&taker) {
                        who.push(taker);
                    }
                }
            }
        }
    }
    let properties = schema["properties"]
        .as_object_mut()
        .expect("an object schema");
    // A value of the request's own that goes to a body field is offered
    // only where a body here takes it (a shape also as a `resolution`).
    properties.retain(|own, _| {
        let shape = own == "aspect_ratio";
        let taken = |f: &&catalog::Field| f.is(own) || (shape && f.name == "resolution");
        !LOWERED.contains(&own.as_str()) || seen.iter().any(taken)
    });
    for (field, (mut variants, who)) in fields {
        // A field with an ergonomic value keeps its own schema.
        let mut property = match properties.remove(field) {
            Some(own) => own,
            None if variants.len() == 1 => variants.remove(0),
            None => json!({"anyOf": variants}),
        };
        let note = format!("Taken by {} on {provider}.", who.join(", "));
        property["description"] = match property["description"].as_str().map(str::trim) {
            Some(said) if !said.is_empty() => format!("{said} {note}"),
            _ => note,
        }
        .into();
        properties.insert(field.to_owned(), property);
    }
    schema["additionalProperties"] = false.into();
    schema
}

/// Whether `variant` is an enum spelling values of `other`'s in another
/// letter case (v2's `turbo` beside v1's `TURBO`): lowering sends a value in
/// the body's own case, so one list offers both.
fn spelled_within(variant: &Value, other: &Value) -> bool {
    let values = |v: &Value| -> Option<Vec<String>> {
        let values = v.get("enum")?.as_array()?.iter();
        values.map(|v| v.as_str().map(str::to_owned)).collect()
    };
    let (Some(mine), Some(theirs)) = (values(variant), values(other)) else {
        return false;
    };
    let within = |v: &String| theirs.iter().any(|t| t.eq_ignore_ascii_case(v));
    mine.iter().all(within) && mine.iter().any(|v| !theirs.contains(v))
}

/// The request's own values that go to a body field (by name or `x-takes`).
const LOWERED: [&str; 7] = [
    "magic_prompt",
    "aspect_ratio",
    "resolution",
    "color_palette",
    "style_reference_images",
    "character_reference_images",
    "character_reference_images_mask",
];

/// What an image field takes.
const IMAGE: &str = "An input image: an http(s) URL, a local path, or a data:image/...;base64, URL (JPEG, PNG or WebP).";

/// `schema` with each `$ref` inlined, without extensions and examples.
fn inline(schemas: &ideogram_raw::schema::Schemas, schema: &Value, depth: usize) -> Value {
    let deeper = |value| inline(schemas, value, depth + 1);
    match schema {
        Value::Object(map) if depth < 16 => {
            let reference = map.get("$ref").and_then(Value::as_str);
            let target = reference.and_then(|r| schemas.get(r.rsplit('/').next()?));
            let mut out = match target.map(deeper) {
                Some(Value::Object(target)) => target,
                _ => serde_json::Map::new(),
            };
            for (key, value) in map {
                // `x-delivery` and `x-asset` stay: a front that waits itself,
                // or takes its images as files or URLs, leaves such a field out.
                let vendor = key.starts_with("x-") && key != "x-delivery" && key != "x-asset";
                if key != "$ref" && !vendor && key != "example" {
                    out.insert(key.clone(), deeper(value));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => items.iter().map(deeper).collect(),
        other => other.clone(),
    }
}

fn names<T: ToString>(values: impl IntoIterator<Item = T>) -> Vec<String> {
    values.into_iter().map(|v| v.to_string()).collect()
}

/// Every ratio some model takes, each once.
fn ratios() -> Vec<AspectRatio> {
    let legacy: Vec<AspectRatio> = AspectRatio::legacy().collect();
    let v3 = AspectRatio::v3().filter(|r| !legacy.contains(r));
    legacy.iter().copied().chain(v3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ImageWeight;

    #[test]
    fn values_read_back_what_they_write_and_name_the_field_when_wrong() {
        let model: Model = serde_json::from_str("\"2a-turbo\"").unwrap();
        assert_eq!(serde_json::to_string(&model).unwrap(), "\"V_2A_TURBO\"");
        let size: Resolution = serde_json::from_str("\"RESOLUTION_1280_768\"").unwrap();
        assert_eq!(serde_json::to_string(&size).unwrap(), "\"1280x768\"");
        let err = serde_json::from_str::<Resolution>("\"1000x1000\"").unwrap_err();
        assert!(err.to_string().starts_with("invalid resolution: "), "{err}");
        assert!(serde_json::from_str::<ImageWeight>("101").is_err());
        let png = ImageInput::bytes(&b"\x89PNG\r\n\x1a\n...."[..]);
        let json = serde_json::to_string(&png).unwrap();
        assert!(json.starts_with("\"data:image/png;base64,"), "{json}");
        assert_eq!(serde_json::from_str::<ImageInput>(&json).unwrap(), png);
    }

    #[test]
    fn schemas_list_what_the_specs_allow() {
        let schema = schemars::schema_for!(Resolution);
        let sizes = schema.get("enum").and_then(|e| e.as_array()).unwrap();
        // The 78 legacy sizes and 69 of Ideogram 3.0 share all but 11; 4.0
        // adds 512x512, 21 2K sizes and 4 more of its OpenAPI's (1024x3072,
        // 3072x1024, 720x1440, 1440x720).
        assert_eq!(sizes.len(), 105);
        let schema = serde_json::to_value(schemars::schema_for!(ImageWeight)).unwrap();
        assert_eq!(
            (schema["minimum"].as_u64(), schema["maximum"].as_u64()),
            (Some(1), Some(100))
        );
    }
}
