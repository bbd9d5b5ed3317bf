//! The one error type: every failure a call can end in, by meaning, not by HTTP status.

use std::path::PathBuf;
use std::time::Duration;

use crate::invalid::InvalidInput;
use crate::provider::Provider;

/// Everything that can go wrong, never showing the key; see [`Error::certainly_not_billed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before anything was sent.
    #[error(transparent)]
    Validation(#[from] InvalidInput),
    /// The client could not be set up (no key, a bad base URL): nothing sent.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
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
    /// Out of money (Ideogram 402, Segmind 406 or a job failed for want of
    /// credits): not run, not billed, and sending it again will not help
    /// until the account changes, so it is never retried.
    #[error("insufficient credits: {message}")]
    InsufficientCredits {
        /// The service's words.
        message: String,
        /// Why, where the service says: Ideogram's `reject_reason`
        /// (`insufficient_funds`; `daily_limit` when the account's daily
        /// spending limit is reached; or a plan's limit, such as
        /// `subscription_required`: the spec's `RejectReason` lists them).
        reason: Option<String>,
    },
    /// Too many requests; not run and not billed.
    #[error("rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {:.1} s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// How long the service asked to wait, if it said.
        retry_after: Option<Duration>,
        /// The service's words.
        message: String,
    },
    /// The prompt or image failed Ideogram's safety check (422); not billed.
    #[error("rejected by the safety check: {message}")]
    SafetyRejected {
        /// The service's words.
        message: String,
    },
    /// Refused as invalid (400, 405, 413, 415; Segmind's 422, 406 "Invalid content type"): not run.
    #[error("the service rejected the request ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The service's words (Segmind's name the field).
        message: String,
    },
    /// Unknown model or URL (404 on a POST): often a base URL's path prefix missing or doubled.
    #[error("not found: {}{message}", url.as_deref().map(|u| format!("{u}: ")).unwrap_or_default())]
    NotFound {
        /// The URL the request went to, without credentials or a query.
        url: Option<String>,
        /// The service's words.
        message: String,
    },
    /// A redirect, not followed (the key would go along): a POST answered so may have run.
    #[error("the service answered {status}, a redirect{}; not followed", location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default())]
    Redirected {
        /// The HTTP status (301, 302, 303, 307, 308).
        status: u16,
        /// Where it pointed.
        location: Option<String>,
    },
    /// A queued request unknown or older than the retention
    /// ([`Provider::result_ttl`](crate::Provider::result_ttl), Segmind's
    /// hour): it may have been billed.
    #[error("request {id} is unknown or expired ({})", retention(*provider))]
    Expired {
        /// The request id.
        id: String,
        /// Who was asked: the retention said is theirs.
        provider: crate::Provider,
    },
    /// A queued request ran and failed (safety blocks too); it is not billed.
    #[error("job {id} failed: {detail}")]
    JobFailed {
        /// The request id.
        id: String,
        /// The service's reason.
        detail: String,
    },
    /// A queued request unfinished at the deadline: it runs on and bills; resume it by its id.
    #[error("job {id} did not finish within {:.1} s; it runs on and bills: resume it with its id", waited.as_secs_f64())]
    JobTimeout {
        /// The request id.
        id: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// Checking on a queued request failed; the job runs on: resume it by its id.
    #[error("checking on job {id} failed: {source}; the job runs on: resume it with its id")]
    Polling {
        /// The request id.
        id: String,
        /// What went wrong with the check.
        source: Box<Error>,
    },
    /// A 5xx or an undocumented status: a POST so answered may have run and been billed.
    #[error("server error {status}: {body}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The service's words, cut to a line.
        body: String,
    },
    /// A success answer not of the documented shape (a 200 with no images): maybe billed.
    #[error("unexpected answer from {provider}: {message}")]
    InvalidResponse {
        /// Who answered.
        provider: Provider,
        /// What was wrong with it.
        message: String,
    },
    /// A gateway's envelope reported a failure by a non-HTTP code; billing undocumented.
    #[error("the gateway answered code {code}: {message}")]
    Gateway {
        /// The envelope's `code`.
        code: String,
        /// The envelope's `message`.
        message: String,
    },
    /// The connection failed, timed out or broke, or an HTTP/2 server
    /// refused the request; `sent`: it may have been run (billed).
    #[error("network error ({}): {source}", if *sent { "the request may have been received" } else { "the request was not sent" })]
    Transport {
        /// Whether the service may have run the request: `false` when no
        /// connection was made, or an HTTP/2 server refused the request
        /// without processing it (as good as unsent: discarded unread).
        sent: bool,
        /// The underlying error, with its chain (URL credentials removed).
        source: reqwest::Error,
    },
    /// A billed image not fetched from its URL, retries included; the URL lasts (Ideogram's 24 h).
    #[error("cannot download {url}: {reason}")]
    Download {
        /// The image's URL.
        url: String,
        /// What went wrong.
        reason: String,
        /// The underlying error, where there is one.
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The image failed the safety check and was not delivered.
    #[error("the image failed the safety check and was not delivered")]
    Withheld,
    /// A billed answer's image that passed the safety check yet has no URL: nothing to fetch.
    #[error("billed, but the answer held no image for it (no URL, and not marked unsafe)")]
    Missing,
    /// A 2xx (billed) that does not decode; `urls`, kept whole, likely hold the paid images.
    #[error("the service answered success (billed), but the answer does not decode: {message}")]
    Undecoded {
        /// Who answered.
        provider: Provider,
        /// What was wrong with it.
        message: String,
        /// Every `http(s)` URL in the body, in order (at most 16).
        urls: Vec<String>,
    },
    /// Saving an image failed; nothing was left half-written at `path`.
    #[error("cannot save {}: {source}", path.display())]
    Io {
        /// Where the image was going.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Why a client could not be set up; URLs shown without credentials, never the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key was given, and the provider's variable is unset or blank.
    #[error("no API key: set {variable} or pass one to the client")]
    MissingKey {
        /// The environment variable read (`SEGMIND_API_KEY`, ...).
        variable: &'static str,
    },
    /// The key cannot go in an HTTP header.
    #[error(transparent)]
    InvalidKey(#[from] ideogram_raw::auth::InvalidKey),
    /// The base URL does not parse.
    #[error("the base URL {url} is not a URL")]
    BaseUrl {
        /// The URL as given, without credentials, quoted.
        url: String,
        /// Why it does not parse.
        source: url::ParseError,
    },
    /// Plain `http://` to a non-loopback host, without
    /// [`allow_insecure_http`](crate::ClientBuilder::allow_insecure_http).
    #[error(
        "the base URL {url} is plain http on a non-loopback host: the key would cross the \
         network in the clear; use https or allow_insecure_http(true)"
    )]
    InsecureHttp {
        /// The URL, without credentials, quoted.
        url: String,
    },
    /// A base URL whose scheme is not `http` or `https`.
    #[error("the base URL {url}: scheme {scheme:?} is not http(s)")]
    Scheme {
        /// The URL, without credentials, quoted.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A proxy variable (`HTTPS_PROXY`, ...) that is not a proxy URL.
    #[error("{0}")]
    Proxy(String),
    /// The HTTP client could not be built (its TLS backend, ...).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The generated client's hook refused to send the request.
    #[error("{0}")]
    Hook(String),
}

impl Error {
    /// Whether the request certainly did not run, so that sending it again cannot bill twice.
    pub fn certainly_not_billed(&self) -> bool {
        match self {
            Self::Transport { sent, .. } => !sent,
            // Nothing sent, or answers documented as not run.
            Self::Validation(_)
            | Self::Config(_)
            | Self::Unauthorized { .. }
            | Self::Forbidden { .. }
            | Self::InsufficientCredits { .. }
            | Self::RateLimited { .. }
            | Self::SafetyRejected { .. }
            | Self::Rejected { .. }
            | Self::NotFound { .. }
            | Self::JobFailed { .. } => true,
            // Anything else may have run (a new variant too, until shown otherwise).
            _ => false,
        }
    }

    /// Whether it certainly ran and was paid for: success was answered, and what came after failed.
    pub fn certainly_billed(&self) -> bool {
        matches!(
            self,
            Self::Undecoded { .. } | Self::Download { .. } | Self::Missing | Self::Io { .. }
        )
    }

    /// The error itself, or for [`Error::Polling`] the failure of the check (what to act on).
    pub fn root(&self) -> &Error {
        match self {
            Self::Polling { source, .. } => source.root(),
            other => other,
        }
    }
}

/// An error and its causes, `error: cause: cause`.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let causes = std::iter::successors(err.source(), |cause| cause.source());
    causes.fold(err.to_string(), |out, cause| format!("{out}: {cause}"))
}

