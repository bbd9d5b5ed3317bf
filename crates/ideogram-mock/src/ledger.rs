//! The billing ledger: every generation the mock billed and what became of
//! it, so tests can prove nothing was billed twice and nothing paid was lost.

use serde::Serialize;
use serde_json::{Map, Value};

/// Which service billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Segmind (v1 or the v2 queue).
    Segmind,
    /// Ideogram's API.
    Ideogram,
}

/// What happened to a billed generation's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The answer was sent in full.
    Answered,
    /// Billed, then the answer was broken on purpose (a fault).
    Broken,
    /// A queued request: the result waits to be fetched by its id.
    Queued,
}

/// One billed generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Billed {
    /// The mock's id for it (Segmind's request id for queued requests).
    pub id: String,
    /// Who billed.
    pub service: Service,
    /// The path or slug called.
    pub operation: String,
    /// The prompt.
    pub prompt: String,
    /// The seed used.
    pub seed: u64,
    /// The image size.
    pub width: u32,
    /// The image size.
    pub height: u32,
    /// Where each image can be fetched (Segmind v1 returns the bytes and has
    /// a URL here too, for audits).
    pub outputs: Vec<String>,
    /// Credits charged.
    pub cost: f64,
    /// What the spec's price (`x-price`) says it cost, in millionths of a
    /// US dollar, where the spec prices the operation.
    pub usd_micros: Option<u64>,
    /// What became of the answer.
    pub delivery: Delivery,
    /// The request's fields as they reached the wire: a JSON body as sent;
    /// a multipart body's value parts, each as its schema types it (a JSON
    /// part parsed, so `image_request` stays nested as sent). Files are not
    /// kept: each stands in as `"<file, N bytes>"` (a list of them for a
    /// repeated part), as does an image sent to Segmind as base64.
    pub fields: Map<String, Value>,
}

impl Billed {
    /// The bytes of the image the mock rendered for this entry, in its
    /// first output's format: what an image saved whole has, byte for byte
    /// in size (an audit's check that a download was not cut short).
    pub fn rendered(&self) -> Vec<u8> {
        let spec = crate::image::ImageSpec {
            width: self.width,
            height: self.height,
            seed: self.seed,
            palette: vec![],
            transparent: false,
        };
        if self.outputs.first().is_some_and(|o| o.ends_with(".jpg")) {
            spec.jpeg()
        } else {
            spec.png()
        }
    }
}

/// What a file of `len` bytes is recorded as in [`Billed::fields`].
pub(crate) fn file_stand_in(len: usize) -> Value {
    Value::String(format!("<file, {len} bytes>"))
}

/// A snapshot of the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ledger {
    /// Every billed generation, in billing order.
    pub entries: Vec<Billed>,
}

impl Ledger {
    /// Images billed in all.
    pub fn images(&self) -> usize {
        self.entries.iter().map(|e| e.outputs.len()).sum()
    }

    /// Entries whose prompt is `prompt`.
    pub fn for_prompt<'a>(&'a self, prompt: &'a str) -> impl Iterator<Item = &'a Billed> + 'a {
        self.entries.iter().filter(move |e| e.prompt == prompt)
    }
}
