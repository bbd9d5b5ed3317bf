//! The JSON form of the facade's value types, for requests written as JSON
//! (an agent's tool call, a batch file) and their JSON Schema: each value is
//! the text its `FromStr` reads and its `Display` writes, and its schema lists
//! what the specs allow.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::aspect::AspectRatio;
use crate::image_input::ImageInput;
use crate::model::{Model, Provider};
use crate::options::{ImageWeight, NumImages};
use crate::request::DEFAULT_MODEL;
use crate::resolution::{Resolution, SizeFamily};

/// Serde and JSON Schema for a type written as text: serialised with
/// `Display`, read with `FromStr` (whose error names the field), described
/// by `$schema`.
macro_rules! as_text {
    ($type:ty, $name:literal, $schema:expr) => {
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
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

as_text!(
    Model,
    "Model",
    json_schema!({
        "type": "string",
        "description": "The Ideogram version; short forms such as `2a-turbo` and Segmind slugs are read too.",
        "enum": names(Model::ALL.iter()),
    })
);

as_text!(
    Resolution,
    "Resolution",
    json_schema!({
        "type": "string",
        "description": "Width x height: a size some model renders (the 2.x models' or Ideogram 3.0's).",
        "enum": names(sizes().iter()),
    })
);

as_text!(
    AspectRatio,
    "AspectRatio",
    json_schema!({
        "type": "string",
        "description": "Width:height, instead of a resolution: a ratio the legacy models or Ideogram 3.0 take (Segmind gets the nearest size).",
        "enum": names(ratios().iter()),
    })
);

as_text!(
    ImageInput,
    "ImageInput",
    json_schema!({
        "type": "string",
        "description": format!(
            "The input image of image to image: an http(s) URL, a local path, or a data:image/...;base64, URL. JPEG, PNG or WebP, at most {} bytes.",
            crate::image_input::MAX_IMAGE_BYTES
        ),
        "minLength": 1,
    })
);

impl Serialize for ImageWeight {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.get())
    }
}

impl<'de> Deserialize<'de> for ImageWeight {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(u32::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for ImageWeight {
    fn schema_name() -> Cow<'static, str> {
        "ImageWeight".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let range = Self::range();
        json_schema!({
            "type": "integer",
            "description": "How closely image to image follows the input, from loosely to closely.",
            "minimum": range.start(),
            "maximum": range.end(),
            "default": Self::DEFAULT.get(),
        })
    }
}

/// Adds to [`GenerateRequest`](crate::GenerateRequest)'s schema what the
/// specs and the facade's defaults say about its fields, so that an agent
/// reads the bounds in its tool definition rather than from an error.
pub(crate) fn spec_facts(schema: &mut Schema) {
    let prompt = ideogram_raw::ideogram::limits::PROMPT;
    let count = NumImages::range();
    let seeds = Provider::ALL.map(|p| {
        let range = p.seed_range();
        format!("{p}: {} to {}", range.start(), range.end())
    });
    let facts = [
        (
            "prompt",
            json!({"minLength": prompt.start(), "maxLength": prompt.end()}),
        ),
        (
            "num_images",
            json!({"minimum": count.start(), "maximum": count.end()}),
        ),
        ("model", json!({"default": DEFAULT_MODEL.to_string()})),
        (
            "custom_model_uri",
            json!({"pattern": ideogram_raw::schema::ideogram()
                .get("CustomModelUri")
                .map(|s| s["pattern"].clone())}),
        ),
    ];
    let notes = [
        ("seed", format!("Seeds: {}.", seeds.join("; "))),
        (
            "num_images",
            "Segmind makes one image a request and takes no count.".to_owned(),
        ),
        ("palette", models_taking("color_palette")),
        ("negative_prompt", models_taking("negative_prompt")),
        ("style_preset", models_taking("style_preset")),
        ("custom_model_uri", models_taking("custom_model_uri")),
    ];
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (field, fact) in facts {
        if let (Some(Value::Object(property)), Value::Object(fact)) =
            (properties.get_mut(field), fact)
        {
            property.extend(fact);
        }
    }
    for (field, note) in notes {
        if let Some(Value::Object(property)) = properties.get_mut(field) {
            let text = match property.get("description").and_then(Value::as_str) {
                Some(said) => format!("{said} {note}"),
                None => note,
            };
            property.insert("description".into(), text.into());
        }
    }
}

/// "Models: A, B." for the models that take the spec field `wire` on
/// either provider.
fn models_taking(wire: &str) -> String {
    let models: Vec<String> = Model::ALL
        .iter()
        .filter(|m| Provider::ALL.iter().any(|p| m.takes(*p, false, wire)))
        .map(ToString::to_string)
        .collect();
    format!("Models: {}.", models.join(", "))
}

fn names<T: ToString>(values: impl Iterator<Item = T>) -> Vec<String> {
    values.map(|v| v.to_string()).collect()
}

/// Every size some model renders, each once.
fn sizes() -> Vec<Resolution> {
    let mut sizes: Vec<Resolution> = SizeFamily::ALL
        .into_iter()
        .flat_map(Resolution::all_in)
        .collect();
    sizes.sort();
    sizes.dedup();
    sizes
}

/// Every ratio some model takes, each once.
fn ratios() -> Vec<AspectRatio> {
    let mut ratios: Vec<AspectRatio> = Vec::new();
    for ratio in AspectRatio::legacy().chain(AspectRatio::v3()) {
        if !ratios.contains(&ratio) {
            ratios.push(ratio);
        }
    }
    ratios
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // adds 512x512 and 21 2K sizes.
        assert_eq!(sizes.len(), 101);
        let schema = serde_json::to_value(schemars::schema_for!(ImageWeight)).unwrap();
        assert_eq!(
            (schema["minimum"].as_u64(), schema["maximum"].as_u64()),
            (Some(1), Some(100))
        );
    }
}
