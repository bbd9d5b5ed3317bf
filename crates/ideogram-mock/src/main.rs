//! `ideogram-mock`: the mock service as a process, for other languages' test
//! suites and for benchmarks.
//!
//! ```text
//! ideogram-mock [--listen 127.0.0.1:8080] [--cdn-listen 127.0.0.1:8081]
//!               [--key mock-key] [--latency-ms 20] [--queued-ms 50]
//!               [--processing-ms 100] [--retention-s 3600] [--credits 1000000]
//!               [--cost 0.05] [--inflight-limit 10] [--per-minute N]
//!               [--fault-rate 0.2 --fault-seed 7]
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ideogram_mock::{Fault, MockConfig, MockServer};

const USAGE: &str = "usage: ideogram-mock [--listen ADDR] [--cdn-listen ADDR] [--key KEY] [--latency-ms N] \
[--queued-ms N] [--processing-ms N] [--retention-s N] [--credits N] [--cost N] [--inflight-limit N] \
[--per-minute N] [--fault-rate R] [--fault-seed N]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ideogram-mock: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let mut config = MockConfig::default();
    let mut listen: SocketAddr = "127.0.0.1:8080".parse().expect("address");
    let mut cdn: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let (mut fault_rate, mut fault_seed) = (0.0, 0);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            return Ok(());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        let ms = |v: &str| number(v).map(|n| Duration::from_secs_f64(n / 1000.0));
        match flag.as_str() {
            "--listen" => {
                listen = value
                    .parse()
                    .map_err(|_| format!("--listen: {value:?} is not an address"))?
            }
            "--cdn-listen" => {
                cdn = value
                    .parse()
                    .map_err(|_| format!("--cdn-listen: {value:?} is not an address"))?
            }
            "--key" => config.api_key = value,
            "--latency-ms" => config.latency = ms(&value)?,
            "--queued-ms" => config.queued_for = ms(&value)?,
            "--processing-ms" => config.processing_for = ms(&value)?,
            "--retention-s" => config.retention = Duration::from_secs_f64(number(&value)?),
            "--credits" => config.credits = number(&value)?,
            "--cost" => config.cost = number(&value)?,
            "--inflight-limit" => config.inflight_limit = number(&value)? as u32,
            "--per-minute" => config.segmind_per_minute = Some(number(&value)? as u32),
            "--fault-rate" => fault_rate = number(&value)?,
            "--fault-seed" => fault_seed = number(&value)? as u64,
            other => return Err(format!("unknown option {other}")),
        }
    }
    let mock = MockServer::start_on(listen, cdn, config)
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    if fault_rate > 0.0 {
        mock.inject_random(fault_rate, Fault::all_kinds(), fault_seed);
    }
    println!(
        "api {} cdn {} key {}",
        mock.api_url(),
        mock.cdn_url(),
        mock.api_key()
    );
    let _ = tokio::signal::ctrl_c().await;
    mock.shutdown().await;
    Ok(())
}
