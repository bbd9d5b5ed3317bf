//! What a call answers: its result, or a tool error saying whether it was
//! billed.

use std::path::Path;

use ideogram::{InvalidInput, Provider};
use rmcp::model::{CallToolResult, ContentBlock, Resource};
use serde_json::{Value, json};

use crate::failure::{Failure, OTHER};

use super::MAX_SIDECAR;

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
}

impl Refused {
    pub(super) fn new(failure: Failure, billed: Billed) -> Self {
        Self {
            failure,
            billed,
            detail: None,
        }
    }

    pub(super) fn invalid(input: InvalidInput) -> Self {
        Self::new(input.into(), Billed::No)
    }

    pub(super) fn error(err: ideogram::Error, provider: Provider) -> Self {
        let billed = Billed::of(&err);
        Self::new(Failure::from_error(err, provider), billed)
    }

    /// The tool error: `isError`, the message with its hint and whether it
    /// was billed, and the same as structured content.
    pub(super) fn result(self) -> CallToolResult {
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

/// A sidecar's JSON, if it is a regular file of at most [`MAX_SIDECAR`].
pub(super) fn read_sidecar(path: &Path) -> Option<Value> {
    use std::io::Read as _;
    let file = crate::connect::open_regular(path, OTHER).ok()?;
    let mut text = Vec::new();
    file.take(MAX_SIDECAR).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A successful call's result: a line per image (or description) for
/// reading, a resource link per saved image, and the whole answer as
/// structured content.
pub(super) fn success(answer: Value) -> CallToolResult {
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
