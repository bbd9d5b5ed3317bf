//! Code generation: the OpenAPI specs in `openapi/` become the raw client's
//! generated modules.
//!
//! The binary (`cargo xtask generate [--check]`) and the snapshot tests both
//! call [`generate`], so what is committed, what `--check` compares and what
//! the snapshots pin are one and the same text.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use openapiv3::{OpenAPI, ReferenceOr};

pub mod evolve;
pub mod multipart;
mod nodes;
mod pattern;
mod price;
mod surface;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
pub use surface::api_surface;

/// Seconds the generated `Client::new` waits for an answer: a generation takes
/// tens of seconds, so the generator's 15 s default would cut paid work short.
pub const GENERATION_TIMEOUT_SECS: u64 = 300;

/// One spec and the files generated from it.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The spec, relative to the workspace root.
    pub spec: &'static str,
    /// The generated module, relative to the workspace root.
    pub output: &'static str,
    /// The spec's schemas as JSON, relative to the workspace root: what the
    /// raw crate's validator checks bodies against (ranges, counts, nulls).
    pub schemas: &'static str,
    /// The spec's schemas compiled into the validator's nodes, as Rust
    /// statics, relative to the workspace root: what a check reads.
    pub nodes: &'static str,
}

/// Every spec the project generates code from.
pub const TARGETS: [Target; 2] = [
    Target {
        spec: "openapi/segmind.yaml",
        output: "crates/ideogram-raw/src/generated/segmind.rs",
        schemas: "crates/ideogram-raw/src/generated/segmind.schemas.json",
        nodes: "crates/ideogram-raw/src/generated/segmind_schemas.rs",
    },
    Target {
        spec: "openapi/ideogram.yaml",
        output: "crates/ideogram-raw/src/generated/ideogram.rs",
        schemas: "crates/ideogram-raw/src/generated/ideogram.schemas.json",
        nodes: "crates/ideogram-raw/src/generated/ideogram_schemas.rs",
    },
];

/// A generated file: where it goes and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The path, relative to the workspace root.
    pub path: &'static str,
    /// The file's text.
    pub text: String,
}

/// Every file generated from `target`: the Rust module, the schemas and
/// their compiled nodes.
pub fn generate_all(target: &Target) -> Result<Vec<Generated>, Box<dyn Error>> {
    Ok(vec![
        Generated {
            path: target.output,
            text: generate(target)?,
        },
        Generated {
            path: target.schemas,
            text: generate_schemas(target)?,
        },
        Generated {
            path: target.nodes,
            text: nodes::module(target.spec, &canonical(&spec_schemas(target)?))?,
        },
    ])
}

/// The spec's `components.schemas` as canonical JSON (keys sorted, two-space
/// indent, a final newline), so that code outside the generated types can
/// check what the types cannot express: numeric ranges, item counts, nulls.
pub fn generate_schemas(target: &Target) -> Result<String, Box<dyn Error>> {
    let mut out = serde_json::to_string_pretty(&canonical(&spec_schemas(target)?))?;
    out.push('\n');
    Ok(out)
}

/// The spec as JSON.
fn spec_json(target: &Target) -> Result<serde_json::Value, Box<dyn Error>> {
    let path = workspace_root().join(target.spec);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not valid YAML: {e}", path.display()).into())
}

/// The spec's `components.schemas`, as JSON.
fn spec_schemas(target: &Target) -> Result<serde_json::Value, Box<dyn Error>> {
    spec_json(target)?
        .pointer("/components/schemas")
        .cloned()
        .ok_or_else(|| format!("{} has no components.schemas", target.spec).into())
}

