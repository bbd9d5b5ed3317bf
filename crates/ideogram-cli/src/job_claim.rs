//! One `ideogram job wait` of a job saves it into a folder: a wait holds
//! the job's claim there (`.ideogram-job-<hash of the id>.lock`, locked)
//! while it saves, and writes into it where the images went. Another wait
//! of the same job into the same folder, at once or later, waits for the
//! claim, then reports those files instead of saving another copy.
//!
//! The claim file is written only when it is new or empty, or holds this
//! tool's record of the same job: a stranger's file of that name is locked
//! (which changes nothing in it), never written.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// The largest claim file read; a real one is a few hundred bytes.
const MAX_BYTES: u64 = 64 * 1024;

/// What a claim file holds: the job, and the files its images were saved
/// as (relative to the folder).
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    request_id: String,
    paths: Vec<PathBuf>,
}

/// A job's claim on a folder, held until dropped.
pub(crate) struct Claim {
    file: File,
    dir: PathBuf,
    id: String,
    /// Whether the file may be written: new, empty, or this job's record.
    ours: bool,
    /// The files an earlier wait saved, relative to `dir`.
    saved: Vec<PathBuf>,
}

/// Takes the claim of job `id` on `dir`, waiting while another wait of the
/// same job holds it (blocking: run it off the async threads).
pub(crate) fn take(dir: &Path, id: &str) -> Result<Claim, Failure> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = format!(".ideogram-job-{}.lock", crate::journal::fnv1a(id.bytes()));
    let path = dir.join(name);
    let cannot = |e| Failure::io(format!("cannot open {}", path.display()), e);
    std::fs::create_dir_all(dir).map_err(cannot)?;
    if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(Failure::new(
            crate::failure::INVALID,
            format!("{} is not a regular file", path.display()),
        ));
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(cannot)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            crate::output::tell(&format!(
                "another `ideogram job wait {id}` is saving into {}; waiting for it to end...",
                dir.display()
            ));
            file.lock()
                .map_err(|e| Failure::io(format!("cannot lock {}", path.display()), e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Failure::io(format!("cannot lock {}", path.display()), e));
        }
    }
    let mut text = Vec::new();
    (&mut file)
        .take(MAX_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(cannot)?;
    let record = serde_json::from_slice::<Record>(&text)
        .ok()
        .filter(|r| r.request_id == id);
    let ours = text.is_empty() || record.is_some();
    Ok(Claim {
        file,
        dir: dir.to_path_buf(),
        id: id.to_owned(),
        ours,
        saved: record.map(|r| r.paths).unwrap_or_default(),
    })
}

impl Claim {
    /// The files an earlier wait saved the job's images as, when every one
    /// of them is still there.
    pub(crate) fn saved(&self) -> Option<Vec<PathBuf>> {
        let paths: Vec<PathBuf> = self.saved.iter().map(|p| self.dir.join(p)).collect();
        (!paths.is_empty() && paths.iter().all(|p| p.is_file())).then_some(paths)
    }

    /// Records that the job's images were saved as `paths`; failing to
    /// costs only a second copy on a later wait.
    pub(crate) fn record(&mut self, paths: &[PathBuf]) {
        if !self.ours {
            return;
        }
        let record = Record {
            request_id: self.id.clone(),
            paths: paths
                .iter()
                .map(|p| p.strip_prefix(&self.dir).unwrap_or(p).to_path_buf())
                .collect(),
        };
        let text = serde_json::to_vec(&record).expect("a claim record is JSON");
        let written = self
            .file
            .set_len(0)
            .and_then(|()| self.file.rewind())
            .and_then(|()| self.file.write_all(&text))
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            tracing::debug!(error = %e, "the job's claim was not recorded");
        }
    }
}
