//! Fetching generated images: GETs without the key, retried with backoff
//! (a GET bills nothing), bounded in size, and refused unless the bytes are
//! an image of the type the server claims.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use ideogram_raw::auth::ApiKey;
use tracing::Instrument as _;

use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::url_guard::{InputUrlPolicy, Resolver};

/// The largest image download accepted: far above any generated image.
pub const MAX_DOWNLOAD_BYTES: u64 = ideogram_raw::limit::MAX_ANSWER_BYTES;

/// The longest an image download may go without a byte before it is
/// given up and asked again (the whole call is bounded by the timeout).
pub(crate) const DOWNLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What fetches image URLs for a client: its own HTTP client (which never
/// carries the key), the client's retry policy, and the key, to redact it
/// from anything a hostile image host sends back.
#[derive(Debug, Clone)]
pub(crate) struct Downloader {
    pub http: DownloadHttp,
    pub retry: RetryPolicy,
    pub key: Option<ApiKey>,
    pub max_bytes: u64,
    /// How long one fetch may take in all, retries included.
    pub deadline: Duration,
    /// Whether a host that says it sends no image (`text/plain`, a page) is
    /// believed at once: for input images, whose URL is the caller's, where
    /// asking again fetches the same. A paid image's host may serve a
    /// maintenance page a moment, so it is asked again.
    pub believe_type: bool,
}

/// The download client, built on first use: a call whose answer holds the
/// image (Segmind's v1) never pays for a second HTTP client and its TLS
/// root store.
#[derive(Debug, Clone)]
pub(crate) struct DownloadHttp {
    client: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    /// The addresses URLs may reach (input images'), when bound.
    policy: Option<Arc<InputUrlPolicy>>,
}

impl DownloadHttp {
    /// Built when first needed, with these settings.
    pub(crate) fn lazy(
        timeout: Duration,
        connect_timeout: Duration,
        user_agent: Option<String>,
    ) -> Self {
        Self {
            client: Arc::new(OnceLock::new()),
            timeout,
            connect_timeout,
            user_agent,
            policy: None,
        }
    }

    /// A client of its own bound by `policy`: names resolve to the
    /// addresses it permits only, and a redirect to an address it keeps
    /// out is not followed.
    pub(crate) fn guarded(mut self, policy: InputUrlPolicy) -> Self {
        self.client = Arc::new(OnceLock::new());
        self.policy = Some(Arc::new(policy));
        self
    }

    /// `client` as it is (the caller's own).
    pub(crate) fn given(client: reqwest::Client) -> Self {
        let http = Self::lazy(Duration::ZERO, Duration::ZERO, None);
        let _ = http.client.set(client);
        http
    }

    /// The client: image downloads never carry the key, so ordinary
    /// redirects are fine; proxies follow the API client's rules.
    fn get(&self) -> Result<&reqwest::Client, reqwest::Error> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let redirects = match &self.policy {
            None => reqwest::redirect::Policy::limited(ideogram_raw::http::MAX_REDIRECTS),
            Some(policy) => {
                let policy = policy.clone();
                reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() >= ideogram_raw::http::MAX_REDIRECTS {
                        return attempt.error("too many redirects");
                    }
                    match policy.check_url(attempt.url()) {
                        Ok(()) => attempt.follow(),
                        Err(reason) => attempt.error(Refused(reason)),
                    }
                })
            }
        };
        let mut builder = ideogram_raw::http::client_builder()
            .redirect(redirects)
            .timeout(self.timeout)
            // An image host silent this long is stuck: ask again.
            .read_timeout(DOWNLOAD_IDLE_TIMEOUT.min(self.timeout))
            .connect_timeout(self.connect_timeout);
        if let Some(agent) = &self.user_agent {
            builder = builder.user_agent(agent);
        }
        if let Some(policy) = &self.policy {
            builder = builder.dns_resolver(Arc::new(Resolver {
                policy: policy.clone(),
            }));
        }
        let client = builder.build()?;
        Ok(self.client.get_or_init(|| client))
    }
}

/// Where downloaded bytes go: memory, or a file being written.
pub(crate) trait Sink {
    /// Starts over (a retry): drops what was written.
    async fn reset(&mut self) -> std::io::Result<()>;
    /// Appends a piece.
    async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()>;
}

impl Sink for BytesMut {
    async fn reset(&mut self) -> std::io::Result<()> {
        self.clear();
        Ok(())
    }

    async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.extend_from_slice(chunk);
        Ok(())
    }
}

