//! Shared set-up for the tests that run the `ideogram` binary.
#![allow(dead_code)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ideogram_mock::{Delivery, MockConfig, MockServer};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_ideogram");

/// The binary with `args` in `dir`, no key in its environment but `env`.
pub(crate) fn command(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("SEGMIND_API_KEY")
        .env_remove("IDEOGRAM_API_KEY")
        .env("NO_COLOR", "1")
        // Offline jobs kept in the build's folder, not the user's cache.
        .env("IDEOGRAM_OFFLINE_JOBS", offline_jobs());
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Where the tests' offline mocks keep their queued jobs unless a test
/// names its own folder.
pub(crate) fn offline_jobs() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("offline-jobs")
}

/// Runs the binary to its end (off the runtime: the mock runs there).
pub(crate) async fn run(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    let mut command = command(args, env, dir);
    tokio::task::spawn_blocking(move || command.output().expect("run ideogram"))
        .await
        .expect("join")
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

/// (width, height) of the image in `path`.
pub(crate) fn dimensions(path: &Path) -> (u32, u32) {
    workspace_tests::image_dimensions(&std::fs::read(path).unwrap())
}

/// Writes a PNG of `width` x `height` in one colour at `dir/name`.
pub(crate) fn write_png(dir: &Path, name: &str, width: u32, height: u32, rgb: [u8; 3]) {
    let png = ideogram_mock::ImageSpec {
        width,
        height,
        seed: 1,
        palette: vec![rgb],
        transparent: false,
    }
    .png();
    std::fs::write(dir.join(name), png).unwrap();
}

pub(crate) async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config).await.expect("mock")
}

pub(crate) fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub(crate) fn write_batch(dir: &Path, count: usize) -> PathBuf {
    let mut lines = vec!["# a comment".to_owned()];
    for i in 0..count {
        if i % 2 == 0 {
            lines.push(format!("prompt number {i}"));
        } else {
            lines.push(format!(
                r#"{{"prompt": "prompt number {i}", "seed": {}}}"#,
                1000 + i
            ));
        }
    }
    let path = dir.join("prompts.txt");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// Every prompt billed exactly once, every image on disk, no partial files.
pub(crate) fn assert_complete(mock: &MockServer, out: &Path, count: usize) {
    let ledger = mock.ledger();
    for i in 0..count {
        let billed = ledger.for_prompt(&format!("prompt number {i}")).count();
        assert_eq!(billed, 1, "prompt {i} billed {billed} times");
    }
    assert!(
        ledger
            .entries
            .iter()
            .all(|e| e.delivery != Delivery::Broken)
    );
    let names = files(out);
    let images = names
        .iter()
        .filter(|n| n.ends_with(".jpg") || n.ends_with(".png"))
        .count();
    assert_eq!(images, count, "{names:?}");
    assert!(
        names.iter().all(|n| !n.contains(".part")),
        "partial files left: {names:?}"
    );
}

/// Starts a batch and waits until some items are saved while others are
/// paid for but not on disk yet; returns the running child. (Never block the
/// test's runtime while a child runs: the mock serving it runs there.)
#[allow(
    clippy::zombie_processes,
    reason = "the child is returned; the caller waits for it"
)]
pub(crate) async fn start_batch_until_half_way(
    args: &[&str],
    dir: &Path,
    variable: &str,
    key: &str,
) -> std::process::Child {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env(variable, key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.join("out/.ideogram-batch.jsonl");
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let saved = text.matches("\"saved\"").count();
        let paid = text.matches("\"submitted\"").count() + text.matches("\"generated\"").count();
        if saved >= 2 && paid > saved {
            return child;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the batch never got going: {text}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The binary running in the background, its stderr (and stdout)
/// collected as they come.
pub(crate) struct Running {
    pub child: std::process::Child,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

/// Collects the lines of `pipe` into `into` until it closes.
fn collect_lines(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    })
}

impl Running {
    /// Starts the binary in `dir` with `env` (and no key otherwise).
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Self {
        let mut child = command(args, env, dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ideogram");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let reader = collect_lines(child.stderr.take().expect("stderr"), stderr.clone());
        collect_lines(child.stdout.take().expect("stdout"), stdout.clone());
        Self {
            child,
            stderr,
            stdout,
            reader,
        }
    }

    /// What it printed on stdout so far.
    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// What it printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (`INT`, `TERM`, `KILL`).
    pub(crate) fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{signal}");
    }

    /// Waits (off the runtime: the mock serving it runs there) until its
    /// stderr holds `text`; panics with what it printed after 60 s.
    pub(crate) async fn printed(&mut self, text: &str) {
        let started = Instant::now();
        loop {
            // Looked at in this order, so that a line that came just before
            // the end is seen.
            let ended = self.reader.is_finished();
            if self.stderr().contains(text) {
                return;
            }
            if ended {
                panic!("it ended without printing {text:?}:\n{}", self.stderr());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "never printed {text:?}:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for it to end; returns its exit code and everything it printed
    /// on stderr.
    pub(crate) async fn finish(mut self) -> (i32, String) {
        tokio::task::spawn_blocking(move || {
            let status = self.child.wait().expect("wait");
            // The reader ends at the end of the pipe, once the process is gone.
            self.reader.join().expect("stderr reader");
            let text = self.stderr.lock().unwrap().clone();
            (status.code().unwrap_or(-1), text)
        })
        .await
        .expect("join")
    }
}

/// The longest a test waits for an event before it fails (a guard against
/// a hang, not a measurement).
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

/// Waits until `ready()` holds, looking every 10 ms; panics naming `what`
/// after [`DEADLINE`].
pub(crate) async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < DEADLINE,
            "waited {DEADLINE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for `event`; panics naming `what` after [`DEADLINE`].
pub(crate) async fn within<T>(what: &str, event: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, event)
        .await
        .unwrap_or_else(|_| panic!("waited {DEADLINE:?} for {what}"))
}

/// Waits until the file at `path` holds `text` `times` times; panics after
/// 60 s.
pub(crate) async fn file_holds(path: &Path, text: &str, times: usize) {
    let started = Instant::now();
    loop {
        let now = std::fs::read_to_string(path).unwrap_or_default();
        if now.matches(text).count() >= times {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} never held {text:?} {times} times:\n{now}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
