//! Section 6, build cost: clean release builds, each in a target folder of
//! its own under `target/` (removed once measured), so regressions from the
//! generated code show: the CLI with the embedded mock (default features),
//! the CLI without it, and the library alone.

use std::path::PathBuf;
use std::time::Instant;

/// One build to time.
pub(crate) struct Build {
    /// How the table names it.
    pub label: &'static str,
    /// Cargo's arguments after `build --release --quiet`.
    args: &'static [&'static str],
    /// What it makes, under `release/`, whose size is reported.
    artifact: &'static str,
    /// How the table names that.
    pub artifact_label: &'static str,
}

/// The builds, in the order the table shows them.
pub(crate) const BUILDS: &[Build] = &[
    Build {
        label: "CLI with the embedded mock (default features)",
        args: &["-p", "ideogram-cli"],
        artifact: "ideogram",
        artifact_label: "binary",
    },
    Build {
        label: "CLI without the mock (--no-default-features)",
        args: &["-p", "ideogram-cli", "--no-default-features"],
        artifact: "ideogram",
        artifact_label: "binary",
    },
    Build {
        label: "library alone (-p ideogram)",
        args: &["-p", "ideogram"],
        artifact: "libideogram.rlib",
        artifact_label: "rlib",
    },
];

/// A clean release build in its own target folder: (seconds, bytes of what
/// it made). The folder is removed afterwards.
pub(crate) fn measure(build: &Build) -> (f64, u64) {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-build-cost");
    let _ = std::fs::remove_dir_all(&target);
    let started = Instant::now();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .args(build.args)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo build");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        status.success(),
        "the release build of {} failed",
        build.label
    );
    let size = std::fs::metadata(target.join("release").join(build.artifact))
        .map(|m| m.len())
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&target);
    (seconds, size)
}
