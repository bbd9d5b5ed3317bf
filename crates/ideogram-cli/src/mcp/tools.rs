//! The tools: their names, descriptions and input schemas (the library's
//! request schemas, read from the spec bodies).

use std::sync::{Arc, LazyLock};

use ideogram::raw::schema::Schemas;
use ideogram::schemars::JsonSchema;
use ideogram::schemars::generate::SchemaSettings;
use ideogram::{
    DescribeRequest, EditKind, EditRequest, GenerateRequest, ImageInput, InvalidInput,
    LayerizeRequest, Model, Provider, Resolution, SizeFamily,
};
use serde_json::{Map, Value, json};

/// The longest idempotency key, in bytes.
pub(super) const MAX_KEY: usize = 200;

/// The longest wait a `job_wait` call may ask for, in seconds.
pub(super) const MAX_WAIT: u64 = 3600;

/// The tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tool {
    Generate,
    Remix,
    Edit,
    Reframe,
    ReplaceBackground,
    Upscale,
    RemoveBackground,
    RemoveObject,
    Describe,
    LayerizeText,
    JobSubmit,
    JobStatus,
    JobWait,
    Models,
    Quote,
}

impl Tool {
    pub(super) const ALL: [Self; 15] = [
        Self::Generate,
        Self::Remix,
        Self::Edit,
        Self::Reframe,
        Self::ReplaceBackground,
        Self::Upscale,
        Self::RemoveBackground,
        Self::RemoveObject,
        Self::Describe,
        Self::LayerizeText,
        Self::JobSubmit,
        Self::JobStatus,
        Self::JobWait,
        Self::Models,
        Self::Quote,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Generate => "generate",
            Self::Remix => "remix",
            Self::Edit => "edit",
            Self::Reframe => "reframe",
            Self::ReplaceBackground => "replace_background",
            Self::Upscale => "upscale",
            Self::RemoveBackground => "remove_background",
            Self::RemoveObject => "remove_object",
            Self::Describe => "describe",
            Self::LayerizeText => "layerize_text",
            Self::JobSubmit => "job_submit",
            Self::JobStatus => "job_status",
            Self::JobWait => "job_wait",
            Self::Models => "models",
            Self::Quote => "quote",
        }
    }

    pub(super) fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// The library's name for an operation on an image (`EditKind`'s `op`).
    pub(super) fn edit_op(self) -> Option<&'static str> {
        self.edit_kind().as_ref().map(EditKind::name)
    }

    /// The operation an edit tool does, with its fields empty: what
    /// options it takes.
    fn edit_kind(self) -> Option<EditKind> {
        Some(match self {
            Self::Edit => EditKind::Edit {
                mask: ImageInput::file(""),
                prompt: String::new(),
            },
            Self::Reframe => EditKind::Reframe {
                resolution: Resolution::all_in(SizeFamily::V3).next()?,
            },
            Self::ReplaceBackground => EditKind::ReplaceBackground {
                prompt: String::new(),
            },
            Self::Upscale => EditKind::Upscale {
                prompt: None,
                resemblance: None,
                detail: None,
            },
            Self::RemoveBackground => EditKind::RemoveBackground,
            Self::RemoveObject => EditKind::RemoveObject {
                mask: ImageInput::file(""),
            },
            _ => return None,
        })
    }

    /// Whether it takes a `GenerateRequest`.
    fn generates(self) -> bool {
        matches!(self, Self::Generate | Self::Remix | Self::JobSubmit)
    }

    /// Whether a call may be billed.
    pub(super) fn paid(self) -> bool {
        !matches!(self, Self::JobStatus | Self::Models | Self::Quote)
    }

    /// Whether `quote` prices its calls: those that send one request the
    /// library can price (a generation, an operation on an image, a
    /// describe or a layerize).
    pub(super) fn quotable(self) -> bool {
        self.generates()
            || self.edit_op().is_some()
            || matches!(self, Self::Describe | Self::LayerizeText)
    }

    /// What the tool does, for an agent: short, the notes every paid tool
    /// shares being in the server's instructions.
    pub(super) fn description(self) -> &'static str {
        match self {
            Self::Generate => {
                "Images from a prompt; with `image`, image to image. Billed per image."
            }
            Self::Remix => "Image to image with `generate`'s fields. Billed per image.",
            Self::Edit => {
                "Repaint where `mask` (grayscale, the image's size) is black. Billed per image."
            }
            Self::Reframe => "Extend a square image outwards to `resolution`. Billed per image.",
            Self::ReplaceBackground => {
                "Keep the subject, paint a new background from `prompt`. Billed per image."
            }
            Self::Upscale => "Enlarge an image. Billed.",
            Self::RemoveBackground => "Make the background transparent. Billed.",
            Self::RemoveObject => {
                "Remove where `mask` (grayscale, the image's size) is white. Billed."
            }
            Self::Describe => "Prompts describing an image. Billed.",
            Self::LayerizeText => {
                "The image without its text, and its text blocks; v2 adds the design. Billed."
            }
            Self::JobSubmit => {
                "Queue on Segmind (`generate`'s fields) for job_wait. Billed when it runs."
            }
            Self::JobStatus => "A queued job's state by its request_id. Free.",
            Self::JobWait => "Wait for a queued job and save its images. Never billed.",
            Self::Models => "What each model takes; every resolution, palette, style preset. Free.",
            Self::Quote => "Price of a call of `tool` with `arguments`. Free.",
        }
    }

    /// Whether it takes an idempotency key: every paid tool but `job_wait`
    /// (whose request id names the job already).
    pub(super) fn keyed(self) -> bool {
        self.paid() && self != Self::JobWait
    }

    /// The input schema `tools/list` publishes, the one calls are checked
    /// against.
    pub(super) fn input_schema(self) -> Arc<Map<String, Value>> {
        self.published().input.clone()
    }

    /// The schema of the tool's `structuredContent` when it succeeds.
    pub(super) fn output_schema(self) -> Arc<Map<String, Value>> {
        self.published().output.clone()
    }

    /// Checks a call's arguments against [`Self::input_schema`], integers
    /// sent as text read as integers first (exactly, or not at all): a
    /// refusal names the field and what it allows.
    pub(super) fn check(self, args: &mut Map<String, Value>) -> Result<(), InvalidInput> {
        let checker = &self.published().checker;
        without_nulls(args);
        let mut value = Value::Object(std::mem::take(args));
        checker.integers_from_text(&mut value);
        let checked = checker.check_document(&value);
        if let Value::Object(map) = value {
            *args = map;
        }
        checked.map_err(|violation| {
            // A field's name is the caller's text too: never repeated whole.
            let field = match violation.path.char_indices().nth(MAX_ECHO) {
                _ if violation.path.is_empty() => "arguments".to_owned(),
                Some((cut, _)) => format!("{}...", &violation.path[..cut]),
                None => violation.path,
            };
            InvalidInput::new(field, violation.message)
        })
    }

    fn published(self) -> &'static Published {
        static PUBLISHED: LazyLock<Vec<Published>> = LazyLock::new(Published::all);
        let index = Tool::ALL
            .iter()
            .position(|t| *t == self)
            .unwrap_or_default();
        &PUBLISHED[index]
    }

    /// The input schema: the library's request schema for each provider a
    /// call may go to, read from the spec bodies (every body field by its
    /// spec name, with the spec's enums and bounds), merged, made light
    /// (see [`compact`]), and the call's own fields (provider, idempotency
    /// key). With it, the fields of the edit tools' operation that the
    /// server nests back into the library's `operation` (see
    /// [`flatten_operation`]).
    fn build_input(self) -> (Map<String, Value>, Vec<String>) {
        let (mut schema, nested) = match self {
            Self::Describe => (described_models(schema_of::<DescribeArgs>()), Vec::new()),
            Self::LayerizeText => (layerize_operations(schema_of::<LayerizeArgs>()), Vec::new()),
            Self::JobStatus => (schema_of::<JobArgs>(), Vec::new()),
            Self::JobWait => (schema_of::<JobWaitArgs>(), Vec::new()),
            Self::Models => (schema_of::<NoArgs>(), Vec::new()),
            Self::Quote => (quote_schema(), Vec::new()),
            _ => {
                let mut nested = Vec::new();
                let schemas = self
                    .providers()
                    .iter()
                    .filter(|provider| self.served_by(**provider))
                    .map(|provider| {
                        let (schema, moved) = self.request_schema(*provider);
                        for field in moved {
                            if !nested.contains(&field) {
                                nested.push(field);
                            }
                        }
                        schema
                    })
                    .collect();
                (merge(schemas), nested)
            }
        };
        for key in ["$schema", "$defs", "title", "description"] {
            schema.remove(key);
        }
        let properties = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("properties");
        if self.edit_op().is_none() && !self.generates() {
            // The request tools' were made light per provider, before the
            // merge.
            for property in properties.values_mut() {
                compact(property, 0);
            }
        }
        if matches!(self, Self::Remix | Self::JobSubmit) {
            // `generate`'s schema describes the same fields, with their
            // values and bounds; here each is named only, a number with
            // its type (so one sent as text is read): the library checks
            // each value as exactly, before anything is sent. Three full
            // copies made `tools/list` too heavy for an agent's context.
            for property in properties.values_mut() {
                let kind = property
                    .get("type")
                    .or_else(|| property.pointer("/anyOf/0/type"))
                    .filter(|kind| *kind == "integer" || *kind == "number")
                    .cloned();
                *property = kind.map_or_else(|| json!({}), |kind| json!({ "type": kind }));
            }
        }
        let serves_both = !matches!(
            self,
            Self::JobSubmit | Self::JobStatus | Self::JobWait | Self::LayerizeText
        );
        if self.paid() && serves_both {
            let names: Vec<String> = Provider::ALL.iter().map(ToString::to_string).collect();
            properties.insert("provider".into(), json!({"type": "string", "enum": names}));
        }
        if self.keyed() {
            properties.insert(
                "idempotency_key".into(),
                json!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY,
                    "description": "Same key, never paid twice.",
                }),
            );
        }
        if self == Self::Remix
            && let Some(Value::Array(required)) = schema.get_mut("required")
            && !required.contains(&json!("image"))
        {
            required.push("image".into());
        }
        (schema, nested)
    }

    /// The providers a call of this tool may go to: `job_submit` queues on
    /// Segmind, the others take a call's `provider`.
    fn providers(self) -> &'static [Provider] {
        match self {
            Self::JobSubmit => &[Provider::Segmind],
            _ => &Provider::ALL,
        }
    }

    /// Whether `provider`'s spec has an operation for an edit tool's task
    /// (its `x-route`s): a provider that has none adds nothing to the
    /// schema (its library schema would be the operation's own fields,
    /// unbounded by any body).
    fn served_by(self, provider: Provider) -> bool {
        let Some(task) = self.edit_op() else {
            return true;
        };
        let operations = match provider {
            Provider::Segmind => ideogram::raw::segmind::operations::ALL,
            Provider::Ideogram => ideogram::raw::ideogram::operations::ALL,
            _ => &[],
        };
        operations
            .iter()
            .any(|op| op.route.is_some_and(|route| route.task == task))
    }

    /// The library's request schema on `provider` (no `$ref`s; an edit
    /// tool's operation flattened), with the operation's fields.
    fn request_schema(self, provider: Provider) -> (Map<String, Value>, Vec<String>) {
        let schema = match self.edit_op() {
            Some(op) => EditRequest::json_schema(provider, op),
            None => GenerateRequest::json_schema(provider),
        };
        let mut schema = match schema {
            Value::Object(schema) => schema,
            _ => Map::new(),
        };
        let nested = match self.edit_op() {
            Some(op) => flatten_operation(&mut schema, op),
            None => Vec::new(),
        };
        // The library's own options (a palette, style references) are in
        // its schema for every operation: here only where the operation's
        // body takes them.
        if let Some(kind) = self.edit_kind() {
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                properties.retain(|field, _| {
                    nested.contains(field)
                        || required.contains(&json!(field))
                        || kind.takes(field, provider)
                });
            }
        }
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            // How the result comes back is the tool's to say: it waits. Its
            // images are files or URLs, never an asset Ideogram holds.
            properties.retain(|_, property| property["x-delivery"] != true && !is_asset(property));
            for property in properties.values_mut() {
                compact(property, 0);
            }
        }
        (schema, nested)
    }

    /// The fields a call of an edit tool gives at the top level that the
    /// library reads in its `operation` (the operation's own: `mask`,
    /// `prompt`, `resolution`, ...).
    pub(super) fn nested(self) -> &'static [String] {
        &self.published().nested
    }

    /// The shape of a successful call's `structuredContent`.
    fn build_output(self) -> Map<String, Value> {
        let required: &[&str] = match self {
            Self::Models => &["models", "resolutions", "palettes", "style_presets"],
            Self::Describe => &["descriptions", "billed"],
            Self::JobSubmit | Self::JobStatus => &["request_id", "status", "billed"],
            Self::LayerizeText => &["images", "text_blocks", "billed"],
            Self::Quote => &["usd_micros", "billed"],
            _ => &["images", "billed"],
        };
        match json!({"type": "object", "required": required}) {
            Value::Object(schema) => schema,
            _ => Map::new(),
        }
    }
}

