//! Room for what is paid for: before a paid request is sent, the output
//! folder's filesystem must have space (and free file slots) for the
//! images it answers with, so that a full disk refuses the request instead
//! of losing a paid image.

use std::path::Path;

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

/// Refuses, before anything is sent, when the filesystem holding `dir` (an
/// existing folder) has less free space than `images` images need plus a
/// margin, or too few free file slots; the message names the folder and
/// both sizes. A filesystem that cannot be asked passes.
pub(crate) fn check(dir: &Path, images: usize) -> Result<(), Failure> {
    let per_image = per_image()?;
    if per_image == 0 {
        return Ok(());
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
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
        .hint(format!(
            "free some space or choose another folder with -o; {VARIABLE} sets what one image needs (bytes, default {PER_IMAGE}; 0 turns this check off)"
        )));
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
}
