//! Thumbnails of saved images, sent inline so that an agent sees what it
//! made: at most [`LONG_SIDE`] pixels on the long side, JPEG (PNG when the
//! image has transparency), all of one result's within [`BUDGET`].

use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// The long side of a thumbnail, in pixels.
pub(super) const LONG_SIDE: u32 = 512;

/// The base64 bytes all of one result's thumbnails may take: under 1 MiB
/// with the rest of the result (Claude Desktop's limit for a tool result).
pub(super) const BUDGET: usize = 768 << 10;

/// The largest saved image read for a thumbnail (the library's download
/// bound: nothing it saved is larger).
const MAX_READ: u64 = ideogram::MAX_DOWNLOAD_BYTES;

/// The pixels a decoded image may take, so that no file makes the server
/// allocate without bound.
const MAX_ALLOC: u64 = 256 << 20;

/// A thumbnail: base64 data and its MIME type.
pub(super) struct Thumbnail {
    pub(super) data: String,
    pub(super) mime: &'static str,
}

/// The thumbnail of the image at `path` in at most `budget` base64 bytes
/// (smaller and coarser until it fits), or `None` when it does not decode
/// or cannot fit.
pub(super) fn of(path: &Path, budget: usize) -> Option<Thumbnail> {
    let file = crate::connect::open_regular(path, crate::failure::OTHER).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_READ).read_to_end(&mut bytes).ok()?;
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let image = reader.decode().ok()?;
    let mut side = LONG_SIDE;
    while side >= LONG_SIDE / 4 {
        if let Some(thumbnail) = encode(&image.thumbnail(side, side))
            && thumbnail.data.len() <= budget
        {
            return Some(thumbnail);
        }
        side /= 2;
    }
    None
}

/// `image` as base64 JPEG, or PNG when it has an alpha channel (JPEG has
/// none).
fn encode(image: &DynamicImage) -> Option<Thumbnail> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mime = if image.color().has_alpha() {
        image.write_to(&mut bytes, ImageFormat::Png).ok()?;
        "image/png"
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
            .write_to(&mut bytes, ImageFormat::Jpeg)
            .ok()?;
        "image/jpeg"
    };
    Some(Thumbnail {
        data: base64::engine::general_purpose::STANDARD.encode(bytes.into_inner()),
        mime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_image_becomes_a_small_thumbnail_within_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.png");
        let image = image::RgbImage::from_fn(1536, 640, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
        });
        image.save(&path).unwrap();
        let thumbnail = of(&path, BUDGET).unwrap();
        assert_eq!(thumbnail.mime, "image/jpeg");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&thumbnail.data)
            .unwrap();
        let small = image::load_from_memory(&bytes).unwrap();
        assert_eq!((small.width(), small.height()), (512, 213));
        // A tighter budget: smaller, or nothing.
        let tight = of(&path, 4 << 10);
        assert!(tight.is_none_or(|t| t.data.len() <= 4 << 10));
        // Not an image: none.
        std::fs::write(dir.path().join("text.png"), "not an image").unwrap();
        assert!(of(&dir.path().join("text.png"), BUDGET).is_none());
    }
}
