//! The tools: their names, descriptions and input schemas (the library's
//! request types' own).

use std::sync::{Arc, LazyLock};

use ideogram::raw::schema::Schemas;
use ideogram::schemars::JsonSchema;
use ideogram::schemars::generate::SchemaSettings;
use ideogram::{
    EditKind, EditRequest, GenerateRequest, ImageInput, InvalidInput, Provider, Resolution,
    SizeFamily,
};
use serde_json::{Map, Value, json};

use super::{MAX_KEY, MAX_WAIT};

/// The tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tool {
    Generate,
    Remix,
    Edit,
    Reframe,
    ReplaceBackground,
    Upscale,
    Describe,
    LayerizeText,
    JobSubmit,
    JobStatus,
    JobWait,
    Models,
}

impl Tool {
    pub(super) const ALL: [Self; 12] = [
        Self::Generate,
        Self::Remix,
        Self::Edit,
        Self::Reframe,
        Self::ReplaceBackground,
        Self::Upscale,
        Self::Describe,
        Self::LayerizeText,
        Self::JobSubmit,
        Self::JobStatus,
        Self::JobWait,
        Self::Models,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Generate => "generate",
            Self::Remix => "remix",
            Self::Edit => "edit",
            Self::Reframe => "reframe",
            Self::ReplaceBackground => "replace_background",
            Self::Upscale => "upscale",
            Self::Describe => "describe",
            Self::LayerizeText => "layerize_text",
            Self::JobSubmit => "job_submit",
            Self::JobStatus => "job_status",
            Self::JobWait => "job_wait",
            Self::Models => "models",
        }
    }

    pub(super) fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// The library's name for an operation on an image (`EditKind`'s `op`).
    pub(super) fn edit_op(self) -> Option<&'static str> {
        match self {
            Self::Edit => Some("edit"),
            Self::Reframe => Some("reframe"),
            Self::ReplaceBackground => Some("replace-background"),
            Self::Upscale => Some("upscale"),
            _ => None,
        }
    }

    /// Whether a call may be billed.
    pub(super) fn paid(self) -> bool {
        !matches!(self, Self::JobStatus | Self::Models)
    }

    /// What the tool does, for an agent: short, the notes every paid tool
    /// shares being in the server's instructions.
    pub(super) fn description(self) -> &'static str {
        match self {
            Self::Generate => {
                "Images from a prompt; with `image`, image to image. Billed per image (more for V_3's rendering_speed, transparent, upscale)."
            }
            Self::Remix => {
                "Image to image with `generate`'s common fields (it takes all). Billed per image."
            }
            Self::Edit => {
                "Repaint where `operation.mask` (grayscale, the image's size) is black (Ideogram's API). Billed per image."
            }
            Self::Reframe => {
                "Extend a square image outwards to `operation.resolution` (a V_3 size). Billed per image."
            }
            Self::ReplaceBackground => {
                "Keep the subject, paint a new background from `operation.prompt`. Billed per image."
            }
            Self::Upscale => "Enlarge an image (Ideogram's API). Billed.",
            Self::Describe => "Prompts describing an image. Billed.",
            Self::LayerizeText => {
                "The image without its text, and each text block (Ideogram's API). Billed."
            }
            Self::JobSubmit => {
                "Queue on Segmind (as remix, image optional); returns a request_id for job_wait. Billed when it runs."
            }
            Self::JobStatus => "A queued job's state by its request_id. Free.",
            Self::JobWait => {
                "Wait for a queued job (with progress) and save its images. Never billed."
            }
            Self::Models => "What each model takes; every resolution, palette, style preset. Free.",
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
        static PUBLISHED: LazyLock<Vec<Published>> =
            LazyLock::new(|| Tool::ALL.into_iter().map(Published::of).collect());
        let index = Tool::ALL
            .iter()
            .position(|t| *t == self)
            .unwrap_or_default();
        &PUBLISHED[index]
    }

    /// The input schema: the library request type's, narrowed to what the
    /// tool takes, with the spec's bounds, the call's own fields (provider,
    /// idempotency key), and long tables left to the `models` tool.
    fn build_input(self) -> Map<String, Value> {
        let mut schema = match self {
            Self::Generate | Self::Remix | Self::JobSubmit => schema_of::<GenerateRequest>(),
            Self::Edit | Self::Reframe | Self::ReplaceBackground | Self::Upscale => {
                let mut schema = schema_of::<EditRequest>();
                narrow_operation(&mut schema, self.edit_op().unwrap_or_default());
                schema
            }
            Self::Describe => schema_of::<DescribeArgs>(),
            Self::LayerizeText => schema_of::<LayerizeArgs>(),
            Self::JobStatus => schema_of::<JobArgs>(),
            Self::JobWait => schema_of::<JobWaitArgs>(),
            Self::Models => schema_of::<NoArgs>(),
        };
        for key in ["$schema", "title", "description"] {
            schema.remove(key);
        }
        if self == Self::Remix
            && let Some(Value::Array(required)) = schema.get_mut("required")
        {
            required.push("image".into());
        }
        let mut required = schema.remove("required");
        let properties = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("properties");
        if matches!(self, Self::Remix | Self::JobSubmit) {
            properties.retain(|field, _| COMMON.contains(&field.as_str()));
            // `generate`'s schema describes them.
            for property in properties.values_mut() {
                if let Value::Object(property) = property {
                    property.remove("description");
                }
            }
        }
        if let Some(kind) = self.edit_kind() {
            properties.retain(|option, _| {
                !OPTIONS.contains(&option.as_str())
                    || Provider::ALL.iter().any(|p| kind.takes(option, *p))
            });
        }
        // The server names the operation itself: `op` is never needed, and
        // an operation whose fields are all optional may be left out.
        let mut optional_operation = false;
        if let Some(Value::Object(operation)) = properties.get_mut("operation") {
            if let Some(Value::Array(required)) = operation.get_mut("required") {
                required.retain(|field| field != "op");
                optional_operation = required.is_empty();
            }
            if optional_operation {
                operation.remove("required");
            }
            if let Some(Value::Object(fields)) = operation.get_mut("properties") {
                fields.remove("op");
            }
            // The tool's description says what the operation does.
            operation.remove("description");
        }
        bounds(properties);
        for property in properties.values_mut() {
            compact(property, 0);
        }
        let described = !matches!(self, Self::Remix | Self::JobSubmit);
        for (field, text) in SHORT.into_iter().filter(|_| described) {
            if let Some(Value::Object(property)) = properties.get_mut(field) {
                property.insert("description".into(), text.into());
                // Said for the whole: not again for each part.
                for part in property
                    .get_mut("properties")
                    .and_then(Value::as_object_mut)
                    .into_iter()
                    .flat_map(|parts| parts.values_mut())
                {
                    if let Value::Object(part) = part {
                        part.remove("description");
                    }
                }
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
        if optional_operation && let Some(Value::Array(required)) = &mut required {
            required.retain(|field| field != "operation");
        }
        if let Some(required) = required {
            schema.insert("required".into(), required);
        }
        let properties = schema
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .expect("properties");
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
        schema
    }

    /// The shape of a successful call's `structuredContent`.
    fn build_output(self) -> Map<String, Value> {
        let required: &[&str] = match self {
            Self::Models => &["models", "resolutions", "palettes", "style_presets"],
            Self::Describe => &["descriptions", "billed"],
            Self::JobSubmit | Self::JobStatus => &["request_id", "status", "billed"],
            Self::LayerizeText => &["images", "text_blocks", "billed"],
            _ => &["images", "billed"],
        };
        match json!({"type": "object", "required": required}) {
            Value::Object(schema) => schema,
            _ => Map::new(),
        }
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
            _ => return None,
        })
    }
}