/// The `operations` module: every operation as data (id, method, path, the
/// body's content type and schema, its `x-route`) and a dispatch from a body
/// schema's name to its generated type, so that code routing by path (the
/// mock) or by task and model (the facade) serves an operation added to the
/// spec with no hand edit.
fn operations_module(spec: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    let mut operations = String::new();
    let mut body_types: Vec<String> = Vec::new();
    let paths = spec["paths"].as_object().ok_or("the spec has no paths")?;
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let id = op["operationId"]
                .as_str()
                .ok_or_else(|| format!("{method} {path} has no operationId"))?;
            let content = op
                .pointer("/requestBody/content")
                .and_then(|c| c.as_object());
            // JSON first where an operation also takes another form; each
            // other form is an operation of its own, as the multipart
            // generator names it (`{id}_multipart`).
            let mut forms: Vec<(&String, &serde_json::Value)> =
                content.into_iter().flatten().collect();
            forms.sort_by_key(|(kind, _)| *kind != "application/json");
            let mut bodies = Vec::new();
            let mut body_schemas = Vec::new();
            for (n, (kind, media)) in forms.iter().enumerate() {
                let schema = media
                    .pointer("/schema/$ref")
                    .and_then(|r| r.as_str())
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .ok_or_else(|| format!("{id}: a request body is a $ref to a schema"))?;
                body_schemas.push(schema);
                if !body_types.iter().any(|b| b == schema) {
                    body_types.push(schema.to_owned());
                }
                let name = if n == 0 {
                    id.to_owned()
                } else {
                    format!("{id}_multipart")
                };
                bodies.push((name, format!("Some({kind:?})"), format!("Some({schema:?})")));
            }
            if bodies.is_empty() {
                bodies.push((id.to_owned(), "None".to_owned(), "None".to_owned()));
            }
            let route = route(id, &op["x-route"])?;
            let accept = match answer_types(spec, op)
                .iter()
                .find(|t| *t == "application/json")
            {
                Some(kind) => format!("Some({kind:?})"),
                None => "None".to_owned(),
            };
            let typical = match &op["x-typical-seconds"] {
                serde_json::Value::Null => "None".to_owned(),
                seconds => {
                    let seconds = seconds
                        .as_f64()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| format!("{id}: x-typical-seconds is a positive number"))?;
                    format!(
                        "Some(core::time::Duration::from_millis({}))",
                        (seconds * 1000.0).round() as u64
                    )
                }
            };
            let rate_limit = rate_limit(id, &op["x-rate-limit"])?;
            let deprecation = deprecation(id, op)?;
            let result_ttl = match &op["x-result-ttl-seconds"] {
                serde_json::Value::Null => "None".to_owned(),
                seconds => {
                    let seconds = seconds.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                        format!("{id}: x-result-ttl-seconds is a positive integer")
                    })?;
                    format!("Some(core::time::Duration::from_secs({seconds}))")
                }
            };
            let price = price::price(spec, id, op, &body_schemas)?;
            let dry_run = price::dry_run(spec, id, op)?;
            for (id, content_type, body) in bodies {
                writeln!(
                    operations,
                    "        crate::operation::Operation {{ id: {id:?}, method: {:?}, path: {path:?}, \
                     content_type: {content_type}, body: {body}, typical: {typical}, accept: {accept}, route: {route}, \
                     rate_limit: {rate_limit}, deprecation: {deprecation}, result_ttl: {result_ttl}, \
                     price: {price}, dry_run: {dry_run} }},",
                    method.to_ascii_uppercase()
                )?;
            }
        }
    }
    let mut arms = String::new();
    for schema in &body_types {
        writeln!(
            arms,
            "            {schema:?} => Some(visitor.visit::<super::types::{schema}>()),"
        )?;
    }
    Ok(format!(
        "/// The spec's operations as data, for code that routes requests by\n\
         /// method and path (the mock) or by task and model (the facade).\n\
         pub mod operations {{\n\
         /// Every operation of the spec, sorted by path: a static, so that an\n\
         /// operation found in it is known by its address (a const's copies\n\
         /// may each have their own).\n\
         pub static ALL: &[crate::operation::Operation] = &[\n{operations}    ];\n\
         /// Calls `visitor` with the generated type of the body schema\n\
         /// `name`; `None` for a schema no operation takes as its body.\n\
         pub fn with_body_type<V: crate::operation::BodyVisitor>(name: &str, visitor: V) -> Option<V::Output> {{\n\
         match name {{\n{arms}            _ => None,\n        }}\n    }}\n}}\n"
    ))
}

/// The content types of an operation's success answer (its first 2xx,
/// its `$ref` followed).
fn answer_types(spec: &serde_json::Value, op: &serde_json::Value) -> Vec<String> {
    let Some((_, answer)) = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .find(|(status, _)| status.starts_with('2'))
    else {
        return Vec::new();
    };
    let answer = match answer["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/responses/"))
    {
        Some(name) => &spec["components"]["responses"][name],
        None => answer,
    };
    answer["content"]
        .as_object()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default()
}