/// How long `provider` keeps a queued request's result, in words, as its
/// spec says (`x-result-ttl-seconds`), or that its spec does not say.
fn retention(provider: crate::Provider) -> String {
    match provider.result_ttl_text() {
        Some(ttl) => format!("{provider} keeps results {ttl} after submission"),
        None => format!("{provider}'s spec does not say how long it keeps results"),
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    proptest! {

        /// Any status, text and headers map to one error, by the status's
        /// meaning, without panicking; a 2xx never gets here.
        #[test]
        fn every_error_answer_maps_by_its_status(
            status in 300u16..600,
            message in "\\PC{0,40}",
            retry_after in prop::option::of("\\PC{0,12}"),
            segmind in any::<bool>(),
            job in any::<bool>(),
        ) {
            let provider = if segmind { Provider::Segmind } else { Provider::Ideogram };
            let mut headers = HeaderMap::new();
            if let Some(value) = retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert("retry-after", value);
            }
            let id = job.then_some("job-1");
            let client = match provider {
                Provider::Segmind => crate::Client::segmind("k"),
                Provider::Ideogram => crate::Client::ideogram("k"),
            };
            let conn = client.unwrap();
            let err = conn.connection().answer_error(status, &headers, message.clone(), None, id);
            let kind_ok = match status {
                300..=399 => matches!(err, Error::Redirected { .. }),
                404 if job => matches!(err, Error::Expired { .. }),
                422 if job => matches!(err, Error::JobFailed { .. }),
                401 => matches!(err, Error::Unauthorized { .. }),
                403 => matches!(err, Error::Forbidden { .. }),
                402 => matches!(err, Error::InsufficientCredits { .. }),
                429 => matches!(err, Error::RateLimited { .. }),
                404 => matches!(err, Error::NotFound { .. }),
                422 if !segmind => matches!(err, Error::SafetyRejected { .. }),
                406 if message.to_ascii_lowercase().contains("credit") => {
                    matches!(err, Error::InsufficientCredits { .. })
                }
                400 | 405 | 406 | 413 | 415 | 422 => matches!(err, Error::Rejected { .. }),
                _ => matches!(err, Error::Server { .. }),
            };
            prop_assert!(kind_ok, "{} -> {:?}", status, err);
            // Only statuses the services document as "not run" say so.
            let documented_not_run = matches!(status, 400..=403 | 405 | 406 | 413 | 415 | 429)
                || (status == 404 && !job)
                || status == 422;
            prop_assert_eq!(err.certainly_not_billed(), documented_not_run, "{}", status);
        }
    }
}
