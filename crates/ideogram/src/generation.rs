//! What a generation returns: images (bytes or URLs), saved without half-written files.

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt as _;

use crate::download::{Downloader, IMAGE_TYPES, Sink};
use crate::error::Error;
use crate::model::Model;
use crate::provider::Provider;

/// The result of one generation call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Generation {
    /// Who generated it.
    pub provider: Provider,
    /// The model used.
    pub model: Model,
    /// The provider's id for the call (Segmind's queue id or `x-request-id`).
    pub request_id: Option<String>,
    /// Credits left on the account, where the provider says.
    pub credits_left: Option<f64>,
    /// What it cost in millionths of a US dollar, where the service says
    /// (Ideogram's `usage_cost_usd_micros` on a polled v2 generation whose
    /// price is usage-based); compare it with a [`Quote`](crate::Quote).
    pub usage_cost_usd_micros: Option<u64>,
    /// The images, in the provider's order.
    pub images: Vec<GeneratedImage>,
}

impl Generation {
    /// A generation of `images` with no request id or credit count.
    pub fn new(provider: Provider, model: Model, images: Vec<GeneratedImage>) -> Self {
        Self {
            provider,
            model,
            request_id: None,
            credits_left: None,
            usage_cost_usd_micros: None,
            images,
        }
    }
}

/// Where an image's pixels are.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImageData {
    /// In memory (Segmind v1 answers with the image itself).
    Bytes {
        /// The encoded image.
        bytes: Bytes,
        /// Its type, such as `image/jpeg`.
        content_type: String,
    },
    /// At a URL, fetched without the key (Ideogram's last 24 h, Segmind's queue outputs 7 days);
    /// unredacted (a redacted one fetches nothing): redact it before showing it.
    Url(String),
    /// Not delivered: the image failed the safety check.
    Withheld,
    /// Passed the safety check, yet the answer (billed) held no URL for it.
    Missing,
}

/// One generated image and how it was made.
#[derive(Clone)]
pub struct GeneratedImage {
    /// The pixels, or where to get them.
    pub data: ImageData,
    /// The prompt used (magic prompt may have rewritten it).
    pub prompt: String,
    /// The seed, where the provider reports it; send it back to reproduce.
    pub seed: Option<u64>,
    /// The size as `1024x1024`, where the provider reports it.
    pub resolution: Option<String>,
    /// False when the image failed the safety check.
    pub is_safe: bool,
    /// The style used, where reported.
    pub style: Option<String>,
    pub(crate) downloader: Downloader,
}

/// How [`GeneratedImage::save_with`] places an image. By default it replaces a
/// regular file, keeps the extension, and tags temporary files by process id.
///
/// ```
/// let careful = ideogram::SaveOptions::new().replace(false).fix_extension(true);
/// # let _ = careful;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveOptions {
    keep_existing: bool,
    fix_extension: bool,
    temp_tag: Option<String>,
}

impl SaveOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Whether a regular file at the path is replaced (default) or the save
        /// fails with [`std::io::ErrorKind::AlreadyExists`]; anything else is refused.
        replace(replace: bool) => keep_existing = !replace;
        /// Whether the extension is fixed to the real type (a JPEG asked as `x.png` lands as `x.jpg`).
        fix_extension(fix: bool) => fix_extension = fix;
        /// Names temporary files `.<name>.<tag>-<random>.part`: see [`temp_file_prefix`].
        temp_tag(tag: impl Into<String>) => temp_tag = Some(tag.into());
    }
}

/// The prefix, `.<name>.<tag>-`, of the temporary files saving to `target` creates, to clean up.
pub fn temp_file_prefix(target: &Path, tag: &str) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(".{name}.{tag}-"))
}

/// The longest file name, in bytes, most filesystems take.
const NAME_MAX: usize = 255;

impl GeneratedImage {
    /// An image of `data` for `prompt`, without metadata.
    pub(crate) fn new(data: ImageData, prompt: String, downloader: Downloader) -> Self {
        Self {
            data,
            prompt,
            seed: None,
            resolution: None,
            is_safe: true,
            style: None,
            downloader,
        }
    }