/// An operation's `x-rate-limit` (`{calls, seconds}`: at most `calls` in
/// any `seconds`) as an `Option<(u32, Duration)>` expression.
fn rate_limit(id: &str, limit: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    if limit.is_null() {
        return Ok("None".to_owned());
    }
    let calls = limit["calls"]
        .as_u64()
        .filter(|c| *c > 0 && *c <= u64::from(u32::MAX));
    let seconds = limit["seconds"].as_u64().filter(|s| *s > 0);
    let (Some(calls), Some(seconds)) = (calls, seconds) else {
        return Err(
            format!("{id}: x-rate-limit is {{calls, seconds}}, both positive integers").into(),
        );
    };
    Ok(format!(
        "Some(({calls}, core::time::Duration::from_secs({seconds})))"
    ))
}

/// An operation's `deprecated: true` and its `x-deprecation` (`since`,
/// `replacement`, `sunset`) as a `crate::operation::Deprecation` expression
/// (`None` where it is not deprecated): what the mock announces in its
/// answers' headers and a reader of the table can tell a user.
fn deprecation(id: &str, op: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    let data = &op["x-deprecation"];
    match op["deprecated"] {
        serde_json::Value::Bool(true) => {}
        serde_json::Value::Null | serde_json::Value::Bool(false) if data.is_null() => {
            return Ok("None".to_owned());
        }
        _ => return Err(format!("{id}: x-deprecation without deprecated: true").into()),
    }
    if let Some(key) = data
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key)
        .find(|key| !["since", "replacement", "sunset"].contains(&key.as_str()))
    {
        return Err(format!("{id}: x-deprecation.{key} is not a deprecation field").into());
    }
    let text = |key: &str, date: bool| -> Result<String, Box<dyn Error>> {
        Ok(match &data[key] {
            serde_json::Value::Null => "None".to_owned(),
            serde_json::Value::String(value)
                if !date
                    || (value.len() == 10
                        && value.bytes().enumerate().all(|(i, b)| {
                            matches!(i, 4 | 7) == (b == b'-') && (b == b'-' || b.is_ascii_digit())
                        })) =>
            {
                format!("Some({value:?})")
            }
            _ => {
                let kind = if date {
                    "a date, YYYY-MM-DD"
                } else {
                    "a string"
                };
                return Err(format!("{id}: x-deprecation.{key} is {kind}").into());
            }
        })
    };
    Ok(format!(
        "Some(crate::operation::Deprecation {{ since: {}, replacement: {}, sunset: {} }})",
        text("since", true)?,
        text("replacement", false)?,
        text("sunset", true)?,
    ))
}

/// An operation's `x-route` as a `crate::operation::Route` expression
/// (`None` where it has none): which task and models it serves, where its
/// input image and other fields go, its queued twin, the tasks that may pin it.
fn route(id: &str, route: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    if route.is_null() {
        return Ok("None".to_owned());
    }
    let text = |key: &str| -> Result<String, Box<dyn Error>> {
        Ok(match &route[key] {
            serde_json::Value::Null => "None".to_owned(),
            serde_json::Value::String(value) => format!("Some({value:?})"),
            _ => return Err(format!("{id}: x-route.{key} is a string").into()),
        })
    };
    let task = route["task"]
        .as_str()
        .ok_or_else(|| format!("{id}: x-route has a task"))?;
    let list = |key: &str| -> Result<String, Box<dyn Error>> {
        let items = match &route[key] {
            serde_json::Value::Null => Vec::new(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|m| m.as_str().map(|m| format!("{m:?}")))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("{id}: x-route.{key} are strings"))?,
            _ => return Err(format!("{id}: x-route.{key} is a list").into()),
        };
        Ok(items.join(", "))
    };
    if let Some(key) = route
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key)
        .find(|key| {
            !["task", "models", "image", "nest", "queue", "poll", "serves"].contains(&key.as_str())
        })
    {
        return Err(format!("{id}: x-route.{key} is not a route field").into());
    }
    Ok(format!(
        "Some(crate::operation::Route {{ task: {task:?}, models: &[{}], image: {}, nest: {}, queue: {}, poll: {}, serves: &[{}] }})",
        list("models")?,
        text("image")?,
        text("nest")?,
        text("queue")?,
        text("poll")?,
        list("serves")?,
    ))
}

