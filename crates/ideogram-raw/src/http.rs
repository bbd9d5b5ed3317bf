//! The HTTP client the raw clients should run on: TLS from the crate's
//! feature (rustls by default), timeouts sized for image generation, and
//! redirects that never take the key to another origin.

use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};

/// How long to wait for a TCP and TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a whole call may take. A generation takes tens of seconds (a
/// Segmind v1 call can approach a minute), so a short timeout would abandon
/// work that is billed anyway.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// A builder with this crate's defaults, for callers who add their own settings.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(same_origin_redirects())
        .user_agent(concat!("ideogram-raw/", env!("CARGO_PKG_VERSION")))
}

/// A client with this crate's defaults.
pub fn client() -> reqwest::Result<reqwest::Client> {
    client_builder().build()
}

/// Follows redirects only within the origin (scheme, host and port) of the
/// first request. The auth header is not one `reqwest` strips on its own, so a
/// redirect to another origin is not followed at all: the caller gets the
/// 3xx answer instead of leaking the key.
pub fn same_origin_redirects() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let first = attempt.previous().first().map(|url| url.origin());
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if first.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}
