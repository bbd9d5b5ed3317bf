//! A failed call as an [`Error`]: by HTTP status first, the server's words redacted.

use ideogram_raw::answer::{ErrorAnswer, one_line_with};
use reqwest::header::HeaderMap;

use crate::connection::Connection;
use crate::error::{ConfigError, Error};
use crate::invalid::InvalidInput;
use crate::provider::Provider;
use crate::retry::{Failure, Unanswered};

impl Connection {
    /// A failed call as this crate's error; `job` is the queued request a GET asked about.
    pub(crate) fn map_error(&self, failure: Failure, job: Option<&str>) -> Error {
        let unanswered = match failure {
            Failure::Answered(answer) => return self.error_answer(answer, job),
            Failure::Unanswered(unanswered) => unanswered,
        };
        match unanswered {
            Unanswered::Transport(e) => self.transport(!crate::retry::never_processed(&e), e),
            Unanswered::Body(e) => self.transport(true, e),
            // A success to a call (not a check on a job) was billed: its URLs go along.
            Unanswered::Undecoded(body, e) if job.is_none() => {
                self.undecoded(&body, format!("{e}: {}", self.excerpt(&body)))
            }
            Unanswered::Undecoded(body, e) => {
                let excerpt = self.excerpt(&body);
                self.invalid(format!("an answer that does not decode ({e}): {excerpt}"))
            }
            Unanswered::Invalid(why) => InvalidInput::new("request", self.redact(&why)).into(),
            Unanswered::Hook(why) => ConfigError::Hook(self.redact(&why)).into(),
        }
    }

    /// An error answer's meaning, its words redacted.
    fn error_answer(&self, answer: ErrorAnswer, job: Option<&str>) -> Error {
        let message = answer.message_with(|words| self.redact(words));
        let status = answer.status.as_u16();
        if !(300..600).contains(&status) {
            return self.invalid(format!(
                "it answered {status}, which this call does not document: {message}"
            ));
        }
        let reason = answer.reject_reason();
        self.answer_error(status, &answer.headers, message, reason, job)
    }

    /// An error answer's meaning, by status first, its words redacted; `job` is
    /// the queued request a GET asked about.
    pub(crate) fn answer_error(
        &self,
        status: u16,
        headers: &HeaderMap,
        message: String,
        reject_reason: Option<String>,
        job: Option<&str>,
    ) -> Error {
        let header = |name| Some(self.redact(headers.get(name)?.to_str().ok()?));
        match (status, job) {
            (300..=399, _) => Error::Redirected {
                status,
                location: header(reqwest::header::LOCATION.as_str()),
            },
            (404, Some(id)) => Error::Expired {
                id: id.to_owned(),
                provider: self.provider,
            },
            (422, Some(id)) => Error::JobFailed {
                id: id.to_owned(),
                detail: message,
            },
            (401, _) => Error::Unauthorized { message },
            (403, _) => Error::Forbidden { message },
            (402, _) => {
                let reason = reject_reason.map(|reason| self.redact(&reason));
                Error::InsufficientCredits {
                    message: match &reason {
                        Some(reason) => format!("{message} ({reason})"),
                        None => message,
                    },
                    reason,
                }
            }
            (406, _) if message.to_ascii_lowercase().contains("credit") => {
                Error::InsufficientCredits {
                    message,
                    reason: None,
                }
            }
            (429, _) => Error::RateLimited {
                retry_after: crate::retry::server_delay(headers),
                message,
            },
            (422, None) if self.provider == Provider::Ideogram => Error::SafetyRejected { message },
            (404, None) => Error::NotFound {
                url: header(ideogram_raw::answer::REQUEST_URL_HEADER),
                message,
            },
            (400 | 405 | 406 | 413 | 415 | 422, _) => Error::Rejected { status, message },
            _ => Error::Server {
                status,
                body: message,
            },
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

    /// An unexpected answer; its message, which may quote the server, redacted.
    pub(crate) fn invalid(&self, message: String) -> Error {
        Error::InvalidResponse {
            provider: self.provider,
            message: self.redact(&message),
        }
    }

    /// The start of a body for a message: text redacted before it is cut, or its size.
    pub(crate) fn excerpt(&self, body: &[u8]) -> String {
        match std::str::from_utf8(body) {
            Ok(text) => one_line_with(text, |t| self.redact(t)),
            Err(_) => format!("{} bytes that are not text", body.len()),
        }
    }
}

#[cfg(test)]
mod properties {
    use crate::prop_support::{KEY, connection, key_forms, leaks, text};
    use ideogram_raw::answer::MAX_MESSAGE_CHARS;
    use proptest::prelude::*;

    proptest! {

        /// An excerpt of any body is one line of at most the message cap
        /// (and "..."), with no control character and no key; bytes that
        /// are not text are only counted.
        #[test]
        fn an_excerpt_is_one_short_line_without_the_key(
            body in prop_oneof![
                text().prop_map(String::into_bytes),
                prop::collection::vec(text(), 0..80).prop_map(|t| t.concat().into_bytes()),
                prop::collection::vec(any::<u8>(), 0..64),
            ]
        ) {
            let excerpt = connection().excerpt(&body);
            match std::str::from_utf8(&body) {
                Ok(_) => {
                    prop_assert!(excerpt.chars().count() <= MAX_MESSAGE_CHARS + 3, "{}", excerpt.len());
                    prop_assert!(!excerpt.chars().any(char::is_control), "{:?}", excerpt);
                    prop_assert!(!leaks(&excerpt), "{}", excerpt);
                }
                Err(_) => prop_assert_eq!(excerpt, format!("{} bytes that are not text", body.len())),
            }
        }

        /// A key across the cut is redacted before the cut: not even its
        /// start is shown.
        #[test]
        fn a_key_across_the_cut_shows_no_part_of_it(
            before in (MAX_MESSAGE_CHARS - KEY.len())..(MAX_MESSAGE_CHARS + 2),
            form in prop::sample::select(key_forms().to_vec()),
        ) {
            let body = format!("{}{form} and more", "a".repeat(before));
            let excerpt = connection().excerpt(body.as_bytes());
            prop_assert!(!excerpt.contains(&KEY[..6]) && !excerpt.contains(&form[..6]), "{}", excerpt);
        }
    }
}
