//! Ideogram's answers as [`Generation`]s, including a gateway's envelope
//! around one.

use ideogram_raw::answer::one_line;
use ideogram_raw::ideogram::types::{GatewayEnvelope, GenerateImageResponse};
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::connection::Connection;
use crate::error::{Error, from_answer};
use crate::generation::{GeneratedImage, Generation, ImageData};
use crate::model::{Model, Provider};

impl Connection {
    /// An Ideogram generation call's outcome as a [`Generation`]: its
    /// answer, a gateway's envelope around one, or the error. An answer of
    /// another generated type of the same shape (4.0's) is read as
    /// [`GenerateImageResponse`].
    pub(crate) async fn ideogram_outcome<T: serde::Serialize>(
        &self,
        model: Model,
        result: Result<ResponseValue<T>, RawError<ByteStream>>,
    ) -> Result<Generation, Error> {
        match result {
            Ok(answer) => self.ideogram_answer(model, answer.into_inner()),
            Err(RawError::InvalidResponsePayload(body, e)) => {
                let answer = self.unwrap_envelope(&body, &e)?;
                self.ideogram_generation(model, answer)
            }
            Err(e) => Err(self.map_error(e, None).await),
        }
    }

    /// A generated answer of the images' shape (legacy, 3.0's or 4.0's) as
    /// a [`Generation`]; another shape is an invalid answer.
    pub(crate) fn ideogram_answer<T: serde::Serialize>(
        &self,
        model: Model,
        answer: T,
    ) -> Result<Generation, Error> {
        let value = serde_json::to_value(answer).expect("a generated answer is JSON");
        let answer: GenerateImageResponse = serde_json::from_value(value)
            .map_err(|e| self.invalid(format!("an answer that is not the images' shape: {e}")))?;
        self.ideogram_generation(model, answer)
    }

    /// Ideogram's answer as a [`Generation`]: words redacted (URLs kept
    /// whole, to fetch them), an unsafe image's URL withheld; no images at
    /// all is an error.
    pub(crate) fn ideogram_generation(
        &self,
        model: Model,
        answer: GenerateImageResponse,
    ) -> Result<Generation, Error> {
        if answer.data.is_empty() {
            return Err(self.invalid(
                "it answered 200 with no images; whether that was billed is not documented".into(),
            ));
        }
        let images = answer
            .data
            .into_iter()
            .map(|image| GeneratedImage {
                data: match image.url {
                    _ if !image.is_image_safe => ImageData::Withheld,
                    Some(url) if !url.is_empty() => ImageData::Url(url),
                    // Safe, yet no URL: paid for and not delivered, which is
                    // not the safety check's doing.
                    _ => ImageData::Missing,
                },
                prompt: self.redact(&image.prompt),
                seed: u64::try_from(image.seed).ok(),
                resolution: Some(self.redact(&image.resolution)),
                is_safe: image.is_image_safe,
                style: image.style_type.map(|s| self.redact(&s)),
                downloader: self.downloader.clone(),
            })
            .collect();
        Ok(Generation {
            provider: Provider::Ideogram,
            model,
            request_id: None,
            credits_left: None,
            images,
        })
    }

    /// A 2xx body that is not Ideogram's answer may be a gateway's envelope
    /// (`openapi/ideogram.yaml`, `GatewayEnvelope`): its `data` is the answer,
    /// or null when the call failed, described by `code` and `message`.
    fn unwrap_envelope(
        &self,
        body: &[u8],
        decode_error: &serde_json::Error,
    ) -> Result<GenerateImageResponse, Error> {
        let envelope = serde_json::from_slice::<GatewayEnvelope>(body)
            .ok()
            .filter(|e| e.code.is_some() || e.message.is_some());
        let Some(envelope) = envelope else {
            return Err(self.undecoded(body, format!("{decode_error}: {}", self.excerpt(body))));
        };
        if !envelope.data.is_null() {
            return serde_json::from_value(envelope.data).map_err(|e| {
                self.undecoded(
                    body,
                    format!(
                        "a gateway envelope whose data does not decode ({e}): {}",
                        self.excerpt(body)
                    ),
                )
            });
        }
        let message = one_line(&self.redact(envelope.message.as_deref().unwrap_or("")));
        let code = match &envelope.code {
            Some(Value::String(code)) => self.redact(code),
            Some(Value::Null) | None => String::new(),
            Some(other) => self.redact(&other.to_string()),
        };
        // A code that is an HTTP error status means what that status means.
        match code.parse::<u16>() {
            Ok(status @ 400..=599) => Err(from_answer(
                Provider::Ideogram,
                status,
                &HeaderMap::new(),
                message,
                None,
                None,
            )),
            _ => Err(Error::Gateway { code, message }),
        }
    }
}
