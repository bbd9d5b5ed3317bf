//! Input images: a URL, a local file or bytes, checked before anything is sent.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use bytes::Bytes;

use crate::error::Error;
use crate::invalid::InvalidInput;

/// The largest input image any operation of either provider takes: the
/// specs' largest `x-max-bytes` (Ideogram's 50 MB for layerize and precise
/// edit). An image is held to this much before its operation is known
/// (parsed, or given as bytes), and to its field's own `x-max-bytes` (10 MB
/// for most) when it is read for a request.
pub const MAX_IMAGE_BYTES: usize = {
    let (ideogram, segmind) = (
        ideogram_raw::ideogram::limits::MAX_FILE_BYTES,
        ideogram_raw::segmind::limits::MAX_FILE_BYTES,
    );
    (if ideogram > segmind {
        ideogram
    } else {
        segmind
    }) as usize
};

/// What a field takes of a file: its size (`x-max-bytes`) and kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accepts {
    pub max_bytes: u64,
    /// The media types it takes (`x-media-types`, layerize's fonts);
    /// empty: an image (JPEG, PNG or WebP).
    pub media_types: &'static [&'static str],
    /// An image's long side at most this many times its short one
    /// (`x-max-aspect`).
    pub max_aspect: Option<u64>,
}

impl Accepts {
    /// The media type and extension of `bytes` if taken; else why not.
    fn kind(self, bytes: &[u8], what: &str) -> Result<(&'static str, &'static str), String> {
        match self.media_types {
            [] => crate::file_kind::sniff(bytes)
                .ok_or_else(|| format!("{what} is not a JPEG, PNG or WebP image")),
            taken => ideogram_raw::multipart::media_type(bytes)
                .filter(|(kind, _)| taken.contains(kind))
                .ok_or_else(|| format!("{what} is not one of {}", taken.join(", "))),
        }
    }
}

/// An input image. Parses from (and displays as) text: an http(s) URL, a
/// `data:image/png;base64,...` URL for bytes, anything else a path. In
/// JSON, an object is an [`AssetIdentifier`].
#[derive(Debug, Clone)]
pub enum ImageInput {
    /// An image the provider (Segmind) or this client (Ideogram) downloads.
    Url(String),
    /// A local file, read when the request is sent.
    File(PathBuf),
    /// The image's bytes.
    Bytes(Bytes),
    /// An image Ideogram already holds (a result's asset, an upload),
    /// named instead of uploaded: sent in the field the spec marks
    /// `x-in-place-of` the image's (`image_asset_identifier` for `image`,
    /// `mask_asset_identifier` for `mask`; v2's operations), so nothing is
    /// read or uploaded. An operation without such a field refuses it.
    Asset(AssetIdentifier),
}

/// An image Ideogram already holds: the spec's `AssetIdentifier`, as
/// generated (its `asset_type` one of the spec's enum, its `collection_id`
/// checked against the spec's pattern when built).
///
/// ```
/// use ideogram::{AssetIdentifier, ImageInput};
/// use ideogram::raw::ideogram::types::AssetIdentifierAssetType;
///
/// let asset: AssetIdentifier = AssetIdentifier::builder()
///     .asset_type(AssetIdentifierAssetType::Response)
///     .asset_id("b2ZmaWNpYWw")
///     .try_into()
///     .unwrap();
/// let image = ImageInput::asset(asset);
/// assert_eq!(image.to_string(), "asset:RESPONSE:b2ZmaWNpYWw");
/// ```
pub use ideogram_raw::ideogram::types::AssetIdentifier;

impl PartialEq for ImageInput {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Url(a), Self::Url(b)) => a == b,
            (Self::File(a), Self::File(b)) => a == b,
            (Self::Bytes(a), Self::Bytes(b)) => a == b,
            // The generated type has no `PartialEq`: compared as sent.
            (Self::Asset(a), Self::Asset(b)) => {
                serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
            }
            _ => false,
        }
    }
}

impl ImageInput {
    /// An image at `url`.
    pub fn url(url: impl Into<String>) -> Self {
        Self::Url(url.into())
    }

