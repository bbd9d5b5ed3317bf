//! The JSON Schema of an optional field the spec does not mark `nullable`:
//! schemars publishes every `Option` field as taking `null`, which the specs
//! and the services refuse (`{"seed": null}` is a 400). `cargo xtask
//! generate` puts [`absent_not_null`] on each such field of the generated
//! types, so a published schema (an agent's tool definition) says what the
//! spec accepts: the field, or nothing.
//!
//! ```
//! use ideogram_raw::segmind::types::Ideogram2aTxt2ImgRequest;
//!
//! let schema = schemars::schema_for!(Ideogram2aTxt2ImgRequest).to_value();
//! assert_eq!(schema["properties"]["seed"], serde_json::json!({"$ref": "#/$defs/Seed"}));
//! ```

use serde_json::Value;

/// Takes `null` out of an optional field's schema: from a `type` list, an
/// `enum`, and the `anyOf`/`oneOf` choices (a single choice left takes the
/// choices' place).
pub fn absent_not_null(schema: &mut schemars::Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(kinds)) = object.get_mut("type") {
        kinds.retain(|kind| kind != "null");
        if let [only] = kinds.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.retain(|value| !value.is_null());
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(choices)) = object.get_mut(key) else {
            continue;
        };
        choices.retain(|choice| choice.get("type").is_none_or(|kind| kind != "null"));
        if let [Value::Object(only)] = choices.as_slice() {
            let only = only.clone();
            object.remove(key);
            for (name, value) in only {
                object.entry(name).or_insert(value);
            }
        }
    }
}
