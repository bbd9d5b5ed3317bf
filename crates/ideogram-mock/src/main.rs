//! `ideogram-mock`: the mock service as a process, for other languages' test
//! suites and for benchmarks. `ideogram-mock --help` lists every setting
//! with its default.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ideogram_mock::{Fault, LEDGER_PATH, MockConfig, MockServer};

/// A stand-in for Segmind's and Ideogram's image APIs on loopback: real
/// HTTP, real images, the v2 queue, rate and in-flight limits, faults and a
/// billing ledger. Prints `api URL cdn URL key KEY` once it listens; the
/// ledger is at `GET <api>/mock/ledger` as JSON. Stops on Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "ideogram-mock", version)]
struct Args {
    /// Where the API listens (both services' paths).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the image origin listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    cdn_listen: SocketAddr,
    /// The only API key accepted, by both services.
    #[arg(long, default_value_t = MockConfig::default().api_key)]
    key: String,
    /// Milliseconds a synchronous generation takes.
    #[arg(long, default_value_t = millis(MockConfig::default().latency))]
    latency_ms: f64,
    /// Milliseconds a queued request stays QUEUED.
    #[arg(long, default_value_t = millis(MockConfig::default().queued_for))]
    queued_ms: f64,
    /// Milliseconds a queued request stays PROCESSING (a prompt holding
    /// `mock:ms=N` asks for N instead).
    #[arg(long, default_value_t = millis(MockConfig::default().processing_for))]
    processing_ms: f64,
    /// Seconds a queued request's status and result are kept (Segmind: 1 hour).
    #[arg(long, default_value_t = MockConfig::default().retention.as_secs_f64())]
    retention_s: f64,
    /// Credits on the account.
    #[arg(long, default_value_t = MockConfig::default().credits)]
    credits: f64,
    /// What one image costs.
    #[arg(long, default_value_t = MockConfig::default().cost)]
    cost: f64,
    /// Images Ideogram lets be in flight at once (10 documented).
    #[arg(long, default_value_t = MockConfig::default().inflight_limit)]
    inflight_limit: u32,
    /// Segmind's POSTs a minute (5 free, 50 Pro) [default: no limit].
    #[arg(long)]
    per_minute: Option<u32>,
    /// Share of requests (0 to 1) that suffer a random fault of every kind.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Seed for the random faults, so a run can be repeated.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn duration(what: &str, seconds: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{what}: {seconds} is not a duration"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ideogram-mock: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config = MockConfig {
        api_key: args.key,
        latency: duration("--latency-ms", args.latency_ms / 1000.0)?,
        queued_for: duration("--queued-ms", args.queued_ms / 1000.0)?,
        processing_for: duration("--processing-ms", args.processing_ms / 1000.0)?,
        retention: duration("--retention-s", args.retention_s)?,
        credits: args.credits,
        cost: args.cost,
        inflight_limit: args.inflight_limit,
        segmind_per_minute: args.per_minute,
    };
    let mock = MockServer::start_on(args.listen, args.cdn_listen, config)
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
    let _ = tokio::signal::ctrl_c().await;
    mock.shutdown().await;
    Ok(())
}
