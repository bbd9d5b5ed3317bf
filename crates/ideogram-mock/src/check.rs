//! A JSON body checked as the spec describes it, for both services: its
//! schema's checks (ranges, counts, nulls, enums, patterns, unknown fields),
//! then a decode into the generated type the spec's operations table names
//! for that schema; 400 naming the field.

use axum::response::Response;
use ideogram_raw::operation::BodyVisitor;
use ideogram_raw::schema::Schemas;
use serde_json::Value;

use crate::serve::error;

/// Decodes a body into the generated type it is visited with.
pub(crate) struct Decode(Value);

impl BodyVisitor for Decode {
    type Output = Result<(), Response>;

    fn visit<T>(self) -> Self::Output
    where
        T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema + 'static,
    {
        serde_path_to_error::deserialize::<_, T>(self.0)
            .map(drop)
            .map_err(|e| error(400, field_message(&e.path().to_string(), e.inner())))
    }
}

/// A spec's `operations::with_body_type`, called with a [`Decode`].
pub(crate) type WithBodyType = fn(&str, Decode) -> Option<Result<(), Response>>;

/// Checks `body` against the schema `schema` of `spec`, then decodes it into
/// its generated type (`with_body_type` of the same spec).
pub(crate) fn body(
    spec: &Schemas,
    with_body_type: WithBodyType,
    schema: &str,
    body: &Value,
) -> Result<(), Response> {
    spec.check(schema, body)
        .map_err(|v| error(400, field_message(&v.path, &v.message)))?;
    with_body_type(schema, Decode(body.clone()))
        .unwrap_or_else(|| Err(error(500, format!("the mock has no type for {schema}"))))
}

/// `field: message`, or the message alone for the body itself.
pub(crate) fn field_message(field: &str, message: &dyn std::fmt::Display) -> String {
    if field.is_empty() || field == "." {
        message.to_string()
    } else {
        format!("{field}: {message}")
    }
}
