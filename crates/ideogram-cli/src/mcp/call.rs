//! A call's arguments: read as the library's types, and named for the
//! idempotency key's fingerprint and the sidecars.

use ideogram::{InvalidInput, Provider};
use serde_json::{Map, Value};

use crate::output::Asked;
use crate::request::Work;

use super::tools::Tool;

/// The arguments of a call, the call's own fields taken out.
pub(super) struct Call {
    pub(super) args: Map<String, Value>,
    pub(super) provider: Option<Provider>,
    pub(super) key: Option<String>,
}

impl Call {
    /// Takes the call's own fields out of arguments already checked
    /// against the tool's schema ([`Tool::check`]).
    pub(super) fn read(mut args: Map<String, Value>) -> Result<Self, InvalidInput> {
        let provider = match args.remove("provider") {
            Some(Value::String(name)) => Some(name.parse::<Provider>()?),
            _ => None,
        };
        let key = match args.remove("idempotency_key") {
            Some(Value::String(key)) => Some(key),
            _ => None,
        };
        Ok(Self {
            args,
            provider,
            key,
        })
    }

    /// The arguments as the library's `T`, a refusal naming the field.
    pub(super) fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, InvalidInput> {
        parse_args(Value::Object(self.args.clone()))
    }
}

/// `value` read as `T`; a refusal names the field's path and keeps the
/// library's words for what it allows.
pub(super) fn parse_args<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, InvalidInput> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        let field = if path == "." {
            "arguments".to_owned()
        } else {
            path
        };
        // The library's own error already says "invalid FIELD: ".
        let message = message
            .strip_prefix("invalid ")
            .and_then(|rest| rest.split_once(": "))
            .map_or(message.clone(), |(_, said)| said.to_owned());
        InvalidInput::new(field, message)
    })
}

/// A paid call's request and where it goes.
pub(super) struct Paid {
    pub(super) work: Work,
    /// The tool and its arguments as sent, for the key's fingerprint.
    pub(super) request: String,
    pub(super) asked: Asked,
    pub(super) provider: Option<Provider>,
    pub(super) key: Option<String>,
    /// Queue it (Segmind's) and answer with its id.
    pub(super) queue: bool,
}

pub(super) fn request_field<'a>(call: &'a Call, name: &str) -> Option<&'a Value> {
    call.args.get(name).filter(|v| !v.is_null())
}

/// A tool's call as one text, object keys sorted at every level, so that
/// the same arguments always read the same.
pub(super) fn canonical(tool: Tool, args: &Map<String, Value>) -> String {
    pub(super) fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let pairs = keys.into_iter().map(|k| (k.clone(), sorted(&map[k])));
                Value::Object(pairs.collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    format!("{} {}", tool.name(), sorted(&Value::Object(args.clone())))
}

/// A stable fingerprint of `text`, as the journal's for batches.
pub(super) fn fingerprint(text: &str) -> String {
    crate::journal::fnv1a(text.bytes())
}
