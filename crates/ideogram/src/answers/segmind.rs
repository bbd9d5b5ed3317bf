//! Segmind's answers as [`Generation`]s: a v1 call's image, or a queued job's result.

use base64::Engine as _;
use bytes::Bytes;
use ideogram_raw::QueueStatus;
use ideogram_raw::ideogram::types::{DescribeResponse, DescribeResponseV2};
use ideogram_raw::segmind::headers as names;
use ideogram_raw::segmind::types::QueueResultResponse;
use progenitor_client::ResponseValue;
use serde_json::Value;

use super::Body;
use super::{header, http_url, urls_in};
use crate::connection::Connection;
use crate::download::{content_type, image_type};
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation, ImageData};
use crate::model::Model;
use crate::provider::Provider;

impl Connection {
    /// A Segmind v1 answer (billed: a 200) as a [`Generation`], with what its headers say.
    pub(crate) fn segmind_v1_generation(
        &self,
        model: Model,
        prompt: &str,
        answer: ResponseValue<Body>,
    ) -> Result<Generation, Error> {
        let headers = answer.headers();
        let content_type = content_type(headers);
        let seed = header(headers, &names::X_SEED_VALUE).and_then(|s| s.parse().ok());
        let request_id = header(headers, &names::X_REQUEST_ID).map(|id| self.redact(id));
        let credits = header(headers, &names::X_REMAINING_CREDITS).and_then(|s| s.parse().ok());
        let bytes = self.collect(answer.into_inner())?;
        let data = if content_type == "application/json" {
            self.json_image(&bytes)?
        } else {
            let found = image_type(&content_type, &bytes).map_err(|reason| {
                let excerpt = self.excerpt(&bytes);
                self.invalid(format!(
                    "a 200 answer (billed) that is not an image: {reason}: {excerpt}"
                ))
            })?;
            ImageData::Bytes {
                bytes,
                content_type: found.to_owned(),
            }
        };
        let mut image = GeneratedImage::new(data, prompt.to_owned(), self.downloader.clone());
        image.seed = seed;
        let mut generation = Generation::new(Provider::Segmind, model, vec![image]);
        generation.request_id = request_id;
        generation.credits_left = credits;
        Ok(generation)
    }

    /// A describe answer's words (billed), redacted. Ideogram's answers
    /// are read as their generated types: a structured `json_prompt`
    /// (Ideogram 4.0's v2) is one description, its JSON text; the texts of
    /// `descriptions` follow; nothing else of the answer (its id, its date)
    /// is a description. Segmind's, whose shape is not pinned, give the
    /// strings of their `descriptions`, or of the whole answer.
    pub(crate) fn descriptions(&self, answer: ResponseValue<Body>) -> Result<Vec<String>, Error> {
        let bytes = self.collect(answer.into_inner())?;
        let fail = |what| {
            let excerpt = self.excerpt(&bytes);
            Err(self.invalid(format!("it answered 200 (billed) with {what}: {excerpt}")))
        };
        let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
            return fail("a description that is not JSON");
        };
        let texts = match self.provider {
            Provider::Ideogram => {
                let Some(texts) = self.ideogram_descriptions(value) else {
                    return fail("an answer that is not a description");
                };
                texts
            }
            Provider::Segmind => {
                let mut texts = Vec::new();
                strings(value.get("descriptions").unwrap_or(&value), &mut texts, 0);
                texts.iter().map(|t| self.redact(t)).collect()
            }
        };
        if texts.is_empty() {
            return fail("no description");
        }
        Ok(texts)
    }

    /// An Ideogram describe answer (v2's, else v1's generated type) as its
    /// descriptions, redacted; `None` when it is neither.
    fn ideogram_descriptions(&self, value: Value) -> Option<Vec<String>> {
        let (structured, described) =
            match serde_json::from_value::<DescribeResponseV2>(value.clone()) {
                Ok(v2) => (v2.json_prompt, v2.descriptions),
                Err(_) => {
                    let v1 = serde_json::from_value::<DescribeResponse>(value).ok()?;
                    (serde_json::Map::new(), v1.descriptions)
                }
            };
        let mut texts = Vec::new();
        if !structured.is_empty() {
            let mut structured = Value::Object(structured);
            self.redact_json(&mut structured);
            texts.push(structured.to_string());
        }
        let words = described.into_iter().filter_map(|d| d.text);
        texts.extend(
            words
                .filter(|t| !t.trim().is_empty())
                .map(|t| self.redact_owned(t)),
        );
        Some(texts)
    }

    /// A v1 answer's body, whole; a break is an invalid answer that says billed.
    pub(crate) fn collect(&self, body: Body) -> Result<Bytes, Error> {
        body.map_err(|e| {
            let chain = crate::error::chain(&e);
            self.invalid(format!(
                "the answer broke off after a 200 (billed): {chain}"
            ))
        })
    }

    /// A COMPLETED queue result as a [`Generation`]: every `http(s)` URL its output holds.
    pub(crate) fn segmind_queue_generation(
        &self,
        model: Model,
        prompt: &str,
        answer: QueueResultResponse,
    ) -> Result<Generation, Error> {
        let id = self.redact(answer.request_id.as_deref().unwrap_or_default());
        if answer.status != QueueStatus::Completed {
            let status = answer.status;
            return Err(self.invalid(format!("job {id} has no result yet (it is {status})")));
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
        let image = |url| self.image_at(url, prompt.to_owned());
        let images = urls.into_iter().map(image).collect();
        let mut generation = Generation::new(Provider::Segmind, model, images);
        generation.request_id = (!id.is_empty()).then_some(id);
        Ok(generation)
    }

    /// A JSON v1 answer (as model pages read it): a URL or base64 at `image`, `output` or `url`.
    fn json_image(&self, body: &[u8]) -> Result<ImageData, Error> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| self.undecoded(body, format!("a JSON answer that does not parse: {e}")))?;
        let found = ["image", "output", "url"]
            .iter()
            .find_map(|key| value[key].as_str().or(value[key][0].as_str()))
            .ok_or_else(|| {
                let excerpt = self.excerpt(body);
                self.undecoded(body, format!("a JSON answer without an image: {excerpt}"))
            })?;
        if let Some(url) = http_url(found) {
            return Ok(ImageData::Url(url.to_owned()));
        }
        let encoded = found.rsplit(',').next().unwrap_or(found);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| self.invalid(format!("a JSON image (billed) that is not base64: {e}")))?;
        let content_type = image_type("", &bytes)
            .map_err(|reason| self.invalid(format!("a JSON image (billed): {reason}")))?;
        Ok(ImageData::Bytes {
            bytes: bytes.into(),
            content_type: content_type.to_owned(),
        })
    }
}

