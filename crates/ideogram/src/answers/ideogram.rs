//! Ideogram's answers, or a gateway's envelope around one, as [`Generation`]s.

use ideogram_raw::answer::one_line_with;
use ideogram_raw::ideogram::types::{
    GatewayEnvelope, GenerateImageResponse, GenerationV2, ImageObject, ImageObjectV2,
};
use progenitor_client::ResponseValue;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::Body;
use crate::connection::Connection;
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation, ImageData};
use crate::model::Model;
use crate::provider::Provider;

/// What a v2 call answered.
pub(crate) enum V2Answer {
    /// It ran synchronously: the images.
    Images(Generation),
    /// It runs on: the generation's id, to poll.
    Running(String),
}

/// What a v2 call answered, its results as the generated type has them.
pub(crate) enum V2Results {
    /// It ran synchronously: its `data`.
    Done(Vec<ImageObjectV2>),
    /// It runs on: the generation's id, to poll.
    Running(String),
}

/// What a generation is made of in Ideogram's answer
/// ([`GenerateImageResponse`]): its images, each the generated
/// [`ImageObject`]. Its `created` date is skipped unparsed: nothing uses it,
/// and parsing it was 1.7k instructions of every call (a missing or odd
/// date no longer hides images that were paid for).
#[derive(serde::Deserialize)]
struct Images {
    data: Vec<ImageObject>,
}

impl From<GenerateImageResponse> for Images {
    /// The generated answer's fields named whole, without `..`: a field the
    /// spec adds, removes or renames stops this compiling, so [`Images`] is
    /// looked at again.
    fn from(answer: GenerateImageResponse) -> Self {
        let GenerateImageResponse { created: _, data } = answer;
        Self { data }
    }
}

impl Connection {
    /// An Ideogram answer's body (200, billed), or its envelope, as a [`Generation`].
    pub(crate) fn ideogram_bytes(
        &self,
        model: Model,
        answer: ResponseValue<Body>,
    ) -> Result<Generation, Error> {
        let body = self.json_body(answer.into_inner())?;
        let images = match super::from_json::<Images>(&body) {
            Ok(answer) => answer.data,
            Err(e) => Images::from(self.unwrap_envelope(&body, &e)?).data,
        };
        self.ideogram_generation(model, images)
    }

    /// A generated answer of the images' shape (legacy, 3.0's or 4.0's) as a [`Generation`].
    pub(crate) fn ideogram_answer<T: serde::Serialize>(
        &self,
        model: Model,
        answer: T,
    ) -> Result<Generation, Error> {
        let value = serde_json::to_value(answer).expect("a generated answer is JSON");
        let answer: GenerateImageResponse = serde_json::from_value(value)
            .map_err(|e| self.invalid(format!("an answer that is not the images' shape: {e}")))?;
        self.ideogram_generation(model, Images::from(answer).data)
    }

    /// Words redacted (URLs kept whole), an unsafe image withheld; no images is an error.
    fn ideogram_generation(
        &self,
        model: Model,
        images: Vec<ImageObject>,
    ) -> Result<Generation, Error> {
        if images.is_empty() {
            let why = "it answered 200 with no images; whether that was billed is not documented";
            return Err(self.invalid(why.into()));
        }
        let image = |image: ImageObject| GeneratedImage {
            data: match image.url {
                _ if !image.is_image_safe => ImageData::Withheld,
                Some(url) if !url.is_empty() => ImageData::Url(url),
                // Safe, yet no URL: paid for, and not the safety check's doing.
                _ => ImageData::Missing,
            },
            prompt: self.redact_owned(image.prompt),
            seed: u64::try_from(image.seed).ok(),
            resolution: Some(self.redact_owned(image.resolution)),
            is_safe: image.is_image_safe,
            style: image.style_type.map(|s| self.redact_owned(s)),
            downloader: self.downloader.clone(),
        };
        let images = images.into_iter().map(image).collect();
        Ok(Generation::new(Provider::Ideogram, model, images))
    }

    /// A v2 answer (200, billed once it completes): its images, or the id
    /// of the generation still running (asked with `async`, or an operation
    /// that always runs so).
    pub(crate) fn ideogram_v2_bytes(
        &self,
        model: Model,
        answer: ResponseValue<Body>,
    ) -> Result<V2Answer, Error> {
        match self.v2_results(answer)? {
            V2Results::Done(data) => self.v2_generation(model, data).map(V2Answer::Images),
            V2Results::Running(id) => Ok(V2Answer::Running(id)),
        }
    }

