//! The JSON Schemas we publish say what the specs accept: every generated
//! request body's (`schemars::schema_for!`, offered as an agent's tool
//! definition) and the facade's request schemas (`GenerateRequest` and
//! `EditRequest`, the MCP tools' input schemas). The spec's own examples
//! validate against them, and a `null` for an optional field the spec does
//! not mark `nullable` is refused, as the services refuse it (issue #26:
//! every optional field was published nullable, and `{"seed": null}` is a
//! 400).
//!
//! The validator is the workspace's own JSON Schema check
//! (`ideogram_raw::schema::Schemas::document`, the one `ideogram mcp` runs
//! on every call), which reads draft 2020-12's type lists and `anyOf` nulls.

use ideogram::raw::operation::{BodyVisitor, Operation};
use ideogram::raw::schema::{self, Schemas};
use ideogram::{EditRequest, GenerateRequest, Provider};
use serde_json::Value;
use serde_json::json;

/// A generated body type's published JSON Schema.
struct Published;

impl BodyVisitor for Published {
    type Output = Value;
    fn visit<T>(self) -> Value
    where
        T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema + 'static,
    {
        schemars::schema_for!(T).to_value()
    }
}

/// Each provider's spec schemas, operations and body-type dispatch.
type Dispatch = fn(&str, Published) -> Option<Value>;

fn specs() -> [(Provider, &'static Schemas, &'static [Operation], Dispatch); 2] {
    [
        (
            Provider::Segmind,
            schema::segmind(),
            ideogram::raw::segmind::operations::ALL,
            ideogram::raw::segmind::operations::with_body_type::<Published>,
        ),
        (
            Provider::Ideogram,
            schema::ideogram(),
            ideogram::raw::ideogram::operations::ALL,
            ideogram::raw::ideogram::operations::with_body_type::<Published>,
        ),
    ]
}

/// The spec's schema of `field` of the body `name` takes `null`: it says
/// `nullable`, itself or in what it refers to.
fn spec_nullable(spec: &Schemas, name: &str, field: &str) -> bool {
    let Some(property) = spec.property(name, field) else {
        return false;
    };
    let referred = property["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|r| spec.get(r));
    property["nullable"] == true || referred.is_some_and(|s| s["nullable"] == true)
}

/// The body's optional fields: properties not `required`.
fn optional_fields(spec: &Schemas, name: &str) -> Vec<String> {
    let schema = spec.get(name).expect("a body schema");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    spec.fields(name)
        .into_iter()
        .filter(|f| !required.contains(f))
        .map(str::to_owned)
        .collect()
}

/// Whether the published `schema` takes `null` for its property `field`:
/// the property's own schema (with the document's `$defs`) checked alone,
/// so no other field of a body can be what refuses it.
fn takes_null(schema: &Value, field: &str) -> bool {
    let mut property = schema["properties"][field].clone();
    assert!(property.is_object(), "{field} is published");
    if let Some(defs) = schema.get("$defs") {
        property["$defs"] = defs.clone();
    }
    Schemas::document(property)
        .check_document(&Value::Null)
        .is_ok()
}

#[test]
fn generated_body_schemas_take_the_spec_s_examples_and_refuse_nulls_it_refuses() {
    let (mut examples, mut nulls) = (0, 0);
    let mut wrong = Vec::new();
    for (provider, spec, operations, dispatch) in specs() {
        let mut bodies: Vec<&str> = operations.iter().filter_map(|op| op.body).collect();
        bodies.sort_unstable();
        bodies.dedup();
        for name in bodies {
            let published = dispatch(name, Published).expect("a generated type");
            // The spec gives an example for every JSON body (Ideogram's
            // multipart bodies have none: they hold files).
            let example = &spec.get(name).expect("a body schema")["example"];
            if !example.is_null() {
                examples += 1;
                if let Err(e) = Schemas::document(published.clone()).check_document(example) {
                    wrong.push(format!("{provider:?} {name}: its example is refused: {e}"));
                }
            }
            for field in optional_fields(spec, name) {
                nulls += 1;
                let spec_takes = spec_nullable(spec, name, &field);
                if takes_null(&published, &field) != spec_takes {
                    wrong.push(format!(
                        "{provider:?} {name}.{field}: the spec {} null, the published schema does not agree",
                        if spec_takes { "takes" } else { "refuses" },
                    ));
                }
            }
        }
    }
    assert!(
        examples >= 15 && nulls >= 100,
        "{examples} examples, {nulls} fields"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_facade_s_request_schemas_take_a_null_only_where_the_facade_does() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for provider in Provider::ALL {
        let schema = GenerateRequest::json_schema(provider);
        let fields = schema["properties"].as_object().expect("an object schema");
        for field in fields.keys().filter(|f| *f != "prompt") {
            checked += 1;
            let body = json!({"prompt": "a fox", field.as_str(): null});
            // The facade's verdict: its JSON form read, then checked.
            let facade_takes = serde_json::from_value::<GenerateRequest>(body)
                .is_ok_and(|request| request.check(provider).is_ok());
            // A schema may be stricter than the facade (an alias the facade
            // also reads takes the spec field's schema), never looser.
            if takes_null(&schema, field) && !facade_takes {
                wrong.push(format!(
                    "{provider:?}: the published schema takes a null {field}, the facade refuses it"
                ));
            }
        }
    }
    // And each edit operation's schema, over a request the facade takes.
    for (provider, _, operations, _) in specs() {
        let mut tasks: Vec<&str> = operations
            .iter()
            .filter_map(|op| op.route.map(|route| route.task))
            .collect();
        tasks.sort_unstable();
        tasks.dedup();
        for task in tasks {
            let operation = match task {
                "edit" => json!({"op": task, "mask": IMAGE, "prompt": "a hat"}),
                "reframe" => json!({"op": task, "resolution": "1024x1024"}),
                "replace-background" => json!({"op": task, "prompt": "a beach"}),
                "upscale" => json!({"op": task}),
                _ => continue,
            };
            let base = json!({"image": IMAGE, "operation": operation});
            let facade_takes = |body: Value| {
                serde_json::from_value::<EditRequest>(body)
                    .is_ok_and(|request| request.check(provider).is_ok())
            };
            assert!(facade_takes(base.clone()), "{provider:?} {task}: {base}");
            let schema = EditRequest::json_schema(provider, task);
            let fields = schema["properties"].as_object().expect("an object schema");
            for field in fields
                .keys()
                .filter(|f| !["image", "operation"].contains(&f.as_str()))
            {
                checked += 1;
                let mut body = base.clone();
                body[field.as_str()] = Value::Null;
                if takes_null(&schema, field) && !facade_takes(body) {
                    wrong.push(format!(
                        "{provider:?} {task}: the published schema takes a null {field}, the facade refuses it"
                    ));
                }
            }
        }
    }
    assert!(checked >= 90, "{checked} fields");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// An input image the checks take without reading it.
const IMAGE: &str = "https://example.com/photo.png";
