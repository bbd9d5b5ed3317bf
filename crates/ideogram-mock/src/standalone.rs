//! The mock as a process: its settings as command-line options (shared by
//! the `ideogram-mock` binary and `ideogram mock`), and the loop that serves
//! until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::{Fault, LEDGER_PATH, MockConfig, MockServer};

// A doc attribute clap does not read (not a string literal): a command
// that flattens these options keeps its own about, also when clap builds
// it deferred (`#[command(defer = true)]` in args.rs).
#[doc = concat!(
    "The mock's settings as command-line options, each with its default."
)]
#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    /// Where the API listens (both services' paths).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where the image origin listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub cdn_listen: SocketAddr,
    /// The only API key accepted, by both services.
    #[arg(long, default_value_t = MockConfig::default().api_key)]
    pub key: String,
    /// Milliseconds a synchronous generation takes.
    #[arg(long, default_value_t = millis(MockConfig::default().latency))]
    pub latency_ms: f64,
    /// Milliseconds a queued request stays QUEUED.
    #[arg(long, default_value_t = millis(MockConfig::default().queued_for))]
    pub queued_ms: f64,
    /// Milliseconds a queued request stays PROCESSING (a prompt holding
    /// `mock:ms=N` asks for N instead).
    #[arg(long, default_value_t = millis(MockConfig::default().processing_for))]
    pub processing_ms: f64,
    /// Seconds a queued request's status and result are kept (Segmind: 1 hour).
    #[arg(long, default_value_t = MockConfig::default().retention.as_secs_f64())]
    pub retention_s: f64,
    /// Credits on the account.
    #[arg(long, default_value_t = MockConfig::default().credits)]
    pub credits: f64,
    /// What one image costs.
    #[arg(long, default_value_t = MockConfig::default().cost)]
    pub cost: f64,
    /// The balance in millionths of a US dollar (2500000 is $2.50), spent
    /// down by each billed call's spec price; a call priced above what is
    /// left is refused unbilled (Ideogram 402 insufficient_funds, Segmind
    /// 406) [default: no end].
    #[arg(long)]
    pub balance_usd_micros: Option<u64>,
    /// What may be spent in a UTC day, in millionths of a US dollar: a call
    /// that would pass it is refused unbilled (Ideogram 402 daily_limit,
    /// Segmind 406) [default: no limit].
    #[arg(long)]
    pub daily_limit_usd_micros: Option<u64>,
    /// Images Ideogram lets be in flight at once (10 documented).
    #[arg(long, default_value_t = MockConfig::default().inflight_limit)]
    pub inflight_limit: u32,
    /// Segmind's POSTs a minute (5 free, 50 Pro) [default: no limit].
    #[arg(long)]
    pub per_minute: Option<u32>,
    /// The seed of every request that names none [default: one drawn per
    /// request]; identical requests then get identical images, encoded once.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Share of requests (0 to 1) that suffer a random fault of every kind.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed for the random faults, so a run can be repeated.
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Completed v2 generations report `usage_cost_usd_micros` (their spec
    /// price), as usage-priced products do [default: off].
    #[arg(long)]
    pub usage_costs: bool,
}

impl MockArgs {
    /// The configuration these options describe.
    pub fn config(&self) -> Result<MockConfig, String> {
        Ok(MockConfig {
            api_key: self.key.clone(),
            latency: duration("--latency-ms", self.latency_ms / 1000.0)?,
            queued_for: duration("--queued-ms", self.queued_ms / 1000.0)?,
            processing_for: duration("--processing-ms", self.processing_ms / 1000.0)?,
            retention: duration("--retention-s", self.retention_s)?,
            credits: self.credits,
            cost: self.cost,
            balance_usd_micros: self.balance_usd_micros,
            daily_limit_usd_micros: self.daily_limit_usd_micros,
            inflight_limit: self.inflight_limit,
            segmind_per_minute: self.per_minute,
            generation_polls: None,
            webhook_receiver: None,
            usage_costs: self.usage_costs,
            fixed_seed: self.seed,
            seed_offset: 0,
            // A running mock serves every process itself.
            job_folder: None,
        })
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn duration(what: &str, seconds: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{what}: {seconds} is not a duration"))
}

/// Starts the mock `args` describe, prints `api URL cdn URL key KEY ledger
/// URL` on one line on stdout, calls `on_ready` with it, and serves until
/// Ctrl-C.
pub async fn serve(args: &MockArgs, on_ready: impl FnOnce(&MockServer)) -> Result<(), String> {
    let mock = MockServer::start_on(args.listen, args.cdn_listen, args.config()?)
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    if args.fault_rate > 0.0 {
        mock.inject_random(args.fault_rate, Fault::all_kinds(), args.fault_seed);
    }
    println!(
        "api {} cdn {} key {} ledger {}{LEDGER_PATH}",
        mock.api_url(),
        mock.cdn_url(),
        mock.api_key(),
        mock.api_url(),
    );
    on_ready(&mock);
    let _ = tokio::signal::ctrl_c().await;
    mock.shutdown().await;
    Ok(())
}
