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
use crate::model::DEFAULT_MODEL;
use crate::model::Model;
use crate::options::ImageWeight;
use crate::provider::Provider;
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

/// Adds to a request's derived schema what the specs and the facade's
/// defaults say about its own fields.
pub(crate) fn spec_facts(schema: &mut Schema) {
    let prompt = ideogram_raw::ideogram::limits::PROMPT;
    let facts = [
        (
            "prompt",
            json!({"minLength": prompt.start(), "maxLength": prompt.end()}),
        ),
        ("model", json!({"default": DEFAULT_MODEL.to_string()})),
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
}

/// The JSON Schema of a request `T` for `provider`: `T`'s own fields (its
/// derived schema), then every field of every body of `tasks`' operations
/// as the spec describes it (references inlined), with who takes it. A
/// field whose schema differs between bodies takes any of them; the body
/// the request goes to checks it exactly. An image field takes an image's
/// text; the input image is `T`'s own `image`; an ergonomic value no body
/// takes is left out.
pub(crate) fn request_schema<T: JsonSchema>(provider: Provider, tasks: &[&str]) -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON");
    let schemas = crate::catalog::schemas(provider);
    let mut fields: Vec<(String, Vec<Value>, Vec<String>)> = Vec::new();
    for task in tasks {
        for op in crate::catalog::routes(provider, task, None) {
            let Some(name) = crate::catalog::fields_schema(provider, op) else {
                continue;
            };
            for field in schemas.fields(name) {
                let Some(property) = schemas.property(name, field) else {
                    continue;
                };
                // The input image is the request's `image`; another image
                // field takes what an image value does.
                if op.route.and_then(|r| r.image) == Some(field) {
                    continue;
                }
                let property = if schemas.is_image(name, field) {
                    let image = json!({"type": "string", "description": IMAGE});
                    if property["type"] == "array" {
                        json!({"type": "array", "items": image, "maxItems": property["maxItems"]})
                    } else {
                        image
                    }
                } else {
                    inline(schemas, property, 0)
                };
                let takers = crate::catalog::takers(provider, task, field);
                match fields.iter_mut().find(|(f, _, _)| f == field) {
                    Some((_, variants, who)) => {
                        if !variants.contains(&property) {
                            variants.push(property);
                        }
                        who.extend(
                            takers
                                .into_iter()
                                .filter(|t| !who.contains(t))
                                .collect::<Vec<_>>(),
                        );
                    }
                    None => fields.push((field.to_owned(), vec![property], takers)),
                }
            }
        }
    }
    let properties = schema["properties"]
        .as_object_mut()
        .expect("an object schema");
    // An ergonomic value no body here takes is not offered.
    properties.retain(|own, _| {
        let into = crate::lowering::lowers_into(own);
        into.is_empty() || into.iter().any(|f| fields.iter().any(|(b, _, _)| b == f))
    });
    for (field, mut variants, who) in fields {
        // A field the request has an ergonomic value for keeps its own
        // schema; either way the description says who takes it.
        let mut property = match properties.remove(&field) {
            Some(own) => own,
            None if variants.len() == 1 => variants.remove(0),
            None => json!({"anyOf": variants}),
        };
        let said = property["description"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let note = format!("Taken by {} on {provider}.", who.join(", "));
        property["description"] = if said.is_empty() {
            note
        } else {
            format!("{said} {note}")
        }
        .into();
        properties.insert(field, property);
    }
    schema["additionalProperties"] = false.into();
    schema
}

/// What an image field takes.
const IMAGE: &str = "An input image: an http(s) URL, a local path, or a data:image/...;base64, URL (JPEG, PNG or WebP).";

/// `schema` with each `$ref` into the spec replaced by what it names.
fn inline(schemas: &ideogram_raw::schema::Schemas, schema: &Value, depth: usize) -> Value {
    match schema {
        Value::Object(map) if depth < 16 => {
            let mut out = serde_json::Map::new();
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                && let Some(Value::Object(target)) =
                    schemas.get(name).map(|t| inline(schemas, t, depth + 1))
            {
                out.extend(target);
            }
            for (key, value) in map {
                if key != "$ref" && !key.starts_with("x-") && key != "example" {
                    out.insert(key.clone(), inline(schemas, value, depth + 1));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| inline(schemas, v, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
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
