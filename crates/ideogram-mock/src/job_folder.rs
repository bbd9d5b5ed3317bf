//! Queued jobs kept in a folder ([`MockConfig::job_folder`]), so that mocks
//! in separate processes answer for each other's jobs: the CLI's
//! `--offline` starts a mock per command, and a user submits in one, asks
//! the status in the next and waits in a third. Segmind's queued jobs and
//! Ideogram's v2 generations that run on are kept alike.
//!
//! One file per job, `<kind>-<12 hex digits>.json` (`seg-` for Segmind's,
//! the call's own prefix, `ido-` say, for a v2 generation, whose id is
//! drawn at random: [`random_id`]): its name is reserved by
//! creating it (create-new, so two processes never take one id), then its
//! record is written to a temporary file beside it and renamed over it, so
//! a reader sees all of it or nothing. The record holds the job's outcome,
//! decided (and billed) at its submit, and the submit's wall-clock time:
//! any process tells QUEUED, PROCESSING and the end from the clock alone.
//! Files past the retention are removed; no other file of the folder is
//! touched, and none bigger than [`MAX_BYTES`] is read.
//!
//! [`MockConfig::job_folder`]: crate::MockConfig::job_folder

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::image::ImageSpec;

/// A Segmind job's id starts so (the mock's `seg-`).
const PREFIX: &str = "seg-";
/// The longest kind before the `-` of a kept job's id.
const MAX_KIND: usize = 10;
/// Hex digits after the prefix: 48 random bits, typed in a moment.
const DIGITS: usize = 12;
/// The largest job file read; a real one is well under a kilobyte.
const MAX_BYTES: u64 = 64 * 1024;
/// The record's layout; another one is not this version's to read.
const FORMAT: u32 = 1;
/// Folder entries looked at per prune, at most.
const MAX_SCAN: usize = 10_000;

/// One job as kept: when it was submitted, how long it queues and
/// processes, and how it ends.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Kept {
    format: u32,
    /// Milliseconds since the Unix epoch at the submit.
    submitted_ms: u64,
    queued_ms: u64,
    processing_ms: u64,
    pub end: KeptEnd,
}

/// How a kept job ends (billed at its submit, unless it fails).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum KeptEnd {
    /// An image, rendered from its spec by whichever process serves it.
    Image {
        spec: ImageSpec,
        inference_time: f64,
    },
    /// Words (the describe operation).
    Text { text: String, inference_time: f64 },
    /// An Ideogram v2 generation's results (`ImageObjectV2`s as JSON),
    /// their URLs on the image origin `cdn` of the process that took the
    /// call, each image by its name there and what it is drawn from; what
    /// it reports it cost, where it does; or why it fails (unbilled).
    Generation {
        data: serde_json::Value,
        images: Vec<(String, ImageSpec)>,
        cdn: String,
        usage_cost: Option<u64>,
        failure: Option<String>,
    },
    /// FAILED, and why.
    Failed { reason: String },
}

impl Kept {
    /// A job submitted now.
    pub(crate) fn new(queued_for: Duration, processing_for: Duration, end: KeptEnd) -> Self {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            format: FORMAT,
            submitted_ms: millis(since_epoch()),
            queued_ms: millis(queued_for),
            processing_ms: millis(processing_for),
            end,
        }
    }

    /// Time since the submit (none if the clock went back).
    pub(crate) fn elapsed(&self) -> Duration {
        since_epoch().saturating_sub(Duration::from_millis(self.submitted_ms))
    }

    /// How long it stays QUEUED.
    pub(crate) fn queued_for(&self) -> Duration {
        Duration::from_millis(self.queued_ms)
    }

    /// How long from its submit it runs, queued then processing.
    pub(crate) fn runs_for(&self) -> Duration {
        Duration::from_millis(self.queued_ms.saturating_add(self.processing_ms))
    }

    /// When it was submitted.
    pub(crate) fn submitted(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.submitted_ms)
    }

    /// Whether it has ended (queued, then processed, since its submit).
    pub(crate) fn ended(&self) -> bool {
        self.elapsed() >= Duration::from_millis(self.queued_ms.saturating_add(self.processing_ms))
    }
}

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The folder the jobs are kept in.
pub(crate) struct JobFolder<'a> {
    dir: &'a Path,
}

impl<'a> JobFolder<'a> {
    pub(crate) fn new(dir: &'a Path) -> Self {
        Self { dir }
    }