/// The most of a field's name a refusal repeats, in characters.
const MAX_ECHO: usize = 80;

/// A tool's schemas, built once: what `tools/list` publishes is what calls
/// are checked against.
struct Published {
    input: Arc<Map<String, Value>>,
    output: Arc<Map<String, Value>>,
    checker: Schemas,
    /// See [`Tool::nested`].
    nested: Vec<String>,
}

impl Published {
    /// Every tool's, in [`Tool::ALL`]'s order. A field's description is
    /// said once, in the first tool that describes the field (the agent
    /// reads them all in one list): `tools/list` stays light with every
    /// field of every body in it.
    fn all() -> Vec<Self> {
        let mut said: Vec<String> = Vec::new();
        Tool::ALL
            .into_iter()
            .map(|tool| {
                let (mut input, nested) = tool.build_input();
                said_once(&mut input, "", &mut said);
                Self {
                    checker: Schemas::document(Value::Object(input.clone())),
                    input: Arc::new(input),
                    output: Arc::new(tool.build_output()),
                    nested,
                }
            })
            .collect()
    }
}

/// Removes from `schema`'s properties (at every level, `path` naming
/// where) the description of each field `said` holds, and adds the others
/// to it.
fn said_once(schema: &mut Map<String, Value>, path: &str, said: &mut Vec<String>) {
    let properties = schema.get_mut("properties").and_then(Value::as_object_mut);
    for (field, property) in properties.into_iter().flatten() {
        let Value::Object(property) = property else {
            continue;
        };
        let path = format!("{path}/{field}");
        if property.contains_key("description") {
            if said.contains(&path) {
                property.remove("description");
            } else {
                said.push(path.clone());
            }
        }
        said_once(property, &path, said);
    }
}

