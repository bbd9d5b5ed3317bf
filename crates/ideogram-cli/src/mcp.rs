//! `ideogram mcp`: the client's operations as tools for AI agents, served
//! over MCP on stdio. Stdout carries the protocol alone; notes and traces
//! go to stderr.
//!
//! A tool's input schema is the library's request type's JSON Schema (the
//! specs' enums and bounds, which model takes what), and its arguments are
//! read as that type and checked whole before anything is sent: a refusal
//! is a tool error naming the field and what it allows, and costs nothing.
//! Paid calls run as the CLI's commands do and are journaled in the output
//! folder as a batch's items are (`.ideogram-mcp.jsonl`, through
//! [`Journal`]): about to send, then the queue id or the image URLs before
//! anything is downloaded, then what was saved. A call repeated with the
//! same `idempotency_key` is answered from that journal, never sent twice.
//! Every result and error says whether it was billed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ideogram::schemars::JsonSchema;
use ideogram::schemars::generate::SchemaSettings;
use ideogram::{EditRequest, GenerateRequest, Generation, ImageInput, InvalidInput, Provider};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken, Resource,
    ServerCapabilities, ServerConfig, Tool as McpTool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt as _};
use serde_json::{Map, Value, json};

use crate::args::{Connection, Options};
use crate::connect::{self, Offline, Session};
use crate::failure::{Failure, INVALID, NOT_SAVED, OTHER};
use crate::journal::{Entry, ItemState, Journal, JournalImage};
use crate::naming::{self, Plan};
use crate::output::{Asked, tell};
use crate::request::{Ready, Work};
use crate::signals::Signals;

/// The journal's name in the output folder.
pub(crate) const JOURNAL: &str = ".ideogram-mcp.jsonl";

/// The longest idempotency key, in bytes.
const MAX_KEY: usize = 200;

/// The longest wait a `job_wait` call may ask for, in seconds.
const MAX_WAIT: u64 = 3600;

/// The longest sidecar read back for a repeated call, in bytes.
const MAX_SIDECAR: u64 = 1 << 20;

/// Serves the tools on stdio until the client closes it (or an interrupt
/// arrives), saving images in `out`.
pub(crate) async fn serve(
    connection: Connection,
    out: &Path,
    signals: Signals,
) -> Result<(), Failure> {
    let server = Server::open(connection, out, signals.clone()).await?;
    tell(&format!(
        "ideogram mcp: serving on stdio, saving in {}{}",
        server.out.display(),
        if server.offline.is_some() {
            " (offline: the built-in mock, nothing is billed)"
        } else {
            ""
        }
    ));
    let running = Handler(Arc::new(server))
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Failure::new(OTHER, format!("MCP session did not start: {e}")))?;
    tokio::select! {
        ended = running.waiting() => {
            ended.map_err(|e| Failure::new(OTHER, format!("MCP session failed: {e}")))?;
            Ok(())
        }
        () = signals.reached(1) => {
            Err(Failure::new(
                crate::failure::INTERRUPTED,
                format!("interrupted; calls still running are in the journal ({JOURNAL}): repeat them with their idempotency_key"),
            ))
        }
    }
}

