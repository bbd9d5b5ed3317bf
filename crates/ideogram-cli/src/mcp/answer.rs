//! What a call answers: its result, or a tool error saying whether it was
//! billed.

use std::path::Path;

use ideogram::{InvalidInput, Provider};
use rmcp::model::{CallToolResult, ContentBlock, Resource};
use serde_json::{Value, json};

use crate::failure::{Failure, INVALID, OTHER};

use super::thumbnail;

/// The longest sidecar read back for a repeated call, in bytes.
const MAX_SIDECAR: u64 = 1 << 20;

/// Whether a call was billed, as results and errors say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Billed {
    /// Nothing was sent, or the service certainly did not run it.
    No,
    /// Paid for.
    Yes,
    /// Sent, and the answer does not tell.
    Maybe,
}

impl Billed {
    pub(super) fn text(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Yes => "yes",
            Self::Maybe => "maybe",
        }
    }

    pub(super) fn of(err: &ideogram::Error) -> Self {
        if err.certainly_not_billed() {
            Self::No
        } else if err.certainly_billed() {
            Self::Yes
        } else {
            Self::Maybe
        }
    }
}

/// A call that did not end in what it asked for.
#[derive(Debug)]
pub(super) struct Refused {
    pub(super) failure: Failure,
    pub(super) billed: Billed,
    /// What the agent needs to get what was paid for (unsaved images with
    /// their URLs and fetch commands), when anything was.
    pub(super) detail: Option<Value>,
    /// What the server has spent (and has left), for a paid tool's error
    /// as for its result.
    pub(super) spend: Option<Box<Value>>,
}

impl Refused {
    pub(super) fn new(failure: Failure, billed: Billed) -> Self {
        Self {
            failure,
            billed,
            detail: None,
            spend: None,
        }
    }

    /// A refused argument; the hint says which tool lists what it allows.
    pub(super) fn invalid(input: InvalidInput) -> Self {
        let hint = match input.field.as_ref() {
            _ if input.is_not_taken() => {
                Some("leave it out, or pick a model that takes it (the `models` tool says which)")
            }
            "resolution" | "operation.resolution" => Some("the `models` tool lists the sizes"),
            "palette" => Some("the `models` tool lists the preset palettes"),
            _ => None,
        };
        let failure = Failure::new(INVALID, input.to_string());
        let failure = match hint {
            Some(hint) => failure.hint(hint),
            None => failure,
        };
        Self::new(failure, Billed::No)
    }

    /// A failed call, with a hint an agent can act on.
    pub(super) fn error(err: ideogram::Error, provider: Provider) -> Self {
        let billed = Billed::of(&err);
        let hint = agent_hint(&err, provider);
        let mut failure = Failure::from_error(err, provider);
        if let Some(hint) = hint {
            failure.hint = Some(hint);
        }
        Self::new(failure, billed)
    }

    /// The tool error: `isError`, the message with its hint and whether it
    /// was billed, and the same as structured content.
    pub(super) fn result(mut self) -> CallToolResult {
        // The CLI's hints name its commands and flags; an agent runs
        // neither, and such a hint left here is one not rewritten for it.
        if self.failure.hint.as_deref().is_some_and(names_the_cli) {
            self.failure.hint = None;
        }
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
        if let (Value::Object(structured), Some(Value::Object(spend))) =
            (&mut structured, self.spend.map(|spend| *spend))
        {
            structured.extend(spend);
        }
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        result
    }
}

/// Whether `text` tells its reader to run the CLI (`ideogram ...`) or
/// pass it a flag (`--wait`).
fn names_the_cli(text: &str) -> bool {
    text.contains("--") || text.contains("ideogram ") || text.contains("cargo ")
}