/// The `headers` module: every response header the spec's answers name, and
/// each a webhook delivery carries (`x-webhook-headers`), as a `HeaderName`
/// constant (`X_SEED_VALUE`), so that code reading or sending one (the
/// facade, the mock, the webhook verifier) takes its name from the spec.
/// Each constant's doc is the header's description.
fn headers_module(spec: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    let mut responses: Vec<&serde_json::Value> = spec
        .pointer("/components/responses")
        .and_then(|r| r.as_object())
        .map(|r| r.values().collect())
        .unwrap_or_default();
    for item in spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            if let Some(answers) = op["responses"].as_object() {
                responses.extend(answers.values());
            }
        }
    }
    let mut headers = std::collections::BTreeMap::new();
    for (name, header) in responses
        .iter()
        .filter_map(|r| r["headers"].as_object())
        .flatten()
    {
        let header = match header["$ref"].as_str() {
            Some(path) => path
                .strip_prefix('#')
                .and_then(|p| spec.pointer(p))
                .ok_or_else(|| format!("header {name}: {path} is not in the spec"))?,
            None => header,
        };
        let doc = header["description"].as_str().unwrap_or_default();
        headers.insert(name.to_ascii_lowercase(), doc.trim().replace('\n', " "));
    }
    // A webhook delivery's headers (`x-webhook-headers`: name to words),
    // which the verifier reads.
    for item in spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            for (name, doc) in op["x-webhook-headers"].as_object().into_iter().flatten() {
                let doc = doc.as_str().unwrap_or_default();
                headers.insert(name.to_ascii_lowercase(), doc.trim().replace('\n', " "));
            }
        }
    }
    let mut out = String::from(
        "/// The headers the spec names (its answers', and a webhook delivery's\n\
         /// `x-webhook-headers`), as `HeaderName`s.\n\
         pub mod headers {\n",
    );
    for (name, doc) in headers {
        let constant = name.replace('-', "_").to_ascii_uppercase();
        writeln!(
            out,
            "    /// `{name}`: {doc}\n    pub const {constant}: ::reqwest::header::HeaderName = \
             ::reqwest::header::HeaderName::from_static({name:?});"
        )?;
    }
    out.push_str("}\n");
    Ok(out)
}

/// The `aliases` module: each schema field the spec marks `x-aliases` (the
/// other names the service may give it), as `crate::alias::Alias` rows
/// sorted by schema and field, so that a reader of a body the service
/// wrote renames an alias from the spec, not from a name of its own.
fn aliases_module(spec: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    let mut rows = String::new();
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(|s| s.as_object());
    let mut schemas: Vec<_> = schemas.into_iter().flatten().collect();
    schemas.sort_by(|a, b| a.0.cmp(b.0));
    for (name, schema) in schemas {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        let mut properties: Vec<_> = properties.iter().collect();
        properties.sort_by(|a, b| a.0.cmp(b.0));
        let mut taken: Vec<&str> = properties.iter().map(|(field, _)| field.as_str()).collect();
        for (field, property) in properties {
            let aliases = &property["x-aliases"];
            if aliases.is_null() {
                continue;
            }
            let aliases: Vec<&str> = aliases
                .as_array()
                .filter(|list| !list.is_empty())
                .and_then(|list| list.iter().map(|a| a.as_str()).collect::<Option<_>>())
                .ok_or_else(|| format!("{name}.{field}: x-aliases is a list of names"))?;
            for alias in &aliases {
                // An alias that is a field's name, or another field's
                // alias, would rename a value into the wrong field.
                if taken.contains(alias) {
                    return Err(format!(
                        "{name}.{field}: x-aliases names {alias}, which is already a field or an alias of {name}"
                    )
                    .into());
                }
                taken.push(alias);
            }
            writeln!(
                rows,
                "    crate::alias::Alias {{ schema: {name:?}, field: {field:?}, aliases: &{aliases:?} }},"
            )?;
        }
    }
    Ok(format!(
        "/// Other names the service may give a schema's field (`x-aliases`).\n\
         pub mod aliases {{\n\
         /// Each field with other names, sorted by schema and field: a body\n\
         /// read from the service renames them (`crate::alias::rename_aliases`).\n\
         pub const ALL: &[crate::alias::Alias] = &[\n{rows}];\n}}\n"
    ))
}

