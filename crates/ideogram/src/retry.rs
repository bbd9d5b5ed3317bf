//! Retries that never bill twice.
//!
//! Neither service has idempotency keys: every POST that reaches them may run
//! and bill a generation. So a POST is sent again only when it was answered
//! 429 (not run, not billed) or certainly never left this machine (the
//! connection was never made). GETs are free and are also retried on 5xx and
//! network errors. Waits grow exponentially with jitter, honour `Retry-After`
//! and Segmind's `x-rate-limit-reset-at-utc`, and are capped.

use std::future::Future;
use std::time::Duration;

use progenitor_client::{Error as RawError, ResponseValue};
use rand::Rng as _;
use reqwest::header::{HeaderMap, HeaderName};
use tracing::Instrument as _;

/// How a [`Client`](crate::Client) retries.
///
/// ```
/// use std::time::Duration;
/// use ideogram::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_retries(6).max_server_delay(Duration::from_secs(90));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_server_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 retries, backoff from 0.5 s doubling to 8 s, and waits the server asks
    /// for honoured up to 65 s (one Segmind rate-limit window and a margin).
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_server_delay: Duration::from_secs(65),
        }
    }
}

impl RetryPolicy {
    /// No retries at all: every error reaches the caller at once.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries after the first attempt, at most.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first backoff; each later one doubles, up to [`Self::max_backoff`].
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// The longest backoff between attempts.
    pub fn max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// The longest wait the client accepts from the server (`Retry-After`,
    /// `x-rate-limit-reset-at-utc`); a longer one ends the call with
    /// [`Error::RateLimited`](crate::Error::RateLimited) carrying it.
    pub fn max_server_delay(mut self, delay: Duration) -> Self {
        self.max_server_delay = delay;
        self
    }

    /// The jittered backoff before retry number `retry` (1-based): a random
    /// point in the upper half of `initial * 2^(retry-1)`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let full = exp.min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    /// Retries after the first attempt, at most.
    pub(crate) fn retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest wait accepted from a server.
    pub(crate) fn server_delay_cap(&self) -> Duration {
        self.max_server_delay
    }

    /// How long to wait before sending again, or `None` to give up.
    ///
    /// A wait the server asks for is honoured up to the cap, and never
    /// shortens the backoff: a reset time in the past (or one a skewed clock
    /// makes look past) still waits.
    fn delay(&self, method: Method, outcome: &Outcome<'_>, retry: u32) -> Option<Duration> {
        if retry > self.max_retries {
            return None;
        }
        match *outcome {
            Outcome::Status(429, headers) => match server_delay(headers) {
                Some(wait) if wait > self.max_server_delay => None,
                Some(wait) => Some(wait.max(self.backoff(retry))),
                None => Some(self.backoff(retry)),
            },
            Outcome::Status(500 | 502 | 503 | 504, _) if method == Method::Get => {
                Some(self.backoff(retry))
            }
            Outcome::NotSent => Some(self.backoff(retry)),
            Outcome::Broken if method == Method::Get => Some(self.backoff(retry)),
            _ => None,
        }
    }
}

/// Whether a call may be repeated freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// Creates and bills: retried only when certainly not run.
    Post,
    /// Reads: retried on any transient failure.
    Get,
}

/// What a failed attempt tells the retry decision.
enum Outcome<'a> {
    /// An HTTP answer with this status.
    Status(u16, &'a HeaderMap),
    /// The connection was never made: the request did not leave.
    NotSent,
    /// The request may have reached the server (timeout, reset, bad body).
    Broken,
    /// Not worth retrying (a local error).
    Final,
}

fn outcome<E>(err: &RawError<E>) -> Outcome<'_> {
    match err {
        RawError::ErrorResponse(answer) => {
            Outcome::Status(answer.status().as_u16(), answer.headers())
        }
        RawError::UnexpectedResponse(response) => {
            Outcome::Status(response.status().as_u16(), response.headers())
        }
        RawError::CommunicationError(e) if e.is_connect() => Outcome::NotSent,
        RawError::CommunicationError(_)
        | RawError::ResponseBodyError(_)
        | RawError::InvalidResponsePayload(..) => Outcome::Broken,
        _ => Outcome::Final,
    }
}

/// Runs `call` until it succeeds or `policy` says to stop; returns the last
/// result. `call` builds a fresh request each time.
pub(crate) async fn run<T, E, F, Fut>(
    policy: &RetryPolicy,
    method: Method,
    mut call: F,
) -> Result<ResponseValue<T>, RawError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, RawError<E>>>,
{
    let mut retry = 0;
    loop {
        let attempt = retry + 1;
        let result = call()
            .instrument(tracing::debug_span!("attempt", attempt))
            .await;
        let Err(err) = &result else { return result };
        retry += 1;
        let outcome = outcome(err);
        match policy.delay(method, &outcome, retry) {
            Some(wait) => {
                tracing::debug!(
                    attempt,
                    ?method,
                    after = outcome.describe(),
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
            }
            None => {
                tracing::debug!(attempt, ?method, after = outcome.describe(), "not retried");
                return result;
            }
        }
    }
}

impl Outcome<'_> {
    /// What happened, for the trace.
    fn describe(&self) -> String {
        match self {
            Outcome::Status(status, _) => format!("status {status}"),
            Outcome::NotSent => "not sent (no connection)".to_owned(),
            Outcome::Broken => "no answer (may have reached the service)".to_owned(),
            Outcome::Final => "a local error".to_owned(),
        }
    }
}

