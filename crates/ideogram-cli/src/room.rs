//! Room for what is paid for: before a paid request is sent, the output
//! folder's filesystem must have space (and free file slots) for the
//! images it answers with, so that a full disk refuses the request instead
//! of losing a paid image. The space is then reserved, not only seen: a
//! ballast file of ours holds it while the request is in flight, so another
//! writer filling the disk meanwhile cannot take it, and is deleted just
//! before the paid bytes are written.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::failure::{Failure, OTHER};

/// What one image is expected to take on disk, at most: an upscaled PNG
/// runs to a few MiB; the sidecar and temporary names fit in the margin.
pub(crate) const PER_IMAGE: u64 = 8 << 20;

/// Room kept free besides the images: sidecars, the journal, other writers.
pub(crate) const MARGIN: u64 = 1 << 20;

/// The environment variable that sets [`PER_IMAGE`] in bytes (0: no check),
/// for a disk where images are known to be smaller, or larger.
pub(crate) const VARIABLE: &str = "IDEOGRAM_MIN_FREE_PER_IMAGE";

/// What one image needs: [`VARIABLE`] when set to a number of bytes, else
/// [`PER_IMAGE`].
fn per_image() -> Result<u64, Failure> {
    match std::env::var(VARIABLE) {
        Err(_) => Ok(PER_IMAGE),
        Ok(text) => text.trim().parse().map_err(|_| {
            Failure::new(
                crate::failure::USAGE,
                format!("{VARIABLE}={text:?}: expected a number of bytes (0 turns the check off)"),
            )
        }),
    }
}

/// How the names of our ballast files begin: `.ideogram-room-<pid>-<n>`.
const BALLAST: &str = ".ideogram-room-";

/// Room reserved in a folder for the images of one paid request: a ballast
/// file of ours, as large as they are expected to be, held (and locked)
/// until the guard is dropped, which deletes it, on every path: the answer
/// arrived and is about to be saved, an error, an interrupt. Without a
/// ballast (the check turned off) it holds nothing.
#[must_use = "the room is held only while the reservation lives"]
pub(crate) struct Reservation {
    ballast: Option<(PathBuf, File)>,
}

impl Reservation {
    /// Gives the room back: the ballast is deleted, so the paid bytes that
    /// come next have its space. The same as dropping it, said where it
    /// matters.
    pub(crate) fn release(self) {}
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some((path, file)) = self.ballast.take() {
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
    }
}

/// Refuses, before anything is sent, when the filesystem holding `dir` (an
/// existing folder) has too little room for `images` images (see
/// [`check`]); else reserves that room with a ballast file in `dir` until
/// the returned guard is dropped. Ballasts a crashed run of ours left in
/// `dir` are removed first; no other file is touched.
pub(crate) fn reserve(dir: &Path, images: usize) -> Result<Reservation, Failure> {
    reserve_for(dir, images, per_image()?)
}

/// [`reserve`] with `per_image` bytes an image (0: no check, no ballast).
fn reserve_for(dir: &Path, images: usize, per_image: u64) -> Result<Reservation, Failure> {
    if per_image == 0 {
        return Ok(Reservation { ballast: None });
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    remove_stale(dir);
    check(dir, images, per_image)?;
    let bytes = (images.max(1) as u64).saturating_mul(per_image);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{BALLAST}{}-{n}", std::process::id()));
    let refused = |err: std::io::Error| {
        Failure::new(
            OTHER,
            format!(
                "cannot reserve {} in {} for {images} image(s): {err}: nothing was sent",
                size(bytes),
                dir.display()
            ),
        )
        .hint(hint())
    };
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(refused)?
    };
    // From here the guard deletes the file on every path.
    let reservation = Reservation {
        ballast: Some((path, file)),
    };
    let (_, file) = reservation.ballast.as_ref().expect("ballast");
    // Locked while held: a stale one is one nobody holds.
    let _ = rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive);
    allocate(file, bytes).map_err(refused)?;
    Ok(reservation)
}