/// The fields of a generation that `remix` and `job_submit` take: what
/// every model takes on both providers, the rest being `generate`'s (with
/// `image`, it remixes too). Three copies of every field made `tools/list`
/// too heavy for an agent's context.
const COMMON: [&str; 10] = [
    "prompt",
    "model",
    "image",
    "image_weight",
    "resolution",
    "aspect_ratio",
    "seed",
    "style",
    "magic_prompt",
    "negative_prompt",
];

/// Descriptions for an agent, shorter than the library's (which are for a
/// programmer, and repeated in every tool's schema).
const SHORT: [(&str, &str); 12] = [
    ("style", "Which a model takes: see `models`."),
    (
        "resolution",
        "WxH, not with aspect_ratio; `models` lists them.",
    ),
    (
        "aspect_ratio",
        "W:H, not with resolution; `models` lists them.",
    ),
    ("seed", "Same seed, same image."),
    ("num_images", "Each billed."),
    ("magic_prompt", "Let Ideogram rewrite the prompt."),
    ("rendering_speed", "Speed, quality and price."),
    ("image", "http(s) URL, data: URL or file path."),
    ("style_references", "Images whose style to follow."),
    ("negative_prompt", "What to keep out."),
    ("model", "`models` says what each takes."),
    (
        "palette",
        "A preset `name` (see `models`) or 1 to 8 `members` ({color_hex, color_weight 0.05-1}).",
    ),
];

