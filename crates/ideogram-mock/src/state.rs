//! The mock's shared state and the steps every generating handler goes
//! through: faults, billing, and delivering (or breaking) the answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::config::MockConfig;
use crate::faults::{Fault, FaultPlan, Origin};
use crate::funds::Short;
use crate::image::ImageSpec;
use crate::ledger::{Billed, Delivery, Ledger, Service};
use crate::serve::{Hangup, error};

/// A request the image origin received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdnRequest {
    /// The path asked for.
    pub path: String,
    /// Whether it carried any credential header (`x-api-key`, `api-key`,
    /// `authorization`): it never should.
    pub had_credentials: bool,
}

/// A queued Segmind request.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub created: Instant,
    pub queued_for: Duration,
    /// The answer to its submit was broken on purpose: the client never
    /// learned its id, so its bill counts as a broken delivery.
    pub answer_lost: bool,
    pub done: Option<JobEnd>,
    pub completed_at: Option<Instant>,
    pub status_polls: u32,
}

/// What the mock saw of one queued request, for benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    /// When it reached COMPLETED or FAILED.
    pub completed_at: Option<Instant>,
    /// Status polls received for it.
    pub status_polls: u32,
}

/// An Ideogram v2 generation accepted to run on (`generations`).
#[derive(Debug, Clone)]
pub(crate) struct Generation {
    pub created: chrono::DateTime<chrono::Utc>,
    pub accepted: Instant,
    pub runs_for: Duration,
    /// Its results once completed; why it failed otherwise.
    pub end: Result<Vec<ideogram_raw::ideogram::types::ImageObjectV2>, String>,
    /// What it reports it cost once completed (`usage_cost_usd_micros`).
    pub usage_cost: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) enum JobEnd {
    Completed { output: String, inference_time: f64 },
    Failed(String),
}

pub(crate) struct State {
    pub config: RwLock<MockConfig>,
    pub api_url: String,
    pub cdn_url: String,
    funds: Mutex<crate::funds::Funds>,
    ledger: Mutex<Ledger>,
    pub jobs: Mutex<HashMap<String, Job>>,
    /// Ideogram's v2 generations that run on, by id.
    pub generations: Mutex<HashMap<String, Generation>>,
    /// When those were polled within the rate limit's window, oldest first.
    pub polls: Mutex<std::collections::VecDeque<Instant>>,
    pub inflight: Mutex<u32>,
    window: Mutex<(i64, u32)>,
    pub faults: Mutex<FaultPlan>,
    images: Mutex<HashMap<String, ImageSpec>>,
    /// Images already encoded, by spec and format: identical requests cost
    /// one encoding (a 1024x1024 JPEG takes milliseconds of CPU).
    encoded: Mutex<HashMap<(ImageSpec, Format), Bytes>>,
    pub cdn_log: Mutex<Vec<CdnRequest>>,
    counter: AtomicU64,
    /// 429 answers sent (rate and in-flight limits).
    pub rejected: AtomicU64,
    /// POSTs received on the API origin.
    pub posts: AtomicU64,
    /// Work that may still bill: POSTs being handled, queued jobs not ended.
    busy: std::sync::Arc<tokio::sync::watch::Sender<usize>>,
    /// Signs and sends webhook deliveries; its keys are the JWKS served.
    pub webhooks: crate::webhook::Signer,
}

