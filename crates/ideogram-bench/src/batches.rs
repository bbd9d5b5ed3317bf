//! Section 5, batches: the CLI's `batch` (the real binary) against a mock
//! in another process whose generations take a latency L, on Ideogram's API
//! (synchronous, at most 10 images in flight). Wall time against the ideal,
//! peak memory at two sizes (bytes per item from their difference), and the
//! time a finished batch takes to run again (everything skipped by its
//! journal).
//!
//! The limit model: the CLI keeps `--concurrency` items under way and the
//! client holds at most 10 images in flight on Ideogram (one slot per image,
//! held while its request is answered), so at most `min(concurrency, 10)`
//! generations overlap and the ideal is `ceil(n / min(concurrency, 10)) * L`.
//! Downloading and saving hold the item's place in the batch but not its
//! in-flight slot, so they count against the ideal only when concurrency is
//! the binding limit; here it is two above the in-flight limit, so that
//! saving one image overlaps generating the next and the limit decides.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::overhead::ExternalMock;
use crate::procfs::{ChildRun, watch};

/// Items under way at once: two more than the in-flight limit, as a user
/// after the fastest batch would pass.
pub(crate) const CONCURRENCY: usize = IN_FLIGHT + 2;

/// Ideogram's in-flight limit, as the client holds it.
pub(crate) const IN_FLIGHT: usize = ideogram::IDEOGRAM_IN_FLIGHT_LIMIT as usize;

/// One batch run's figures.
pub(crate) struct BatchRun {
    pub n: usize,
    pub run: ChildRun,
    pub ideal: Duration,
}

/// Everything measured: a small and a large batch, and the large one run
/// again once finished.
pub(crate) struct Report {
    pub latency: Duration,
    pub small: BatchRun,
    pub large: BatchRun,
    pub rerun: ChildRun,
}

impl Report {
    /// Peak memory per item: the large batch's peak less the small one's,
    /// over the items between them.
    pub(crate) fn bytes_per_item(&self) -> f64 {
        (self.large.run.peak_kib as f64 - self.small.run.peak_kib as f64) * 1024.0
            / (self.large.n - self.small.n) as f64
    }
}

/// Runs batches of `small` and `large` prompts with generations taking
/// `latency`, then the large one again.
pub(crate) fn run(cli: &Path, small: usize, large: usize, latency: Duration) -> Report {
    let mock = ExternalMock::start(latency);
    let root = std::env::temp_dir().join(format!("ideogram-bench-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");
    let ideal = |n: usize| latency * n.div_ceil(CONCURRENCY.min(IN_FLIGHT)) as u32;
    let small_run = batch(cli, &mock, &root, small);
    let large_run = batch(cli, &mock, &root, large);
    let rerun = batch(cli, &mock, &root, large);
    let _ = std::fs::remove_dir_all(&root);
    Report {
        latency,
        small: BatchRun {
            n: small,
            run: small_run,
            ideal: ideal(small),
        },
        large: BatchRun {
            n: large,
            run: large_run,
            ideal: ideal(large),
        },
        rerun,
    }
}

/// `ideogram batch` of `n` prompts into `root/n/` (a rerun when it is there
/// already), timed and watched.
fn batch(cli: &Path, mock: &ExternalMock, root: &Path, n: usize) -> ChildRun {
    let dir: PathBuf = root.join(n.to_string());
    let prompts = root.join(format!("prompts-{n}.txt"));
    if !prompts.exists() {
        let text: String = (0..n)
            .map(|i| format!("a batch of prompts, {i}\n"))
            .collect();
        std::fs::write(&prompts, text).expect("prompts");
    }
    let started = Instant::now();
    let child = Command::new(cli)
        .args(["--provider", "ideogram", "--base-url", &mock.api, "batch"])
        .arg(&prompts)
        .arg("-o")
        .arg(&dir)
        .args(["--concurrency", &CONCURRENCY.to_string()])
        .env("IDEOGRAM_API_KEY", &mock.key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the CLI");
    let run = watch(child, started);
    assert!(run.success, "the batch of {n} failed");
    run
}