/// The most of a field's name a refusal repeats, in characters.
const MAX_ECHO: usize = 80;

/// [`EditRequest`]'s options, which each operation takes or not.
const OPTIONS: [&str; 6] = [
    "num_images",
    "seed",
    "rendering_speed",
    "magic_prompt",
    "palette",
    "style_references",
];

/// A tool's schemas, built once: what `tools/list` publishes is what calls
/// are checked against.
struct Published {
    input: Arc<Map<String, Value>>,
    output: Arc<Map<String, Value>>,
    checker: Schemas,
}

impl Published {
    fn of(tool: Tool) -> Self {
        let input = tool.build_input();
        Self {
            checker: Schemas::document(Value::Object(input.clone())),
            input: Arc::new(input),
            output: Arc::new(tool.build_output()),
        }
    }
}

/// Sets the bounds the library's types do not carry in their schemas,
/// from the specs (through the library): counts, seeds, upscale's
/// options, the wait.
fn bounds(properties: &mut Map<String, Value>) {
    use ideogram::raw::ideogram::limits;
    let seeds = Provider::ALL.map(Provider::seed_range);
    let widest = |a: i64, b: i64| (a.min(b), a.max(b));
    let (low, high) = seeds
        .iter()
        .fold((i64::MAX, i64::MIN), |(low, high), range| {
            (
                widest(low, i64::from(*range.start())).0,
                widest(high, i64::from(*range.end())).1,
            )
        });
    let count = ideogram::NumImages::range();
    let ranges: [(&str, i64, i64); 5] = [
        ("num_images", (*count.start()).into(), (*count.end()).into()),
        ("seed", low, high),
        (
            "resemblance",
            *limits::UPSCALE_INITIAL_IMAGE_REQUEST_RESEMBLANCE.start(),
            *limits::UPSCALE_INITIAL_IMAGE_REQUEST_RESEMBLANCE.end(),
        ),
        (
            "detail",
            *limits::UPSCALE_INITIAL_IMAGE_REQUEST_DETAIL.start(),
            *limits::UPSCALE_INITIAL_IMAGE_REQUEST_DETAIL.end(),
        ),
        (
            "timeout_seconds",
            1,
            i64::try_from(MAX_WAIT).unwrap_or(i64::MAX),
        ),
    ];
    let operation = properties
        .get_mut("operation")
        .and_then(|o| o.get_mut("properties"))
        .and_then(Value::as_object_mut)
        .map(std::mem::take);
    for (field, min, max) in ranges {
        if let Some(Value::Object(property)) = properties.get_mut(field) {
            property.insert("minimum".into(), min.into());
            property.insert("maximum".into(), max.into());
        }
    }
    if let Some(mut fields) = operation {
        bounds(&mut fields);
        properties["operation"]["properties"] = Value::Object(fields);
    }
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

/// Makes a property's schema short: long enums (the sizes, the style
/// presets) become a pattern with a pointer to the `models` tool, and
/// what only Rust needs (`format`) or nested descriptions go.
fn compact(schema: &mut Value, depth: usize) {
    let Value::Object(node) = schema else {
        return;
    };
    node.remove("format");
    if depth > 1 {
        node.remove("description");
    }
    // The first sentence: what the field is. The rest (which model takes
    // it, each provider's range) is in the refusal when it matters.
    if let Some(Value::String(text)) = node.get_mut("description") {
        let text_now = text.replace('\n', " ");
        let first = text_now
            .find(". ")
            .map_or(text_now.as_str(), |end| &text_now[..=end]);
        *text = first.trim_end().to_owned();
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
    let long = node
        .get("enum")
        .and_then(Value::as_array)
        .filter(|values| values.len() > LONG_ENUM || depth > 0)
        .cloned();
    if let Some(values) = long {
        let example = values.iter().find_map(Value::as_str).unwrap_or_default();
        let pattern = if example.contains(':') && !example.contains('/') {
            "^[0-9]+:[0-9]+$"
        } else if example.contains('x') {
            "^[0-9]+x[0-9]+$"
        } else {
            "^[0-9A-Z_]+$"
        };
        node.remove("enum");
        node.insert("pattern".into(), pattern.into());
        let said = node
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text = format!(
            "{said} E.g. {example}; `models` lists all {}.",
            values.iter().filter(|v| !v.is_null()).count()
        );
        node.insert("description".into(), text.trim_start().into());
    }
    // A choice of object shapes (a palette's preset or colours): one
    // object with the fields of each, the library telling which go
    // together.
    if let Some(Value::Array(choices)) = node.remove("anyOf") {
        let mut shapes = Vec::new();
        let flatten = |choice: Value, shapes: &mut Vec<Value>| match choice.get("anyOf") {
            Some(Value::Array(inner)) => shapes.extend(inner.iter().cloned()),
            _ => shapes.push(choice),
        };
        for choice in choices {
            flatten(choice, &mut shapes);
        }
        shapes.retain(|shape| shape["type"] != "null");
        let mut fields = Map::new();
        for shape in &shapes {
            if let Some(properties) = shape["properties"].as_object() {
                fields.extend(properties.clone());
            }
        }
        if shapes.iter().all(|shape| shape["type"] == "object") {
            node.insert("type".into(), "object".into());
            node.insert("properties".into(), Value::Object(fields));
            node.insert("additionalProperties".into(), false.into());
        } else {
            node.insert("anyOf".into(), Value::Array(shapes));
        }
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
            "anyOf" | "oneOf" => {
                for choice in value.as_array_mut().into_iter().flatten() {
                    compact(choice, depth + 1);
                }
            }
            _ => {}
        }
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
}

/// `layerize_text`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "LayerizeRequest")]
pub(super) struct LayerizeArgs {
    /// The image whose text to separate.
    pub(super) image: ImageInput,
    /// What the image shows (the service writes one when left out).
    #[serde(default)]
    pub(super) prompt: Option<String>,
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
    pub(super) timeout_seconds: Option<u64>,
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

/// Makes `EditRequest`'s `operation` the one operation `op` (its other
/// variants dropped), so that each tool's schema says what it takes.
pub(super) fn narrow_operation(schema: &mut Map<String, Value>, op: &str) {
    let variant = schema
        .get("properties")
        .and_then(|p| p.get("operation"))
        .and_then(|k| k.get("oneOf"))
        .and_then(Value::as_array)
        .and_then(|variants| {
            variants.iter().find(|v| {
                let tag = &v["properties"]["op"];
                tag["const"] == op || tag["enum"] == json!([op])
            })
        })
        .cloned();
    if let (Some(variant), Some(Value::Object(properties))) =
        (variant, schema.get_mut("properties"))
    {
        properties.insert("operation".into(), variant);
    }
}