    /// An image in a local file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File(path.into())
    }

    /// An image's bytes.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self::Bytes(bytes.into())
    }

    /// An image Ideogram already holds, named instead of uploaded.
    pub fn asset(asset: AssetIdentifier) -> Self {
        Self::Asset(asset)
    }

    /// The body field that takes an asset identifier in place of the file
    /// field `file` on some operation (the spec's `x-in-place-of`), so
    /// that a front naming fields by the spec's names finds it there.
    ///
    /// ```
    /// use ideogram::ImageInput;
    ///
    /// assert_eq!(ImageInput::asset_field("mask"), Some("mask_asset_identifier"));
    /// assert_eq!(ImageInput::asset_field("prompt"), None);
    /// ```
    pub fn asset_field(file: &str) -> Option<&'static str> {
        crate::catalog::stand_in_name(file)
    }

    /// The asset identifier `value` (its JSON form) of the field `field`,
    /// checked against the spec's schema first, so that a refusal names
    /// the field and what the spec allows (`image_asset_identifier.asset_type:
    /// "PHOTO" is not one of ASSET, ...`).
    ///
    /// ```
    /// use ideogram::ImageInput;
    ///
    /// let value = serde_json::json!({"asset_type": "RESPONSE", "asset_id": "b2Zm"});
    /// let image = ImageInput::from_asset_json("image_asset_identifier", &value).unwrap();
    /// assert!(matches!(image, ImageInput::Asset(_)));
    /// let wrong = serde_json::json!({"asset_type": "PHOTO", "asset_id": "b2Zm"});
    /// let err = ImageInput::from_asset_json("image_asset_identifier", &wrong).unwrap_err();
    /// assert_eq!(err.field, "image_asset_identifier.asset_type");
    /// assert!(err.message.contains("RESPONSE"), "{err}");
    /// ```
    pub fn from_asset_json(
        field: impl Into<String>,
        value: &serde_json::Value,
    ) -> Result<Self, InvalidInput> {
        let field = field.into();
        let schema = <AssetIdentifier as schemars::JsonSchema>::schema_name();
        if let Err(violation) = ideogram_raw::schema::ideogram().check(&schema, value) {
            let path = match violation.path.as_str() {
                "" => field,
                path => format!("{field}.{path}"),
            };
            return Err(InvalidInput::new(path, violation.message));
        }
        let asset = serde_json::from_value(value.clone())
            .map_err(|e| InvalidInput::new(field, e.to_string()))?;
        Ok(Self::Asset(asset))
    }

    /// Checks what can be checked without reading anything.
    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        match self {
            Self::Url(url) => match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
                _ => {
                    let why = format!("{url:?} is not an http(s) URL");
                    Err(InvalidInput::new("image", why))
                }
            },
            // Built from the spec's type: what it holds is the spec's.
            Self::File(_) | Self::Asset(_) => Ok(()),
            // Any file some field takes (an image, a font): its own field
            // holds it to its kind and size when it is read.
            Self::Bytes(bytes) => {
                if bytes.len() > MAX_IMAGE_BYTES {
                    return Err(larger_than_any("the image bytes", bytes.len() as u64));
                }
                match ideogram_raw::multipart::media_type(bytes) {
                    Some(_) => Ok(()),
                    None => {
                        let why = "the image bytes is not a JPEG, PNG or WebP image";
                        Err(InvalidInput::new("image", why))
                    }
                }
            }
        }
    }

    /// What a JSON body's image field takes: the URL, or the checked
    /// image's base64.
    pub(crate) async fn segmind_value(&self, accepts: Accepts) -> Result<String, Error> {
        Ok(match self.read_local(accepts).await? {
            Some(loaded) => BASE64.encode(&loaded.bytes),
            None => self.to_string(),
        })
    }

    /// The file's or the bytes' image, checked as its field `accepts` (no
    /// more than its size is read); `None` for a URL.
    pub(crate) async fn read_local(
        &self,
        accepts: Accepts,
    ) -> Result<Option<Loaded>, InvalidInput> {
        match self {
            Self::Url(_) => Ok(None),
            Self::Asset(_) => Err(not_read()),
            Self::Bytes(bytes) => Ok(Some(Loaded::check(
                bytes.clone(),
                "the image bytes",
                accepts,
            )?)),
            Self::File(path) => {
                let bytes = read_file(path, accepts.max_bytes).await?;
                let mut loaded = Loaded::check(bytes, &path.display().to_string(), accepts)?;
                if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                    loaded.file_name = Some(name.to_owned());
                }
                Ok(Some(loaded))
            }
        }
    }
}

/// An asset identifier where the image's bytes are needed: it goes in its
/// own field, on an operation that takes one there.
fn not_read() -> InvalidInput {
    let why = "an asset identifier names an image Ideogram holds; only an operation that takes one in place of the image (Ideogram's v2) can use it";
    InvalidInput::new("image", why)
}