/// Counts one piece of work that may still bill until dropped.
pub(crate) struct Busy(std::sync::Arc<tokio::sync::watch::Sender<usize>>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl State {
    /// Whether `headers` carry the mock's key, as `Api-Key` or a bearer
    /// token: one check for every route that needs the key.
    pub(crate) fn authorized(&self, headers: &axum::http::HeaderMap) -> bool {
        let given = headers.get("api-key").and_then(|v| v.to_str().ok());
        let given = given.or_else(|| {
            let bearer = headers
                .get(axum::http::header::AUTHORIZATION)?
                .to_str()
                .ok()?;
            bearer.strip_prefix("Bearer ")
        });
        given == Some(self.config().api_key.as_str())
    }

    pub(crate) fn new(config: MockConfig, api_url: String, cdn_url: String) -> Self {
        Self {
            funds: Mutex::new(crate::funds::Funds::new(
                config.credits,
                config.balance_usd_micros,
            )),
            config: RwLock::new(config),
            api_url,
            cdn_url,
            ledger: Mutex::default(),
            jobs: Mutex::default(),
            generations: Mutex::default(),
            polls: Mutex::default(),
            inflight: Mutex::new(0),
            window: Mutex::new((0, 0)),
            faults: Mutex::default(),
            images: Mutex::default(),
            encoded: Mutex::default(),
            cdn_log: Mutex::default(),
            counter: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            posts: AtomicU64::new(0),
            busy: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
            webhooks: crate::webhook::Signer::default(),
        }
    }

    /// Marks work that may still bill, until the guard is dropped.
    pub(crate) fn busy(&self) -> Busy {
        self.busy.send_modify(|n| *n += 1);
        Busy(self.busy.clone())
    }

    /// Resolves once no work that may bill is under way.
    pub(crate) async fn settled(&self) {
        let mut busy = self.busy.subscribe();
        let _ = busy.wait_for(|n| *n == 0).await;
    }

    /// Resolves once work that may bill is under way.
    pub(crate) async fn working(&self) {
        let mut busy = self.busy.subscribe();
        let _ = busy.wait_for(|n| *n > 0).await;
    }

    pub(crate) fn config(&self) -> MockConfig {
        self.config.read().expect("config").clone()
    }

    pub(crate) fn ledger(&self) -> Ledger {
        self.ledger.lock().expect("ledger").clone()
    }

    pub(crate) fn credits(&self) -> f64 {
        self.funds().credits()
    }

    pub(crate) fn set_credits(&self, credits: f64) {
        self.funds().set_credits(credits);
    }

    /// The account's money.
    pub(crate) fn funds(&self) -> std::sync::MutexGuard<'_, crate::funds::Funds> {
        self.funds.lock().expect("funds")
    }

    /// A fresh id, `prefix-000001` style, unique for this server; with a
    /// job folder, where mocks of other processes keep jobs too, one of
    /// the folder's (`prefix-` and 12 random hex digits).
    pub(crate) fn next_id(&self, prefix: &str) -> String {
        if self.config().job_folder.is_some() {
            return crate::job_folder::random_id(prefix);
        }
        format!(
            "{prefix}-{:06}",
            self.counter.fetch_add(1, Ordering::SeqCst) + 1
        )
    }

    /// A seed for requests that give none: the configured one, or one
    /// deterministic in call order, within the spec's seed `range`.
    pub(crate) fn default_seed(&self, range: &std::ops::RangeInclusive<i64>) -> u64 {
        let config = self.config.read().expect("config");
        if let Some(seed) = config.fixed_seed {
            return seed;
        }
        let fit = |n: i64| u64::try_from(n).unwrap_or(0);
        let range = fit(*range.start())..=fit(*range.end());
        let n = self
            .counter
            .load(Ordering::SeqCst)
            .wrapping_add(config.seed_offset);
        range.start() + (n.wrapping_mul(7919) % (range.end() - range.start() + 1))
    }

    /// The fault for a request; `key` identifies it for random draws (its
    /// body, or for a GET its path).
    pub(crate) fn fault(&self, method: &str, path: &str, key: &[u8]) -> Option<Fault> {
        self.faults
            .lock()
            .expect("faults")
            .take(Origin::Api, method, path, key)
    }

    /// The fault queued for a download from the image origin, if any.
    pub(crate) fn image_fault(&self, path: &str) -> Option<Fault> {
        self.faults
            .lock()
            .expect("faults")
            .take(Origin::Images, "GET", path, b"")
    }

    /// Applies the faults that strike before any work; returns the answer to
    /// send instead, if one does.
    pub(crate) async fn before(
        &self,
        fault: &Option<Fault>,
        hangup: &Hangup,
        path: &str,
    ) -> Option<Response> {
        match fault {
            Some(Fault::Status(status)) => {
                Some(error(*status, format!("injected fault: HTTP {status}")))
            }
            Some(Fault::DropBeforeBilling) => Some(hangup.now().await),
            Some(Fault::Redirect) => Some(
                Response::builder()
                    .status(StatusCode::TEMPORARY_REDIRECT)
                    .header(header::LOCATION, format!("{}{path}", self.cdn_url))
                    .body(Body::empty())
                    .expect("redirect"),
            ),
            Some(Fault::SlowHeaders(wait)) => {
                tokio::time::sleep(*wait).await;
                None
            }
            _ => None,
        }
    }

    /// Segmind's per-minute limit: `Some(429)` when this POST is one too many.
    pub(crate) fn rate_limited(&self) -> Option<Response> {
        let limit = self.config().segmind_per_minute?;
        let now = chrono::Utc::now();
        let minute = now.timestamp() / 60;
        let mut window = self.window.lock().expect("window");
        if window.0 != minute {
            *window = (minute, 0);
        }
        window.1 += 1;
        if window.1 <= limit {
            return None;
        }
        self.rejected.fetch_add(1, Ordering::Relaxed);
        let reset = chrono::DateTime::from_timestamp((minute + 1) * 60, 0).expect("time");
        let mut response = error(
            429,
            format!("Rate limit exceeded: {limit} requests per minute"),
        );
        response.headers_mut().insert(
            ideogram_raw::segmind::headers::X_RATE_LIMIT_RESET_AT_UTC,
            HeaderValue::from_str(&reset.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .expect("header"),
        );
        Some(response)
    }

    /// Why the account cannot pay a call of `cost` credits priced
    /// `usd_micros` (the spec's price), if it cannot.
    pub(crate) fn short_of(&self, cost: f64, usd_micros: Option<u64>) -> Option<Short> {
        let limit = self.config().daily_limit_usd_micros;
        self.funds().short_of(cost, usd_micros, limit)
    }

    /// Keeps an image for the image origin; returns its URL.
    pub(crate) fn publish(&self, id: &str, spec: ImageSpec, extension: &str) -> String {
        self.publish_named(format!("{id}.{extension}"), spec)
    }

    /// Keeps an image for the image origin under `name`; returns its URL.
    pub(crate) fn publish_named(&self, name: String, spec: ImageSpec) -> String {
        self.images
            .lock()
            .expect("images")
            .insert(name.clone(), spec);
        format!("{}/images/{name}", self.cdn_url)
    }

    pub(crate) fn image(&self, name: &str) -> Option<ImageSpec> {
        self.images.lock().expect("images").get(name).cloned()
    }

    /// `spec` encoded as `format`, from the cache when it was encoded before.
    pub(crate) fn encoded(&self, spec: &ImageSpec, format: Format) -> Bytes {
        /// Distinct images kept; past it the cache starts over.
        const KEPT: usize = 64;
        let key = (spec.clone(), format);
        if let Some(bytes) = self.encoded.lock().expect("encoded").get(&key) {
            return bytes.clone();
        }
        // Encoded outside the lock: two requests may both encode an image
        // seen for the first time, but none waits for another's.
        let bytes = Bytes::from(match format {
            Format::Jpeg => spec.jpeg(),
            Format::Png => spec.png(),
        });
        let mut cache = self.encoded.lock().expect("encoded");
        if cache.len() >= KEPT {
            cache.clear();
        }
        cache.insert(key, bytes.clone());
        bytes
    }

    /// Records a billed generation and charges for it.
    pub(crate) fn bill(&self, entry: Billed) {
        self.funds().charge(&entry);
        self.ledger.lock().expect("ledger").entries.push(entry);
    }

    fn mark(&self, id: &str, delivery: Delivery) {
        if let Some(entry) = self
            .ledger
            .lock()
            .expect("ledger")
            .entries
            .iter_mut()
            .find(|e| e.id == id)
        {
            entry.delivery = delivery;
        }
    }

    /// Sends a billed answer, or breaks it as `fault` says (and records that
    /// in the ledger).
    pub(crate) async fn deliver(
        &self,
        fault: Option<Fault>,
        billed_id: &str,
        mut response: Response<Bytes>,
        hangup: &Hangup,
    ) -> Response {
        let body = response.body().clone();
        let length = body.len();
        match fault {
            Some(Fault::DropAfterBilling) => {
                self.mark(billed_id, Delivery::Broken);
                hangup.now().await
            }
            Some(Fault::MalformedJson) => {
                self.mark(billed_id, Delivery::Broken);
                let mut broken = Response::new(Body::from(
                    r#"{"created": "2026-11-01T00:00:00Z", "data": [{"url": "#,
                ));
                *broken.status_mut() = StatusCode::OK;
                broken.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                broken
            }
            Some(Fault::TruncatedBody) => {
                self.mark(billed_id, Delivery::Broken);
                let half = body.slice(..length / 2);
                let stream = futures::stream::iter([
                    Ok::<_, std::io::Error>(half),
                    Err(std::io::Error::other("injected fault: body cut short")),
                ]);
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
                response.map(|_| Body::from_stream(stream))
            }
            Some(Fault::SlowBody(over)) => {
                let pieces = 5;
                let step = length.div_ceil(pieces).max(1);
                let chunks: Vec<Bytes> = (0..length)
                    .step_by(step)
                    .map(|i| body.slice(i..(i + step).min(length)))
                    .collect();
                let pause = over / pieces as u32;
                let stream = futures::StreamExt::then(
                    futures::stream::iter(chunks),
                    move |chunk| async move {
                        tokio::time::sleep(pause).await;
                        Ok::<_, std::io::Error>(chunk)
                    },
                );
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
                response.map(|_| Body::from_stream(stream))
            }
            _ => response.map(Body::from),
        }
    }
}

/// How an image is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    Jpeg,
    Png,
}