/// The tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
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
    const ALL: [Self; 11] = [
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

    fn name(self) -> &'static str {
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

    fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// The library's name for an operation on an image (`EditKind`'s `op`).
    fn edit_op(self) -> Option<&'static str> {
        match self {
            Self::Edit => Some("edit"),
            Self::Reframe => Some("reframe"),
            Self::ReplaceBackground => Some("replace-background"),
            Self::Upscale => Some("upscale"),
            _ => None,
        }
    }

    /// Whether a call may be billed.
    fn paid(self) -> bool {
        !matches!(self, Self::JobStatus | Self::Models)
    }

    fn description(self) -> String {
        const SAVED: &str = "Images are saved with a JSON sidecar (seed, resolution, request id, credits left, source URL) in the server's output folder under new names, never over a file; the result lists their paths and links. Every field is checked against the model and provider before anything is sent: a refusal names the field and what it allows and costs nothing. The result says whether the call was billed.";
        const REPEAT: &str = "Pass an idempotency_key to make a repeat safe: the same key again returns the first call's images (fetching any it paid for but did not save) instead of paying again.";
        const IMAGE: &str = "Images are http(s) URLs, files on the server's machine or data: URLs (JPEG, PNG or WebP, at most 10 MB).";
        let what = match self {
            Self::Generate => {
                "Generate images from a prompt with any Ideogram model, on Segmind or Ideogram's API (each image billed by the provider; Ideogram 3.0's rendering_speed, transparency, upscaling and character references change the price). The `models` tool lists what each model takes. With `image` it is image to image."
            }
            Self::Remix => {
                "Image to image: a new image from `image` and a prompt, `image_weight` (1-100) saying how closely it follows the input. Billed per image."
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
            (self.takes_images(), IMAGE),
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
    fn takes_images(self) -> bool {
        self == Self::Remix || self == Self::Describe || self.edit_op().is_some()
    }

    /// Whether it saves images.
    fn saves(self) -> bool {
        self.paid() && !matches!(self, Self::Describe | Self::JobSubmit)
    }

    /// Whether it takes an idempotency key.
    fn keyed(self) -> bool {
        self.paid() && !matches!(self, Self::Describe | Self::JobWait)
    }

    /// The tool's input schema: the library request type's, with the
    /// call's own fields (provider, idempotency key).
    fn schema(self) -> Map<String, Value> {
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
struct DescribeArgs {
    /// The image to describe.
    image: ImageInput,
}

/// `job_status`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "JobRequest")]
struct JobArgs {
    /// The id `job_submit` returned.
    #[schemars(length(min = 1, max = 200))]
    request_id: String,
}

/// `job_wait`'s arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "JobWaitRequest")]
struct JobWaitArgs {
    /// The id `job_submit` returned.
    #[schemars(length(min = 1, max = 200))]
    request_id: String,
    /// How long to wait at most, in seconds (default 600); the job runs on
    /// after a timeout, and waiting again fetches it.
    #[serde(default)]
    #[schemars(range(min = 1, max = 3600))]
    timeout_seconds: Option<u64>,
}

/// No arguments.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ideogram::schemars", title = "NoArguments")]
struct NoArgs {}

/// `T`'s JSON Schema as an object, every subschema inline (no `$ref`s:
/// some agents' hosts do not follow them).
fn schema_of<T: JsonSchema>() -> Map<String, Value> {
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
fn narrow_operation(schema: &mut Map<String, Value>, op: &str) {
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

/// Whether a call was billed, as results and errors say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Billed {
    /// Nothing was sent, or the service certainly did not run it.
    No,
    /// Paid for.
    Yes,
    /// Sent, and the answer does not tell.
    Maybe,
}

impl Billed {
    fn text(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Yes => "yes",
            Self::Maybe => "maybe",
        }
    }

    fn of(err: &ideogram::Error) -> Self {
        if err.certainly_not_billed() {
            Self::No
        } else {
            Self::Maybe
        }
    }
}

/// A call that did not end in what it asked for.
#[derive(Debug)]
struct Refused {
    failure: Failure,
    billed: Billed,
    /// What the agent needs to get what was paid for (unsaved images with
    /// their URLs and fetch commands), when anything was.
    detail: Option<Value>,
}

impl Refused {
    fn new(failure: Failure, billed: Billed) -> Self {
        Self {
            failure,
            billed,
            detail: None,
        }
    }

    fn invalid(input: InvalidInput) -> Self {
        Self::new(input.into(), Billed::No)
    }

    fn error(err: ideogram::Error, provider: Provider) -> Self {
        let billed = Billed::of(&err);
        Self::new(Failure::from_error(err, provider), billed)
    }

    /// The tool error: `isError`, the message with its hint and whether it
    /// was billed, and the same as structured content.
    fn result(self) -> CallToolResult {
        let billed = match self.billed {
            Billed::No => "billed: no (nothing was charged)",
            Billed::Yes => "billed: yes",
            Billed::Maybe => "billed: maybe (the request reached the service)",
        };
        let mut text = format!("{}; {billed}", self.failure);
        if let Some(detail) = &self.detail {
            text.push('\n');
            text.push_str(&serde_json::to_string_pretty(detail).expect("JSON"));
        }
        let mut structured = self.failure.to_json();
        structured["billed"] = json!(self.billed.text());
        if let Some(detail) = self.detail {
            structured["detail"] = detail;
        }
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        result
    }
}

impl From<Failure> for Refused {
    /// A failure before anything was sent.
    fn from(failure: Failure) -> Self {
        Self::new(failure, Billed::No)
    }
}

/// The arguments of a call, the call's own fields taken out.
struct Call {
    args: Map<String, Value>,
    provider: Option<Provider>,
    key: Option<String>,
}

impl Call {
    fn read(args: Option<Map<String, Value>>) -> Result<Self, InvalidInput> {
        let mut args = args.unwrap_or_default();
        let provider = match args.remove("provider") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.parse::<Provider>()?),
            Some(other) => return Err(not_text("provider", &other)),
        };
        let key = match args.remove("idempotency_key") {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) if !key.is_empty() && key.len() <= MAX_KEY => Some(key),
            Some(other) => {
                return Err(InvalidInput::new(
                    "idempotency_key",
                    format!("{other} is not a text of 1 to {MAX_KEY} bytes"),
                ));
            }
        };
        Ok(Self {
            args,
            provider,
            key,
        })
    }

    /// The arguments as the library's `T`, a refusal naming the field.
    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, InvalidInput> {
        parse_args(Value::Object(self.args.clone()))
    }
}

fn not_text(field: &'static str, value: &Value) -> InvalidInput {
    let names: Vec<String> = Provider::ALL.iter().map(ToString::to_string).collect();
    InvalidInput::new(field, format!("{value} is not one of {}", names.join(", ")))
}

/// `value` read as `T`; a refusal names the field's path and keeps the
/// library's words for what it allows.
fn parse_args<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, InvalidInput> {
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

/// The journal's items, as read at the start and added to since.
#[derive(Default)]
struct Items {
    states: HashMap<usize, ItemState>,
    /// Idempotency keys of calls running now.
    running: Vec<String>,
}

impl Items {
    /// A new item number, taken at once so that calls running together
    /// never share one.
    fn reserve(&mut self) -> usize {
        let item = self.states.keys().max().map_or(0, |n| n + 1);
        self.states.insert(item, ItemState::default());
        item
    }

    /// The latest item journaled under `key` (its journal name is
    /// `KEY#FINGERPRINT`), with that name.
    fn keyed(&self, key: &str) -> Option<(usize, ItemState)> {
        let prefix = format!("{key}#");
        self.states
            .iter()
            .filter(|(_, state)| state.key.as_deref().is_some_and(|k| k.starts_with(&prefix)))
            .max_by_key(|(item, _)| **item)
            .map(|(item, state)| (*item, state.clone()))
    }

    fn of_job(&self, id: &str) -> Option<(usize, ItemState)> {
        self.states
            .iter()
            .find(|(_, state)| state.request_id.as_deref() == Some(id))
            .map(|(item, state)| (*item, state.clone()))
    }
}

/// The server: where images go, the clients (one per provider, made at
/// first use), the journal.
struct Server {
    connection: Connection,
    out: PathBuf,
    offline: Option<Arc<Offline>>,
    sessions: tokio::sync::Mutex<Vec<(Provider, Arc<Session>)>>,
    journal: Journal,
    items: Mutex<Items>,
    signals: Signals,
    /// Held while a call picks its files' names and saves them, so that
    /// two calls at once never pick the same free name (the second save
    /// would then fail, never overwrite, and leave a paid image unsaved).
    saving: tokio::sync::Mutex<()>,
    /// The batch lock on the output folder, held for the server's life: a
    /// batch and this server never save into one folder at once.
    _folder: std::fs::File,
}

/// Releases a running idempotency key when its call ends, however.
struct Running<'a> {
    items: &'a Mutex<Items>,
    key: Option<String>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(key) = &self.key {
            self.items
                .lock()
                .expect("items")
                .running
                .retain(|k| k != key);
        }
    }
}