/// What an agent can do about `err`: the next call to make, or that the
/// server's setup is the user's to fix. `None` when the CLI's hint says
/// it in words an agent can use.
fn agent_hint(err: &ideogram::Error, provider: Provider) -> Option<String> {
    use ideogram::{ConfigError, Error};
    let other = Provider::ALL.into_iter().find(|p| *p != provider);
    let setup = "the server's setup is for its user to fix: tell them";
    if let Error::Polling { id, .. } = err {
        return Some(format!(
            "the job runs on: call job_wait with request_id {id:?} to fetch it"
        ));
    }
    Some(match err.root() {
        Error::Config(ConfigError::MissingKey { .. } | ConfigError::InvalidKey(_))
        | Error::Unauthorized { .. }
        | Error::Forbidden { .. } => match other {
            Some(other) => format!(
                "the server has no working {provider} key: pass provider {other}, or tell the user"
            ),
            None => format!("the server has no working {provider} key: tell the user"),
        },
        Error::Config(_) | Error::NotFound { .. } => setup.to_owned(),
        Error::RateLimited { retry_after, .. } => format!(
            "wait {} s and call again with the same idempotency_key",
            retry_after.map_or(5, |wait| wait.as_secs().max(1))
        ),
        Error::JobTimeout { id, .. } => format!(
            "it runs on and will be billed: call job_wait with request_id {id:?} to fetch it"
        ),
        Error::Transport { sent: false, .. } => {
            "nothing was sent: call again with the same idempotency_key".to_owned()
        }
        _ => return None,
    })
}

impl From<Failure> for Refused {
    /// A failure before anything was sent.
    fn from(failure: Failure) -> Self {
        Self::new(failure, Billed::No)
    }
}

/// A sidecar's JSON, if it is a regular file of at most [`MAX_SIDECAR`].
pub(super) fn read_sidecar(path: &Path) -> Option<Value> {
    use std::io::Read as _;
    let file = crate::connect::open_regular(path, OTHER).ok()?;
    let mut text = Vec::new();
    file.take(MAX_SIDECAR).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A successful call's result: a line per image (or description) for
/// reading, each saved image as an inline thumbnail (when `thumbnails`,
/// within [`thumbnail::BUDGET`] in all) and a resource link, and the whole
/// answer as structured content.
pub(super) fn success(answer: Value, thumbnails: bool) -> CallToolResult {
    let mut content = Vec::new();
    if let Some(texts) = answer["descriptions"].as_array() {
        for text in texts.iter().filter_map(Value::as_str) {
            content.push(ContentBlock::text(text));
        }
    }
    let images = answer["images"].as_array().map_or(&[][..], Vec::as_slice);
    let saved = images.iter().filter(|r| r["path"].is_string()).count();
    let mut budget = thumbnail::BUDGET;
    for record in images {
        content.push(ContentBlock::text(crate::output::describe(record)));
        let Some(path) = record["path"].as_str().map(Path::new) else {
            continue;
        };
        if thumbnails && let Some(small) = thumbnail::of(path, budget / saved.max(1)) {
            budget -= small.data.len().min(budget);
            content.push(ContentBlock::image(small.data, small.mime));
        }
        content.push(ContentBlock::resource_link(resource(path)));
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

/// A saved image as a resource: its `file://` URI, name and type.
pub(super) fn resource(path: &Path) -> Resource {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Resource::new(file_uri(path), name).with_mime_type(mime_of(path))
}

/// The MIME type of a saved file, by its extension (the CLI names each
/// by what it holds).
pub(super) fn mime_of(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("json") => "application/json",
        _ => "image/png",
    }
}

/// The path a `file://` URI of [`file_uri`] names, if it is one.
pub(super) fn path_of_uri(uri: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt as _;
    let encoded = uri.strip_prefix("file://")?.as_bytes();
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            let hex = std::str::from_utf8(encoded.get(i + 1..i + 3)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            bytes.push(encoded[i]);
            i += 1;
        }
    }
    Some(std::ffi::OsString::from_vec(bytes).into())
}

/// A `file://` URI for an absolute path, its bytes percent-encoded where
/// a URI needs it.
pub(super) fn file_uri(path: &Path) -> String {
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