    /// Reserves `id` (one [`random_id`] drew), its file created empty: an
    /// id another process took is an error.
    pub(crate) fn reserve_id(&self, id: &str) -> std::io::Result<()> {
        if !is_id(id) {
            return Err(std::io::Error::other(format!("{id} is not a kept id")));
        }
        std::fs::create_dir_all(self.dir)?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path(id))
            .map(drop)
    }

    /// A fresh id, its file created empty so that no other process takes it.
    pub(crate) fn reserve(&self) -> std::io::Result<String> {
        std::fs::create_dir_all(self.dir)?;
        loop {
            let bits = rand::random::<u64>() & ((1 << (4 * DIGITS)) - 1);
            let id = format!("{PREFIX}{bits:0DIGITS$x}");
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.path(&id))
            {
                Ok(_) => return Ok(id),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes the record of the reserved `id`: a temporary file, then a
    /// rename over the reservation.
    pub(crate) fn write(&self, id: &str, job: &Kept) -> std::io::Result<()> {
        let temporary = self
            .dir
            .join(format!(".{id}.json.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&temporary)
            .and_then(|mut file| {
                file.write_all(&serde_json::to_vec(job).map_err(std::io::Error::other)?)?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&temporary, self.path(id)));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }

    /// The job `id`, if it is kept here and readable: an id not of this
    /// mock's form, a file too big or not this version's record is none.
    pub(crate) fn read(&self, id: &str) -> Option<Kept> {
        if !is_id(id) {
            return None;
        }
        let file = std::fs::File::open(self.path(id)).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        let mut bytes = Vec::new();
        file.take(MAX_BYTES + 1).read_to_end(&mut bytes).ok()?;
        if bytes.len() as u64 > MAX_BYTES {
            return None;
        }
        serde_json::from_slice::<Kept>(&bytes)
            .ok()
            .filter(|job| job.format == FORMAT)
    }

    /// Removes the job `id` (expired, or its submit failed).
    pub(crate) fn remove(&self, id: &str) {
        if is_id(id) {
            let _ = std::fs::remove_file(self.path(id));
        }
    }

    /// Removes this mock's files last written more than `retention` ago:
    /// expired jobs, and temporary files a killed process left.
    pub(crate) fn prune(&self, retention: Duration) {
        let Ok(entries) = std::fs::read_dir(self.dir) else {
            return;
        };
        for entry in entries.flatten().take(MAX_SCAN) {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_ours(name) {
                continue;
            }
            let old = entry
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .and_then(|meta| meta.modified().ok())
                .and_then(|written| written.elapsed().ok())
                .is_some_and(|age| age >= retention);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }
}

/// An id of `kind` (`ido`, ...) no other process draws: 48 random bits,
/// of the form kept jobs have, reserved when its job is kept.
pub(crate) fn random_id(kind: &str) -> String {
    let bits = rand::random::<u64>() & ((1 << (4 * DIGITS)) - 1);
    format!("{kind}-{bits:0DIGITS$x}")
}

/// Whether `id` is of the form this mock gives kept jobs: a short kind in
/// lower case, `-`, then 12 hex digits.
fn is_id(id: &str) -> bool {
    let Some((kind, hex)) = id.split_once('-') else {
        return false;
    };
    (1..=MAX_KIND).contains(&kind.len())
        && kind.bytes().all(|b| b.is_ascii_lowercase())
        && hex.len() == DIGITS
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether a file named `name` is one this mock writes: a job
/// (`seg-<hex>.json`) or its temporary file (`.seg-<hex>.json.<pid>.tmp`).
fn is_ours(name: &str) -> bool {
    if let Some(id) = name.strip_suffix(".json") {
        return is_id(id);
    }
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .and_then(|rest| rest.rsplit_once(".json."))
        .is_some_and(|(id, pid)| is_id(id) && pid.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Kept {
        Kept::new(
            Duration::from_millis(50),
            Duration::from_millis(100),
            KeptEnd::Failed {
                reason: "no".into(),
            },
        )
    }

    #[test]
    fn jobs_are_kept_one_file_each_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let folder = JobFolder::new(dir.path());
        let ids: std::collections::HashSet<String> =
            (0..20).map(|_| folder.reserve().unwrap()).collect();
        assert_eq!(ids.len(), 20);
        let id = ids.iter().next().unwrap();
        assert!(is_id(id), "{id}");
        assert!(folder.read(id).is_none(), "a reservation is no job yet");
        folder.write(id, &job()).unwrap();
        let read = folder.read(id).unwrap();
        assert!(matches!(read.end, KeptEnd::Failed { .. }));
        assert!(!read.ended() || read.elapsed() >= Duration::from_millis(150));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 20);
    }

    #[test]
    fn only_its_own_bounded_files_are_read_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let folder = JobFolder::new(dir.path());
        // Ids that are not the mock's never become paths.
        for id in [
            "../x",
            "seg-../../etc",
            "seg-ABCDEF012345",
            "seg-1",
            "../a-000000000001",
        ] {
            assert!(folder.read(id).is_none());
        }
        let big = "seg-000000000001";
        std::fs::write(
            dir.path().join(format!("{big}.json")),
            vec![b' '; MAX_BYTES as usize + 1],
        )
        .unwrap();
        assert!(folder.read(big).is_none(), "an oversized file is not read");
        std::fs::write(dir.path().join("notes.txt"), b"theirs").unwrap();
        std::fs::write(dir.path().join("seg-x.json"), b"theirs").unwrap();
        let id = folder.reserve().unwrap();
        folder.write(&id, &job()).unwrap();
        folder.prune(Duration::ZERO);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.txt", "seg-x.json"]);
        assert!(is_ours(".seg-00000000000a.json.123.tmp"));
        assert!(!is_ours(".seg-00000000000a.json.x.tmp"));
    }
}