/// The library's `operation` (an edit tool's one operation, named by the
/// tool) flattened into the arguments: its fields are the spec's too
/// (`mask`, `prompt`, `resolution`, `resemblance`), so an agent gives
/// them beside the others, each once; where the body lists the same field,
/// the body's schema (the spec's bounds) is the one published. Returns
/// the operation's fields, which the server nests back.
fn flatten_operation(schema: &mut Map<String, Value>, op: &str) -> Vec<String> {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return Vec::new();
    };
    let Some(operation) = properties.remove("operation") else {
        return Vec::new();
    };
    let variant = operation["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| {
            let tag = &v["properties"]["op"];
            tag["const"] == op || tag["enum"] == json!([op])
        })
        .cloned()
        .unwrap_or_default();
    let mut nested = Vec::new();
    for (field, property) in variant["properties"].as_object().into_iter().flatten() {
        if field != "op" {
            nested.push(field.clone());
            properties
                .entry(field.clone())
                .or_insert_with(|| property.clone());
        }
    }
    let operation_required = variant["required"].as_array().cloned().unwrap_or_default();
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|field| field != "operation");
        for field in operation_required {
            if field != "op" && !required.contains(&field) {
                required.push(field);
            }
        }
    }
    nested
}

/// One schema for calls that may go to any of several providers: every
/// field either takes (a field whose schemas differ takes any of them;
/// the provider's body checks it exactly), required what all require.
fn merge(schemas: Vec<Map<String, Value>>) -> Map<String, Value> {
    let mut schemas = schemas.into_iter();
    let mut merged = schemas.next().unwrap_or_default();
    for other in schemas {
        let theirs = other["required"].as_array().cloned().unwrap_or_default();
        if let Some(Value::Array(required)) = merged.get_mut("required") {
            required.retain(|field| theirs.contains(field));
        }
        let Some(Value::Object(ours)) = merged.get_mut("properties") else {
            continue;
        };
        for (field, property) in other["properties"].as_object().into_iter().flatten() {
            match ours.get_mut(field) {
                None => {
                    ours.insert(field.clone(), property.clone());
                }
                Some(existing) if undescribed(existing) != undescribed(property) => {
                    *existing = either(existing, property);
                }
                Some(_) => {}
            }
        }
    }
    merged
}

