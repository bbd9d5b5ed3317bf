//! Segmind's answers as [`Generation`]s: a v1 call's image (bytes, or JSON
//! holding a URL or base64) and a queued job's result.

use bytes::Bytes;
use futures::StreamExt as _;
use ideogram_raw::QueueStatus;
use ideogram_raw::segmind::headers as names;
use ideogram_raw::segmind::types::QueueResultResponse;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::{header, urls_in};
use crate::connection::Connection;
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation, ImageData};
use crate::model::{Model, Provider};

impl Connection {
    /// A Segmind v1 answer (the image's bytes, or JSON holding it) as a
    /// [`Generation`]; the seed, request id and credits left from its
    /// headers. Billed: it came with a 200.
    pub(crate) async fn segmind_v1_generation(
        &self,
        model: Model,
        prompt: &str,
        answer: ResponseValue<ByteStream>,
    ) -> Result<Generation, Error> {
        let headers = answer.headers();
        let content_type = header(headers, &CONTENT_TYPE)
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let seed = header(headers, &names::X_SEED_VALUE).and_then(|s| s.parse().ok());
        let request_id = header(headers, &names::X_REQUEST_ID).map(|id| self.redact(id));
        let credits_left =
            header(headers, &names::X_REMAINING_CREDITS).and_then(|s| s.parse().ok());
        let bytes = self.collect(answer.into_inner()).await?;
        let data = if content_type == "application/json" {
            self.json_image(&bytes)?
        } else {
            match crate::download::image_type(&content_type, &bytes) {
                Ok(found) => ImageData::Bytes {
                    bytes,
                    content_type: found.to_owned(),
                },
                Err(reason) => {
                    return Err(self.invalid(format!(
                        "a 200 answer (billed) that is not an image: {reason}: {}",
                        self.excerpt(&bytes)
                    )));
                }
            }
        };
        let image = GeneratedImage {
            data,
            prompt: prompt.to_owned(),
            seed,
            resolution: None,
            is_safe: true,
            style: None,
            downloader: self.downloader.clone(),
        };
        Ok(Generation {
            provider: Provider::Segmind,
            model,
            request_id,
            credits_left,
            images: vec![image],
        })
    }

    /// A describe answer's words: JSON (`{"descriptions": [{"text"}]}`, the
    /// reading the spec takes; any other JSON, its strings). Redacted.
    /// Billed: it came with a 200. An answer that is not JSON, whatever its
    /// `Content-Type`, is an error that says so, with a redacted excerpt:
    /// a login page or a proxy's notice is not a description to repeat.
    pub(crate) async fn segmind_descriptions(
        &self,
        answer: ResponseValue<ByteStream>,
    ) -> Result<Vec<String>, Error> {
        let bytes = self.collect(answer.into_inner()).await?;
        let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(self.invalid(format!(
                "it answered 200 (billed) with a description that is not JSON: {}",
                self.excerpt(&bytes)
            )));
        };
        let mut texts = Vec::new();
        match value.get("descriptions") {
            Some(list) => strings(list, &mut texts, 0),
            None => strings(&value, &mut texts, 0),
        }
        if texts.is_empty() {
            return Err(self.invalid(format!(
                "it answered 200 (billed) with no description: {}",
                self.excerpt(&bytes)
            )));
        }
        Ok(texts.iter().map(|t| self.redact(t)).collect())
    }

    /// A v1 answer's body, whole (the raw client caps it at 64 MiB). Billed:
    /// it came with a 200.
    async fn collect(&self, stream: ByteStream) -> Result<Bytes, Error> {
        let mut stream = stream.into_inner();
        // The chunks as they came, joined once at the end: a body in one
        // chunk is not copied at all, one in many is copied once.
        let mut chunks: Vec<Bytes> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                self.invalid(format!(
                    "the answer broke off after a 200 (billed): {}",
                    self.redact(&crate::error::chain(&e))
                ))
            })?;
            chunks.push(chunk);
        }
        Ok(match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.swap_remove(0),
            _ => Bytes::from(chunks.concat()),
        })
    }

    /// A Segmind queue result as a [`Generation`] of `model` for `prompt`:
    /// every `http(s)` URL its output holds, whatever its shape. A job not
    /// COMPLETED, or completed without a URL, is an error.
    pub(crate) fn segmind_queue_generation(
        &self,
        model: Model,
        prompt: &str,
        answer: QueueResultResponse,
    ) -> Result<Generation, Error> {
        let id = self.redact(answer.request_id.as_deref().unwrap_or_default());
        if answer.status != QueueStatus::Completed {
            return Err(self.invalid(format!(
                "job {id} has no result yet (it is {})",
                answer.status
            )));
        }
        let mut urls = Vec::new();
        if let Some(output) = &answer.output {
            urls_in(output, &mut urls, 0);
        }
        if urls.is_empty() {
            return Err(self.invalid(format!(
                "job {id} completed (billed) without an image URL in its output"
            )));
        }
        Ok(Generation {
            provider: Provider::Segmind,
            model,
            request_id: (!id.is_empty()).then_some(id),
            credits_left: None,
            images: urls
                .into_iter()
                .map(|url| self.image_at(url, prompt.to_owned()))
                .collect(),
        })
    }

    /// A JSON v1 answer: the image as a URL or base64, under `image`,
    /// `output` or `url` (the model pages' sample code reads JSON; observed
    /// answers are bytes).
    fn json_image(&self, body: &[u8]) -> Result<ImageData, Error> {
        use base64::Engine as _;
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| self.undecoded(body, format!("a JSON answer that does not parse: {e}")))?;
        let found = ["image", "output", "url"]
            .iter()
            .find_map(|key| match &value[key] {
                Value::String(s) => Some(s.clone()),
                Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .ok_or_else(|| {
                self.undecoded(
                    body,
                    format!("a JSON answer without an image: {}", self.excerpt(body)),
                )
            })?;
        if found.starts_with("http://") || found.starts_with("https://") {
            return Ok(ImageData::Url(found));
        }
        let encoded = found.rsplit(',').next().unwrap_or(&found);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| self.invalid(format!("a JSON image (billed) that is not base64: {e}")))?;
        let content_type = crate::download::image_type("", &bytes)
            .map_err(|reason| self.invalid(format!("a JSON image (billed): {reason}")))?;
        Ok(ImageData::Bytes {
            bytes: bytes.into(),
            content_type: content_type.to_owned(),
        })
    }
}

/// Every string `value` holds (at most 16 levels deep), in order.
fn strings(value: &Value, out: &mut Vec<String>, depth: usize) {
    match value {
        Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
        Value::Array(items) if depth < 16 => items.iter().for_each(|v| strings(v, out, depth + 1)),
        Value::Object(map) if depth < 16 => map.values().for_each(|v| strings(v, out, depth + 1)),
        _ => {}
    }
}
