//! What a file is: an image's type from its bytes, or a file system entry's kind.

/// An image's type from its first bytes, as `(content type, extension)`: JPEG, PNG or WebP.
///
/// ```
/// assert_eq!(ideogram::sniff_image(b"\x89PNG\r\n\x1a\n..."), Some(("image/png", "png")));
/// assert_eq!(ideogram::sniff_image(b"<html>"), None);
/// ```
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    ideogram_raw::multipart::media_type(bytes).filter(|(kind, _)| kind.starts_with("image/"))
}

/// What kind of file this is, in words.
pub(crate) fn describe_file_type(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt as _;
    let kinds = [
        (kind.is_dir(), "a directory"),
        (kind.is_symlink(), "a symbolic link"),
        (kind.is_file(), "a regular file"),
        #[cfg(unix)]
        (kind.is_char_device() || kind.is_block_device(), "a device"),
        #[cfg(unix)]
        (kind.is_fifo(), "a FIFO"),
        #[cfg(unix)]
        (kind.is_socket(), "a socket"),
    ];
    let found = kinds.into_iter().find(|(is, _)| *is);
    found.map_or("a special file", |(_, name)| name)
}
