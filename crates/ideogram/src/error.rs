//! The one error type: every failure a call can end in, mapped from each
//! provider's statuses and bodies so callers match on meaning, not on HTTP.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::invalid::InvalidInput;
use crate::model::Provider;

/// Everything that can go wrong. Messages never contain the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before anything was sent.
    #[error(transparent)]
    Validation(#[from] InvalidInput),
    /// The client could not be set up (no key, a bad base URL, ...).
    #[error("configuration: {0}")]
    Config(String),
    /// The key is missing or wrong (401).
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// The service's words.
        message: String,
    },
    /// The key may not do this (403).
    #[error("forbidden: {message}")]
    Forbidden {
        /// The service's words.
        message: String,
    },
    /// No credits or funds left (Segmind 406 "Insufficient credits", Ideogram
    /// 402). Retrying will not help.
    #[error("insufficient credits: {message}")]
    InsufficientCredits {
        /// The service's words.
        message: String,
    },
    /// Too many requests; not run and not billed.
    #[error("rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {:.1} s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// How long the service asked to wait, if it said.
        retry_after: Option<Duration>,
        /// The service's words.
        message: String,
    },
    /// The prompt or image failed the provider's safety check; not billed.
    #[error("rejected by the safety check: {message}")]
    SafetyRejected {
        /// The service's words.
        message: String,
    },
    /// The service refused the request as invalid (400, Segmind's 422 and 406
    /// "Invalid content type"): something the local checks could not see.
    #[error("the service rejected the request ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The service's words (Segmind's name the field).
        message: String,
    },
    /// Unknown model or URL (404 on a POST).
    #[error("not found: {message}")]
    NotFound {
        /// The service's words.
        message: String,
    },
    /// A queued request the service no longer knows: unknown id, or older
    /// than the 1 hour retention.
    #[error("request {id} is unknown or expired (results are kept 1 hour)")]
    Expired {
        /// The request id.
        id: String,
    },
    /// A queued request ran and failed (content and safety blocks included).
    #[error("job {id} failed: {detail}")]
    JobFailed {
        /// The request id.
        id: String,
        /// The service's reason.
        detail: String,
    },
    /// A queued request did not finish before the deadline; it may still
    /// finish: resume it with its id.
    #[error("job {id} did not finish within {} s; resume it with its id", waited.as_secs())]
    JobTimeout {
        /// The request id.
        id: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The service failed (5xx) or answered something undocumented. For a
    /// POST the generation may have run and been billed.
    #[error("server error {status}: {body}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The body, cut to 2 KiB.
        body: String,
    },
    /// An answer that did not have the documented shape.
    #[error("unexpected answer from {provider}: {message}")]
    InvalidResponse {
        /// Who answered.
        provider: Provider,
        /// What was wrong with it.
        message: String,
    },
    /// The connection failed, timed out or broke. `sent` tells whether the
    /// request may have reached the server (and so may have been billed).
    #[error("network error ({}): {source}", if *sent { "the request may have been received" } else { "the request was not sent" })]
    Transport {
        /// Whether the request may have reached the server.
        sent: bool,
        /// The underlying error, with its chain.
        #[source]
        source: reqwest::Error,
    },
    /// Saving an image failed; nothing was left half-written at `path`.
    #[error("cannot save {}: {source}", path.display())]
    Io {
        /// Where the image was going.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the request certainly did not run, so sending it again cannot
    /// bill twice.
    pub fn certainly_not_billed(&self) -> bool {
        match self {
            Self::Transport { sent, .. } => !sent,
            // A redirect that was not followed ran nothing.
            Self::Server { status, .. } => (300..400).contains(status),
            Self::InvalidResponse { .. } | Self::Io { .. } => false,
            _ => true,
        }
    }
}

/// An error answer from either service, in one shape.
#[derive(Debug, Clone)]
pub(crate) struct ErrorAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub message: String,
    pub reject_reason: Option<String>,
}

impl ErrorAnswer {
    /// Maps an answer to a POST (or a model GET) to its meaning.
    pub fn into_error(self, provider: Provider) -> Error {
        let message = self.message;
        match (provider, self.status.as_u16()) {
            (_, 401) => Error::Unauthorized { message },
            (_, 403) => Error::Forbidden { message },
            (_, 402) => Error::InsufficientCredits {
                message: match self.reject_reason {
                    Some(reason) => format!("{message} ({reason})"),
                    None => message,
                },
            },
            (Provider::Segmind, 406) if message.to_ascii_lowercase().contains("credit") => {
                Error::InsufficientCredits { message }
            }
            (_, 429) => Error::RateLimited {
                retry_after: crate::retry::server_delay(&self.headers),
                message,
            },
            (Provider::Ideogram, 422) => Error::SafetyRejected { message },
            (_, 404) => Error::NotFound { message },
            (_, status @ (400 | 406 | 422)) => Error::Rejected { status, message },
            (_, status) => Error::Server {
                status,
                body: message,
            },
        }
    }
}

/// Cuts a body for an error message.
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 2048;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]).into_owned();
    if body.len() > MAX {
        format!("{text}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
            ..ProptestConfig::default()
        })]

        /// Any status, text and headers map to one error, by the status's
        /// meaning, without panicking; a 2xx never gets here.
        #[test]
        fn every_error_answer_maps_by_its_status(
            status in 300u16..600,
            message in "\\PC{0,40}",
            retry_after in prop::option::of("\\PC{0,12}"),
            segmind in any::<bool>(),
        ) {
            let provider = if segmind { Provider::Segmind } else { Provider::Ideogram };
            let mut headers = HeaderMap::new();
            if let Some(value) = retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert("retry-after", value);
            }
            let answer = ErrorAnswer {
                status: StatusCode::from_u16(status).unwrap(),
                headers,
                message: message.clone(),
                reject_reason: None,
            };
            let err = answer.into_error(provider);
            let kind_ok = match status {
                401 => matches!(err, Error::Unauthorized { .. }),
                403 => matches!(err, Error::Forbidden { .. }),
                402 => matches!(err, Error::InsufficientCredits { .. }),
                429 => matches!(err, Error::RateLimited { .. }),
                404 => matches!(err, Error::NotFound { .. }),
                422 if !segmind => matches!(err, Error::SafetyRejected { .. }),
                406 if message.to_ascii_lowercase().contains("credit") && segmind => {
                    matches!(err, Error::InsufficientCredits { .. })
                }
                400 | 406 | 422 => matches!(err, Error::Rejected { .. }),
                _ => matches!(err, Error::Server { .. }),
            };
            prop_assert!(kind_ok, "{} -> {:?}", status, err);
            prop_assert!(err.to_string().contains(message.trim()) || message.trim().is_empty());
        }
    }
}
