//! `ideogram-mock`: the mock service as a process, for other languages' test
//! suites and for benchmarks. `ideogram-mock --help` lists every setting
//! with its default.

use std::process::ExitCode;

use clap::Parser;
use ideogram_mock::standalone::{MockArgs, serve};

/// A stand-in for Segmind's and Ideogram's image APIs on loopback: real
/// HTTP, real images, the v2 queue, rate and in-flight limits, faults and a
/// billing ledger. Prints `api URL cdn URL key KEY` once it listens; the
/// ledger is at `GET <api>/mock/ledger` as JSON. Stops on Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "ideogram-mock", version)]
struct Cli {
    #[command(flatten)]
    args: MockArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve(&Cli::parse().args, |_| {}).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ideogram-mock: {message}");
            ExitCode::from(2)
        }
    }
}
