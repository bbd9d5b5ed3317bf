//! Retries that never bill twice. Neither service has idempotency keys, so a POST is sent again
//! only after a 429 (not run, not billed) or when it certainly was not processed (no connection
//! was made, or an HTTP/2 server refused it); free GETs also after 5xx and network errors. Waits
//! back off with jitter, honour the server's, capped.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ideogram_raw::answer::ErrorAnswer;
use ideogram_raw::operation::Operation;
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};
use rand::Rng as _;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};
use tracing::Instrument as _;

use crate::deadline::Deadline;

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
        Self::default().max_retries(0)
    }

    setters! {
        /// Retries after the first attempt, at most.
        max_retries(retries: u32) => max_retries = retries;
        /// The first backoff; each later one doubles, up to [`Self::max_backoff`].
        initial_backoff(delay: Duration) => initial_backoff = delay;
        /// The longest backoff between attempts.
        max_backoff(delay: Duration) => max_backoff = delay;
        /// The longest wait accepted from the server (`Retry-After` and the like):
        /// a longer one ends the call with [`Error::RateLimited`](crate::Error::RateLimited).
        max_server_delay(delay: Duration) => max_server_delay = delay;
    }

    /// The backoff before retry `retry` (from 1): a random point in the upper
    /// half of `initial * 2^(retry-1)`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(16);
        let exp = self.initial_backoff.saturating_mul(1u32 << doublings);
        let half = exp.min(self.max_backoff) / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    /// The wait before retry `retry` (`None` past the count): the backoff, or
    /// what the server `asked` (capped) if longer; a past reset still backs off.
    pub(crate) fn wait(&self, retry: u32, asked: Option<Duration>) -> Option<Duration> {
        let asked = asked.unwrap_or_default().min(self.max_server_delay);
        (retry <= self.max_retries).then(|| self.backoff(retry).max(asked))
    }

    /// How long to wait before sending again, or `None` to give up.
    fn delay(&self, billing: Billing, outcome: &Outcome, retry: u32) -> Option<Duration> {
        match *outcome {
            // A longer wait than the cap ends the call (the error carries it).
            Outcome::Status(429, Some(asked)) if asked > self.max_server_delay => None,
            Outcome::Status(429, asked) => self.wait(retry, asked),
            Outcome::NotSent | Outcome::Refused => self.wait(retry, None),
            Outcome::Status(500 | 502..=504, _) | Outcome::Broken if billing == Billing::Free => {
                self.wait(retry, None)
            }
            _ => None,
        }
    }
}

/// Whether a call may bill: it decides when [`Client::call`](crate::Client::call) sends it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Billing {
    /// Sent again only after a 429 or when it certainly never left.
    Billed,
    /// A read: also sent again after 5xx answers and network errors.
    Free,
}

/// What a failed attempt tells the retry decision.
enum Outcome {
    /// An HTTP answer with this status, and the wait it asked for.
    Status(u16, Option<Duration>),
    /// The connection was never made: the request did not leave.
    NotSent,
    /// An HTTP/2 server refused the request: it did not process it
    /// ([`never_processed`]).
    Refused,
    /// The request may have reached the server (timeout, reset, bad body).
    Broken,
    /// Not worth retrying (a local error).
    Final,
}

impl Outcome {
    fn of(failure: &Failure) -> Self {
        match failure {
            Failure::Answered(answer) => {
                Self::Status(answer.status.as_u16(), server_delay(&answer.headers))
            }
            Failure::Unanswered(Unanswered::Transport(e)) if e.is_connect() => Self::NotSent,
            Failure::Unanswered(Unanswered::Transport(e)) if refused_by_http2(e) => Self::Refused,
            Failure::Unanswered(
                Unanswered::Transport(_) | Unanswered::Body(_) | Unanswered::Undecoded(..),
            ) => Self::Broken,
            Failure::Unanswered(Unanswered::Invalid(_) | Unanswered::Hook(_)) => Self::Final,
        }
    }