    /// An image at `url` (kept from earlier), fetched without a client or key, with default limits.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let image = ideogram::GeneratedImage::from_url("https://ideogram.ai/api/images/ephemeral/x.png")?;
    /// image.save("kept.png").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_url(url: impl Into<String>) -> Result<Self, Error> {
        let data = ImageData::Url(url.into());
        Ok(Self::new(data, String::new(), Downloader::standalone()?))
    }

    /// The encoded image, downloaded if it is at a URL (without the key, retried).
    pub async fn bytes(&self) -> Result<Bytes, Error> {
        match &self.data {
            ImageData::Bytes { bytes, .. } => Ok(bytes.clone()),
            ImageData::Url(url) => {
                let (mut sink, memory) = (BytesMut::new(), Path::new("(memory)"));
                self.downloader.fetch(url, &mut sink, memory).await?;
                Ok(sink.freeze())
            }
            ImageData::Withheld => Err(Error::Withheld),
            ImageData::Missing => Err(Error::Missing),
        }
    }

    /// Writes the image to `path` (replacing a regular file): all of it, or `path` as it was.
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<PathBuf, Error> {
        self.save_with(path, &SaveOptions::default()).await
    }

    /// Writes the image to `path` as `options` say; returns where it landed.
    /// On failure (or a dropped future) `path` is as it was, no temporary left.
    pub async fn save_with(
        &self,
        path: impl AsRef<Path>,
        options: &SaveOptions,
    ) -> Result<PathBuf, Error> {
        let path = path.as_ref().to_path_buf();
        let io = |path: &Path, source| Error::Io {
            path: path.to_owned(),
            source,
        };
        match self.data {
            ImageData::Withheld => return Err(Error::Withheld),
            ImageData::Missing => return Err(Error::Missing),
            ImageData::Bytes { .. } | ImageData::Url(_) => {}
        }
        let replace = !options.keep_existing;
        check_target(&path, replace).map_err(|e| io(&path, e))?;
        let pid = || format!("ideogram-{}", std::process::id());
        let tag = options.temp_tag.clone().unwrap_or_else(pid);
        let mut temp_path = temp_file_prefix(&path, &tag).into_os_string();
        temp_path.push(format!("{:08x}.part", rand::random::<u32>()));
        let temp_path = PathBuf::from(temp_path);
        let name_len = path.file_name().map_or(0, |n| n.len());
        let temp_len = temp_path.file_name().map_or(0, |n| n.len());
        if temp_len > NAME_MAX {
            let fits = NAME_MAX + name_len - temp_len;
            let message = format!(
                "the file name is {name_len} bytes; at most {fits} fit beside a temporary name"
            );
            let kind = std::io::ErrorKind::InvalidFilename;
            return Err(io(&path, std::io::Error::new(kind, message)));
        }
        // Removed unless put in place, also when this future is dropped.
        let mut temp = TempFile(Some(temp_path.clone()));
        // Not on a blocking task, which a dropped save would leave behind.
        let file = std::fs::File::create_new(&temp_path).map_err(|e| io(&path, e))?;
        let mut file = tokio::fs::File::from_std(file);
        let content_type = match &self.data {
            ImageData::Bytes {
                bytes,
                content_type,
            } => {
                file.write_all(bytes).await.map_err(|e| io(&path, e))?;
                content_type.as_str()
            }
            ImageData::Url(url) => self.downloader.fetch(url, &mut file, &path).await?,
            ImageData::Withheld | ImageData::Missing => unreachable!("checked above"),
        };
        // tokio's File writes in the background: a full disk shows only at the flush.
        file.flush().await.map_err(|e| io(&path, e))?;
        file.sync_all().await.map_err(|e| io(&path, e))?;
        drop(file);

        let target = match IMAGE_TYPES.iter().find(|(name, _)| *name == content_type) {
            Some((_, ext)) if options.fix_extension && !has_extension(&path, ext) => {
                path.with_extension(ext)
            }
            _ => path,
        };
        let placed = place(&temp_path, &target, replace).await;
        placed.map_err(|e| io(&target, e))?;
        temp.0 = None;
        // The rename made durable, where a directory can be synced.
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
        if let Ok(dir) = tokio::fs::File::open(dir.unwrap_or(Path::new("."))).await {
            let _ = dir.sync_all().await;
        }
        // The path is often named after the prompt: TRACE, as prompts are.
        tracing::debug!(content_type, "saved");
        tracing::trace!(path = %target.display(), "saved to");
        Ok(target)
    }
}

/// Whether `path` ends in `ext` in any case (`.jpeg` counts as `.jpg`).
fn has_extension(path: &Path, ext: &str) -> bool {
    let current = path.extension().map(|e| e.to_ascii_lowercase());
    current.is_some_and(|c| c == ext || (c == "jpeg" && ext == "jpg"))
}

/// Refuses a target that is not a regular file (or, without `replace`, any that exists).
fn check_target(path: &Path, replace: bool) -> std::io::Result<()> {
    use std::io::ErrorKind::{AlreadyExists, InvalidInput};
    let (kind, why) = match std::fs::symlink_metadata(path) {
        _ if path.file_name().is_none() => (InvalidInput, "the path names no file".to_owned()),
        Ok(meta) if !meta.file_type().is_file() => {
            let what = crate::file_kind::describe_file_type(&meta.file_type());
            let why =
                format!("it exists and is not a regular file ({what}); refusing to replace it");
            (InvalidInput, why)
        }
        Ok(_) if !replace => (AlreadyExists, "it exists; refusing to replace it".into()),
        _ => return Ok(()),
    };
    Err(std::io::Error::new(kind, why))
}

/// Puts the temporary file at `target`: renamed, or linked so that a file is never replaced.
async fn place(temp: &Path, target: &Path, replace: bool) -> std::io::Result<()> {
    check_target(target, replace)?;
    if !replace {
        match tokio::fs::hard_link(temp, target).await {
            Ok(()) => return tokio::fs::remove_file(temp).await.or(Ok(())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(e),
            Err(_) => check_target(target, false)?,
        }
    }
    tokio::fs::rename(temp, target).await
}

/// A file being downloaded into.
impl Sink for tokio::fs::File {
    async fn reset(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncSeekExt as _;
        self.set_len(0).await?;
        self.seek(std::io::SeekFrom::Start(0)).await.map(drop)
    }

    async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.write_all(chunk).await
    }
}

impl std::fmt::Debug for GeneratedImage {
    /// The bytes by their size, a URL with the client's key redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = match &self.data {
            ImageData::Bytes {
                bytes,
                content_type,
            } => format!("{:?}", format!("{} bytes of {content_type}", bytes.len())),
            ImageData::Url(url) => format!("{:?}", ImageData::Url(self.downloader.redact(url))),
            other => format!("{other:?}"),
        };
        f.debug_struct("GeneratedImage")
            .field("data", &format_args!("{data}"))
            .field("prompt", &self.prompt)
            .field("seed", &self.seed)
            .field("resolution", &self.resolution)
            .field("is_safe", &self.is_safe)
            .field("style", &self.style)
            .finish_non_exhaustive()
    }
}

/// A temporary file deleted on drop unless taken out (renamed into place).
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}