/// The `limits` module: every bound the spec's schemas set (a schema's own,
/// or one of its properties'), as a range constant named for where it
/// stands (`SEED`, `COLOR_PALETTE_MEMBER_COLOR_WEIGHT`), so that code
/// checking a value takes the bound from the spec instead of a copy.
fn limits_module(schemas: &serde_json::Value) -> String {
    let mut out = String::from(
        "/// Bounds from the spec's schemas (`minimum`/`maximum`, `minItems`/\n\
         /// `maxItems`, `minLength`/`maxLength`), for checks that need them as values.\n\
         pub mod limits {\n",
    );
    let max = most_bytes(schemas);
    let mut schemas: Vec<(&String, &serde_json::Value)> = schemas
        .as_object()
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    schemas.sort_by(|a, b| a.0.cmp(b.0));
    for (name, schema) in schemas {
        let mut places = vec![(screaming(name), name.clone(), schema)];
        if let Some(properties) = schema["properties"].as_object() {
            let mut properties: Vec<_> = properties.iter().collect();
            properties.sort_by(|a, b| a.0.cmp(b.0));
            for (field, property) in properties {
                places.push((
                    format!("{}_{}", screaming(name), field.to_ascii_uppercase()),
                    format!("{name}.{field}"),
                    property,
                ));
            }
        }
        for (constant, place, schema) in places {
            if let Some(line) = bound(&constant, &place, schema) {
                out.push_str(&line);
            }
            if let Some(line) = default(&constant, &place, schema) {
                out.push_str(&line);
            }
        }
    }
    write!(
        out,
        "    /// The largest `x-max-bytes` of any file: what a file may hold before\n    \
         /// the operation it goes to is known.\n    \
         pub const MAX_FILE_BYTES: u64 = {max};\n"
    )
    .expect("writing to a String");
    out.push_str("}\n");
    out
}

/// The largest `x-max-bytes` anywhere in `schema`.
fn most_bytes(schema: &serde_json::Value) -> u64 {
    match schema {
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(key, value)| match key.as_str() {
                "x-max-bytes" => value.as_u64().unwrap_or_default(),
                _ => most_bytes(value),
            })
            .max()
            .unwrap_or_default(),
        serde_json::Value::Array(items) => items.iter().map(most_bytes).max().unwrap_or_default(),
        _ => 0,
    }
}

/// A constant for the bounds `schema` sets, if it sets any.
fn bound(constant: &str, place: &str, schema: &serde_json::Value) -> Option<String> {
    let pair = |low: &str, high: &str| (schema.get(low).cloned(), schema.get(high).cloned());
    let (kind, (low, high), what) = match schema["type"].as_str() {
        Some("integer") => ("i64", pair("minimum", "maximum"), "value"),
        Some("number") => ("f64", pair("minimum", "maximum"), "value"),
        Some("array") => ("usize", pair("minItems", "maxItems"), "item count"),
        Some("string") => (
            "usize",
            pair("minLength", "maxLength"),
            "length in characters",
        ),
        _ => return None,
    };
    if low.is_none() && high.is_none() {
        return None;
    }
    let literal = |v: Option<serde_json::Value>, fallback: &str| match v {
        Some(n) if kind == "f64" => {
            let text = n.to_string();
            if text.contains('.') {
                text
            } else {
                format!("{text}.0")
            }
        }
        Some(n) => n.to_string(),
        None => fallback.to_owned(),
    };
    let (min, max) = match kind {
        "f64" => (literal(low, "f64::MIN"), literal(high, "f64::MAX")),
        "i64" => (literal(low, "i64::MIN"), literal(high, "i64::MAX")),
        _ => (literal(low, "0"), literal(high, "usize::MAX")),
    };
    Some(format!(
        "    /// `{place}`: the {what} from {min} to {max}.\n    \
         pub const {constant}: ::std::ops::RangeInclusive<{kind}> = {min}..={max};\n"
    ))
}