/// Progress notifications for one call, when its client asked for them.
struct Progress {
    peer: rmcp::Peer<RoleServer>,
    token: Option<ProgressToken>,
    done: Arc<Mutex<f64>>,
}

impl Progress {
    fn of(context: &RequestContext<RoleServer>) -> Self {
        Self {
            peer: context.peer.clone(),
            token: context.meta.get_progress_token(),
            done: Arc::new(Mutex::new(0.0)),
        }
    }

    /// Tells the client `message` (sent off this task: a slow client
    /// never holds up a paid call).
    fn say(&self, message: String) {
        let Some(token) = self.token.clone() else {
            return;
        };
        let progress = {
            let mut done = self.done.lock().expect("progress");
            *done += 1.0;
            *done
        };
        let peer = self.peer.clone();
        tokio::spawn(async move {
            let _ = peer
                .notify_progress(
                    ProgressNotificationParam::new(token, progress).with_message(message),
                )
                .await;
        });
    }
}

impl Server {
    async fn open(connection: Connection, out: &Path, signals: Signals) -> Result<Self, Failure> {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::io(format!("cannot create {}", out.display()), e))?;
        let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
        naming::writable(&out, 64)?;
        // The provider and key are checked at each call, so that a server
        // with one provider's key serves that one.
        connect::provider(&connection, false)?;
        let offline = if connection.offline {
            Some(connect::offline().await?)
        } else {
            None
        };
        let folder = crate::journal::lock_output(&out, false)?;
        let (journal, states) = Journal::open(&out.join(JOURNAL), "ideogram-mcp", 0, false)?;
        Ok(Self {
            connection,
            out,
            offline,
            sessions: tokio::sync::Mutex::new(Vec::new()),
            journal,
            items: Mutex::new(Items {
                states,
                running: Vec::new(),
            }),
            signals,
            saving: tokio::sync::Mutex::new(()),
            _folder: folder,
        })
    }

    /// The client for `provider` (the server's default when `None`).
    async fn session(&self, provider: Option<Provider>) -> Result<Arc<Session>, Failure> {
        let provider = match provider {
            Some(provider) => provider,
            None => connect::provider(&self.connection, false)?,
        };
        let mut sessions = self.sessions.lock().await;
        if let Some((_, session)) = sessions.iter().find(|(p, _)| *p == provider) {
            return Ok(session.clone());
        }
        let session = Arc::new(connect::session(
            &self.connection,
            provider,
            self.offline.clone(),
        )?);
        sessions.push((provider, session.clone()));
        Ok(session)
    }

    /// Journals `entry`, updating what the server knows of its item.
    async fn journal(&self, entry: Entry) -> Result<(), Failure> {
        self.journal.commit(&entry).await?;
        let mut items = self.items.lock().expect("items");
        let state = items.states.entry(entry_item(&entry)).or_default();
        match entry {
            Entry::Sending { provider, key, .. } => {
                *state = ItemState {
                    sending: true,
                    provider,
                    key,
                    ..ItemState::default()
                };
            }
            Entry::Submitted { request_id, .. } => state.request_id = Some(request_id),
            Entry::Generated { images, .. } => state.images = Some(images),
            // Relative to the journal's folder, as reading it gives them.
            Entry::Saved { paths, .. } => {
                state.saved = Some(paths.iter().map(|p| self.out.join(p)).collect());
            }
            Entry::Failed { maybe_billed, .. } => {
                state.sending = false;
                state.failed_maybe_billed = maybe_billed;
                if !maybe_billed {
                    state.request_id = None;
                    state.images = None;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Claims `key` for this call; a call with the same key still running
    /// is refused (nothing sent), not joined.
    fn claim(&self, key: Option<&str>) -> Result<Running<'_>, Refused> {
        if let Some(key) = key {
            let mut items = self.items.lock().expect("items");
            if items.running.iter().any(|k| k == key) {
                return Err(Failure::new(
                    INVALID,
                    format!("a call with idempotency_key {key:?} is still running"),
                )
                .hint("call again with the same key when it has ended: it answers with that call's images")
                .into());
            }
            items.running.push(key.to_owned());
        }
        Ok(Running {
            items: &self.items,
            key: key.map(str::to_owned),
        })
    }

    async fn call(&self, tool: Tool, call: Call, progress: Progress) -> Result<Value, Refused> {
        match tool {
            Tool::Models => Ok(json!({
                "models": crate::commands::models_json(),
                "resolutions": crate::commands::resolutions_json(&crate::commands::sizes_of(&ideogram::SizeFamily::ALL)),
                "palettes": crate::commands::palettes_json(),
            })),
            Tool::Describe => {
                let args: DescribeArgs = call.parse().map_err(Refused::invalid)?;
                let session = self.session(call.provider).await?;
                let texts = session
                    .client
                    .describe(&args.image)
                    .await
                    .map_err(|e| Refused::error(e, session.provider))?;
                Ok(json!({"descriptions": texts, "billed": "yes"}))
            }
            Tool::JobStatus => {
                let args: JobArgs = call.parse().map_err(Refused::invalid)?;
                let session = self.session(Some(Provider::Segmind)).await?;
                let status = session
                    .client
                    .job(&args.request_id)
                    .status()
                    .await
                    .map_err(|e| Refused::error(e, session.provider))?;
                Ok(json!({
                    "request_id": args.request_id,
                    "status": status.status.to_string(),
                    "error": status.error,
                    "inference_time": status.inference_time,
                    "billed": "no",
                }))
            }
            Tool::JobWait => {
                let args: JobWaitArgs = call.parse().map_err(Refused::invalid)?;
                let timeout = args.timeout_seconds.unwrap_or(600).clamp(1, MAX_WAIT);
                self.job_wait(&args.request_id, timeout, &progress).await
            }
            Tool::Generate | Tool::Remix | Tool::JobSubmit => {
                let request: GenerateRequest = call.parse().map_err(Refused::invalid)?;
                if tool == Tool::Remix && request_field(&call, "image").is_none() {
                    return Err(Refused::invalid(InvalidInput::new(
                        "image",
                        "remix needs an input image",
                    )));
                }
                let asked = asked(
                    request.prompt().to_owned(),
                    &call.args,
                    request.chosen_model(),
                );
                let provider = if tool == Tool::JobSubmit {
                    Some(Provider::Segmind)
                } else {
                    call.provider
                };
                let paid = Paid {
                    request: canonical(tool, &call.args),
                    work: Work::Generate(request),
                    asked,
                    provider,
                    key: call.key,
                    queue: tool == Tool::JobSubmit,
                };
                self.paid(paid, &progress).await
            }
            Tool::Edit | Tool::Reframe | Tool::ReplaceBackground | Tool::Upscale => {
                let op = tool.edit_op().unwrap_or_default();
                let mut args = call.args.clone();
                let operation = args.entry("operation").or_insert_with(|| json!({}));
                if let Value::Object(operation) = operation {
                    operation.entry("op").or_insert_with(|| json!(op));
                }
                let request: EditRequest =
                    parse_args(Value::Object(args.clone())).map_err(Refused::invalid)?;
                if request.kind().name() != op {
                    return Err(Refused::invalid(InvalidInput::new(
                        "operation.op",
                        format!("this tool is {op}: leave op out or give {op:?}"),
                    )));
                }
                let named = args["operation"]["prompt"]
                    .as_str()
                    .map_or_else(|| op.to_owned(), str::to_owned);
                let paid = Paid {
                    request: canonical(tool, &args),
                    asked: asked(named, &args, EditRequest::MODEL),
                    work: Work::Edit(request),
                    provider: call.provider,
                    key: call.key,
                    queue: false,
                };
                self.paid(paid, &progress).await
            }
        }
    }

    /// A paid call: answered from the journal when its key is there,
    /// else checked, journaled, sent, journaled again and saved.
    async fn paid(&self, paid: Paid, progress: &Progress) -> Result<Value, Refused> {
        let session = self.session(paid.provider).await?;
        let provider = session.provider;
        paid.work.check(provider).map_err(Refused::invalid)?;
        let asked = Asked {
            provider,
            ..paid.asked
        };
        let _running = self.claim(paid.key.as_deref())?;
        // Journaled as KEY#FINGERPRINT: the same key with other arguments
        // (or another provider) is another request, refused.
        let journal_key = paid.key.as_deref().map(|key| {
            format!(
                "{key}#{}",
                fingerprint(&format!("{provider} {}", paid.request))
            )
        });
        let earlier = paid
            .key
            .as_deref()
            .and_then(|key| self.items.lock().expect("items").keyed(key));
        let (item, state) = match earlier {
            Some((_, state)) if state.key != journal_key => {
                return Err(Failure::new(
                    INVALID,
                    format!(
                        "idempotency_key {:?} was used for another request (other arguments or provider)",
                        paid.key.as_deref().unwrap_or_default()
                    ),
                )
                .hint("a new request needs a new key")
                .into());
            }
            Some((item, state)) => (item, Some(state)),
            None => (self.items.lock().expect("items").reserve(), None),
        };
        let plan = Plan::from_output(Some(&self.out.join("")), &naming::slug(&asked.prompt))?;
        plan.check(paid.work.images())?;
        let resumed = match &state {
            Some(state) if state.saved.is_some() => {
                return Ok(self.saved_again(state));
            }
            Some(state) if state.images.is_some() => {
                progress.say("answered from the journal: fetching the images it paid for".into());
                let images = state.images.clone().unwrap_or_default();
                Some(crate::journal::restore(
                    &session.client,
                    paid.work.model(),
                    images,
                ))
            }
            Some(state) if state.request_id.is_some() => {
                let id = state.request_id.clone().unwrap_or_default();
                if paid.queue {
                    return Ok(
                        json!({"request_id": id, "status": "QUEUED", "billed": "when it runs", "repeated": true}),
                    );
                }
                // Queued by an earlier call: its result, not a new bill.
                progress.say(format!("answered from the journal: waiting for job {id}"));
                let job = session.client.job(id).wait().await;
                Some(job.map_err(|e| Refused::error(e, provider))?)
            }
            Some(state) if state.uncertain() => {
                return Err(Refused::new(
                    Failure::new(
                        OTHER,
                        format!(
                            "a call with idempotency_key {:?} was sent and its answer never reached the journal: it may have been billed, and is not sent again",
                            paid.key.as_deref().unwrap_or_default()
                        ),
                    )
                    .hint("check your account; a new key sends it afresh"),
                    Billed::Maybe,
                ));
            }
            _ => None,
        };
        let started = SystemTime::now();
        let from_journal = resumed.is_some();
        let mut generation = match resumed {
            Some(generation) => generation,
            None => {
                let prepared = match &paid.work {
                    Work::Generate(request) => {
                        session.client.prepare(request).await.map(Ready::Generate)
                    }
                    Work::Edit(request) => {
                        session.client.prepare_edit(request).await.map(Ready::Edit)
                    }
                }
                .map_err(|e| Refused::error(e, provider))?;
                self.journal(Entry::Sending {
                    item,
                    provider: Some(provider.to_string()),
                    key: journal_key.clone(),
                })
                .await?;
                if paid.queue {
                    return self.submit(item, prepared, provider).await;
                }
                progress.say("sent; waiting for the answer".into());
                match prepared.generate().await {
                    Ok(generation) => generation,
                    Err(err) => return Err(self.failed(item, err, provider).await),
                }
            }
        };
        generation.model = paid.work.model();
        self.keep(item, &generation, &plan).await?;
        progress.say("paid; saving the images".into());
        let mut answer = self.save(item, &generation, &plan, &asked, started).await?;
        if from_journal {
            // Paid for by the earlier call; this one only fetched it.
            answer["billed"] = json!("earlier");
            answer["repeated"] = json!(true);
        }
        Ok(answer)
    }

    /// Journals that a sent request failed, and whether it may have been
    /// billed (so that a repeat sends again only what certainly was not).
    async fn failed(&self, item: usize, err: ideogram::Error, provider: Provider) -> Refused {
        let refused = Refused::error(err, provider);
        let entry = Entry::Failed {
            item,
            error: refused.failure.message.clone(),
            maybe_billed: refused.billed != Billed::No,
            expired: false,
        };
        if let Err(failure) = self.journal(entry).await {
            tell(&format!("warning: {}", failure.message));
        }
        refused
    }

    /// Queues a checked, journaled request on Segmind and journals its id.
    async fn submit(
        &self,
        item: usize,
        prepared: Ready<'_>,
        provider: Provider,
    ) -> Result<Value, Refused> {
        let job = match prepared.submit().await {
            Ok(job) => job,
            Err(err) => return Err(self.failed(item, err, provider).await),
        };
        let id = job.id().to_owned();
        let answer = json!({"request_id": id, "status": "QUEUED", "billed": "when it runs"});
        if let Err(failure) = self
            .journal(Entry::Submitted {
                item,
                request_id: id.clone(),
            })
            .await
        {
            tell(&format!("warning: {}", failure.message));
        }
        Ok(answer)
    }

    /// Journals a paid generation's URLs before anything is downloaded;
    /// when that fails, the error carries the commands that fetch them.
    async fn keep(&self, item: usize, generation: &Generation, plan: &Plan) -> Result<(), Refused> {
        let Some(images) = JournalImage::of(generation) else {
            return Ok(());
        };
        self.journal(Entry::Generated { item, images })
            .await
            .map_err(|failure| {
                Refused::new(
                    Failure::new(
                        NOT_SAVED,
                        format!(
                            "{}; it was billed: {}",
                            failure.message,
                            crate::batch::fetch_commands(generation, plan)
                        ),
                    ),
                    Billed::Yes,
                )
            })
    }

    /// Saves a paid generation as the CLI does, journals what was saved,
    /// and answers with the records; images that could not be saved are a
    /// billed error listing their URLs and fetch commands.
    async fn save(
        &self,
        item: usize,
        generation: &Generation,
        plan: &Plan,
        asked: &Asked,
        started: SystemTime,
    ) -> Result<Value, Refused> {
        let names = self.saving.lock().await;
        let saved = crate::commands::save_generation(
            generation,
            plan,
            asked,
            false,
            started,
            &self.signals,
        )
        .await;
        drop(names);
        let (records, unsaved) = saved.map_err(|failure| Refused::new(failure, Billed::Yes))?;
        if !unsaved.is_empty() {
            let mut refused = Refused::new(
                Failure::new(
                    NOT_SAVED,
                    format!(
                        "{} of {} images billed but not saved",
                        unsaved.len(),
                        generation.images.len()
                    ),
                )
                .hint("each has its URL and the command that fetches it (Ideogram's links last 24 hours)"),
                Billed::Yes,
            );
            let mut all = records.clone();
            all.extend(unsaved.iter().map(crate::paid::Unsaved::json));
            refused.detail = Some(json!({"images": all}));
            return Err(refused);
        }
        let paths = records
            .iter()
            .filter_map(|r| r["path"].as_str())
            .map(|p| self.journal.relative(Path::new(p)))
            .collect();
        if let Err(failure) = self.journal(Entry::Saved { item, paths }).await {
            tell(&format!("warning: {}", failure.message));
        }
        Ok(json!({"images": records, "billed": "yes"}))
    }

    /// The answer to a repeated call whose images are on disk: their
    /// sidecars, read again (bounded).
    fn saved_again(&self, state: &ItemState) -> Value {
        let records: Vec<Value> = state
            .saved
            .iter()
            .flatten()
            .map(|path| {
                let sidecar = naming::Stem::sidecar_of(path);
                read_sidecar(&sidecar).unwrap_or_else(
                    || json!({"status": "saved", "path": path.display().to_string()}),
                )
            })
            .collect();
        json!({"images": records, "billed": "earlier", "repeated": true})
    }

    /// Waits for a queued job (progress notifications on each poll) and
    /// saves its images; a job this server already saved answers with its
    /// files.
    async fn job_wait(
        &self,
        id: &str,
        timeout: u64,
        progress: &Progress,
    ) -> Result<Value, Refused> {
        let session = self.session(Some(Provider::Segmind)).await?;
        let earlier = self.items.lock().expect("items").of_job(id);
        if let Some((_, state)) = &earlier
            && state.saved.is_some()
        {
            return Ok(self.saved_again(state));
        }
        let item = match &earlier {
            Some((item, _)) => *item,
            None => {
                let item = self.items.lock().expect("items").reserve();
                self.journal(Entry::Submitted {
                    item,
                    request_id: id.to_owned(),
                })
                .await?;
                item
            }
        };
        let plan = Plan::from_output(Some(&self.out.join("")), &naming::slug(id))?;
        plan.check(1)?;
        let schedule = session
            .client
            .poll_schedule()
            .clone()
            .deadline(Duration::from_secs(timeout));
        let started = SystemTime::now();
        let generation = session
            .client
            .job(id)
            .wait_with(&schedule, |status| {
                progress.say(format!("job {id}: {}", status.status));
            })
            .await
            .map_err(|err| Refused::error(err, Provider::Segmind))?;
        self.keep(item, &generation, &plan).await?;
        let asked = Asked {
            prompt: String::new(),
            provider: Provider::Segmind,
            options: Options::default(),
        };
        self.save(item, &generation, &plan, &asked, started).await
    }
}

/// A paid call's request and where it goes.
struct Paid {
    work: Work,
    /// The tool and its arguments as sent, for the key's fingerprint.
    request: String,
    asked: Asked,
    provider: Option<Provider>,
    key: Option<String>,
    /// Queue it (Segmind's) and answer with its id.
    queue: bool,
}

fn request_field<'a>(call: &'a Call, name: &str) -> Option<&'a Value> {
    call.args.get(name).filter(|v| !v.is_null())
}

