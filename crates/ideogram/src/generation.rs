//! What a generation returns, whatever the provider: the images (bytes or
//! URLs) with their metadata, each savable to a path without ever leaving a
//! half-written file.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::TryStreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::error::Error;
use crate::model::{Model, Provider};

/// The result of one generation call.
#[derive(Debug, Clone)]
pub struct Generation {
    /// Who generated it.
    pub provider: Provider,
    /// The model used.
    pub model: Model,
    /// The provider's id for the call, where it gives one (Segmind's queue id
    /// or `x-request-id`).
    pub request_id: Option<String>,
    /// Credits left on the account, where the provider says.
    pub credits_left: Option<f64>,
    /// The images, in the provider's order.
    pub images: Vec<GeneratedImage>,
}

/// Where an image's pixels are.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageData {
    /// In memory (Segmind v1 answers with the image itself).
    Bytes {
        /// The encoded image.
        bytes: Bytes,
        /// Its type, such as `image/jpeg`.
        content_type: String,
    },
    /// At a URL, to download (without the API key). Ideogram's expire after
    /// 24 hours, Segmind's queue outputs after 7 days.
    Url(String),
    /// Not delivered: the image failed the safety check.
    Withheld,
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
    pub(crate) downloader: reqwest::Client,
}

impl GeneratedImage {
    /// The encoded image, downloading it if it is at a URL.
    pub async fn bytes(&self) -> Result<Bytes, Error> {
        match &self.data {
            ImageData::Bytes { bytes, .. } => Ok(bytes.clone()),
            ImageData::Url(url) => {
                let response = self.download(url).await?;
                response
                    .bytes()
                    .await
                    .map_err(|source| Error::Transport { sent: true, source })
            }
            ImageData::Withheld => Err(withheld()),
        }
    }

    /// Writes the image to `path`: streamed into a temporary file beside it,
    /// synced, then renamed into place, so `path` either holds the whole image
    /// or is left as it was. Returns `path`.
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let path = path.as_ref().to_path_buf();
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("image");
        let temp = dir.join(format!(
            ".{name}.{}-{:08x}.part",
            std::process::id(),
            rand::random::<u32>()
        ));
        // Removes the temporary file unless it was renamed into place, also
        // when this future is dropped half-way (a cancelled save).
        let mut temp = TempFile(Some(temp));
        let temp_path = temp.0.clone().expect("set");
        let mut file = tokio::fs::File::create(&temp_path).await.map_err(io)?;
        match &self.data {
            ImageData::Bytes { bytes, .. } => file.write_all(bytes).await.map_err(io)?,
            ImageData::Url(url) => {
                let mut body = self.download(url).await?.bytes_stream();
                while let Some(chunk) = body
                    .try_next()
                    .await
                    .map_err(|source| Error::Transport { sent: true, source })?
                {
                    file.write_all(&chunk).await.map_err(io)?;
                }
            }
            ImageData::Withheld => return Err(withheld()),
        }
        file.sync_all().await.map_err(io)?;
        drop(file);
        tokio::fs::rename(&temp_path, &path).await.map_err(io)?;
        temp.0 = None;
        Ok(path.clone())
    }

    /// A GET for the image URL, without the key, that must answer 200.
    async fn download(&self, url: &str) -> Result<reqwest::Response, Error> {
        let response =
            self.downloader
                .get(url)
                .send()
                .await
                .map_err(|source| Error::Transport {
                    sent: !source.is_connect(),
                    source,
                })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(match status.as_u16() {
            403 | 404 | 410 => Error::NotFound {
                message: format!(
                    "image {url} answered {status} (links expire: Ideogram's after 24 hours)"
                ),
            },
            code => Error::Server {
                status: code,
                body: crate::error::excerpt(&body),
            },
        })
    }
}

impl std::fmt::Debug for GeneratedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data: &dyn std::fmt::Debug = match &self.data {
            ImageData::Bytes {
                bytes,
                content_type,
            } => &format!("{} bytes of {content_type}", bytes.len()),
            other => other,
        };
        f.debug_struct("GeneratedImage")
            .field("data", data)
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

fn withheld() -> Error {
    Error::SafetyRejected {
        message: "the image failed the safety check and was not delivered".into(),
    }
}