    /// What happened, for the trace.
    fn describe(&self) -> String {
        match self {
            Self::Status(status, _) => format!("status {status}"),
            Self::NotSent => "not sent (no connection)".to_owned(),
            Self::Refused => "refused unprocessed (HTTP/2)".to_owned(),
            Self::Broken => "no answer (may have reached the service)".to_owned(),
            Self::Final => "a local error".to_owned(),
        }
    }
}

/// Whether a request that failed with `err` was certainly not processed:
/// no connection was made, or an HTTP/2 server said it did not process it
/// (it refused the stream, or shut the connection down gracefully before
/// it: RFC 9113, section 8.7). reqwest retries those two itself unless told
/// not to, at the cost of a copy of every request made before sending it;
/// the clients here tell it not to (about 1.8k instructions a call) and
/// send such a request again themselves, from its payload.
pub(crate) fn never_processed(err: &reqwest::Error) -> bool {
    err.is_connect() || refused_by_http2(err)
}

/// Whether `err`'s chain holds an HTTP/2 refusal the server sent:
/// `REFUSED_STREAM`, or a `GOAWAY` with `NO_ERROR` past whose last stream
/// this request was.
fn refused_by_http2(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    // The chain is short (reqwest, hyper-util, hyper, h2): bounded anyway.
    for _ in 0..16 {
        let Some(err) = next else { break };
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return refused(h2);
        }
        next = err.source();
    }
    false
}

/// Whether an HTTP/2 error says the server did not process the stream.
fn refused(err: &h2::Error) -> bool {
    let reason = err.reason();
    err.is_remote()
        && ((err.is_reset() && reason == Some(h2::Reason::REFUSED_STREAM))
            || (err.is_go_away() && reason == Some(h2::Reason::NO_ERROR)))
}

/// A failed attempt: an error answer, read within the attempt's deadline,
/// or no answer to read.
pub(crate) enum Failure {
    /// The service answered an error status: the answer, its body's first
    /// bytes read.
    Answered(ErrorAnswer),
    /// No error answer: what went wrong instead.
    Unanswered(Unanswered),
}

/// What an attempt that got no error answer ended with: the raw client's
/// error without the variants that carry an answer (those are read within
/// the attempt, into [`Failure::Answered`]).
pub(crate) enum Unanswered {
    /// The request could not be built (the raw client's `InvalidRequest`).
    Invalid(String),
    /// A hook refused it (`Custom`).
    Hook(String),
    /// No answer, or none within the deadline (`CommunicationError`): it
    /// may have reached the service, unless the error says it never left.
    Transport(reqwest::Error),
    /// An answer broke off while it was read (`ResponseBodyError`,
    /// `InvalidUpgrade`).
    Body(reqwest::Error),
    /// A success whose body does not decode (`InvalidResponsePayload`).
    Undecoded(bytes::Bytes, serde_json::Error),
}

/// Runs `call` (a fresh request each time) until it succeeds or `policy`
/// stops, each attempt and the error answer it gets bounded by `deadline`.
///
/// This is the only bound on an attempt: the crate's HTTP client has no
/// timeout of its own (reqwest's boxes a timer and wraps the body of every
/// request), so an error answer's body is read here, within the deadline,
/// and a call whose answer's body is a stream reads it within its `call`
/// ([`Connection::send_once`](crate::connection::Connection::send_once)).
/// An attempt past the deadline is reqwest's timeout error, as the client's
/// own timeout gave: it may have reached the service. An operation with a
/// rate limit (`paced`) waits for its window before each attempt.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    billing: Billing,
    deadline: Duration,
    paced: Option<&'static Operation>,
    mut call: F,
) -> Result<ResponseValue<T>, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, RawError<ByteStream>>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        // Waiting for the operation's rate window is not the call: it
        // comes before the attempt's deadline starts.
        if let Some(op) = paced {
            crate::pace::pace(op).await;
        }
        let span = tracing::debug_span!("attempt", attempt);
        // Instrumented only for a listening span: the wrapper enters the
        // span on every poll otherwise (about 0.7k instructions a call).
        let result = if span.is_disabled() {
            attempt_within(deadline, &mut call).await
        } else {
            attempt_within(deadline, &mut call).instrument(span).await
        };
        let Err(err) = &result else { return result };
        let outcome = Outcome::of(err);
        let after = outcome.describe();
        let Some(wait) = policy.delay(billing, &outcome, attempt) else {
            tracing::debug!(attempt, ?billing, after, "not retried");
            return result;
        };
        let wait_ms = wait.as_millis() as u64;
        tracing::debug!(attempt, ?billing, after, wait_ms, "retrying");
        tokio::time::sleep(wait).await;
    }
}