/// Why one attempt failed, and whether another may succeed.
struct Attempt {
    reason: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Attempt {
    fn final_(reason: String) -> Self {
        Self {
            reason,
            source: None,
            retry: false,
            retry_after: None,
        }
    }

    fn transient(reason: String) -> Self {
        Self {
            retry: true,
            ..Self::final_(reason)
        }
    }
}

impl Downloader {
    /// A downloader of its own, with the default timeouts, retries and cap.
    pub(crate) fn standalone() -> Result<Self, Error> {
        Ok(Self {
            http: DownloadHttp::lazy(
                ideogram_raw::http::REQUEST_TIMEOUT,
                ideogram_raw::http::CONNECT_TIMEOUT,
                None,
            ),
            retry: RetryPolicy::default(),
            key: None,
            max_bytes: MAX_DOWNLOAD_BYTES,
            deadline: ideogram_raw::http::REQUEST_TIMEOUT,
            believe_type: false,
        })
    }

    /// `text` with the client's key redacted.
    pub(crate) fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(key) => key.redact(text).into_owned(),
            None => text.to_owned(),
        }
    }

    /// Downloads `url` into `sink`, retrying what may pass on a second try
    /// (network errors, 5xx, 429, a body cut short or not an image). Returns
    /// the image's content type. A failure of `sink` itself is an
    /// [`Error::Io`] for `path`.
    pub(crate) async fn fetch(
        &self,
        url: &str,
        sink: &mut impl Sink,
        path: &std::path::Path,
    ) -> Result<&'static str, Error> {
        let span = tracing::debug_span!("download", url = %self.redact(&traced_url(url)));
        // A trickling host must not hold a paid image (or the caller) for ever.
        let fetching = self.fetch_with_retries(url, sink, path).instrument(span);
        match tokio::time::timeout(self.deadline, fetching).await {
            Ok(result) => result,
            Err(_) => Err(Error::Download {
                url: self.redact(url),
                reason: format!(
                    "it took longer than {:.1} s in all, retries included",
                    self.deadline.as_secs_f64()
                ),
                source: None,
            }),
        }
    }

    async fn fetch_with_retries(
        &self,
        url: &str,
        sink: &mut impl Sink,
        path: &std::path::Path,
    ) -> Result<&'static str, Error> {
        let mut retry = 0;
        loop {
            sink.reset().await.map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
            match self.attempt(url, sink).await {
                Ok(Ok(content_type)) => {
                    tracing::debug!(attempt = retry + 1, content_type, "downloaded");
                    return Ok(content_type);
                }
                Ok(Err(io)) => {
                    return Err(Error::Io {
                        path: path.to_owned(),
                        source: io,
                    });
                }
                Err(failed) => {
                    retry += 1;
                    let reason = self.redact(&failed.reason);
                    if !failed.retry || retry > self.retry.retries() {
                        tracing::debug!(attempt = retry, %reason, "download failed");
                        return Err(Error::Download {
                            url: self.redact(url),
                            reason,
                            source: failed.source,
                        });
                    }
                    let wait = self.retry.backoff(retry).max(
                        failed
                            .retry_after
                            .unwrap_or_default()
                            .min(self.retry.server_delay_cap()),
                    );
                    tracing::debug!(
                        attempt = retry,
                        %reason,
                        wait_ms = wait.as_millis() as u64,
                        "download retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One GET: `Ok(Ok(type))` when whole, `Ok(Err)` when the sink failed,
    /// `Err` when the download did.
    async fn attempt(
        &self,
        url: &str,
        sink: &mut impl Sink,
    ) -> Result<std::io::Result<&'static str>, Attempt> {
        let http = self.http.get().map_err(|e| Attempt {
            reason: format!("no HTTP client for downloads: {}", without_url(&e)),
            source: Some(Box::new(e.without_url())),
            retry: false,
            retry_after: None,
        })?;
        if let Some(policy) = &self.http.policy
            && let Ok(parsed) = reqwest::Url::parse(url)
        {
            policy.check_url(&parsed).map_err(Attempt::final_)?;
        }
        let response = http.get(url).send().await.map_err(|e| {
            // An address the policy keeps out stays out: not retried.
            if let Some(refused) = refused_in(&e) {
                return Attempt::final_(refused);
            }
            Attempt {
                reason: format!("the request failed: {}", without_url(&e)),
                source: Some(Box::new(e.without_url())),
                retry: true,
                retry_after: None,
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            let reason = match status.as_u16() {
                403 | 404 | 410 => format!(
                    "the image host answered {status} (links expire: Ideogram's after 24 hours)"
                ),
                _ => format!("the image host answered {status}"),
            };
            let transient =
                status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408;
            return Err(Attempt {
                retry_after: crate::retry::server_delay(response.headers()),
                ..if transient {
                    Attempt::transient(reason)
                } else {
                    Attempt::final_(reason)
                }
            });
        }
        if let Some(length) = response.content_length()
            && length > self.max_bytes
        {
            return Err(Attempt::final_(too_large(self.max_bytes)));
        }
        let claimed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        // A host that says it sends something else than an image (a
        // `text/plain` or HTML page) means it: asking again fetches the same.
        if self.believe_type
            && !(claimed.is_empty()
                || claimed.starts_with("image/")
                || claimed == "application/octet-stream"
                || claimed == "binary/octet-stream")
        {
            return Err(Attempt::final_(format!(
                "the host sends {claimed}, not an image"
            )));
        }
        let mut body = response.bytes_stream();
        let mut head = BytesMut::new();
        let mut content_type = None;
        let mut received: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Attempt {
                reason: format!("the download broke off: {}", without_url(&e)),
                source: Some(Box::new(e.without_url())),
                retry: true,
                retry_after: None,
            })?;
            received += chunk.len() as u64;
            if received > self.max_bytes {
                return Err(Attempt::final_(too_large(self.max_bytes)));
            }
            let chunk: Bytes = match content_type {
                Some(_) => chunk,
                None => {
                    head.extend_from_slice(&chunk);
                    if head.len() < SNIFF_BYTES {
                        continue;
                    }
                    content_type = Some(image_type(&claimed, &head).map_err(Attempt::transient)?);
                    std::mem::take(&mut head).freeze()
                }
            };
            if let Err(e) = sink.write(&chunk).await {
                return Ok(Err(e));
            }
        }
        let content_type = match content_type {
            Some(found) => found,
            None => {
                let found = image_type(&claimed, &head).map_err(Attempt::transient)?;
                if let Err(e) = sink.write(&head).await {
                    return Ok(Err(e));
                }
                found
            }
        };
        Ok(Ok(content_type))
    }
}

/// A refusal by an [`InputUrlPolicy`], as an error a client passes on.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The policy's refusal somewhere in `err`'s causes (a redirect it did
/// not follow, a name that resolved to addresses it keeps out).
fn refused_in(err: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = cause {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(refused.0.clone());
        }
        let text = err.to_string();
        if text.contains(crate::url_guard::REFUSED) {
            return Some(text);
        }
        cause = err.source();
    }
    None
}

/// `url` for a trace: its origin and path, without credentials or a query
/// (which may hold a signature).
fn traced_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => format!("{}{}", parsed.origin().ascii_serialization(), parsed.path()),
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// Bytes needed to tell JPEG, PNG and WebP apart.
const SNIFF_BYTES: usize = 12;

fn too_large(max: u64) -> String {
    format!(
        "the image is larger than {} MiB; refused",
        max / (1024 * 1024)
    )
}

/// A reqwest error's words without the URL (which the caller already names).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The type of an image, from its first bytes: the bytes decide. A JPEG,
/// PNG or WebP is what its bytes say whatever its label (a mislabelled
/// image is still the paid image, saved under its real type); another
/// `image/*` type the bytes cannot show is taken on trust; anything else (an
/// error page, an empty or cut body) is not an image.
pub(crate) fn image_type(claimed: &str, head: &[u8]) -> Result<&'static str, String> {
    match crate::file_kind::sniff(head) {
        Some((sniffed, _)) => Ok(sniffed),
        None if claimed.starts_with("image/")
            && !["image/jpeg", "image/png", "image/webp"].contains(&claimed) =>
        {
            Ok(other_image_type(claimed))
        }
        None => Err(format!(
            "the body is not an image{}",
            if claimed.is_empty() {
                String::new()
            } else {
                format!(" (sent as {claimed})")
            }
        )),
    }
}

/// A claimed image type as a `'static` name: the known few, or a generic one.
fn other_image_type(claimed: &str) -> &'static str {
    match claimed {
        "image/gif" => "image/gif",
        "image/avif" => "image/avif",
        "image/heic" => "image/heic",
        "image/bmp" => "image/bmp",
        "image/tiff" => "image/tiff",
        _ => "image/*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_decide_what_an_image_is() {
        let png = b"\x89PNG\r\n\x1a\n....";
        for label in [
            "image/png",
            "",
            "application/octet-stream",
            "image/jpeg",
            "text/html",
        ] {
            assert_eq!(image_type(label, png), Ok("image/png"), "{label}");
        }
        assert!(
            image_type("text/html", b"<html>")
                .unwrap_err()
                .contains("not an image")
        );
        assert!(image_type("image/png", b"<html>").is_err());
        assert!(image_type("image/jpeg", b"").is_err());
        assert_eq!(image_type("image/gif", b"GIF89a"), Ok("image/gif"));
    }
}
