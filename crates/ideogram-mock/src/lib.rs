//! A local stand-in for Segmind's and Ideogram's image APIs, for tests, the
//! CLI's `--offline` mode and benchmarks: real HTTP on loopback, real
//! deterministic images, the v2 queue, rate and in-flight limits, fault
//! injection and a ledger of everything it billed.
//!
//! Tests use it as a dev-dependency, beside a tokio runtime to start it in:
//!
//! ```toml
//! [dev-dependencies]
//! ideogram-mock = "0.1"
//! tokio = { version = "1", features = ["macros", "rt"] }
//! ```
//!
//! ```no_run
//! use ideogram_mock::{Fault, MockConfig, MockServer, Target};
//!
//! # async fn run() -> std::io::Result<()> {
//! let mock = MockServer::start(MockConfig::default()).await?;
//! // Point a client at mock.api_url() with mock.api_key().
//! mock.inject(Target::Method("POST".into()), Fault::Status(502));
//! // ... run the code under test ...
//! assert_eq!(mock.ledger().entries.len(), 0);
//! mock.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Every operation is found in its spec's operation table
//! (`ideogram_raw::{segmind, ideogram}::operations::ALL`): a path the table
//! gains, with an `x-route` task the mock knows, is served with no edit
//! here. The ledger keeps each request's fields as they reached the wire.
//!
//! Behaviour follows the services' documentation: Segmind takes `x-api-key`
//! (a bearer token is refused), answers v1 with a JPEG and the
//! `x-remaining-credits` family of headers, 406 when credits run out, 422
//! naming the field for an invalid body, 429 with `x-rate-limit-reset-at-utc`
//! past the per-minute limit; its queue moves QUEUED, PROCESSING, COMPLETED,
//! serves FAILED as 422 and unknown or expired ids as 404. Ideogram takes
//! `Api-Key` or a bearer token, answers with image URLs on a second origin,
//! 400 for invalid input, 422 for the safety check, 402 without funds, and
//! 429 with `reject_reason: inflight_limit` past 10 images in flight.
//! Every answer to an operation the spec marks deprecated carries
//! `Deprecation: @<unix seconds>`, `Link: <replacement>;
//! rel="successor-version"` and, where the spec sets one, `Sunset`.
//!
//! Ideogram's signed webhooks: the mock signs with its own Ed25519 keys,
//! serves them as the JWKS at the spec's path, and POSTs signed deliveries
//! ([`MockServer::deliver_webhook`], with [`WebhookFault`]s).
//!
//! Prompts steer the outcome: [`FAIL_TRIGGER`] makes a queued request FAIL
//! (as [`Fault::FailQueued`] does, whatever the prompt), [`UNSAFE_TRIGGER`]
//! fails Ideogram's safety check, [`WITHHELD_TRIGGER`] withholds Ideogram's
//! first image.
#![deny(missing_docs)]
// Handlers bail out early with a finished axum `Response` as the error value.
#![allow(clippy::result_large_err)]

mod cdn;
mod check;
mod config;
mod deprecation;
mod faults;
mod form;
mod funds;
mod generations;
mod ideogram;
mod ideogram_route;
mod ideogram_task;
mod image;
mod job_folder;
mod ledger;
mod quote;
mod segmind;
mod serve;
pub mod standalone;
mod state;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::MockConfig;
pub use faults::{Fault, Target};
pub use ideogram::{UNSAFE_TRIGGER, WITHHELD_TRIGGER};
pub use image::ImageSpec;
pub use ledger::{Billed, Delivery, Ledger, Service};
pub use segmind::{DURATION_TRIGGER, FAIL_TRIGGER};
pub use state::{CdnRequest, JobReport};
pub use webhook::{WEBHOOK_USER_ID, WebhookFault};

/// Where the API origin serves the ledger as JSON (`GET`, no key needed):
/// `{"entries": [...], "images": n, "credits": x, "balance_usd_micros": b,
/// "spent_today_usd_micros": s}`, each entry a [`Billed`] (`b` is null
/// when the balance has no end).
pub const LEDGER_PATH: &str = "/mock/ledger";

/// `GET` [`LEDGER_PATH`] on the API origin: the ledger as JSON, with the
/// credits left, for test suites that run the mock as a process.
async fn serve_ledger(
    axum::extract::State(state): axum::extract::State<Arc<state::State>>,
) -> axum::Json<serde_json::Value> {
    let ledger = state.ledger();
    let (balance, spent_today) = {
        let funds = state.funds();
        (funds.balance(), funds.spent_today())
    };
    axum::Json(serde_json::json!({
        "entries": ledger.entries,
        "images": ledger.images(),
        "credits": state.credits(),
        "balance_usd_micros": balance,
        "spent_today_usd_micros": spent_today,
    }))
}

