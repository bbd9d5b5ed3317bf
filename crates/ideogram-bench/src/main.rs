//! `ideogram-bench`: the numbers in the README's benchmark table.
//!
//! ```text
//! ideogram-bench [--smoke] [--python PYTHON] [--cli PATH] [--build-cost]
//! ```
//!
//! `--smoke` runs every section small and fast (CI uses it; it checks that
//! the benchmark works, not how fast anything is). `--python` names a Python
//! with the `segmind` SDK installed; `--cli` the `ideogram` binary to time
//! (and to run batches with); `--build-cost` adds clean release builds of
//! the CLI with and without the embedded mock, and of the library (many
//! minutes); `--only SECTION` runs one section alone (for profiling).

mod batches;
mod build_cost;
mod instructions;
mod memory;
mod overhead;
mod polling;
mod procfs;
mod throughput;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ideogram::PollSchedule;
use ideogram_mock::{MockConfig, MockServer};

struct Settings {
    smoke: bool,
    /// `--only overhead|batch|build`: that section alone.
    only: Option<String>,
    python: Option<PathBuf>,
    cli: Option<PathBuf>,
    build_cost: bool,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve-mock") => return serve_mock(args.get(1).map(String::as_str)).await,
        Some("memory-probe") => return memory::probe(&args[1], &args[2]).await,
        Some("plan-cost") => {
            let n = args[2].parse().expect("a count");
            return polling::plan_cost(&args[1], n, args.get(3).is_some());
        }
        Some("count-worker") => return instructions::worker(&args[1..]),
        _ => {}
    }
    let mut settings = Settings {
        smoke: false,
        only: None,
        python: None,
        cli: None,
        build_cost: false,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--smoke" => settings.smoke = true,
            "--build-cost" => settings.build_cost = true,
            "--only" => settings.only = rest.next().cloned(),
            "--python" => settings.python = rest.next().map(PathBuf::from),
            "--cli" => {
                settings.cli = rest
                    .next()
                    .map(|p| std::fs::canonicalize(p).expect("the --cli binary exists"))
            }
            other => {
                eprintln!(
                    "usage: ideogram-bench [--smoke] [--python PYTHON] [--cli PATH] [--build-cost] [--only polling|overhead|instructions|batch|build] (not {other:?})"
                );
                std::process::exit(2);
            }
        }
    }
    if settings.only.is_some() {
        println!("| benchmark | result | target |");
        println!("|---|---|---|");
    }
    match settings.only.as_deref() {
        None => run(&settings).await,
        Some("polling") => polling_section(&settings).await,
        Some("overhead") => overhead_section(&settings),
        Some("instructions") => instructions_section(&settings),
        Some("batch") => batch_section(&settings).await,
        Some("build") => build_section(&settings),
        Some(other) => {
            eprintln!(
                "--only takes polling, overhead, instructions, batch or build, not {other:?}"
            );
            std::process::exit(2);
        }
    }
}

/// A mock in its own process, its generations taking `latency_ms` (0 when
/// not given): with no queue time, a fixed seed (identical requests render
/// one image, encoded once and served from the cache) and no zero sleeps,
/// so what it costs is its HTTP and checks alone.
async fn serve_mock(latency_ms: Option<&str>) {
    let latency = latency_ms.map_or(0, |ms| ms.parse().expect("latency in ms"));
    let config = MockConfig {
        latency: Duration::from_millis(latency),
        queued_for: Duration::ZERO,
        processing_for: Duration::ZERO,
        fixed_seed: Some(1),
        ..MockConfig::default()
    };
    let mock = MockServer::start(config).await.expect("mock");
    println!(
        "api {} cdn {} key {}",
        mock.api_url(),
        mock.cdn_url(),
        mock.api_key()
    );
    std::future::pending::<()>().await;
}

