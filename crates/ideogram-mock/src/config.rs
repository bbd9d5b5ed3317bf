//! How the mock behaves: the key it accepts, how slow it is, its limits and
//! the account's credits.

use std::time::Duration;

/// Settings for a [`MockServer`](crate::MockServer). The defaults answer
/// fast, with the services' documented limits.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// The only API key accepted (by both services).
    pub api_key: String,
    /// How long a synchronous generation takes.
    pub latency: Duration,
    /// How long a queued request stays QUEUED.
    pub queued_for: Duration,
    /// How long a queued request stays PROCESSING.
    pub processing_for: Duration,
    /// How long a queued request's status and result are kept (Segmind's
    /// spec says, `x-result-ttl-seconds`: 1 hour).
    pub retention: Duration,
    /// Credits on the account; each generation costs [`MockConfig::cost`].
    pub credits: f64,
    /// What one image costs.
    pub cost: f64,
    /// The account's balance in millionths of a US dollar, spent down by
    /// each billed call's spec price ([`Billed::usd_micros`](crate::Billed::usd_micros));
    /// a call priced above what is left is refused unbilled (Ideogram: 402
    /// `insufficient_funds`; Segmind: 406). `None`: no end.
    pub balance_usd_micros: Option<u64>,
    /// What may be spent in a UTC day, in millionths of a US dollar: a call
    /// that would pass it is refused unbilled (Ideogram: 402 `daily_limit`;
    /// Segmind: 406). `None`: no limit.
    pub daily_limit_usd_micros: Option<u64>,
    /// Images Ideogram lets be in flight at once (10 documented).
    pub inflight_limit: u32,
    /// Segmind's POSTs a minute (5 on the free plan, 50 on Pro); `None` for
    /// no limit.
    pub segmind_per_minute: Option<u32>,
    /// Polls of Ideogram's v2 generations allowed per window; `None` for
    /// the spec's `x-rate-limit` (1,000 per 10 seconds).
    pub generation_polls: Option<(u32, Duration)>,
    /// Where the mock POSTs the signed result of every v2 call made with a
    /// `webhook_url` (which must be public HTTPS, as Ideogram requires): a
    /// test's loopback receiver standing in for that URL. `None`: nothing
    /// is delivered.
    pub webhook_receiver: Option<String>,
    /// Whether a completed v2 generation reports `usage_cost_usd_micros`
    /// (its spec price), as Ideogram's does where the price is usage-based;
    /// off by default, as for the exactly priced models.
    pub usage_costs: bool,
    /// The seed of every request that names none; `None` draws one per
    /// request (deterministic in call order). A fixed seed makes identical
    /// requests render identical images, which the mock then encodes once
    /// (for benchmarks that measure the client, not the mock's encoder).
    pub fixed_seed: Option<u64>,
    /// Where the per-request draws start (0: the first request draws the
    /// range's start); the offline CLI starts each run somewhere new, so
    /// that its images do not all carry one seed.
    pub seed_offset: u64,
    /// Where queued jobs are kept, one file each, so that mocks in other
    /// processes given the same folder answer for them (the CLI's
    /// `--offline` commands); `None` keeps them in memory. Kept jobs are
    /// billed at their submit, take ids no other process takes
    /// (`seg-` and 12 hex digits), move through QUEUED and PROCESSING by
    /// the clock since their submit, and are removed after `retention`.
    pub job_folder: Option<std::path::PathBuf>,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            api_key: "mock-key".into(),
            latency: Duration::from_millis(20),
            queued_for: Duration::from_millis(50),
            processing_for: Duration::from_millis(100),
            retention: ideogram_raw::segmind::operations::ALL
                .iter()
                .find_map(|op| op.result_ttl)
                .expect("the spec says how long queued results are kept"),
            credits: 1_000_000.0,
            cost: 0.05,
            balance_usd_micros: None,
            daily_limit_usd_micros: None,
            inflight_limit: 10,
            segmind_per_minute: None,
            generation_polls: None,
            webhook_receiver: None,
            usage_costs: false,
            fixed_seed: None,
            seed_offset: 0,
            job_folder: None,
        }
    }
}