/// The wait a response asks for: `Retry-After` (seconds or an HTTP date) or
/// Segmind's `x-rate-limit-reset-at-utc` (RFC 3339).
pub(crate) fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let until = |at: chrono::DateTime<chrono::FixedOffset>| {
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    if let Some(value) = text(&reqwest::header::RETRY_AFTER) {
        if let Ok(secs) = value.parse::<f64>() {
            return Duration::try_from_secs_f64(secs.max(0.0)).ok();
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc2822(value) {
            return Some(until(at));
        }
    }
    let reset = text(&ideogram_raw::segmind::headers::X_RATE_LIMIT_RESET_AT_UTC)?;
    chrono::DateTime::parse_from_rfc3339(reset)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&format!("{reset}Z")))
        .ok()
        .map(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..=10 {
            let full = Duration::from_millis(500)
                .saturating_mul(1 << (retry - 1))
                .min(Duration::from_secs(8));
            let wait = policy.backoff(retry);
            assert!(
                wait >= full / 2 && wait <= full,
                "retry {retry}: {wait:?} not in [{:?}, {full:?}]",
                full / 2
            );
        }
    }

    #[test]
    fn posts_are_retried_only_when_certainly_not_billed() {
        let policy = RetryPolicy::default();
        let none = HeaderMap::new();
        for status in [500, 502, 504, 400, 422] {
            assert_eq!(
                policy.delay(Method::Post, &Outcome::Status(status, &none), 1),
                None,
                "{status}"
            );
        }
        assert!(policy.delay(Method::Post, &Outcome::Broken, 1).is_none());
        assert!(policy.delay(Method::Post, &Outcome::NotSent, 1).is_some());
        assert!(
            policy
                .delay(Method::Post, &Outcome::Status(429, &none), 1)
                .is_some()
        );
        for status in [500, 502, 503, 504, 429] {
            assert!(
                policy
                    .delay(Method::Get, &Outcome::Status(status, &none), 1)
                    .is_some(),
                "{status}"
            );
        }
        assert!(policy.delay(Method::Get, &Outcome::Broken, 1).is_some());
        assert!(
            policy
                .delay(Method::Get, &Outcome::Status(404, &none), 1)
                .is_none()
        );
        assert!(
            policy
                .delay(Method::Get, &Outcome::Status(500, &none), 5)
                .is_none(),
            "past max_retries"
        );
        assert!(
            RetryPolicy::none()
                .delay(Method::Get, &Outcome::Status(500, &none), 1)
                .is_none()
        );
    }

    #[test]
    fn server_delays_are_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let asked = headers(&[("retry-after", "3".into())]);
        assert_eq!(
            policy.delay(Method::Post, &Outcome::Status(429, &asked), 1),
            Some(Duration::from_secs(3))
        );
        // A reset time already past is a floor of zero: the backoff still applies.
        for stale in [
            (
                "x-rate-limit-reset-at-utc",
                "2020-01-01T00:00:00Z".to_owned(),
            ),
            ("retry-after", "0".to_owned()),
            ("retry-after", "-5".to_owned()),
        ] {
            let wait = policy
                .delay(Method::Post, &Outcome::Status(429, &headers(&[stale])), 3)
                .unwrap();
            assert!(wait >= Duration::from_secs(1), "{wait:?}");
        }
        let too_long = headers(&[("retry-after", "600".into())]);
        assert_eq!(
            policy.delay(Method::Post, &Outcome::Status(429, &too_long), 1),
            None
        );

        let reset = (chrono::Utc::now() + chrono::Duration::seconds(20)).to_rfc3339();
        let wait = server_delay(&headers(&[("x-rate-limit-reset-at-utc", reset)])).unwrap();
        assert!(
            wait > Duration::from_secs(18) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        let past = server_delay(&headers(&[(
            "x-rate-limit-reset-at-utc",
            "2020-01-01T00:00:00Z".into(),
        )]));
        assert_eq!(past, Some(Duration::ZERO));
        let date = (chrono::Utc::now() + chrono::Duration::seconds(10)).to_rfc2822();
        assert!(server_delay(&headers(&[("retry-after", date)])).unwrap() > Duration::from_secs(8));
        assert_eq!(
            server_delay(&headers(&[("retry-after", "soon".into())])),
            None
        );
    }
}