/// Sleeps for `duration`, or not at all when it is zero (a zero sleep still
/// goes through the timer and wakes the task: CPU a zero-latency mock should
/// not spend).
pub(crate) async fn pause(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// Counts each POST the API origin receives ([`State::posts`]).
pub(crate) async fn count_posts(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<State>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() == axum::http::Method::POST {
        state.posts.fetch_add(1, Ordering::Relaxed);
    }
    next.run(request).await
}

/// Whether any header carries a credential.
pub(crate) fn has_credentials(headers: &axum::http::HeaderMap) -> bool {
    ["x-api-key", "api-key", "authorization"]
        .iter()
        .any(|h| headers.contains_key(*h))
}

/// A ledger entry for one generation of a request with `fields` (as
/// [`Billed::fields`] records them), answered in full, with no outputs and
/// no cost yet: callers fill those in.
pub(crate) fn billed(
    id: &str,
    service: Service,
    operation: &str,
    prompt: &str,
    spec: &ImageSpec,
    fields: serde_json::Map<String, serde_json::Value>,
) -> Billed {
    Billed {
        id: id.to_owned(),
        service,
        operation: operation.to_owned(),
        prompt: prompt.to_owned(),
        seed: spec.seed,
        width: spec.width,
        height: spec.height,
        outputs: Vec::new(),
        cost: 0.0,
        usd_micros: None,
        delivery: Delivery::Answered,
        fields,
    }
}
