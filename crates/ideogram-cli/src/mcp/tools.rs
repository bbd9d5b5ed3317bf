//! The tools: their names, descriptions and input schemas (the library's
//! request types' own).

use ideogram::schemars::JsonSchema;
use ideogram::schemars::generate::SchemaSettings;
use ideogram::{EditRequest, GenerateRequest, ImageInput, Provider};
use serde_json::{Map, Value, json};

use super::MAX_KEY;

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
    JobSubmit,
    JobStatus,
    JobWait,
    Models,
}

impl Tool {
    pub(super) const ALL: [Self; 11] = [
        Self::Generate,
        Self::Remix,
        Self::Edit,
        Self::Reframe,
        Self::ReplaceBackground,
        Self::Upscale,
        Self::Describe,
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

    pub(super) fn description(self) -> String {
        const SAVED: &str = "Images are saved with a JSON sidecar (seed, resolution, request id, credits left, source URL) in the server's output folder under new names, never over a file; the result lists their paths and links. Every field is checked against the model and provider before anything is sent: a refusal names the field and what it allows and costs nothing. The result says whether the call was billed.";
        const REPEAT: &str = "Pass an idempotency_key to make a repeat safe: the same key again returns the first call's images (fetching any it paid for but did not save) instead of paying again.";
        let image = format!(
            "Images are http(s) URLs, data: URLs, or files in the folders the server may read (its output folder and its --read folders); JPEG, PNG or WebP of at most {} MiB.",
            ideogram::MAX_IMAGE_BYTES >> 20
        );
        let what = match self {
            Self::Generate => {
                "Generate images from a prompt with any Ideogram model, on Segmind or Ideogram's API (each image billed by the provider; Ideogram 3.0's rendering_speed, transparency, upscaling and character references change the price). The `models` tool lists what each model takes. With `image` it is image to image."
            }
            Self::Remix => {
                "Image to image: a new image from `image` and a prompt, `image_weight` (its range is in the schema) saying how closely it follows the input. Billed per image."
            }
            Self::Edit => {
                "Ideogram 3.0 edit (Ideogram's API): repaint where the mask is black (a grayscale image of the input's size) from the prompt. Billed per image."
            }
            Self::Reframe => {
                "Ideogram 3.0 reframe (both providers): extend a square image outwards to one of Ideogram 3.0's resolutions. Billed per image."
            }
            Self::ReplaceBackground => {
                "Ideogram 3.0 replace-background (both providers): keep the subject, paint a new background from the prompt. Billed per image."
            }
            Self::Upscale => {
                "Upscale an image (Ideogram's API): a larger image; resemblance and detail guide it. Billed."
            }
            Self::Describe => {
                "Words describing an image, each usable as a prompt (both providers; billed). Returns text."
            }
            Self::JobSubmit => {
                "Queue a generation on Segmind's queue and return its request_id at once; job_wait fetches the images. Billed when it runs. Takes what `generate` takes (Segmind's models)."
            }
            Self::JobStatus => "A Segmind queue job's state by its request_id (free).",
            Self::JobWait => {
                "Wait for a Segmind queue job by its request_id (progress notifications while it runs) and save its images. Waiting again never bills again; a job already saved by this server returns its files."
            }
            Self::Models => {
                "What each model can do on each provider, every resolution with its aspect ratio and the model families that render it, and the preset palettes (free; nothing is sent)."
            }
        };
        let mut text = what.to_owned();
        let notes = [
            (self.takes_images(), image.as_str()),
            (self.saves(), SAVED),
            (self.keyed(), REPEAT),
        ];
        for (applies, note) in notes {
            if applies {
                text.push(' ');
                text.push_str(note);
            }
        }
        text
    }

    /// Whether it takes input images.
    pub(super) fn takes_images(self) -> bool {
        self == Self::Remix || self == Self::Describe || self.edit_op().is_some()
    }

    /// Whether it saves images.
    pub(super) fn saves(self) -> bool {
        self.paid() && !matches!(self, Self::Describe | Self::JobSubmit)
    }

    /// Whether it takes an idempotency key.
    pub(super) fn keyed(self) -> bool {
        self.paid() && !matches!(self, Self::Describe | Self::JobWait)
    }

    /// The tool's input schema: the library request type's, with the
    /// call's own fields (provider, idempotency key).
    pub(super) fn schema(self) -> Map<String, Value> {
        let mut schema = match self {
            Self::Generate | Self::Remix | Self::JobSubmit => schema_of::<GenerateRequest>(),
            Self::Edit | Self::Reframe | Self::ReplaceBackground | Self::Upscale => {
                let mut schema = schema_of::<EditRequest>();
                narrow_operation(&mut schema, self.edit_op().unwrap_or_default());
                schema
            }
            Self::Describe => schema_of::<DescribeArgs>(),
            Self::JobStatus => schema_of::<JobArgs>(),
            Self::JobWait => schema_of::<JobWaitArgs>(),
            Self::Models => schema_of::<NoArgs>(),
        };
        if self == Self::Remix
            && let Some(Value::Array(required)) = schema.get_mut("required")
        {
            required.push("image".into());
        }
        let properties = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("properties");
        let serves_both = !matches!(self, Self::JobSubmit | Self::JobStatus | Self::JobWait);
        if self.paid() && serves_both {
            let names: Vec<String> = Provider::ALL.iter().map(ToString::to_string).collect();
            properties.insert(
                "provider".into(),
                json!({
                    "type": "string",
                    "enum": names,
                    "description": "Where the request goes (default: the server's --provider, else the one whose key is set). The key is the server's own: it is never an argument.",
                }),
            );
        }
        if self.keyed() {
            properties.insert(
                "idempotency_key".into(),
                json!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY,
                    "description": "Your name for this request, unique per request: repeating a call with the same key (after a lost connection, say) returns what the first call paid for instead of paying again.",
                }),
            );
        }
        schema
    }
}

/// `describe`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "DescribeRequest")]
pub(super) struct DescribeArgs {
    /// The image to describe.
    pub(super) image: ImageInput,
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
    #[schemars(range(min = 1, max = 3600))]
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
    let reference = schema
        .get("properties")
        .and_then(|p| p.get("operation"))
        .and_then(|o| o.get("$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .map(str::to_owned);
    let kind = match &reference {
        Some(name) => schema
            .get_mut("$defs")
            .and_then(Value::as_object_mut)
            .and_then(|defs| defs.remove(name)),
        None => schema
            .get("properties")
            .and_then(|p| p.get("operation"))
            .cloned(),
    };
    let variant = kind
        .as_ref()
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