/// Reads a regular file (not a FIFO, a device, a directory), at most one byte
/// over `max`: `Loaded::check` refuses a file grown since.
async fn read_file(path: &Path, max: u64) -> Result<Bytes, InvalidInput> {
    use tokio::io::AsyncReadExt as _;
    let shown = path.display();
    let cannot =
        |e: std::io::Error| InvalidInput::new("image", format!("cannot read {shown}: {e}"));
    let regular = |meta: std::fs::Metadata| {
        if meta.is_file() {
            return Ok(meta.len());
        }
        let kind = crate::file_kind::describe_file_type(&meta.file_type());
        let why = format!("{shown} is {kind}, not a regular file");
        Err(InvalidInput::new("image", why))
    };
    // Opening a FIFO for reading blocks until a writer comes: look first,
    // then check what was opened (the file could have been swapped since).
    regular(tokio::fs::metadata(path).await.map_err(cannot)?)?;
    let file = tokio::fs::File::open(path).await.map_err(cannot)?;
    let len = regular(file.metadata().await.map_err(cannot)?)?;
    if len > max {
        return Err(too_large(&shown.to_string(), len, max));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(cannot)?;
    Ok(bytes.into())
}

impl FromStr for ImageInput {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(InvalidInput::new("image", "give a URL or a file path"));
        }
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        let input = if lower.starts_with("http://") || lower.starts_with("https://") {
            Self::Url(text.to_owned())
        } else if lower.starts_with("data:") {
            Self::Bytes(data_url(text)?)
        } else {
            Self::file(text)
        };
        input.check()?;
        Ok(input)
    }
}

/// The bytes of a `data:<type>;base64,<data>` URL, refused undecoded if too large.
fn data_url(text: &str) -> Result<Bytes, InvalidInput> {
    let invalid = |why: &str| InvalidInput::new("image", format!("not a data URL: {why}"));
    let (head, data) = text
        .split_once(',')
        .ok_or_else(|| invalid("no comma before the data"))?;
    if !head.to_ascii_lowercase().ends_with(";base64") {
        return Err(invalid("write it as data:image/png;base64,..."));
    }
    let len = (data.len() / 4 * 3) as u64;
    if len > MAX_IMAGE_BYTES as u64 + 3 {
        return Err(larger_than_any("the data URL", len));
    }
    BASE64
        .decode(data.trim())
        .map(Bytes::from)
        .map_err(|e| invalid(&e.to_string()))
}

impl fmt::Display for ImageInput {
    /// The URL, the path, or the bytes as a `data:` URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(url) => f.write_str(url),
            Self::File(path) => path.display().fmt(f),
            // `asset:TYPE:ID[:COLLECTION]`, as sidecars and messages show it.
            Self::Asset(asset) => {
                write!(f, "asset:{}:{}", asset.asset_type, *asset.asset_id)?;
                match &asset.collection_id {
                    Some(collection) => write!(f, ":{}", **collection),
                    None => Ok(()),
                }
            }
            Self::Bytes(bytes) => {
                let kind = ideogram_raw::multipart::media_type(bytes);
                let kind = kind.map_or("application/octet-stream", |(kind, _)| kind);
                write!(f, "data:{kind};base64,{}", BASE64.encode(bytes))
            }
        }
    }
}

/// An image read into memory and checked.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// The extension its content gives (`png`).
    pub ext: &'static str,
    /// A file's own name, where it was read from one.
    pub file_name: Option<String>,
}

impl Loaded {
    /// Checks size and kind (by content, not by name) as its field `accepts`.
    pub(crate) fn check(bytes: Bytes, what: &str, accepts: Accepts) -> Result<Self, InvalidInput> {
        let max = accepts.max_bytes;
        if bytes.len() as u64 > max {
            return Err(too_large(what, bytes.len() as u64, max));
        }
        let kind = accepts.kind(&bytes, what);
        let (content_type, ext) = kind.map_err(|why| InvalidInput::new("image", why))?;
        // Read from the header where it can be: else the service judges.
        if let Some(n) = accepts.max_aspect
            && let Some((w, h)) = ideogram_raw::multipart::image_size(&bytes)
            && !ideogram_raw::media::within_aspect((w, h), n)
        {
            let why = format!("{what} is {w}x{h}; its long side is at most {n} times its short");
            return Err(InvalidInput::new("image", why));
        }
        Ok(Self {
            bytes,
            content_type,
            ext,
            file_name: None,
        })
    }

    /// The extension its part is named with: the file's own, else its
    /// content's (`image.png` is no longer written out to be split again:
    /// about 0.25k instructions an image).
    pub(crate) fn extension(&self) -> &str {
        match &self.file_name {
            Some(name) => name.rsplit('.').next().unwrap_or("png"),
            None => self.ext,
        }
    }
}