/// One attempt of `call`, and the body of an error answer it gets, within
/// `deadline`: past it, reqwest's timeout error ([`timed_out`]).
///
/// The attempt is polled where it lies, its [`Deadline`] looked at when it
/// waits, not wrapped in a `Timeout` (which moves the attempt's future,
/// about 2 KB, twice more: about 0.4k instructions of a call).
async fn attempt_within<T, F, Fut>(
    deadline: Duration,
    call: &mut F,
) -> Result<ResponseValue<T>, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, RawError<ByteStream>>>,
{
    use std::task::Poll;
    let timer = Deadline::after(deadline);
    // The answer, or `None` once the deadline passes.
    macro_rules! within {
        ($future:expr) => {{
            let future = $future;
            tokio::pin!(future);
            std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
                Poll::Ready(answer) => Poll::Ready(Some(answer)),
                Poll::Pending if timer.passed(cx) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            })
            .await
        }};
    }
    let failed = match within!(call()) {
        Some(Ok(answer)) => return Ok(answer),
        Some(Err(failed)) => failed,
        None => {
            let timed_out = timed_out(deadline).await;
            return Err(Failure::Unanswered(Unanswered::Transport(timed_out)));
        }
    };
    let unanswered = match failed {
        RawError::ErrorResponse(answer) => {
            let (status, headers) = (answer.status(), answer.headers().clone());
            let read = within!(ErrorAnswer::read(answer));
            return Err(Failure::Answered(read_or_status(read, status, headers)));
        }
        RawError::UnexpectedResponse(answer) => {
            let (status, headers) = (answer.status(), answer.headers().clone());
            let read = within!(ErrorAnswer::from_response(answer));
            return Err(Failure::Answered(read_or_status(read, status, headers)));
        }
        RawError::InvalidRequest(why) => Unanswered::Invalid(why),
        RawError::Custom(why) => Unanswered::Hook(why),
        RawError::CommunicationError(e) => Unanswered::Transport(e),
        RawError::ResponseBodyError(e) | RawError::InvalidUpgrade(e) => Unanswered::Body(e),
        RawError::InvalidResponsePayload(body, e) => Unanswered::Undecoded(body, e),
    };
    Err(Failure::Unanswered(unanswered))
}

/// An error answer as `read` within the deadline; one whose body stalled
/// past it (`None`) is still its status (a 429 is sent again, a 401 was
/// refused): only its words are lost.
fn read_or_status(
    read: Option<ErrorAnswer>,
    status: StatusCode,
    headers: HeaderMap,
) -> ErrorAnswer {
    read.unwrap_or(ErrorAnswer {
        status,
        headers,
        body: bytes::Bytes::new(),
        truncated: true,
    })
}