/// `schema` without its description.
fn undescribed(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Value::Object(map) = &mut schema {
        map.remove("description");
    }
    schema
}

/// A schema any of `one`'s or `other`'s values passes, described as
/// `one` is.
fn either(one: &Value, other: &Value) -> Value {
    let mut choices: Vec<Value> = Vec::new();
    for schema in [one, other] {
        let schema = undescribed(schema);
        let parts = match schema.get("anyOf") {
            Some(Value::Array(parts)) if schema.as_object().is_some_and(|s| s.len() == 1) => {
                parts.clone()
            }
            _ => vec![schema],
        };
        for part in parts {
            if !choices.contains(&part) {
                choices.push(part);
            }
        }
    }
    let mut merged = Map::new();
    if let Some(description) = one.get("description").or_else(|| other.get("description")) {
        merged.insert("description".into(), description.clone());
    }
    choose(&mut merged, choices, 0);
    Value::Object(merged)
}

/// Whether every value `narrow` takes, `wide` takes too, as far as their
/// keywords tell: each of `wide`'s is `narrow`'s, with a bound no tighter
/// (`{"type": "string"}` takes every string of `{"type": "string",
/// "maxLength": 10}`). Unsure is no.
fn subsumes(wide: &Value, narrow: &Value) -> bool {
    let (Some(wide), Some(narrow)) = (wide.as_object(), narrow.as_object()) else {
        return false;
    };
    wide.iter().all(|(key, bound)| {
        let Some(theirs) = narrow.get(key) else {
            return false;
        };
        let (ours, theirs_n) = (bound.as_f64(), theirs.as_f64());
        match (key.as_str(), ours, theirs_n) {
            ("maxLength" | "maximum" | "maxItems", Some(a), Some(b)) => a >= b,
            ("minLength" | "minimum" | "minItems", Some(a), Some(b)) => a <= b,
            _ => bound == theirs,
        }
    })
}