/// Makes `file` take `size` bytes of the disk: allocated where the
/// filesystem can, else written as zeros.
fn allocate(file: &File, size: u64) -> std::io::Result<()> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, size) {
        Ok(()) => return Ok(()),
        Err(err) if err == rustix::io::Errno::NOSPC => return Err(err.into()),
        Err(_) => {}
    }
    use std::io::Write;
    let zeros = vec![0u8; 1 << 20];
    let mut writer = file;
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        writer.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    writer.sync_data()
}

/// Removes, once per folder and process, the ballasts in `dir` whose
/// process is gone and that nobody holds: only files named as ours are.
fn remove_stale(dir: &Path) {
    static SEEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let key = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    if !SEEN
        .lock()
        .expect("seen")
        .get_or_insert_with(HashSet::new)
        .insert(key)
    {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(ballast_pid) else {
            continue;
        };
        if pid == std::process::id() || alive(pid) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The process id in a ballast's name `.ideogram-room-<pid>-<n>`, or `None`
/// for any other name.
fn ballast_pid(name: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(BALLAST)?.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(n) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` exists (one we may not signal exists too).
fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Refuses when the filesystem holding `dir` (an existing folder) has less
/// free space than `images` images of `per_image` bytes need plus a margin,
/// or too few free file slots; the message names the folder and both
/// sizes. A filesystem that cannot be asked passes.
fn check(dir: &Path, images: usize, per_image: u64) -> Result<(), Failure> {
    let Ok(stats) = rustix::fs::statvfs(dir) else {
        return Ok(());
    };
    let images = images.max(1) as u64;
    let needed = images.saturating_mul(per_image).saturating_add(MARGIN);
    let free = stats.f_bavail.saturating_mul(stats.f_frsize);
    if free < needed {
        return Err(Failure::new(
            OTHER,
            format!(
                "{} has {} free; {images} image(s) need about {} (with a margin): nothing was sent",
                dir.display(),
                size(free),
                size(needed),
            ),
        )
        .hint(hint()));
    }
    // An image, its sidecar and their temporary files: four names each.
    let slots = images * 4 + 4;
    if stats.f_files > 0 && stats.f_favail < slots {
        return Err(Failure::new(
            OTHER,
            format!(
                "{} can take {} more files; {images} image(s) need {slots}: nothing was sent",
                dir.display(),
                stats.f_favail,
            ),
        ));
    }
    Ok(())
}

/// What to do when the room is short.
fn hint() -> String {
    format!(
        "free some space or choose another folder with -o; {VARIABLE} sets what one image needs (bytes, default {PER_IMAGE}; 0 turns this check off)"
    )
}

/// `bytes` for a person: KiB, MiB or GiB with one decimal.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(500), "500 bytes");
        assert_eq!(size(12 * 1024), "12.0 KiB");
        assert_eq!(size(PER_IMAGE + MARGIN), "9.0 MiB");
    }

    #[test]
    fn only_our_ballast_names_are_ours() {
        assert_eq!(ballast_pid(".ideogram-room-42-0"), Some(42));
        for other in [
            ".ideogram-room-42",
            ".ideogram-room-42-",
            ".ideogram-room-x-1",
            ".ideogram-room-4 2-1",
            ".ideogram-room-42-1.png",
            "ideogram-room-42-1",
        ] {
            assert_eq!(ballast_pid(other), None, "{other}");
        }
    }

    #[test]
    fn a_reservation_holds_its_room_until_dropped_and_stale_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        // Left by a run that is gone (no process has pid i32::MAX), and a
        // file of the user's that only looks alike.
        let stale = dir.path().join(format!("{BALLAST}{}-0", i32::MAX));
        let theirs = dir.path().join(format!("{BALLAST}{}-0.txt", i32::MAX));
        std::fs::write(&stale, b"").unwrap();
        std::fs::write(&theirs, b"mine").unwrap();
        let room = reserve_for(dir.path(), 1, PER_IMAGE).unwrap();
        let names = || -> Vec<PathBuf> {
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            names
        };
        let held = names();
        assert!(!held.contains(&stale), "{held:?}");
        assert!(held.contains(&theirs), "{held:?}");
        let ballast = held.iter().find(|p| **p != theirs).expect("a ballast");
        assert!(std::fs::metadata(ballast).unwrap().len() >= PER_IMAGE);
        room.release();
        assert_eq!(names(), vec![theirs]);
    }
}