    /// A v2 answer's results as answered (every field kept: a layerized
    /// image's base and text blocks), or the id of the generation still
    /// running.
    pub(crate) fn v2_results(&self, answer: ResponseValue<Body>) -> Result<V2Results, Error> {
        let body = self.json_body(answer.into_inner())?;
        let answer: GenerationV2 = serde_json::from_slice(&body)
            .map_err(|e| self.undecoded(&body, format!("{e}: {}", self.excerpt(&body))))?;
        if !answer.data.is_empty() {
            return Ok(V2Results::Done(answer.data));
        }
        let why = "it answered without images or a generation id; it may run and bill";
        self.generation_id(&answer, why).map(V2Results::Running)
    }

    /// A v2 answer's generation id, the key redacted; an error saying `why`
    /// where it has none (blank), since the call may run and bill unseen.
    pub(crate) fn generation_id(&self, answer: &GenerationV2, why: &str) -> Result<String, Error> {
        let id = self.redact(answer.generation_id.as_deref().unwrap_or_default());
        if id.trim().is_empty() {
            return Err(self.invalid(why.into()));
        }
        Ok(id)
    }

    /// A completed v2 generation's results as a [`Generation`].
    pub(crate) fn v2_generation(
        &self,
        model: Model,
        data: Vec<ImageObjectV2>,
    ) -> Result<Generation, Error> {
        let data = data.into_iter().map(|image| ImageObject {
            url: image.url,
            prompt: image.prompt.unwrap_or_default(),
            resolution: image.resolution.unwrap_or_default(),
            is_image_safe: image.is_image_safe,
            seed: image.seed.unwrap_or(-1),
            style_type: None,
            upscaled_resolution: None,
        });
        self.ideogram_generation(model, data.collect())
    }