async fn run(s: &Settings) {
    let started = Instant::now();
    println!("| benchmark | result | target |");
    println!("|---|---|---|");

    // 1. Throughput under the in-flight limit.
    let (n, latency) = if s.smoke {
        (20, Duration::from_millis(50))
    } else {
        (200, Duration::from_millis(200))
    };
    for (label, limited) in [
        ("client (in-flight limit 10)", true),
        ("naive unbounded fan-out", false),
    ] {
        let r = throughput::run(n, latency, limited).await;
        println!(
            "| throughput, {n} generations, L={} ms, {label} | {:.2} s vs ideal {:.2} s = {:.1} % of ideal; {} x 429, {} failed, {} billed twice | >= 95 %, 0 failed, 0 billed twice |",
            latency.as_millis(),
            r.wall.as_secs_f64(),
            r.ideal.as_secs_f64(),
            100.0 * r.ideal.as_secs_f64() / r.wall.as_secs_f64(),
            r.rejected,
            r.failures,
            r.double_billed,
        );
    }

    polling_section(s).await;
    overhead_section(s);
    instructions_section(s);

    // 4. Memory while saving a large image.
    let bytes = if s.smoke {
        5 * 1024 * 1024
    } else {
        50 * 1024 * 1024
    };
    let (baseline, peak) = memory::measure(bytes).await;
    println!(
        "| memory, saving a {} MB image | peak RSS {:.1} MB, baseline {:.1} MB: +{:.1} MB | within a few MB of baseline |",
        bytes / (1024 * 1024),
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0,
        peak.saturating_sub(baseline) as f64 / 1024.0
    );

    batch_section(s).await;
    build_section(s);
    eprintln!(
        "benchmark finished in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Section 2: queue polling, against the mock and simulated.
async fn polling_section(s: &Settings) {
    // Spread evenly but out of step with any fixed poll interval (golden
    // ratio steps), so no schedule lands on completions by luck.
    let (jobs, low, span) = if s.smoke {
        (4, 100.0, 300.0)
    } else {
        (10, 1000.0, 7000.0)
    };
    let durations: Vec<Duration> = (0..jobs)
        .map(|i| Duration::from_millis((low + span * (f64::from(i) * 0.618_034).fract()) as u64))
        .collect();
    let spread = format!("{:.1}-{:.1} s", low / 1000.0, (low + span) / 1000.0);
    let fixed = polling::run(
        "fixed 1 s (official SDK: at once, then every second)",
        PollSchedule::fixed(Duration::from_secs(1)),
        &durations,
        false,
    )
    .await;
    let ours = polling::run(
        "learned default, after the same jobs once",
        PollSchedule::default(),
        &durations,
        true,
    )
    .await;
    for r in [&fixed, &ours] {
        println!(
            "| queue polling against the mock, {} jobs of {spread} in flight together, {} | mean delay {:.2} s, p95 {:.2} s, {:.1} status calls per job | a check that `Job::wait` follows the plan; the simulated table is the measure |",
            durations.len(),
            r.label,
            r.mean_delay.as_secs_f64(),
            r.p95_delay.as_secs_f64(),
            r.calls_per_job,
        );
    }
    // What a plan costs, in instructions (the same on every run) and CPU.
    for mode in polling::PLAN_COSTS {
        let what = match mode {
            "prior" => "a plan on the prior (a model's first job)",
            "learned" => {
                "a job of a model with 32 observations, one more each job (a plan made every 8th)"
            }
            _ => "a job whose plan is cached (each in flight, or the next of a batch)",
        };
        match polling::plan_instructions(mode) {
            Some((instructions, cpu)) => println!(
                "| queue polling, CPU per job for {what} | {:.1}k instructions (callgrind); {:.1} µs CPU | microseconds per job |",
                instructions / 1e3,
                cpu.as_secs_f64() * 1e6,
            ),
            None => println!(
                "| queue polling, CPU per job for {what} | not measured: valgrind not found | |"
            ),
        }
    }
    // The default schedule on simulated jobs (virtual time, seeded), per
    // scenario and job index, against the official SDK's poll on the same
    // completion times.
    let key = "/v2/ideogram-2a-txt-2-img";
    let documented = ideogram_raw_typical(key);
    let d = documented.expect("the spec documents it").as_secs_f64();
    let n = if s.smoke { 20 } else { 2000 };
    let log_normal = |median, sigma| polling::Times::LogNormal { median, sigma };
    let scenarios = [
        (
            format!("1/3x the documented {d:.2} s"),
            log_normal(d / 3.0, 0.3),
            documented,
        ),
        (
            format!("1x the documented {d:.2} s"),
            log_normal(d, 0.3),
            documented,
        ),
        (
            format!("3x the documented {d:.2} s"),
            log_normal(3.0 * d, 0.3),
            documented,
        ),
        (
            "bimodal: 70 % at 8 s, 30 % at 30 s".to_owned(),
            polling::Times::Bimodal {
                a: 8.0,
                b: 30.0,
                share: 0.7,
            },
            documented,
        ),
        (
            format!("heavy tail: sigma 0.8 around {d:.2} s"),
            log_normal(d, 0.8),
            documented,
        ),
        (
            "uniform 1-20 s".to_owned(),
            polling::Times::Uniform {
                low: 1.0,
                high: 20.0,
            },
            documented,
        ),
        (
            "no documented time, uniform 1-20 s".to_owned(),
            polling::Times::Uniform {
                low: 1.0,
                high: 20.0,
            },
            None,
        ),
        (
            "no documented time, 30 s (sigma 0.3)".to_owned(),
            log_normal(30.0, 0.3),
            None,
        ),
    ];
    let rows = [
        ("job 1", polling::Row::Job(1)),
        ("job 2", polling::Row::Job(2)),
        ("job 5", polling::Row::Job(5)),
        ("steady (after 40)", polling::Row::Steady { learn: 40 }),
        ("batch of 10 in flight", polling::Row::Batch),
    ];
    println!();
    println!(
        "| queue polling, simulated ({n} jobs a row) | jobs | mean delay, ours / SDK | worst delay, ours / SDK | calls per job, ours / SDK | verdict |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, times, typical) in &scenarios {
        let key = if typical.is_some() {
            key
        } else {
            "/v2/ideogram-3"
        };
        for (which, row) in rows {
            let (ours, sdk) = polling::simulate(*times, key, *typical, row, n);
            // Compared as printed (to the hundredth).
            let sign = |ours: f64, sdk: f64| {
                ((ours * 100.0).round() as i64 - (sdk * 100.0).round() as i64)
                    .signum()
                    .rem_euclid(3) as usize
            };
            let delay = ["as soon", "later", "sooner"][sign(ours.mean_delay(), sdk.mean_delay())];
            let calls = sign(ours.calls_per_job(), sdk.calls_per_job());
            let calls = ["as many calls", "more calls", "fewer calls"][calls];
            let verdict = match (delay, calls) {
                ("later", "more calls") => "WORSE ON BOTH".to_owned(),
                (delay, calls) => format!("{delay}, {calls}"),
            };
            let worst = if ours.worst_delay() > 2.0 {
                " (OVER 2 s)"
            } else {
                ""
            };
            println!(
                "| {label} | {which} | {:.2} / {:.2} s | {:.2}{worst} / {:.2} s | {:.2} / {:.2} | {verdict} |",
                ours.mean_delay(),
                sdk.mean_delay(),
                ours.worst_delay(),
                sdk.worst_delay(),
                ours.calls_per_job(),
                sdk.calls_per_job(),
            );
        }
    }
    println!();
}

/// Section 3: CPU per call, client against the floor, and the CLI and the
/// Python SDK.
/// Section 3b: instructions per call (callgrind), client against floor, for
/// each operation on both runtimes; and whole CLI processes.
fn instructions_section(s: &Settings) {
    if s.smoke {
        println!("| instructions (callgrind) | not counted under --smoke | |");
        return;
    }
    let mock = overhead::ExternalMock::start(Duration::ZERO);
    // `IDEOGRAM_BENCH_OPS=generate3,edit` counts those operations alone
    // (for profiling a change); unset, all of them.
    let wanted = std::env::var("IDEOGRAM_BENCH_OPS").ok();
    let wanted = |op: &instructions::Op| {
        wanted
            .as_deref()
            .is_none_or(|list| list.split(',').any(|name| name == op.name()))
    };
    for op in instructions::Op::ALL.into_iter().filter(wanted) {
        for (runtime, multi) in [("current-thread", false), ("multi-thread", true)] {
            match instructions::per_call(&mock, op, multi) {
                Ok((client, floor)) => println!(
                    "| instructions per {}, {runtime} runtime | client {:.1}k, floor (plain reqwest) {:.1}k: {:.3}x the floor | <= 1.10x |",
                    op.label(),
                    client / 1e3,
                    floor / 1e3,
                    client / floor,
                ),
                Err(err) => println!("| instructions per {} | not counted: {err} | |", op.label()),
            }
        }
    }
    if let Some(cli) = &s.cli {
        let version = instructions::process(cli, &["--version"], &[]);
        let generate = instructions::process(
            cli,
            &[
                "--provider",
                "segmind",
                "--base-url",
                &mock.api,
                "generate",
                "overhead",
                "--sync",
                "-o",
                "out.jpg",
            ],
            &[("SEGMIND_API_KEY", &mock.key)],
        );
        match (generate, version) {
            (Ok(generate), Ok(version)) => println!(
                "| instructions, one CLI process (user space, loader included) | sync generate {:.2}M, --version {:.2}M | <= 2.5M, < 1M |",
                generate as f64 / 1e6,
                version as f64 / 1e6,
            ),
            (Err(err), _) | (_, Err(err)) => {
                println!("| instructions, one CLI process | not counted: {err} | |")
            }
        }
    }
}

fn overhead_section(s: &Settings) {
    // 3. Overhead, against a zero-latency mock in another process.
    let (n, rounds) = if s.smoke { (20, 1) } else { (3000, 5) };
    let mock = overhead::ExternalMock::start(Duration::ZERO);
    let (current, multi) = overhead::in_process(&mock, n, rounds);
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    for (runtime, side) in [("current-thread", &current), ("multi-thread", &multi)] {
        for (what, client, floor) in [
            ("sync call (v1)", side.client.sync, side.floor.sync),
            (
                "queued job (submit, status, result)",
                side.client.queue,
                side.floor.queue,
            ),
        ] {
            println!(
                "| overhead, CPU per {what}, {runtime} runtime, {n} each | Rust client {:.0} µs, floor (plain reqwest) {:.0} µs: {:.2}x the floor | client <= 1.2x the floor |",
                micros(client),
                micros(floor),
                client.as_secs_f64() / floor.as_secs_f64(),
            );
        }
    }
    if let Some(cli) = &s.cli {
        let calls = n.min(50);
        let per = overhead::cli(&mock, cli, calls);
        println!(
            "| overhead, CLI, CPU per call ({calls} calls; one process per sync call, one batch for the queue, which also downloads) | {:.1} ms sync, {:.1} ms queued | |",
            per.sync.as_secs_f64() * 1e3,
            per.queue.as_secs_f64() * 1e3,
        );
    }
    match s.python.as_deref().map(|p| overhead::python(&mock, p, n)) {
        Some(Ok(py)) => {
            println!(
                "| overhead, official Python SDK, CPU per call, {n} each | {:.0} µs sync, {:.0} µs queued | |",
                micros(py.sync),
                micros(py.queue),
            );
            println!(
                "| overhead ratio, Python SDK / Rust client (current-thread) | {:.1}x sync, {:.1}x queued | higher is better |",
                py.sync.as_secs_f64() / current.client.sync.as_secs_f64(),
                py.queue.as_secs_f64() / current.client.queue.as_secs_f64(),
            );
        }
        Some(Err(err)) => println!(
            "| overhead, official Python SDK | not measured: {} | |",
            err.lines().last().unwrap_or("failed")
        ),
        None => {}
    }
    drop(mock);
}

/// Section 5: batches through the CLI (with `--cli`).
async fn batch_section(s: &Settings) {
    // 5. Batches through the CLI.
    if let Some(cli) = &s.cli {
        let (small, large, latency) = if s.smoke {
            (20, 50, Duration::from_millis(20))
        } else {
            (1000, 10_000, Duration::from_millis(200))
        };
        let cli = cli.clone();
        let r = tokio::task::spawn_blocking(move || batches::run(&cli, small, large, latency))
            .await
            .expect("batches");
        for b in [&r.small, &r.large] {
            println!(
                "| batch of {} prompts through the CLI, L={} ms, --concurrency {} (Ideogram, {} in flight) | {:.2} s vs ideal {:.2} s = {:.1} % of ideal; peak RSS {:.1} MB | >= 97 % |",
                b.n,
                r.latency.as_millis(),
                batches::CONCURRENCY,
                batches::IN_FLIGHT,
                b.run.wall.as_secs_f64(),
                b.ideal.as_secs_f64(),
                100.0 * b.ideal.as_secs_f64() / b.run.wall.as_secs_f64(),
                b.run.peak_kib as f64 / 1024.0,
            );
        }
        println!(
            "| batch memory per prompt, (peak at {} - peak at {}) / {} | {:.0} bytes per item | no growth beyond the journal's index |",
            r.large.n,
            r.small.n,
            r.large.n - r.small.n,
            r.bytes_per_item(),
        );
        println!(
            "| rerun of a finished batch of {} (all skipped by its journal) | {:.2} s, peak RSS {:.1} MB | < 1 s |",
            r.large.n,
            r.rerun.wall.as_secs_f64(),
            r.rerun.peak_kib as f64 / 1024.0,
        );
    }
}

/// Section 6: clean release builds (with `--build-cost`).
fn build_section(s: &Settings) {
    // 6. Build cost.
    if s.build_cost || s.only.is_some() {
        for build in build_cost::BUILDS {
            let (seconds, size) = build_cost::measure(build);
            println!(
                "| clean release build, {} | {seconds:.0} s, {} {:.1} MB | |",
                build.label,
                build.artifact_label,
                size as f64 / 1_048_576.0
            );
        }
    }
}

/// The typical time the Segmind spec gives for the queue operation at `path`.
fn ideogram_raw_typical(path: &str) -> Option<Duration> {
    ideogram::raw::segmind::operations::ALL
        .iter()
        .find(|op| op.path == path)
        .and_then(|op| op.typical)
}