/// A `{constant}_DEFAULT` constant for a number's `default`, if it sets one.
fn default(constant: &str, place: &str, schema: &serde_json::Value) -> Option<String> {
    let value = schema.get("default")?;
    let kind = match schema["type"].as_str() {
        Some("integer") if value.is_i64() => "i64",
        Some("number") if value.is_f64() => "f64",
        _ => return None,
    };
    Some(format!(
        "    /// `{place}`: the default, {value}.\n    \
         pub const {constant}_DEFAULT: {kind} = {value};\n"
    ))
}

/// `ColorPaletteMember` as `COLOR_PALETTE_MEMBER`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `value` with every object's keys in sorted order, whatever serde_json's
/// map keeps.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(canonical).collect())
        }
        other => other.clone(),
    }
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Reads a spec from YAML.
pub fn load_spec(path: &Path) -> Result<OpenAPI, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not a valid spec: {e}", path.display()).into())
}

/// Generates the module for `target` and returns its text, formatted and
/// stable (no paths, no timestamps).
pub fn generate(target: &Target) -> Result<String, Box<dyn Error>> {
    let mut spec = without_file_caps(&workspace_root().join(target.spec))?;
    let multipart_ops = multipart::take_multipart(&mut spec)?;
    prepare_for_progenitor(&mut spec);

    let mut generator = Generator::new(&settings());
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor failed on {}: {e}", target.spec))?;
    let mut file = syn::parse2::<syn::File>(tokens)?;
    mark_enums_non_exhaustive(&mut file);
    let schemas = spec_schemas(target)?;
    mark_optional_fields_not_null(&mut file, &schemas);
    let limits: syn::File = syn::parse_str(&limits_module(&schemas))?;
    file.items.extend(limits.items);
    let json = spec_json(target)?;
    let operations: syn::File = syn::parse_str(&operations_module(&json)?)?;
    file.items.extend(operations.items);
    let headers: syn::File = syn::parse_str(&headers_module(&json)?)?;
    file.items.extend(headers.items);
    let aliases: syn::File = syn::parse_str(&aliases_module(&json)?)?;
    file.items.extend(aliases.items);
    // The raw crate's schemas of this spec, named as its generated module.
    let module = Path::new(target.output)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or("a generated module's file name")?;
    let schemas_of = format!("crate::schema::{module}()");
    let multipart: syn::File =
        syn::parse_str(&multipart::module(&spec, &multipart_ops, &schemas_of)?)?;
    file.items.extend(multipart.items);
    let body = pattern::use_raw_matcher(&prettyplease::unparse(&file))?;

    let mut out = String::new();
    writeln!(
        out,
        "// @generated by `cargo xtask generate` from {} with progenitor. Do not edit:",
        target.spec
    )?;
    writeln!(
        out,
        "// change the spec or xtask/src/lib.rs and regenerate."
    )?;
    out.push('\n');
    out.push_str(&body);
    Ok(out)
}

