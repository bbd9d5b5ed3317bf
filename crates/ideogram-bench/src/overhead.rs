//! Section 3, overhead: generations per CPU-second against a zero-latency mock in
//! another process, for the Rust client, the CLI and the official Python
//! SDK, doing the same sync (v1) and queue (submit, status, result) calls.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ideogram::{Client, GenerateRequest, PollSchedule, Provider};

use crate::procfs::cpu_seconds;

/// The mock in a child process: this binary's `serve-mock` subcommand.
pub(crate) struct ExternalMock {
    child: Child,
    pub api: String,
    pub key: String,
}

impl ExternalMock {
    pub(crate) fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this binary"))
            .arg("serve-mock")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("the mock's address");
        let words: Vec<&str> = line.split_whitespace().collect();
        Self {
            api: words[1].to_owned(),
            key: words[5].to_owned(),
            child,
        }
    }
}

impl Drop for ExternalMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Generations per CPU-second: (sync, queue).
pub(crate) type Rates = (f64, f64);

pub(crate) async fn rust(mock: &ExternalMock, n: usize) -> Rates {
    let client = Client::builder(Provider::Segmind)
        .base_url(&mock.api)
        .api_key(&mock.key)
        .poll_schedule(PollSchedule::fixed(Duration::from_millis(1)))
        .build()
        .expect("client");
    let request = GenerateRequest::new("overhead");
    let (before, _) = cpu_seconds();
    for _ in 0..n {
        client.generate(&request).await.expect("sync");
    }
    let (middle, _) = cpu_seconds();
    for _ in 0..n {
        client
            .submit(&request)
            .await
            .expect("submit")
            .wait()
            .await
            .expect("wait");
    }
    let (after, _) = cpu_seconds();
    (
        n as f64 / (middle - before).max(0.01),
        n as f64 / (after - middle).max(0.01),
    )
}

/// The CLI: `generate` once per call (sync), and one `batch` of n prompts
/// (queue, which also downloads each image).
pub(crate) fn cli(mock: &ExternalMock, cli: &Path, n: usize) -> Rates {
    let dir = std::env::temp_dir().join(format!("ideogram-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let run = |args: &[&str]| {
        let status = Command::new(cli)
            .args(["--provider", "segmind", "--base-url", &mock.api])
            .args(args)
            .env("SEGMIND_API_KEY", &mock.key)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run the CLI");
        assert!(status.success(), "the CLI failed: {args:?}");
    };
    let (_, before) = cpu_seconds();
    for i in 0..n {
        run(&["generate", "overhead", "-o", &format!("sync-{i}.jpg")]);
    }
    let (_, middle) = cpu_seconds();
    let prompts: String = (0..n).map(|i| format!("overhead {i}\n")).collect();
    std::fs::write(dir.join("prompts.txt"), prompts).expect("prompts");
    run(&["batch", "prompts.txt", "-o", "queue", "--concurrency", "1"]);
    let (_, after) = cpu_seconds();
    let _ = std::fs::remove_dir_all(&dir);
    (
        n as f64 / (middle - before).max(0.01),
        n as f64 / (after - middle).max(0.01),
    )
}

/// The official SDK, through `bench/python_sdk_overhead.py`.
pub(crate) fn python(mock: &ExternalMock, python: &Path, n: usize) -> Result<Rates, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python_sdk_overhead.py");
    let out = Command::new(python)
        .arg(script)
        .args([
            "--api",
            &mock.api,
            "--key",
            &mock.key,
            "--n",
            &n.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let rate = |key: &str| n as f64 / report[key].as_f64().unwrap_or(f64::NAN).max(0.01);
    Ok((rate("sync_cpu_s"), rate("queue_cpu_s")))
}
