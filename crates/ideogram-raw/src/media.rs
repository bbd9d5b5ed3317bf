//! What a file is, from its first bytes: the kinds a spec's file field may
//! take (an image by default, what its `x-media-types` lists otherwise).
//! Shared, as one file, by the raw crate and the xtask, which refuses a
//! spec naming a kind this cannot tell.

/// Every media type [`media_type`] can tell.
pub const KNOWN: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "font/ttf",
    "font/otf",
    "font/woff",
    "font/woff2",
];

/// A file's media type and extension from its first bytes: an image the
/// services take (JPEG, PNG, WebP) or a font (TrueType, OpenType, WOFF,
/// WOFF2: layerize's `x-media-types`); `None` for anything else (its
/// example is on `ideogram_raw::multipart::media_type`, which the xtask does
/// not build).
pub fn media_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match bytes {
        [0xff, 0xd8, 0xff, ..] => Some(("image/jpeg", "jpg")),
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', ..] => Some(("image/png", "png")),
        [b'R', b'I', b'F', b'F', _, _, _, _, rest @ ..] if rest.starts_with(b"WEBP") => {
            Some(("image/webp", "webp"))
        }
        [0, 1, 0, 0, ..] | [b't', b'r', b'u', b'e', ..] => Some(("font/ttf", "ttf")),
        [b'O', b'T', b'T', b'O', ..] => Some(("font/otf", "otf")),
        [b'w', b'O', b'F', b'F', ..] => Some(("font/woff", "woff")),
        [b'w', b'O', b'F', b'2', ..] => Some(("font/woff2", "woff2")),
        _ => None,
    }
}

/// Whether an image of `width` x `height` has its long side at most `n`
/// times its short one (a file's `x-max-aspect`).
pub fn within_aspect((width, height): (u32, u32), n: u64) -> bool {
    u64::from(width.max(height)) <= u64::from(width.min(height)).saturating_mul(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn six_to_one_is_within_six_and_a_pixel_more_is_not() {
        assert!(super::within_aspect((384, 64), 6) && super::within_aspect((64, 384), 6));
        assert!(!super::within_aspect((385, 64), 6) && !super::within_aspect((0, 1), 6));
    }

    #[test]
    fn every_kind_told_is_known_and_every_known_kind_is_told() {
        let samples: [&[u8]; 7] = [
            b"\xff\xd8\xff",
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\0\0\0\0WEBP",
            b"\0\x01\0\0",
            b"OTTO",
            b"wOFF",
            b"wOF2",
        ];
        let told: Vec<&str> = (samples.iter())
            .map(|bytes| super::media_type(bytes).expect("a kind").0)
            .collect();
        assert_eq!(told, super::KNOWN);
    }
}