/// `GET` the spec's JWKS path: the mock's webhook signing keys.
async fn serve_jwks(
    axum::extract::State(state): axum::extract::State<Arc<state::State>>,
) -> axum::Json<ideogram_raw::ideogram::types::Jwks> {
    axum::Json(state.webhooks.jwks())
}

/// The spec's path of the webhook signing keys.
fn jwks_path() -> &'static str {
    ideogram_raw::ideogram::operations::ALL
        .iter()
        .find(|op| op.id == "get_webhook_jwks")
        .map(|op| op.path)
        .expect("the spec has get_webhook_jwks")
}

/// A running mock: the API on one port, the image origin on another.
pub struct MockServer {
    state: Arc<state::State>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl MockServer {
    /// Starts on two ephemeral loopback ports.
    pub async fn start(config: MockConfig) -> std::io::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(any, any, config).await
    }

    /// Starts the API on `api` and the image origin on `cdn`.
    pub async fn start_on(
        api: SocketAddr,
        cdn: SocketAddr,
        config: MockConfig,
    ) -> std::io::Result<Self> {
        Self::serving(api, cdn, config, ideogram_raw::ideogram::operations::ALL).await
    }

    /// Starts serving Ideogram's operations of `table` (the spec's, or in a
    /// test one with an operation the spec does not have).
    async fn serving(
        api: SocketAddr,
        cdn: SocketAddr,
        config: MockConfig,
        table: &'static [ideogram_raw::operation::Operation],
    ) -> std::io::Result<Self> {
        let api_listener = TcpListener::bind(api).await?;
        let cdn_listener = TcpListener::bind(cdn).await?;
        let url = |l: &TcpListener| l.local_addr().map(|a| format!("http://{a}"));
        let state = Arc::new(state::State::new(
            config,
            url(&api_listener)?,
            url(&cdn_listener)?,
        ));
        let (stop, stopped) = watch::channel(false);
        let api_routes = segmind::routes()
            .merge(ideogram_route::routes(table))
            .merge(generations::routes(table))
            .route(LEDGER_PATH, axum::routing::get(serve_ledger))
            .route(jwks_path(), axum::routing::get(serve_jwks))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                state::count_posts,
            ))
            .layer(axum::middleware::from_fn(move |request, next| {
                deprecation::announce(
                    [table, ideogram_raw::segmind::operations::ALL],
                    request,
                    next,
                )
            }))
            .with_state(state.clone());
        let cdn_routes = cdn::routes().with_state(state.clone());
        let tasks = vec![
            tokio::spawn(serve::serve(api_listener, api_routes, stopped.clone())),
            tokio::spawn(serve::serve(cdn_listener, cdn_routes, stopped)),
        ];
        Ok(Self { state, stop, tasks })
    }

    /// The API's base URL, `http://127.0.0.1:<port>`: both services' paths
    /// live here (Ideogram's also under `/ideogram`, as gateways serve them).
    pub fn api_url(&self) -> &str {
        &self.state.api_url
    }

    /// The image origin's base URL (another port).
    pub fn cdn_url(&self) -> &str {
        &self.state.cdn_url
    }

    /// The key the mock accepts.
    pub fn api_key(&self) -> String {
        self.state.config().api_key
    }

    /// What has been billed so far.
    pub fn ledger(&self) -> Ledger {
        self.state.ledger()
    }

    /// Credits left on the account.
    pub fn credits(&self) -> f64 {
        self.state.credits()
    }

    /// Sets the credits left (0 to test running out).
    pub fn set_credits(&self, credits: f64) {
        self.state.set_credits(credits);
    }

    /// The balance left in millionths of a dollar
    /// ([`MockConfig::balance_usd_micros`], spent down); `None`: no end.
    pub fn balance_usd_micros(&self) -> Option<u64> {
        self.state.funds().balance()
    }

    /// Sets the balance left (`Some(0)` to test running out; `None`: no end).
    pub fn set_balance_usd_micros(&self, balance: Option<u64>) {
        self.state.funds().set_balance(balance);
    }

    /// What was billed today (UTC) in millionths of a dollar, which
    /// [`MockConfig::daily_limit_usd_micros`] bounds.
    pub fn spent_today_usd_micros(&self) -> u64 {
        self.state.funds().spent_today()
    }

    /// POSTs the API origin has received, answered or not: how a test
    /// proves a call was sent once (not retried).
    pub fn posts_received(&self) -> u64 {
        self.state.posts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Changes the settings (latency, limits, ...) while running.
    pub fn configure(&self, change: impl FnOnce(&mut MockConfig)) {
        change(&mut self.state.config.write().expect("config"));
    }

    /// Makes the next request matching `target` suffer `fault`; faults
    /// queue up and strike in order.
    pub fn inject(&self, target: Target, fault: Fault) {
        self.state
            .faults
            .lock()
            .expect("faults")
            .push(target, fault);
    }

    /// Faults a share `rate` (0 to 1) of requests at random with one of
    /// `kinds`, reproducibly from `seed`.
    pub fn inject_random(&self, rate: f64, kinds: Vec<Fault>, seed: u64) {
        self.state
            .faults
            .lock()
            .expect("faults")
            .set_random(rate, kinds, seed);
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.state.faults.lock().expect("faults").clear();
    }

    /// 429 answers sent so far (Segmind's rate limit, Ideogram's in-flight limit).
    pub fn rate_limited_count(&self) -> u64 {
        self.state
            .rejected
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// When queued request `id` finished and how often its status was polled.
    pub fn job_report(&self, id: &str) -> Option<JobReport> {
        let jobs = self.state.jobs.lock().expect("jobs");
        jobs.get(id).map(|job| JobReport {
            completed_at: job.completed_at,
            status_polls: job.status_polls,
        })
    }

    /// Resolves once nothing that may still bill is under way: no
    /// generating request being handled, no queued job that has not ended.
    /// Then the ledger holds everything the work so far will bill.
    pub async fn settled(&self) {
        self.state.settled().await;
    }

    /// Resolves once work that may bill is under way (a generating request
    /// being handled, a queued job not ended): for a test that must act
    /// while a paid request is in flight. The counterpart of
    /// [`settled`](Self::settled).
    pub async fn working(&self) {
        self.state.working().await;
    }

    /// Every request the image origin received.
    pub fn cdn_requests(&self) -> Vec<CdnRequest> {
        self.state.cdn_log.lock().expect("cdn log").clone()
    }

    /// The id of the key that signs webhook deliveries now.
    pub fn webhook_key_id(&self) -> String {
        self.state.webhooks.key_id()
    }

    /// The webhook key set, as the JWKS endpoint serves it.
    pub fn webhook_jwks(&self) -> ideogram_raw::ideogram::types::Jwks {
        self.state.webhooks.jwks()
    }

    /// Rotates the webhook signing key: a new key (id returned) signs from
    /// now on; the old ones stay in the JWKS when `keep_old`, else leave it.
    pub fn rotate_webhook_key(&self, keep_old: bool) -> String {
        self.state.webhooks.rotate(keep_old)
    }

    /// The five `X-Ideogram-Webhook-*` headers (name, value) of a delivery
    /// of `body` about `generation_id` signed by the current key at
    /// `timestamp` (Unix seconds): a vector for verifier tests.
    pub fn sign_webhook(
        &self,
        body: &[u8],
        generation_id: &str,
        timestamp: i64,
    ) -> Vec<(String, String)> {
        self.state
            .webhooks
            .headers(body, generation_id, timestamp, None)
    }

    /// A finished generation of `images` images for `prompt`, as a webhook
    /// delivers it: a fresh generation id, the images published on the
    /// image origin. Not billed: the request that asked for it is.
    pub fn webhook_delivery(
        &self,
        prompt: &str,
        images: u32,
    ) -> ideogram_raw::ideogram::types::WebhookDelivery {
        use base64::Engine as _;
        let id = self.state.next_id("generation");
        let generation_id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&id);
        let data = (0..images)
            .map(|n| {
                let seed = self.state.default_seed(&(0..=2_147_483_647));
                let spec = ImageSpec {
                    width: 256,
                    height: 256,
                    seed,
                    palette: Vec::new(),
                    transparent: false,
                };
                let url = self.state.publish(&format!("{id}-{n}"), spec, "png");
                ideogram_raw::ideogram::types::WebhookImage {
                    url: Some(url),
                    prompt: prompt.to_owned(),
                    resolution: "256x256".to_owned(),
                    seed: i64::try_from(seed).unwrap_or_default(),
                    is_image_safe: true,
                }
            })
            .collect();
        ideogram_raw::ideogram::types::WebhookDelivery {
            generation_id,
            created: Some(chrono::Utc::now()),
            data,
        }
    }

    /// Signs `delivery` with the current key and POSTs it to `url` (plain
    /// `http://`), suffering `fault` if one is given: the receiver's
    /// status (the second answer's when redelivered).
    pub async fn deliver_webhook(
        &self,
        url: &str,
        delivery: &ideogram_raw::ideogram::types::WebhookDelivery,
        fault: Option<WebhookFault>,
    ) -> std::io::Result<u16> {
        self.state.webhooks.deliver(url, delivery, fault).await
    }

    /// Stops both servers and closes their connections.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