/// A tool's call as one text, object keys sorted at every level, so that
/// the same arguments always read the same.
fn canonical(tool: Tool, args: &Map<String, Value>) -> String {
    fn sorted(value: &Value) -> Value {
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

/// A stable 64-bit fingerprint of `text` (FNV-1a), as hex: journals
/// outlive the binary that wrote them, so no std hasher.
fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The item an entry is about.
fn entry_item(entry: &Entry) -> usize {
    match entry {
        Entry::Sending { item, .. }
        | Entry::Submitted { item, .. }
        | Entry::Generated { item, .. }
        | Entry::Saving { item, .. }
        | Entry::Saved { item, .. }
        | Entry::Failed { item, .. }
        | Entry::Abandoned { item } => *item,
        Entry::Batch { .. } | Entry::Run { .. } => usize::MAX,
    }
}

/// What a call asked, for the sidecars: its arguments as the CLI's options.
fn asked(prompt: String, args: &Map<String, Value>, model: ideogram::Model) -> Asked {
    let text = |name: &str| match args.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => Some(other.to_string()),
    };
    Asked {
        prompt,
        // The session that runs it sets its own.
        provider: Provider::Ideogram,
        options: Options {
            model: Some(model.to_string()),
            resolution: text("resolution"),
            aspect: text("aspect_ratio"),
            palette: text("palette"),
            style: text("style"),
            magic_prompt: text("magic_prompt"),
            negative: text("negative_prompt"),
            seed: text("seed"),
            num_images: text("num_images"),
            speed: text("rendering_speed"),
            ..Options::default()
        },
    }
}

/// A sidecar's JSON, if it is a regular file of at most [`MAX_SIDECAR`].
fn read_sidecar(path: &Path) -> Option<Value> {
    use std::io::Read as _;
    let file = crate::connect::open_regular(path, OTHER).ok()?;
    let mut text = Vec::new();
    file.take(MAX_SIDECAR).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A successful call's result: a line per image (or description) for
/// reading, a resource link per saved image, and the whole answer as
/// structured content.
fn success(answer: Value) -> CallToolResult {
    let mut content = Vec::new();
    if let Some(texts) = answer["descriptions"].as_array() {
        for text in texts.iter().filter_map(Value::as_str) {
            content.push(ContentBlock::text(text));
        }
    }
    if let Some(images) = answer["images"].as_array() {
        for record in images {
            content.push(ContentBlock::text(crate::output::describe(record)));
            if let Some(path) = record["path"].as_str() {
                let name = Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mime = match Path::new(path).extension().and_then(|e| e.to_str()) {
                    Some("jpg" | "jpeg") => "image/jpeg",
                    Some("webp") => "image/webp",
                    _ => "image/png",
                };
                content.push(ContentBlock::resource_link(
                    Resource::new(file_uri(Path::new(path)), name).with_mime_type(mime),
                ));
            }
        }
    }
    if content.is_empty() {
        content.push(ContentBlock::text(
            serde_json::to_string_pretty(&answer).expect("JSON"),
        ));
    }
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(answer);
    result
}

/// A `file://` URI for an absolute path, its bytes percent-encoded where
/// a URI needs it.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The server as rmcp runs it.
struct Handler(Arc<Server>);

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("ideogram", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Ideogram image generation. Call `models` first to see what each model takes. \
                 Images are saved on the server's machine; results give their paths. Every \
                 result says whether it was billed; pass an idempotency_key to paid tools so a \
                 repeated call never pays twice.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = Tool::ALL
            .into_iter()
            .map(|tool| {
                let annotations = ToolAnnotations::new()
                    .read_only(!tool.paid())
                    .destructive(false)
                    .idempotent(!tool.paid())
                    .open_world(tool != Tool::Models);
                McpTool::new(tool.name(), tool.description(), Arc::new(tool.schema()))
                    .annotate(annotations)
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = Tool::named(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("no tool named {:?}", request.name),
                None,
            ));
        };
        let progress = Progress::of(&context);
        let outcome = match Call::read(request.arguments) {
            Ok(call) => {
                // rmcp wants a `Send` future, and rustc cannot prove some
                // of the library's (describe, a job's wait) to be for every
                // lifetime; so the call runs to its end on a thread of its
                // own, on this runtime.
                let server = self.0.clone();
                let runtime = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    runtime.block_on(server.call(tool, call, progress))
                })
                .await
                .map_err(|e| {
                    ErrorData::internal_error(format!("the call ended early: {e}"), None)
                })?
            }
            Err(invalid) => Err(Refused::invalid(invalid)),
        };
        Ok(match outcome {
            Ok(answer) => success(answer),
            Err(refused) => refused.result(),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(args: Value) -> Call {
        match args {
            Value::Object(map) => Call::read(Some(map)).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn schemas_are_the_library_types_with_the_call_fields() {
        let generate = Tool::Generate.schema();
        let properties = generate["properties"].as_object().unwrap();
        for field in [
            "prompt",
            "model",
            "resolution",
            "aspect_ratio",
            "seed",
            "provider",
            "idempotency_key",
        ] {
            assert!(properties.contains_key(field), "{field}: {generate:?}");
        }
        assert_eq!(generate["required"], json!(["prompt"]));
        for tool in Tool::ALL {
            let text = Value::Object(tool.schema()).to_string();
            assert!(!text.contains("$ref"), "{}: {text}", tool.name());
        }
        let model = &generate["properties"]["model"];
        assert!(model.to_string().contains("V_2A_TURBO"), "{model}");
        assert_eq!(Tool::Remix.schema()["required"], json!(["prompt", "image"]));
        let status = Tool::JobStatus.schema();
        assert!(
            !status["properties"]
                .as_object()
                .unwrap()
                .contains_key("provider")
        );
        let reframe = Tool::Reframe.schema();
        let operation = &reframe["properties"]["operation"];
        assert!(
            operation["properties"]["resolution"].is_object(),
            "{operation}"
        );
        assert!(operation["properties"].get("mask").is_none(), "{operation}");
    }

    #[test]
    fn refusals_name_the_field_and_what_it_allows() {
        let err = call(json!({"prompt": "a fox", "resolution": "1000x1000"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert_eq!(err.field, "resolution");
        assert!(!err.message.starts_with("invalid"), "{err}");
        let err = call(json!({"prompt": "a fox", "colour": "red"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = call(json!({"prompt": "a fox", "seed": "many"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert_eq!(err.field, "seed");
        let err = Call::read(Some(
            json!({"prompt": "x", "provider": "openai"})
                .as_object()
                .unwrap()
                .clone(),
        ))
        .err()
        .unwrap();
        assert!(err.to_string().contains("segmind or ideogram"), "{err}");
        let refused = Refused::invalid(err).result();
        assert_eq!(refused.is_error, Some(true));
        assert_eq!(refused.structured_content.unwrap()["billed"], "no");
    }

    #[test]
    fn a_call_reads_the_same_whatever_its_key_order() {
        let one = json!({"prompt": "a fox", "palette": {"name": "EMBER", "x": 1}});
        let two = json!({"palette": {"x": 1, "name": "EMBER"}, "prompt": "a fox"});
        let text = |v: Value| canonical(Tool::Generate, v.as_object().unwrap());
        assert_eq!(text(one.clone()), text(two));
        assert_ne!(
            text(one.clone()),
            canonical(Tool::Remix, one.as_object().unwrap())
        );
        // Journals outlive binaries: the fingerprint of a text never changes.
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/tmp/a fox#1.png")),
            "file:///tmp/a%20fox%231.png"
        );
    }
}
