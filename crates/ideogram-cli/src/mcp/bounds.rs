//! The lengths the tools' schemas publish, enforced on a call's arguments
//! before anything else reads them: a text past its `maxLength` (a 10 MB
//! id, say) is refused naming the field, never sent, and never echoed.

use ideogram::InvalidInput;
use serde_json::{Map, Value};

/// The most of a refused value an answer repeats, in characters.
pub(super) const MAX_ECHO: usize = 80;

/// Refuses the first text in `args` longer (or shorter) than `schema`
/// (a tool's input schema, as `tools/list` publishes it) allows.
pub(super) fn check(
    schema: &Map<String, Value>,
    args: &Map<String, Value>,
) -> Result<(), InvalidInput> {
    object(schema, args, "")
}

fn object(
    schema: &Map<String, Value>,
    args: &Map<String, Value>,
    path: &str,
) -> Result<(), InvalidInput> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, value) in args {
        if let Some(Value::Object(field)) = properties.get(name) {
            let path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            value_in(field, value, &path)?;
        }
    }
    Ok(())
}

/// Checks `value` against `schema` and each alternative it allows
/// (`anyOf`/`oneOf`: the first whose type fits).
fn value_in(schema: &Map<String, Value>, value: &Value, path: &str) -> Result<(), InvalidInput> {
    match value {
        Value::String(text) => {
            let chars = text.chars().count();
            let most = schema.get("maxLength").and_then(Value::as_u64);
            let least = schema.get("minLength").and_then(Value::as_u64);
            if let Some(most) = most
                && chars as u64 > most
            {
                return Err(InvalidInput::new(
                    path.to_owned(),
                    format!(
                        "{} is {chars} characters long; at most {most} (nothing was sent)",
                        echo(text)
                    ),
                ));
            }
            if let Some(least) = least
                && (chars as u64) < least
            {
                return Err(InvalidInput::new(
                    path.to_owned(),
                    format!("at least {least} characters (nothing was sent)"),
                ));
            }
        }
        Value::Object(fields) => object(schema, fields, path)?,
        Value::Array(items) => {
            if let Some(Value::Object(item)) = schema.get("items") {
                for (n, value) in items.iter().enumerate() {
                    value_in(item, value, &format!("{path}[{n}]"))?;
                }
            }
        }
        _ => {}
    }
    for alternatives in ["anyOf", "oneOf"] {
        for alternative in schema
            .get(alternatives)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Value::Object(alternative) = alternative
                && fits_type(alternative, value)
            {
                return value_in(alternative, value, path);
            }
        }
    }
    Ok(())
}

fn fits_type(schema: &Map<String, Value>, value: &Value) -> bool {
    let name = match value {
        Value::String(_) => "string",
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        _ => return false,
    };
    match schema.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t == name),
        _ => false,
    }
}

/// At most [`MAX_ECHO`] characters of `text`, quoted, with how much was
/// left out.
pub(super) fn echo(text: &str) -> String {
    let mut shown: String = text.chars().take(MAX_ECHO).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_texts_are_refused_by_the_schema_and_not_echoed() {
        let schema = json!({"properties": {
            "request_id": {"type": "string", "maxLength": 200},
            "operation": {"type": "object", "properties": {"prompt": {"type": ["string", "null"], "maxLength": 5}}},
            "key": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 3}, {"type": "null"}]},
        }});
        let schema = schema.as_object().unwrap();
        let long = "x".repeat(10 << 20);
        let args = json!({"request_id": long});
        let err = check(schema, args.as_object().unwrap()).unwrap_err();
        assert_eq!(err.field, "request_id");
        assert!(err.to_string().len() < 300, "{err}");
        let args = json!({"operation": {"prompt": "toolong"}});
        let err = check(schema, args.as_object().unwrap()).unwrap_err();
        assert_eq!(err.field, "operation.prompt");
        let args = json!({"key": "four"});
        assert_eq!(
            check(schema, args.as_object().unwrap()).unwrap_err().field,
            "key"
        );
        let args = json!({"key": "", "request_id": "é".repeat(200)});
        assert_eq!(
            check(schema, args.as_object().unwrap()).unwrap_err().field,
            "key"
        );
        let fine = json!({"key": null, "request_id": "é".repeat(200), "other": 1});
        assert!(check(schema, fine.as_object().unwrap()).is_ok());
    }
}