/// The spec at `path` without a file's `x-max-bytes`, `x-media-types` and
/// `x-max-aspect` (what the check nodes carry of it): typify takes a
/// `format: binary` schema for `FilePart` only as such a schema is written
/// without extensions. Read as YAML first, so that nothing is reordered.
fn without_file_caps(path: &Path) -> Result<OpenAPI, Box<dyn Error>> {
    fn strip(value: &mut serde_yaml::Value) {
        match value {
            serde_yaml::Value::Mapping(fields) => {
                fields.remove("x-max-bytes");
                fields.remove("x-media-types");
                fields.remove("x-max-aspect");
                fields.values_mut().for_each(strip);
            }
            serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut value: serde_yaml::Value = serde_yaml::from_str(&text)?;
    strip(&mut value);
    serde_yaml::from_value(value)
        .map_err(|e| format!("{} is not a valid spec: {e}", path.display()).into())
}

/// Marks every generated enum `#[non_exhaustive]`: a spec's enums grow (a
/// style, a model, a size), and a user's `match` on one must not stop
/// compiling when a regeneration adds a value.
fn mark_enums_non_exhaustive(file: &mut syn::File) {
    for item in type_items(file) {
        if let syn::Item::Enum(e) = item {
            e.attrs.push(syn::parse_quote!(#[non_exhaustive]));
        }
    }
}

/// The items of the generated `types` module.
fn type_items(file: &mut syn::File) -> impl Iterator<Item = &mut syn::Item> {
    let types = file.items.iter_mut().filter_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    });
    types.flat_map(|(_, items)| items.iter_mut())
}

/// Puts `ideogram_raw::not_null::absent_not_null` on each optional field
/// (an `Option` left out when `None`) of the generated structs whose spec
/// property is not `nullable`: schemars would publish it as taking `null`,
/// which the spec, and the service, refuse. A struct typify named for an
/// inline schema (`<Parent><Field>` or `<Parent><Field>Item`) is found
/// through its parent.
fn mark_optional_fields_not_null(file: &mut syn::File, schemas: &serde_json::Value) {
    for item in type_items(file) {
        let syn::Item::Struct(s) = item else {
            continue;
        };
        let Some(schema) = struct_schema(schemas, &s.ident.to_string()) else {
            continue;
        };
        for field in &mut s.fields {
            let Some(name) = optional_field_name(field) else {
                continue;
            };
            let Some(property) = schema["properties"].get(&name) else {
                continue;
            };
            if !spec_nullable(schemas, property) {
                field.attrs.push(syn::parse_quote!(
                    #[schemars(transform = crate::not_null::absent_not_null)]
                ));
            }
        }
    }
}

/// The spec schema of the generated struct `name`: a named schema, or one
/// inline in a named schema's property (or its items).
fn struct_schema<'a>(schemas: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    if let Some(schema) = schemas.get(name) {
        return Some(schema);
    }
    let resolve = |schema: &'a serde_json::Value| match schema["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
    {
        Some(name) => schemas.get(name),
        None => Some(schema),
    };
    schemas.as_object()?.iter().find_map(|(parent, schema)| {
        let rest = name.strip_prefix(parent.as_str())?;
        schema["properties"]
            .as_object()?
            .iter()
            .find_map(|(field, property)| {
                let field = multipart::pascal(field);
                if rest == field {
                    resolve(property)
                } else if rest.strip_suffix("Item") == Some(field.as_str()) {
                    resolve(&property["items"])
                } else {
                    None
                }
            })
    })
}

/// A field's JSON name, when it is an `Option` left out when `None`.
fn optional_field_name(field: &syn::Field) -> Option<String> {
    let syn::Type::Path(path) = &field.ty else {
        return None;
    };
    if path.path.segments.last()?.ident != "Option" {
        return None;
    }
    let mut skipped = false;
    let mut rename = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip_serializing_if") {
                skipped = true;
                let _: syn::LitStr = meta.value()?.parse()?;
            } else if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    let ident = field.ident.as_ref()?.to_string();
    skipped.then(|| rename.unwrap_or_else(|| ident.trim_start_matches("r#").to_owned()))
}

/// Whether a spec property takes `null`: it says `nullable`, or what its
/// `$ref` names does.
fn spec_nullable(schemas: &serde_json::Value, property: &serde_json::Value) -> bool {
    let referred = property["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| schemas.get(name));
    property["nullable"] == true || referred.is_some_and(|s| s["nullable"] == true)
}

/// The generator settings every spec shares.
fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // Auth is applied per request by the hand-written `ClientHooks` impls.
        .with_inner_type(tokens("crate::auth::Auth"))
        .with_hooks(HooksMode::Expected)
        .with_timeout(GENERATION_TIMEOUT_SECS)
        // Lets users publish a request type's JSON Schema (e.g. as an agent tool).
        .with_derive("schemars::JsonSchema")
        // A multipart body's files (`format: binary`): bytes, name and type.
        .with_conversion(
            schemars08::schema::SchemaObject {
                instance_type: Some(schemars08::schema::InstanceType::String.into()),
                format: Some("binary".to_owned()),
                ..Default::default()
            },
            "crate::multipart::FilePart",
            std::iter::empty(),
        )
        // Server-sent states must tolerate values added later.
        .with_replacement(
            "QueueStatus",
            "crate::QueueStatus",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    settings
}

fn tokens(path: &str) -> proc_macro2::TokenStream {
    path.parse().expect("a valid Rust path")
}

/// Hands error answers to progenitor unread: progenitor would decode them
/// as JSON and, when a body is empty (the official document gives 400, 401
/// and 429 none), HTML from a proxy, or another shape, lose the status with
/// the body. As a byte stream the status and headers always reach the
/// caller, who reads the body (bounded) and maps the answer by its status.
///
/// A success answer that offers more than one content type (Segmind's
/// describe: text or JSON) is handed over unread too: progenitor would
/// decode the first it likes and fail, after billing, on the other. The
/// caller branches on `Content-Type`.
///
/// Multipart bodies are taken out before this ([`multipart::take_multipart`]):
/// progenitor has none, and panics on a body with two content types.
pub fn prepare_for_progenitor(spec: &mut OpenAPI) {
    let components = spec.components.clone().unwrap_or_default();
    for item in spec.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            unread_answers(operation, &components);
        }
    }
}