    /// A 2xx body that is not Ideogram's answer may be a `GatewayEnvelope`: its
    /// `data` is the answer, or null when the call failed (`code`, `message`).
    fn unwrap_envelope(
        &self,
        body: &[u8],
        decode_error: &serde_json::Error,
    ) -> Result<GenerateImageResponse, Error> {
        let envelope = serde_json::from_slice::<GatewayEnvelope>(body)
            .ok()
            .filter(|e| e.code.is_some() || e.message.is_some());
        let excerpt = || self.excerpt(body);
        let Some(envelope) = envelope else {
            return Err(self.undecoded(body, format!("{decode_error}: {}", excerpt())));
        };
        if !envelope.data.is_null() {
            return serde_json::from_value(envelope.data).map_err(|e| {
                let why = format!("a gateway envelope whose data does not decode ({e})");
                self.undecoded(body, format!("{why}: {}", excerpt()))
            });
        }
        let words = envelope.message.as_deref().unwrap_or("");
        let message = one_line_with(words, |t| self.redact(t));
        let code = match &envelope.code {
            Some(Value::String(code)) => self.redact(code),
            Some(Value::Null) | None => String::new(),
            Some(other) => self.redact(&other.to_string()),
        };
        // A code that is an HTTP error status means what that status means.
        let Some(status) = code.parse().ok().filter(|s| (400..600).contains(s)) else {
            return Err(Error::Gateway { code, message });
        };
        let none = HeaderMap::new();
        Err(self.answer_error(status, &none, message, None, None))
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::prop_support::{connection, json, leaks, text, url};
    use proptest::prelude::*;

    /// Ideogram's answer as JSON: one to three images, the key possibly in
    /// their words and URLs.
    fn answer() -> impl Strategy<Value = Value> {
        let image =
            (url(), text(), any::<bool>(), any::<i64>()).prop_map(|(url, prompt, safe, seed)| {
                serde_json::json!({"url": url, "prompt": prompt, "resolution": "1024x1024",
                               "is_image_safe": safe, "seed": seed})
            });
        prop::collection::vec(image, 1..3)
            .prop_map(|data| serde_json::json!({"created": "2025-01-01T00:00:00Z", "data": data}))
    }

    /// A body that failed to decode as the answer: a gateway's envelope
    /// (its code a status, another word, a number or absent; its data an
    /// answer, null or anything), any JSON, or any bytes.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let code = prop_oneof![
            (300u16..700).prop_map(|s| Some(Value::from(s.to_string()))),
            (300u16..700).prop_map(|s| Some(Value::from(s))),
            text().prop_map(|t| Some(Value::from(t))),
            Just(Some(Value::Null)),
            Just(None),
        ];
        let data = prop_oneof![answer(), Just(Value::Null), json(2)];
        let envelope = (code, prop::option::of(text()), data).prop_map(|(code, message, data)| {
            let mut envelope = serde_json::json!({ "data": data });
            if let Some(code) = code {
                envelope["code"] = code;
            }
            if let Some(message) = message {
                envelope["message"] = Value::from(message);
            }
            serde_json::to_vec(&envelope).unwrap()
        });
        prop_oneof![
            3 => envelope,
            1 => json(3).prop_map(|v| serde_json::to_vec(&v).unwrap()),
            1 => prop::collection::vec(any::<u8>(), 0..48),
        ]
    }

    proptest! {

        /// An envelope's data is the answer it holds; without data, a code
        /// that is an HTTP error status means what that status means, any
        /// other is a gateway error quoting the code and the message in one
        /// line; a body that is no envelope is an answer that does not decode. Nothing
        /// it gives shows the key.
        #[test]
        fn unwrap_envelope_reads_what_the_envelope_holds(body in body()) {
            let decode_error = serde_json::from_str::<Value>("x").unwrap_err();
            let conn = connection();
            let result = conn.unwrap_envelope(&body, &decode_error);
            let envelope = serde_json::from_slice::<GatewayEnvelope>(&body)
                .ok()
                .filter(|e| e.code.is_some() || e.message.is_some());
            match (&result, envelope) {
                // A 2xx that is no envelope either: billed, and undecoded.
                (Err(Error::Undecoded { .. }), None) => {}
                (_, None) => prop_assert!(false, "not an envelope, yet {:?}", result),
                (_, Some(envelope)) if !envelope.data.is_null() => {
                    let expected = serde_json::from_value::<GenerateImageResponse>(envelope.data);
                    match (&result, expected) {
                        (Ok(answer), Ok(expected)) => prop_assert_eq!(serde_json::to_value(answer).unwrap(), serde_json::to_value(expected).unwrap()),
                        (Err(Error::Undecoded { .. }), Err(_)) => {}
                        (got, expected) => prop_assert!(false, "{:?} for {:?}", got, expected),
                    }
                }
                (Err(err), Some(envelope)) => {
                    let message = one_line_with(envelope.message.as_deref().unwrap_or(""), |t| conn.redact(t));
                    let code = match &envelope.code {
                        Some(Value::String(code)) => code.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    };
                    match code.parse::<u16>() {
                        Ok(status @ 400..=599) => {
                            let expected = conn.answer_error(status, &HeaderMap::new(), message, None, None);
                            prop_assert_eq!(format!("{err:?}"), format!("{expected:?}"));
                        }
                        _ => {
                            let is_gateway = matches!(err, Error::Gateway { code: c, message: m }
                                if *c == conn.redact(&code) && *m == message);
                            prop_assert!(is_gateway, "{:?}", err);
                        }
                    }
                }
                (Ok(answer), Some(_)) => prop_assert!(false, "an answer from null data: {:?}", answer),
            }
            if let Err(err) = &result {
                prop_assert!(!leaks(&err.to_string()), "{}", err);
            }
        }

        /// Any answer of the images' shape becomes a generation with one
        /// image per entry: a safe image's URL kept whole (redacted where
        /// printed), an unsafe one's withheld, a safe one without a URL
        /// missing, words redacted.
        #[test]
        fn every_answer_becomes_its_images(answer in answer()) {
            let decoded: GenerateImageResponse = serde_json::from_value(answer.clone()).unwrap();
            // The images alone decode as the whole answer's.
            let body = serde_json::to_vec(&answer).unwrap();
            let images = crate::answers::from_json::<Images>(&body).unwrap().data;
            prop_assert_eq!(serde_json::to_value(&images).unwrap(), serde_json::to_value(&decoded.data).unwrap());
            let generation = connection().ideogram_generation(Model::V3, images).unwrap();
            prop_assert_eq!(generation.images.len(), decoded.data.len());
            for (image, sent) in generation.images.iter().zip(&decoded.data) {
                match (&image.data, &sent.url) {
                    // Kept whole, to download it; redacted where printed.
                    (ImageData::Url(url), Some(sent_url)) => {
                        prop_assert!(sent.is_image_safe);
                        prop_assert_eq!(url, sent_url);
                    }
                    (ImageData::Withheld, _) => prop_assert!(!sent.is_image_safe),
                    // Safe, yet no URL: billed and missing, not withheld.
                    (ImageData::Missing, url) => prop_assert!(sent.is_image_safe && url.as_deref().is_none_or(str::is_empty)),
                    (other, _) => prop_assert!(false, "{:?}", other),
                }
                prop_assert_eq!(&image.prompt, &connection().redact(&sent.prompt));
                prop_assert!(!leaks(&image.prompt));
            }
        }
    }
}