/// Larger than any operation takes: refused before its operation is known
/// (its own may take less, as it says when the image is read for it).
fn larger_than_any(what: &str, len: u64) -> InvalidInput {
    let (mb, max) = (len as f64 / 1_048_576.0, MAX_IMAGE_BYTES / 1_048_576);
    let why = format!("{what} is {mb:.1} MB; no operation takes more than {max} MB");
    InvalidInput::new("image", why)
}

fn too_large(what: &str, len: u64, max: u64) -> InvalidInput {
    let (mb, max) = (len as f64 / 1_048_576.0, max as f64 / 1_048_576.0);
    let why = format!("{what} is {mb:.1} MB; at most {max} MB is accepted");
    InvalidInput::new("image", why)
}

/// [`load`] of an image that needs no reading (its bytes given), at once;
/// `None` for one to read. Called before `load` where images are read in
/// turn: its future, made and moved for bytes already at hand, was 0.4k
/// instructions an image.
pub(crate) fn load_now(
    image: &ImageInput,
    field: &'static str,
    accepts: Accepts,
) -> Option<Result<Loaded, InvalidInput>> {
    let ImageInput::Bytes(bytes) = image else {
        return None;
    };
    let checked = Loaded::check(bytes.clone(), "the image bytes", accepts);
    Some(checked.map_err(|mut e| {
        e.field = field.into();
        e
    }))
}

/// A local image read, or a URL's downloaded (without the key), checked
/// as its field `accepts` (no more than its size is read); an error names
/// `field`.
pub(crate) async fn load(
    downloader: &crate::download::Downloader,
    image: &ImageInput,
    field: &'static str,
    accepts: Accepts,
) -> Result<Loaded, Error> {
    if let Some(loaded) = load_now(image, field, accepts) {
        return Ok(loaded?);
    }
    let named = |mut e: InvalidInput| {
        e.field = field.into();
        e
    };
    let ImageInput::Url(url) = image else {
        let loaded = image.read_local(accepts).await.map_err(named)?;
        return Ok(loaded.expect("only a URL is not local"));
    };
    let mut downloader = downloader.clone();
    downloader.max_bytes = accepts.max_bytes;
    downloader.media_types = accepts.media_types;
    let mut sink = bytes::BytesMut::new();
    let fetched = downloader.fetch(url, &mut sink, Path::new(url)).await;
    fetched.map_err(|e| InvalidInput::new(field, format!("cannot fetch {url}: {e}")))?;
    Ok(Loaded::check(sink.freeze(), url, accepts).map_err(named)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_a_url_or_a_path() {
        assert_eq!(
            "https://x.test/a.png".parse::<ImageInput>().unwrap(),
            ImageInput::url("https://x.test/a.png")
        );
        assert_eq!(
            "./in.png".parse::<ImageInput>().unwrap(),
            ImageInput::file("./in.png")
        );
        assert!("".parse::<ImageInput>().is_err());
        assert!(ImageInput::url("ftp://x.test/a.png").check().is_err());
    }

    #[test]
    fn bytes_larger_than_any_operation_takes_are_refused_as_such() {
        let data = "A".repeat((MAX_IMAGE_BYTES + 8) / 3 * 4);
        let err = format!("data:image/png;base64,{data}")
            .parse::<ImageInput>()
            .unwrap_err();
        let max = MAX_IMAGE_BYTES >> 20;
        let expected = format!("no operation takes more than {max} MB");
        assert!(err.message.ends_with(&expected), "{err}");
    }

    #[test]
    fn only_small_jpeg_png_or_webp_pass() {
        const MAX: Accepts = Accepts {
            max_bytes: 10 << 20,
            media_types: &[],
            max_aspect: None,
        };
        assert_eq!(
            Loaded::check(Bytes::from_static(b"\x89PNG\r\n\x1a\nrest"), "x", MAX)
                .unwrap()
                .content_type,
            "image/png"
        );
        assert_eq!(
            Loaded::check(Bytes::from_static(b"RIFF\0\0\0\0WEBPVP8 "), "x", MAX)
                .unwrap()
                .content_type,
            "image/webp"
        );
        let gif = Loaded::check(Bytes::from_static(b"GIF89a..."), "in.gif", MAX).unwrap_err();
        assert_eq!(
            gif.to_string(),
            "invalid image: in.gif is not a JPEG, PNG or WebP image"
        );
        let mut big = vec![0xff, 0xd8, 0xff];
        big.resize((10 << 20) + 1, 0);
        let err = Loaded::check(big.into(), "big.jpg", MAX).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid image: big.jpg is 10.0 MB; at most 10 MB is accepted"
        );
    }
}