/// Every non-blank string `value` holds (at most 16 levels deep), in order.
fn strings(value: &Value, out: &mut Vec<String>, depth: usize) {
    match value {
        Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
        Value::Array(items) if depth < 16 => items.iter().for_each(|v| strings(v, out, depth + 1)),
        Value::Object(map) if depth < 16 => map.values().for_each(|v| strings(v, out, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_of_any_shape_give_their_urls() {
        let cases = [
            (
                serde_json::json!("https://cdn/a.jpg"),
                vec!["https://cdn/a.jpg"],
            ),
            (
                serde_json::json!(["https://cdn/a.jpg", "https://cdn/b.jpg", 3]),
                vec!["https://cdn/a.jpg", "https://cdn/b.jpg"],
            ),
            (
                serde_json::json!({"images": [{"url": "https://cdn/a.png"}], "seed": 5, "note": "done"}),
                vec!["https://cdn/a.png"],
            ),
            (
                serde_json::json!({"image": "data:image/png;base64,AAAA"}),
                vec![],
            ),
            (serde_json::json!(null), vec![]),
        ];
        for (output, expected) in cases {
            let mut urls = Vec::new();
            urls_in(&output, &mut urls, 0);
            assert_eq!(urls, expected, "{output}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::prop_support::{connection, json, leaks, text, url};
    use proptest::prelude::*;

    /// The documented reading of a queue output, without the walk's cap:
    /// every `http(s)` string (any case, trimmed) at most 4 levels down,
    /// in document order, each once.
    fn shallow_urls(value: &Value, depth: usize, out: &mut Vec<String>) {
        match value {
            Value::String(s) if depth <= 4 => {
                let s = s.trim();
                let lower = s.to_ascii_lowercase();
                let url = lower.starts_with("https://") || lower.starts_with("http://");
                if url && !out.iter().any(|u| u == s) {
                    out.push(s.to_owned());
                }
            }
            Value::Array(items) => items.iter().for_each(|v| shallow_urls(v, depth + 1, out)),
            Value::Object(map) => map.values().for_each(|v| shallow_urls(v, depth + 1, out)),
            _ => {}
        }
    }

    /// `value` inside `levels` arrays and objects, alternately.
    fn nested(value: Value, levels: usize) -> Value {
        (0..levels).fold(value, |inner, level| {
            if level % 2 == 0 {
                Value::Array(vec![inner])
            } else {
                serde_json::json!({ "images": inner })
            }
        })
    }

    /// A JSON v1 answer: a key the decoder reads (or another) holding a
    /// URL, base64 of an image or of anything, or something else.
    fn v1_answer() -> impl Strategy<Value = Vec<u8>> {
        let png = prop::collection::vec(any::<u8>(), 0..24).prop_map(|tail| {
            let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
            bytes.extend(tail);
            bytes
        });
        let encoded =
            prop_oneof![png, prop::collection::vec(any::<u8>(), 0..24)].prop_flat_map(|bytes| {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                prop::sample::select(vec![
                    b64.clone(),
                    format!("data:image/png;base64,{b64}"),
                    format!(" {b64} "),
                ])
            });
        let found = prop_oneof![
            url().prop_map(Value::from),
            encoded.prop_map(Value::from),
            text().prop_map(Value::from),
            json(2),
        ];
        let shaped = prop_oneof![
            found.clone(),
            prop::collection::vec(found.clone(), 0..3).prop_map(Value::from)
        ];
        prop_oneof![
            prop::collection::btree_map(
                prop::sample::select(vec!["image", "output", "url", "images", "data"]),
                shaped,
                0..4
            )
            .prop_map(|map| serde_json::to_vec(&map).unwrap()),
            json(3).prop_map(|v| serde_json::to_vec(&v).unwrap()),
            prop::collection::vec(any::<u8>(), 0..48),
        ]
    }

    proptest! {

        /// Every URL planted in a queue output at most 4 levels down is
        /// found (up to 16), in order, once; nothing deeper, nothing else.
        #[test]
        fn output_urls_finds_every_planted_url(value in json(6)) {
            let mut urls = Vec::new();
            urls_in(&value, &mut urls, 0);
            let mut expected = Vec::new();
            shallow_urls(&value, 0, &mut expected);
            expected.truncate(16);
            prop_assert_eq!(urls, expected);
        }

        /// A URL nested past the depth limit is not followed, however
        /// deep (no stack overflow); within it, it is found.
        #[test]
        fn output_urls_stops_at_its_depth_limit(levels in prop_oneof![0usize..8, 8usize..200], url in url()) {
            let mut urls = Vec::new();
            urls_in(&nested(Value::from(url.clone()), levels), &mut urls, 0);
            let expected = if levels <= 4 { vec![url.trim().to_owned()] } else { vec![] };
            prop_assert_eq!(urls, expected);
        }

        /// A JSON v1 answer: the first of `image`, `output`, `url` holding
        /// a string (or a list starting with one) is the image: a URL
        /// (kept whole) or base64 of an image's bytes; anything else is an
        /// error. No error shows the key.
        #[test]
        fn json_image_reads_the_image_it_holds(body in v1_answer()) {
            use base64::Engine as _;
            let result = connection().json_image(&body);
            let value: Option<Value> = serde_json::from_slice(&body).ok();
            let found = value.as_ref().and_then(|value| {
                ["image", "output", "url"].iter().find_map(|key| match &value[key] {
                    Value::String(s) => Some(s.clone()),
                    Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_owned),
                    _ => None,
                })
            });
            match (&result, found) {
                (Ok(ImageData::Url(url)), Some(found)) => {
                    let trimmed = found.trim();
                    let lower = trimmed.to_ascii_lowercase();
                    prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"), "{}", found);
                    prop_assert_eq!(url, trimmed, "kept whole, redacted where printed");
                }
                (Ok(ImageData::Bytes { bytes, content_type }), Some(found)) => {
                    let encoded = found.rsplit(',').next().unwrap_or(&found).trim();
                    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
                    prop_assert_eq!(&bytes[..], &decoded[..]);
                    prop_assert_eq!(content_type.as_str(), "image/png");
                }
                (Ok(other), found) => prop_assert!(false, "{:?} from {:?}", other, found),
                (Err(Error::InvalidResponse { message, .. } | Error::Undecoded { message, .. }), found) => {
                    let shown = found.as_deref().map(str::trim).unwrap_or_default().to_ascii_lowercase();
                    prop_assert!(!shown.starts_with("https://") && !shown.starts_with("http://"), "a URL refused: {}", message);
                    prop_assert!(message.chars().count() <= ideogram_raw::answer::MAX_MESSAGE_CHARS + 200, "{}", message);
                }
                (Err(other), _) => prop_assert!(false, "{:?}", other),
            }
            // A URL is kept whole (redacted where printed); an error's
            // words never show the key.
            if let Err(e) = &result {
                prop_assert!(!leaks(&e.to_string()), "{}", e);
            }
        }

        /// A describe answer's words: every non-blank string (at most 16
        /// levels down), in order.
        #[test]
        fn strings_gives_every_words_in_order(value in json(5)) {
            fn all(value: &Value, depth: usize, out: &mut Vec<String>) {
                match value {
                    Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
                    Value::Array(items) if depth < 16 => items.iter().for_each(|v| all(v, depth + 1, out)),
                    Value::Object(map) if depth < 16 => map.values().for_each(|v| all(v, depth + 1, out)),
                    _ => {}
                }
            }
            let mut texts = Vec::new();
            strings(&value, &mut texts, 0);
            let mut expected = Vec::new();
            all(&value, 0, &mut expected);
            prop_assert_eq!(texts, expected);
        }
    }
}