/// Replaces every error answer of `operation` (any status outside 2xx, and
/// `default`), and every success answer with more than one content type,
/// with one whose body is an unread byte stream, keeping its description
/// and headers.
fn unread_answers(operation: &mut openapiv3::Operation, components: &openapiv3::Components) {
    let resolve = |answer: &ReferenceOr<openapiv3::Response>| match answer {
        ReferenceOr::Item(response) => response.clone(),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/responses/")
            .and_then(|name| components.responses.get(name))
            .and_then(|r| r.as_item())
            .cloned()
            .unwrap_or_else(|| panic!("unresolved response {reference}")),
    };
    let unread = |answer: &ReferenceOr<openapiv3::Response>| {
        let mut response = resolve(answer);
        response.content = [(
            "application/octet-stream".to_owned(),
            openapiv3::MediaType::default(),
        )]
        .into_iter()
        .collect();
        ReferenceOr::Item(response)
    };
    let responses = &mut operation.responses;
    for (status, answer) in responses.responses.iter_mut() {
        let success = match status {
            openapiv3::StatusCode::Code(code) => (200..300).contains(code),
            openapiv3::StatusCode::Range(range) => *range == 2,
        };
        if !success || resolve(answer).content.len() > 1 {
            *answer = unread(answer);
        }
    }
    if let Some(answer) = responses.default.as_mut() {
        *answer = unread(answer);
    }
}

/// Compares a freshly generated file with what is on disk; returns a unified
/// diff when they differ.
pub fn stale_diff(generated: &Generated) -> Option<String> {
    let (output, fresh) = (generated.path, generated.text.as_str());
    let path = workspace_root().join(output);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == fresh {
        return None;
    }
    let diff = similar::TextDiff::from_lines(committed.as_str(), fresh);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(
                &format!("{output} (committed)"),
                &format!("{output} (generated)"),
            )
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::aliases_module;

    fn spec(properties: serde_json::Value) -> serde_json::Value {
        json!({"components": {"schemas": {"Delivery": {"type": "object", "properties": properties}}}})
    }

    #[test]
    fn the_aliases_table_holds_each_field_with_its_other_names() {
        let text = aliases_module(&spec(json!({
            "id": {"type": "string", "x-aliases": ["request_id", "job_id"]},
            "data": {"type": "array"},
        })))
        .expect("valid aliases");
        assert!(
            text.contains(
                r#"Alias { schema: "Delivery", field: "id", aliases: &["request_id", "job_id"] }"#
            ),
            "{text}"
        );
        assert_eq!(text.matches("Alias {").count(), 1, "{text}");
    }

    #[test]
    fn aliases_that_could_rename_into_the_wrong_field_are_refused() {
        let refused = |properties: serde_json::Value, says: &str| {
            let error = aliases_module(&spec(properties))
                .expect_err("refused")
                .to_string();
            assert!(error.contains(says), "{error}");
        };
        refused(
            json!({"id": {"x-aliases": ["data"]}, "data": {}}),
            "Delivery.id: x-aliases names data",
        );
        refused(
            json!({"a": {"x-aliases": ["old"]}, "b": {"x-aliases": ["old"]}}),
            "x-aliases names old",
        );
        refused(json!({"id": {"x-aliases": "old"}}), "a list of names");
        refused(json!({"id": {"x-aliases": []}}), "a list of names");
        refused(json!({"id": {"x-aliases": [3]}}), "a list of names");
    }
}