/// reqwest's timeout error, which has no public constructor, for an
/// attempt past its `deadline`: the error of a body that fails with a
/// timed-out I/O error (no network involved), so that it reads as reqwest's
/// own timeout did (`is_timeout`).
async fn timed_out(deadline: Duration) -> reqwest::Error {
    use http_body::Body as _;
    let why = format!("no answer within {} s", deadline.as_secs_f64());
    let failing = futures::stream::once(async move {
        Err::<bytes::Bytes, _>(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
    });
    // Read as a body (reqwest's "request or response body error"), not
    // as a response's (which reqwest calls a decoding error).
    let mut body = reqwest::Body::wrap_stream(failing);
    let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
    match frame {
        Some(Err(err)) => err,
        _ => unreachable!("a body made to fail fails"),
    }
}

/// The wait a response asks for: `Retry-After` (seconds or an HTTP date) or
/// Segmind's `x-rate-limit-reset-at-utc` (RFC 3339).
pub(crate) fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &HeaderName| headers.get(name)?.to_str().ok().map(str::trim);
    let until = |at: DateTime<FixedOffset>| (at.to_utc() - Utc::now()).to_std().unwrap_or_default();
    if let Some(value) = text(&reqwest::header::RETRY_AFTER) {
        if let Ok(secs) = value.parse::<f64>() {
            return Duration::try_from_secs_f64(secs.max(0.0)).ok();
        }
        if let Ok(at) = DateTime::parse_from_rfc2822(value) {
            return Some(until(at));
        }
    }
    let reset = text(&ideogram_raw::segmind::headers::X_RATE_LIMIT_RESET_AT_UTC)?;
    DateTime::parse_from_rfc3339(reset)
        .or_else(|_| DateTime::parse_from_rfc3339(&format!("{reset}Z")))
        .ok()
        .map(until)
}
#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// Waiting for an operation's rate window comes before the attempt's
    /// deadline: a call that waits longer than its timeout for the window
    /// is sent, not ended as a timeout that says it may have been sent.
    #[tokio::test]
    async fn the_wait_for_a_rate_window_is_not_the_attempt_s_time() {
        static LIMITED: Operation = Operation {
            id: "retry_test_limited",
            method: "GET",
            path: "/limited",
            content_type: None,
            body: None,
            typical: None,
            accept: None,
            route: None,
            rate_limit: Some((1, Duration::from_millis(600))),
            deprecation: None,
            result_ttl: None,
            price: None,
            dry_run: None,
        };
        let answer = || async {
            let ok = ResponseValue::new((), reqwest::StatusCode::OK, HeaderMap::new());
            Ok::<_, RawError<ByteStream>>(ok)
        };
        let policy = RetryPolicy::none();
        let deadline = Duration::from_millis(100);
        for _ in 0..2 {
            let run = run(&policy, Billing::Free, deadline, Some(&LIMITED), answer).await;
            assert!(
                run.is_ok(),
                "the second waits 0.6 s for its window, then is sent"
            );
        }
    }

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
        for status in [500, 502, 504, 400, 422] {
            assert_eq!(
                policy.delay(Billing::Billed, &Outcome::Status(status, None), 1),
                None,
                "{status}"
            );
        }
        assert!(policy.delay(Billing::Billed, &Outcome::Broken, 1).is_none());
        for unprocessed in [Outcome::NotSent, Outcome::Refused] {
            assert!(policy.delay(Billing::Billed, &unprocessed, 1).is_some());
        }
        assert!(
            policy
                .delay(Billing::Billed, &Outcome::Status(429, None), 1)
                .is_some()
        );
        for status in [500, 502, 503, 504, 429] {
            assert!(
                policy
                    .delay(Billing::Free, &Outcome::Status(status, None), 1)
                    .is_some(),
                "{status}"
            );
        }
        assert!(policy.delay(Billing::Free, &Outcome::Broken, 1).is_some());
        assert!(
            policy
                .delay(Billing::Free, &Outcome::Status(404, None), 1)
                .is_none()
        );
        assert!(
            policy
                .delay(Billing::Free, &Outcome::Status(500, None), 5)
                .is_none(),
            "past max_retries"
        );
        assert!(
            RetryPolicy::none()
                .delay(Billing::Free, &Outcome::Status(500, None), 1)
                .is_none()
        );
    }

    #[test]
    fn server_delays_are_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let asked = headers(&[("retry-after", "3".into())]);
        assert_eq!(
            policy.delay(
                Billing::Billed,
                &Outcome::Status(429, server_delay(&asked)),
                1
            ),
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
                .delay(
                    Billing::Billed,
                    &Outcome::Status(429, server_delay(&headers(&[stale]))),
                    3,
                )
                .unwrap();
            assert!(wait >= Duration::from_secs(1), "{wait:?}");
        }
        let too_long = headers(&[("retry-after", "600".into())]);
        assert_eq!(
            policy.delay(
                Billing::Billed,
                &Outcome::Status(429, server_delay(&too_long)),
                1
            ),
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
