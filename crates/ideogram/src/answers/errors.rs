//! A failed call as an [`Error`]: by HTTP status first, whatever the body,
//! the server's words redacted; a transport failure says whether the request
//! left this machine.

use ideogram_raw::answer::{ErrorAnswer, one_line};
use progenitor_client::{ByteStream, Error as RawError};

use crate::connection::Connection;
use crate::error::{ConfigError, Error, from_answer};
use crate::invalid::InvalidInput;

impl Connection {
    /// A raw error mapped to this crate's error by status first, its words
    /// redacted; `job` is the queued request a GET asked about.
    pub(crate) async fn map_error(&self, err: RawError<ByteStream>, job: Option<&str>) -> Error {
        let provider = self.provider;
        let answer = match err {
            RawError::ErrorResponse(answer) => ErrorAnswer::read(answer).await,
            RawError::UnexpectedResponse(response) => ErrorAnswer::from_response(response).await,
            RawError::CommunicationError(source) => {
                return self.transport(!source.is_connect(), source);
            }
            RawError::ResponseBodyError(source) | RawError::InvalidUpgrade(source) => {
                return self.transport(true, source);
            }
            // A success to a call (not a check on a job): it ran and was
            // billed, so what the body points at goes along.
            RawError::InvalidResponsePayload(body, e) if job.is_none() => {
                return self.undecoded(&body, format!("{e}: {}", self.excerpt(&body)));
            }
            RawError::InvalidResponsePayload(body, e) => {
                return self.invalid(format!(
                    "an answer that does not decode ({e}): {}",
                    self.excerpt(&body)
                ));
            }
            RawError::InvalidRequest(message) => {
                return InvalidInput::new("request", self.redact(&message)).into();
            }
            RawError::Custom(message) => {
                return ConfigError::Hook(self.redact(&message)).into();
            }
        };
        let message = answer.message_with(|words| self.redact(words));
        let status = answer.status.as_u16();
        if !(300..600).contains(&status) {
            return self.invalid(format!(
                "it answered {status}, which this call does not document: {message}"
            ));
        }
        match from_answer(
            provider,
            status,
            &answer.headers,
            message,
            answer.reject_reason().map(|r| self.redact(&r)),
            job,
        ) {
            Error::Redirected { status, location } => Error::Redirected {
                status,
                location: location.map(|l| self.redact(&l)),
            },
            other => other,
        }
    }

    /// A transport error with any credentials taken out of its URL.
    pub(crate) fn transport(&self, sent: bool, mut source: reqwest::Error) -> Error {
        if let Some(url) = source.url_mut() {
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        Error::Transport { sent, source }
    }

    /// An unexpected answer. Its message may quote what the server sent (a
    /// decoder's error does), so it is redacted here, whatever built it.
    pub(crate) fn invalid(&self, message: String) -> Error {
        Error::InvalidResponse {
            provider: self.provider,
            message: self.redact(&message),
        }
    }

    /// The start of a body for a message: redacted text (redacted before it
    /// is cut), or its size.
    pub(crate) fn excerpt(&self, body: &[u8]) -> String {
        match std::str::from_utf8(body) {
            Ok(text) => one_line(&self.redact(text)),
            Err(_) => format!("{} bytes that are not text", body.len()),
        }
    }
}