/// Drops the fields given as `null` at every level: `null` is a field
/// left out (some clients send every optional field so), and the schemas
/// say so by not listing it.
fn without_nulls(object: &mut Map<String, Value>) {
    object.retain(|_, value| !value.is_null());
    for value in object.values_mut() {
        match value {
            Value::Object(inner) => without_nulls(inner),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        without_nulls(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a property takes an asset identifier (the spec's `x-asset`): one,
/// a list of them, or either among its choices.
fn is_asset(property: &Value) -> bool {
    let mut choices = ["anyOf", "oneOf"]
        .into_iter()
        .filter_map(|key| property[key].as_array())
        .flatten();
    property["x-asset"] == true || property["items"]["x-asset"] == true || choices.any(is_asset)
}

/// Makes a property's schema short: long enums (the sizes, the style
/// presets) become a pattern with a pointer to the `models` tool, and
/// what only Rust needs (`format`), nested descriptions and each
/// description past its first sentence go.
fn compact(schema: &mut Value, depth: usize) {
    let Value::Object(node) = schema else {
        return;
    };
    // What only Rust or OpenAPI 3.0 reads, and the service's defaults
    // (said where they matter, in the tool's description).
    for key in ["format", "nullable", "default"] {
        node.remove(key);
    }
    if depth > 1 {
        node.remove("description");
    }
    // A field with no words of its own (the library then says only which
    // models take it) is described by its first choice that has some.
    let own = node.get("description").and_then(Value::as_str);
    if own.is_none_or(|text| text.starts_with("Taken by ")) {
        let chosen = node
            .get("anyOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|choice| choice.get("description"))
            .cloned();
        if let Some(text) = chosen {
            node.insert("description".into(), text);
        }
    }
    // The first sentence: what the field is. The rest (which model takes
    // it, each provider's range) is in the refusal when it matters.
    if let Some(Value::String(text)) = node.get_mut("description") {
        let text_now = text.replace('\n', " ");
        let first = first_sentence(&text_now);
        *text = first.trim_end().trim_end_matches('.').to_owned();
    }
    // `null` is a field left out (see `without_nulls`).
    if let Some(Value::Array(kinds)) = node.get_mut("type") {
        kinds.retain(|k| k != "null");
        if let [kind] = &kinds[..] {
            let kind = kind.clone();
            node.insert("type".into(), kind);
        }
    }
    if let Some(Value::Array(values)) = node.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if let Some(Value::Array(choices)) = node.remove("anyOf") {
        choose(node, choices, depth);
    }
    let long = node
        .get("enum")
        .and_then(Value::as_array)
        .filter(|values| values.len() > LONG_ENUM || depth > 0)
        .cloned();
    if let Some(values) = long {
        let example = values.iter().find_map(Value::as_str).unwrap_or_default();
        node.remove("enum");
        if let Some(pattern) = pattern_of(&values) {
            node.insert("pattern".into(), pattern.into());
        }
        let said = node
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text = format!(
            "{said}; e.g. {example}, `models` lists all {}",
            values.len()
        );
        node.insert("description".into(), text.trim_start().into());
    }
    for (key, value) in node.iter_mut() {
        match key.as_str() {
            "properties" => {
                for property in value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|p| p.values_mut())
                {
                    compact(property, depth + 1);
                }
            }
            "items" => {
                compact(value, depth + 2);
                // An item of a list of objects: the library reads it.
                if value["type"] == "object" {
                    *value = json!({"type": "object"});
                }
            }
            _ => {}
        }
    }
}

/// `text` up to its first stop (`. `, `: `, `; `) outside parentheses.
fn first_sentence(text: &str) -> &str {
    let mut open = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '(' => open += 1,
            ')' => open = open.saturating_sub(1),
            '.' | ':' | ';' if open == 0 && text[at + 1..].starts_with(' ') => {
                return &text[..at];
            }
            _ => {}
        }
    }
    text
}

/// Puts a property's choices (`anyOf`) into `node`, as few as say the
/// same: `null` goes (a field left out); choices of text values become one
/// enum of all their values (the body the call goes to checks its own); a
/// choice of object shapes (a palette's preset or colours) becomes one
/// object with the fields of each, the library telling which go together;
/// a single choice is the property itself.
fn choose(node: &mut Map<String, Value>, choices: Vec<Value>, depth: usize) {
    let mut shapes = Vec::new();
    for choice in choices {
        match choice.get("anyOf") {
            Some(Value::Array(inner)) => shapes.extend(inner.iter().cloned()),
            _ => shapes.push(choice),
        }
    }
    shapes.retain(|shape| shape["type"] != "null");
    let texts = |shape: &Value| shape["type"] == "string" && shape["enum"].is_array();
    if !shapes.is_empty() && shapes.iter().all(texts) {
        let mut values: Vec<Value> = Vec::new();
        for value in shapes
            .iter()
            .flat_map(|s| s["enum"].as_array().into_iter().flatten())
        {
            if !value.is_null() && !values.contains(value) {
                values.push(value.clone());
            }
        }
        node.insert("type".into(), "string".into());
        node.insert("enum".into(), Value::Array(values));
        return;
    }
    if !shapes.is_empty() && shapes.iter().all(|shape| shape["type"] == "object") {
        let mut fields = Map::new();
        for shape in &shapes {
            if let Some(properties) = shape["properties"].as_object() {
                fields.extend(properties.clone());
            }
        }
        node.insert("type".into(), "object".into());
        node.insert("properties".into(), Value::Object(fields));
        node.insert("additionalProperties".into(), false.into());
        return;
    }
    if let Some(widest) = widest_range(&shapes) {
        node.extend(widest);
        return;
    }
    let mut distinct: Vec<Value> = Vec::new();
    for mut shape in shapes {
        compact(&mut shape, depth + 1);
        if let Value::Object(shape) = &mut shape {
            // Said once, for the whole.
            shape.remove("description");
            shape.remove("default");
        }
        if !distinct.contains(&shape) {
            distinct.push(shape);
        }
    }
    // A choice another takes every value of adds nothing beside it.
    let all = distinct.clone();
    distinct.retain(|shape| {
        !all.iter()
            .any(|other| other != shape && subsumes(other, shape))
    });
    match <[Value; 1]>::try_from(distinct) {
        Ok([Value::Object(only)]) => {
            for (key, value) in only {
                node.entry(key).or_insert(value);
            }
        }
        Ok([other]) => {
            node.insert("anyOf".into(), Value::Array(vec![other]));
        }
        Err(distinct) => {
            node.insert("anyOf".into(), Value::Array(distinct));
        }
    }
}

/// Numbers of one type in ranges (a seed's on each provider) as one
/// range from the lowest minimum to the highest maximum (the body the call
/// goes to checks its own); `None` when `shapes` are not only that.
fn widest_range(shapes: &[Value]) -> Option<Map<String, Value>> {
    let kind = shapes.first()?.get("type")?.clone();
    let numeric = kind == "integer" || kind == "number";
    let plain = |shape: &Value| {
        shape.as_object().is_some_and(|s| {
            s.keys().all(|k| {
                [
                    "type",
                    "minimum",
                    "maximum",
                    "description",
                    "default",
                    "format",
                ]
                .contains(&k.as_str())
            })
        }) && shape["type"] == kind
    };
    if !numeric || !shapes.iter().all(plain) {
        return None;
    }
    // The bound itself, as the spec writes it, of the widest.
    let bound = |key: &str, wider: fn(f64, f64) -> bool| {
        let mut found: Option<&Value> = None;
        for shape in shapes {
            let value = shape.get(key)?;
            if found.is_none_or(|f| wider(value.as_f64().unwrap_or(0.0), f.as_f64().unwrap_or(0.0)))
            {
                found = Some(value);
            }
        }
        found.cloned()
    };
    let mut range = Map::new();
    range.insert("type".into(), kind);
    if let Some(min) = bound("minimum", |a, b| a < b) {
        range.insert("minimum".into(), min);
    }
    if let Some(max) = bound("maximum", |a, b| a > b) {
        range.insert("maximum".into(), max);
    }
    Some(range)
}

/// A pattern every one of `values` matches, of the few an agent reads at
/// a glance (sizes, ratios, upper-case names), if one fits them all.
fn pattern_of(values: &[Value]) -> Option<&'static str> {
    let texts: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    if texts.len() != values.len() {
        return None;
    }
    let pair = |text: &str, sep: char| {
        text.split_once(sep).is_some_and(|(a, b)| {
            [a, b]
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let name = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let all = |fits: &dyn Fn(&str) -> bool| texts.iter().all(|t| fits(t));
    if all(&|t| pair(t, ':')) {
        Some("^[0-9]+:[0-9]+$")
    } else if all(&|t| pair(t, 'x')) {
        Some("^[0-9]+x[0-9]+$")
    } else if all(&name) {
        Some("^[0-9A-Z_]+$")
    } else {
        None
    }
}

/// An enum longer than this is published as a pattern (the values are in
/// the `models` tool): a hundred sizes in every tool made `tools/list` too
/// heavy for an agent's context.
const LONG_ENUM: usize = 12;

/// `describe`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "DescribeRequest")]
pub(super) struct DescribeArgs {
    /// The image to describe.
    pub(super) image: ImageInput,
    /// The model: `V_4` answers one description, a json_prompt as JSON text
    /// (its schema lists the models describe runs: [`described_models`]).
    #[serde(default)]
    pub(super) model: Option<Model>,
}

impl DescribeArgs {
    /// The library's request.
    pub(super) fn request(&self) -> DescribeRequest {
        let request = DescribeRequest::new(self.image.clone());
        match self.model {
            Some(model) => request.model(model),
            None => request,
        }
    }
}

/// `describe`'s schema with its `model` listing only the models some
/// provider's describe runs (the library's [`DescribeRequest::models`]):
/// `tools/list` stays light.
fn described_models(mut schema: Map<String, Value>) -> Map<String, Value> {
    let mut models: Vec<String> = Vec::new();
    for provider in Provider::ALL {
        for model in DescribeRequest::models(provider) {
            if !models.contains(&model.to_string()) {
                models.push(model.to_string());
            }
        }
    }
    if let Some(Value::Object(model)) = schema
        .get_mut("properties")
        .and_then(|properties| properties.get_mut("model"))
    {
        model.insert("enum".into(), json!(models));
    }
    schema
}

/// `layerize_text`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "LayerizeRequest")]
pub(super) struct LayerizeArgs {
    /// The image whose text to separate.
    pub(super) image: ImageInput,
    /// What the image shows (v1; the service writes one when left out).
    #[serde(default)]
    pub(super) prompt: Option<String>,
    /// The operation: v1 by default (blocks with fonts); v2 also answers the design image.
    #[serde(default)]
    pub(super) operation: Option<String>,
}

impl LayerizeArgs {
    /// The library's request: Ideogram 3.0's v1 layerize-text, whose blocks
    /// carry their fonts, or the operation chosen (v2's design layerize).
    pub(super) fn request(&self) -> LayerizeRequest {
        let mut request = LayerizeRequest::new(self.image.clone());
        if let Some(prompt) = &self.prompt {
            request = request.prompt(prompt);
        }
        if let Some(id) = &self.operation {
            request = request.operation(id);
        }
        request
    }
}

/// `layerize_text`'s schema with its `operation` listing the operations
/// layerize runs on (the library's [`LayerizeRequest::operations`]).
fn layerize_operations(mut schema: Map<String, Value>) -> Map<String, Value> {
    let operations = LayerizeRequest::operations(Provider::Ideogram);
    if let Some(Value::Object(operation)) = schema
        .get_mut("properties")
        .and_then(|properties| properties.get_mut("operation"))
    {
        operation.insert("enum".into(), json!(operations));
    }
    schema
}

/// `job_status`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "JobRequest")]
pub(super) struct JobArgs {
    /// The id `job_submit` returned.
    #[schemars(length(min = 1, max = 200))]
    pub(super) request_id: String,
}

/// `job_wait`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "JobWaitRequest")]
pub(super) struct JobWaitArgs {
    /// The id `job_submit` returned.
    #[schemars(length(min = 1, max = 200))]
    pub(super) request_id: String,
    /// How long to wait at most, in seconds (default 600); the job runs on
    /// after a timeout, and waiting again fetches it.
    #[serde(default)]
    #[schemars(range(min = 1, max = MAX_WAIT))]
    pub(super) timeout_seconds: Option<u64>,
}

/// `quote`'s arguments: a priced tool's name, and its arguments as that
/// tool's own schema checks them (one schema per tool, not a copy).
fn quote_schema() -> Map<String, Value> {
    let tools: Vec<&str> = Tool::ALL
        .into_iter()
        .filter(|tool| tool.quotable())
        .map(Tool::name)
        .collect();
    let schema = json!({
        "type": "object",
        "properties": {
            "tool": {"type": "string", "enum": tools},
            "arguments": {"type": "object"},
        },
        "required": ["tool", "arguments"],
        "additionalProperties": false,
    });
    match schema {
        Value::Object(schema) => schema,
        _ => Map::new(),
    }
}

/// No arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "NoArguments")]
pub(super) struct NoArgs {}

/// `T`'s JSON Schema as an object, every subschema inline (no `$ref`s:
/// some agents' hosts do not follow them).
pub(super) fn schema_of<T: JsonSchema>() -> Map<String, Value> {
    let generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator();
    match serde_json::to_value(generator.into_root_schema_for::<T>()) {
        Ok(Value::Object(schema)) => schema,
        _ => Map::new(),
    }
}
