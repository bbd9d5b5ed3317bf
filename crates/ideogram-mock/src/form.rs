//! A multipart body read as the spec describes it: the parts its schema
//! marks `format: binary` as files, every other part as the JSON value its
//! schema types (a number, a repeated part as an array, an object from a
//! JSON part), so the body can be checked against the schema like a JSON
//! one. Also the facts about uploaded images the services check, and a
//! body's fields as the ledger records them (a multipart one's, or a JSON
//! one's with base64 images), each file standing in by its size.

use std::collections::BTreeMap;

use axum::extract::multipart::Multipart;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::ledger::file_stand_in;
use crate::serve::error;

/// The largest file any of Ideogram's operations takes (the spec's largest
/// `x-max-bytes`).
pub(crate) const MAX_FILE_BYTES: usize = ideogram_raw::ideogram::limits::MAX_FILE_BYTES as usize;

/// A multipart body: its values and its files, by part name.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pub(crate) value: Map<String, Value>,
    pub(crate) files: BTreeMap<String, Vec<Bytes>>,
}

impl Form {
    /// The first file of part `name`.
    pub(crate) fn file(&self, name: &str) -> Option<&Bytes> {
        self.files.get(name).and_then(|files| files.first())
    }

    /// The files of part `name` (none when absent).
    pub(crate) fn all(&self, name: &str) -> &[Bytes] {
        self.files.get(name).map_or(&[], Vec::as_slice)
    }

    /// The body as the ledger records it: its values, and each file as a
    /// stand-in (a list of them where the schema takes a list).
    pub(crate) fn fields(&self, schema: &str) -> Map<String, Value> {
        let properties = ideogram_raw::schema::ideogram()
            .get(schema)
            .map_or(&Value::Null, |s| &s["properties"]);
        let mut fields = self.value.clone();
        for (name, files) in &self.files {
            let mut stand_ins = files.iter().map(|f| file_stand_in(f.len()));
            let value = match Kind::of(&properties[name]) {
                Kind::Files => Value::Array(stand_ins.collect()),
                _ => stand_ins.next().unwrap_or(Value::Null),
            };
            fields.insert(name.clone(), value);
        }
        fields
    }
}

/// A JSON body as [`Billed::fields`](crate::Billed::fields) records it: every image it carries as
/// base64 (a field's value, or an item of a list) stands in as a file.
pub(crate) fn json_fields(body: &Value) -> Map<String, Value> {
    let image = |value: &Value| {
        use base64::Engine as _;
        let text = value.as_str()?;
        let encoded = text.split_once(";base64,").map_or(text, |(_, data)| data);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        dimensions(&bytes).map(|_| file_stand_in(bytes.len()))
    };
    let recorded = |value: &Value| match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| image(item).unwrap_or_else(|| item.clone()))
                .collect(),
        ),
        _ => image(value).unwrap_or_else(|| value.clone()),
    };
    body.as_object()
        .map(|body| {
            body.iter()
                .map(|(name, value)| (name.clone(), recorded(value)))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads `multipart` as the body schema `schema` of Ideogram's spec, then
/// checks it against that schema (files stand in as strings): 400 naming
/// the part for an unknown part, a value that does not parse, a file that
/// is not a JPEG, PNG or WebP (or one of its `x-media-types`) of at most
/// its `x-max-bytes`, a list of files
/// over its `x-max-total-bytes`, or a schema violation.
pub(crate) async fn read(schema: &str, mut multipart: Multipart) -> Result<Form, Response> {
    let schemas = ideogram_raw::schema::ideogram();
    let properties = schemas
        .get(schema)
        .and_then(|s| s["properties"].as_object())
        .ok_or_else(|| error(500, format!("the mock has no schema {schema}")))?;
    let mut form = Form::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return Err(error(
                    400,
                    format!("the multipart body does not parse: {e}"),
                ));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let property = properties
            .get(&name)
            .ok_or_else(|| error(400, format!("{name}: unknown part")))?;
        let data = field
            .bytes()
            .await
            .map_err(|e| error(400, format!("{name}: cannot read the part: {e}")))?;
        let kind = Kind::of(property);
        match kind {
            Kind::File | Kind::Files => {
                let facts = schemas.field_facts(schema, &name);
                let facts = facts.as_ref();
                let max = facts.and_then(|f| f.max_bytes);
                let max = max.map_or(MAX_FILE_BYTES, |m| m as usize);
                let kinds = facts.map_or(&[][..], |f| &f.media_types[..]);
                check_file(&name, &data, max, kinds)?;
                if let Some(n) = facts.and_then(|f| f.max_aspect)
                    && let Some((w, h)) = dimensions(&data)
                    && !ideogram_raw::media::within_aspect((w, h), n)
                {
                    let message = format!("{name}: {w}x{h} is outside 1:{n} to {n}:1");
                    return Err(error(400, message));
                }
                let files = form.files.entry(name.clone()).or_default();
                files.push(data);
                let total: usize = files.iter().map(Bytes::len).sum();
                if let Some(max) = facts.and_then(|f| f.max_total_bytes)
                    && total as u64 > max
                {
                    let message = format!("{name}: larger than {} in all", megabytes(max as usize));
                    return Err(error(400, message));
                }
            }
            Kind::Value(ty) => {
                let text = std::str::from_utf8(&data)
                    .map_err(|_| error(400, format!("{name}: not text")))?;
                let value = parse(&ty, text)
                    .ok_or_else(|| error(400, format!("{name}: {text:?} is not a {ty}")))?;
                form.value.insert(name, value);
            }
            Kind::Values(ty) => {
                let text = std::str::from_utf8(&data)
                    .map_err(|_| error(400, format!("{name}: not text")))?;
                let value = parse(&ty, text)
                    .ok_or_else(|| error(400, format!("{name}: {text:?} is not a {ty}")))?;
                if let Value::Array(items) = form
                    .value
                    .entry(name)
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    items.push(value);
                }
            }
        }
    }
    // The schema's verdict, files standing in as strings.
    schemas
        .check(schema, &Value::Object(form.fields(schema)))
        .map_err(|v| error(400, format!("{}: {}", v.path, v.message)))?;
    Ok(form)
}

