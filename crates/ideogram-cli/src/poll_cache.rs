//! The completion times the poll schedule learned, kept across runs in the
//! user's cache folder, so that each run polls as well as the last ended.
//! A cache: unreadable, oversized or another version means starting afresh,
//! and leaving that file as it is (it may be another program's, or a newer
//! version's).

use std::io::Read;
use std::path::{Path, PathBuf};

use ideogram::{Client, CompletionTimes};

/// Overrides where the cache lives (any base URL, `--offline` included).
pub(crate) const VARIABLE: &str = "IDEOGRAM_POLL_CACHE";
/// The largest cache file read; a real one is a few KB.
const MAX_BYTES: u64 = 256 * 1024;

/// Where the cache is for this run: the variable's path, else
/// `<cache folder>/ideogram/completion-times.json`; none for the offline
/// mock or a service on loopback, whose times would mislead the real one.
pub(crate) fn path(offline: bool, on_loopback: bool) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(VARIABLE).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if offline || on_loopback {
        return None;
    }
    Some(dirs::cache_dir()?.join("ideogram/completion-times.json"))
}

/// The cached times at `path` (none learned when there is no file), or
/// `None` when a file is there that is not this version's cache: then it is
/// neither read nor replaced.
pub(crate) fn load(path: &Path) -> Option<CompletionTimes> {
    let mut text = String::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(MAX_BYTES + 1).read_to_string(&mut text));
    let loaded = match read {
        Ok(n) if n as u64 <= MAX_BYTES => CompletionTimes::from_json(&text),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(CompletionTimes::default()),
        Err(_) => None,
    };
    if loaded.is_none() {
        tracing::debug!(path = %path.display(), "not this version's poll cache: left alone");
    }
    loaded
}

/// Writes what `client` knows now to `path`, when it differs from `loaded`:
/// a temporary file beside it, then a rename (another run reading it sees the
/// old or the new, never half). Failing to write costs only learning.
pub(crate) fn save(path: &Path, client: &Client, loaded: &str) {
    let now = client.completion_times().to_json();
    if now == loaded {
        return;
    }
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&temporary, now))
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        tracing::debug!(error = %e, "the poll cache was not saved");
    }
}