/// How a part is read.
enum Kind {
    File,
    Files,
    Value(String),
    Values(String),
}

impl Kind {
    fn of(property: &Value) -> Self {
        let resolved = resolve(property);
        match resolved["type"].as_str() {
            Some("string") if resolved["format"] == "binary" => Self::File,
            Some("array") => {
                let items = resolve(&resolved["items"]);
                if items["format"] == "binary" {
                    Self::Files
                } else {
                    Self::Values(type_name(items))
                }
            }
            _ => Self::Value(type_name(resolved)),
        }
    }
}

/// A schema's type, `object` for one without (a `oneOf`).
fn type_name(schema: &Value) -> String {
    schema["type"].as_str().unwrap_or("object").to_owned()
}

/// A property's schema, its `$ref` followed.
fn resolve(schema: &Value) -> &Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => ideogram_raw::schema::ideogram().get(name).unwrap_or(schema),
        None => schema,
    }
}

/// A text part as the JSON value of type `ty`.
fn parse(ty: &str, text: &str) -> Option<Value> {
    match ty {
        "string" => Some(Value::String(text.to_owned())),
        "integer" => text.trim().parse::<i64>().ok().map(Value::from),
        "number" => text.trim().parse::<f64>().ok().map(Value::from),
        "boolean" => text.trim().parse::<bool>().ok().map(Value::from),
        _ => serde_json::from_str(text).ok(),
    }
}

/// A file of at most `max` bytes, of one of `kinds` (a field's
/// `x-media-types`; none: a JPEG, PNG or WebP image), or 400 naming the part.
fn check_file(name: &str, data: &[u8], max: usize, kinds: &[&str]) -> Result<(), Response> {
    if data.len() > max {
        let message = format!("{name}: larger than {}", megabytes(max));
        return Err(error(400, message));
    }
    let taken = match kinds {
        [] => dimensions(data).is_some(),
        kinds => ideogram_raw::multipart::media_type(data).is_some_and(|(k, _)| kinds.contains(&k)),
    };
    if taken {
        return Ok(());
    }
    let kinds = match kinds {
        [] => "JPEG, PNG and WebP images".to_owned(),
        kinds => kinds.join(", "),
    };
    Err(error(400, format!("{name}: only {kinds} are supported")))
}

/// `bytes` in MB, as the services' pages write sizes (`10 MB`).
fn megabytes(bytes: usize) -> String {
    format!("{} MB", bytes as f64 / 1_048_576.0)
}

/// An image's width and height from its header: PNG, JPEG or WebP.
pub(crate) use ideogram_raw::multipart::image_size as dimensions;

/// Whether a mask is grayscale.
pub(crate) use ideogram_raw::multipart::is_grayscale;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageSpec;

    #[test]
    fn sizes_are_read_from_headers() {
        let spec = ImageSpec {
            width: 48,
            height: 20,
            seed: 1,
            palette: vec![[9, 9, 9]],
            transparent: false,
        };
        assert_eq!(dimensions(&spec.png()), Some((48, 20)));
        assert_eq!(dimensions(&spec.jpeg()), Some((48, 20)));
        assert_eq!(dimensions(b"GIF89a"), None);
        assert!(is_grayscale(&spec.png()), "a palette of one gray");
        let colour = ImageSpec {
            palette: vec![[255, 0, 0]],
            ..spec
        };
        assert!(!is_grayscale(&colour.png()));
    }
}
