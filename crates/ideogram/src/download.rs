//! Fetching images: GETs without the key, retried (they bill nothing), bounded, checked.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt as _;
use ideogram_raw::auth::ApiKey;
use ideogram_raw::http::{CONNECT_TIMEOUT, MAX_REDIRECTS, REQUEST_TIMEOUT};
use reqwest::header::HeaderMap;
use tracing::Instrument as _;

use crate::error::{Error, chain};
use crate::retry::RetryPolicy;
use crate::url_guard::{InputUrlPolicy, REFUSED, Resolver};

/// The largest image download accepted: far above any generated image.
pub const MAX_DOWNLOAD_BYTES: u64 = ideogram_raw::limit::MAX_ANSWER_BYTES;

/// The longest an image download may go without a byte before it is asked again.
pub(crate) const DOWNLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Image types by name, with extensions; [`crate::file_kind::sniff`] tells the first three.
pub(crate) const IMAGE_TYPES: [(&str, &str); 8] = [
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("image/gif", "gif"),
    ("image/avif", "avif"),
    ("image/heic", "heic"),
    ("image/bmp", "bmp"),
    ("image/tiff", "tiff"),
];

/// Fetches image URLs without the key, which it redacts from what hosts send.
#[derive(Debug, Clone)]
pub(crate) struct Downloader {
    pub http: DownloadHttp,
    pub retry: RetryPolicy,
    pub key: Option<ApiKey>,
    pub max_bytes: u64,
    /// How long one fetch may take in all, retries included.
    pub deadline: Duration,
    /// Whether a host saying it sends no image is believed at once: for input images, as
    /// a paid image's host may serve a maintenance page a moment.
    pub believe_type: bool,
    /// What the body must be instead of an image (a field's
    /// `x-media-types`: fonts); empty: an image.
    pub media_types: &'static [&'static str],
}

/// The download client, built on first use (an answer holding the image needs none).
#[derive(Debug, Clone)]
pub(crate) struct DownloadHttp {
    client: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    connect_timeout: Duration,
    /// Shared, not copied: every generated image holds a downloader.
    user_agent: Option<Arc<str>>,
    /// The addresses URLs may reach (input images'), when bound.
    policy: Option<Arc<InputUrlPolicy>>,
}

impl DownloadHttp {
    pub(crate) fn lazy(
        timeout: Duration,
        connect_timeout: Duration,
        user_agent: Option<Arc<str>>,
    ) -> Self {
        Self {
            client: Arc::new(OnceLock::new()),
            timeout,
            connect_timeout,
            user_agent,
            policy: None,
        }
    }

    /// A client of its own that reaches only what `policy` permits, redirects too.
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

    /// The client: downloads never carry the key, so redirects are followed.
    fn get(&self) -> Result<&reqwest::Client, reqwest::Error> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let mut builder = ideogram_raw::http::client_builder()
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .timeout(self.timeout)
            .read_timeout(DOWNLOAD_IDLE_TIMEOUT.min(self.timeout))
            .connect_timeout(self.connect_timeout);
        if let Some(agent) = &self.user_agent {
            builder = builder.user_agent(&**agent);
        }
        if let Some(policy) = self.policy.clone() {
            let resolver = Arc::new(Resolver(policy.clone()));
            let redirects = reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error("too many redirects");
                }
                match policy.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(reason) => attempt.error(reason),
                }
            });
            builder = builder.dns_resolver(resolver).redirect(redirects);
        }
        let client = builder.build()?;
        Ok(self.client.get_or_init(|| client))
    }
}

/// Where downloaded bytes go: memory, or a file being written.
pub(crate) trait Sink {
    /// Starts over (a retry): drops what was written.
    async fn reset(&mut self) -> std::io::Result<()>;
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
    /// Worth another try, after at least this long (what the host asked).
    retry: Option<Duration>,
}

impl Attempt {
    fn new(reason: String, retry: bool) -> Self {
        Self {
            reason,
            source: None,
            retry: retry.then_some(Duration::ZERO),
        }
    }

    /// `what` failed with `e`: its words and causes, without the URL.
    fn http(what: &str, e: reqwest::Error, retry: bool) -> Self {
        let e = e.without_url();
        let reason = format!("{what}: {}", chain(&e));
        Self {
            source: Some(Box::new(e)),
            ..Self::new(reason, retry)
        }
    }
}

impl Downloader {
    /// A downloader of its own, with the default timeouts, retries and cap.
    pub(crate) fn standalone() -> Result<Self, Error> {
        Ok(Self {
            http: DownloadHttp::lazy(REQUEST_TIMEOUT, CONNECT_TIMEOUT, None),
            retry: RetryPolicy::default(),
            key: None,
            max_bytes: MAX_DOWNLOAD_BYTES,
            deadline: REQUEST_TIMEOUT,
            believe_type: false,
            media_types: &[],
        })
    }

    /// `text` with the client's key redacted.
    pub(crate) fn redact(&self, text: &str) -> String {
        let key = self.key.as_ref();
        key.map_or_else(|| text.to_owned(), |k| k.redact(text).into_owned())
    }

    /// Downloads `url` into `sink` within the deadline, retried; returns the
    /// image's type. A failure of `sink` is an [`Error::Io`] for `path`.
    pub(crate) async fn fetch(
        &self,
        url: &str,
        sink: &mut impl Sink,
        path: &Path,
    ) -> Result<&'static str, Error> {
        let failed = |reason, source| Error::Download {
            url: self.redact(url),
            reason,
            source,
        };
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        // Traced without credentials or a query (which may hold a signature).
        let traced = reqwest::Url::parse(url).map_or("(not a URL)".to_owned(), |u| {
            format!("{}{}", u.origin().ascii_serialization(), u.path())
        });
        let fetching = async {
            let mut attempt = 0;
            loop {
                attempt += 1;
                sink.reset().await.map_err(io)?;
                let failure = match self.attempt(url, sink).await {
                    Ok(Ok(content_type)) => {
                        tracing::debug!(attempt, content_type, "downloaded");
                        return Ok(content_type);
                    }
                    Ok(Err(e)) => return Err(io(e)),
                    Err(failure) => failure,
                };
                let reason = self.redact(&failure.reason);
                let wait = |asked| self.retry.wait(attempt, Some(asked));
                let Some(wait) = failure.retry.and_then(wait) else {
                    tracing::debug!(attempt, %reason, "download failed");
                    return Err(failed(reason, failure.source));
                };
                let wait_ms = wait.as_millis() as u64;
                tracing::debug!(attempt, %reason, wait_ms, "download retrying");
                tokio::time::sleep(wait).await;
            }
        };
        let span = tracing::debug_span!("download", url = %self.redact(&traced));
        // A trickling host must not hold a paid image (or the caller) for ever.
        let fetched = tokio::time::timeout(self.deadline, fetching.instrument(span)).await;
        fetched.unwrap_or_else(|_| {
            let secs = self.deadline.as_secs_f64();
            let reason = format!("it took longer than {secs:.1} s in all, retries included");
            Err(failed(reason, None))
        })
    }

    /// One GET: `Ok(Ok(type))` when whole, `Ok(Err)` when the sink failed.
    async fn attempt(
        &self,
        url: &str,
        sink: &mut impl Sink,
    ) -> Result<std::io::Result<&'static str>, Attempt> {
        let no_client = |e| Attempt::http("no HTTP client for downloads", e, false);
        let http = self.http.get().map_err(no_client)?;
        // An address is checked here; a name, when it resolves.
        if let Some(policy) = &self.http.policy
            && let Ok(u) = reqwest::Url::parse(url)
        {
            policy.check_url(&u).map_err(|r| Attempt::new(r, false))?;
        }
        let response = http.get(url).send().await.map_err(|e| {
            let first: &(dyn std::error::Error + 'static) = &e;
            let causes = std::iter::successors(Some(first), |e| e.source());
            // An address the policy keeps out (resolved, redirected) stays out: not retried.
            match causes.map(|c| c.to_string()).find(|t| t.contains(REFUSED)) {
                Some(refused) => Attempt::new(refused, false),
                None => Attempt::http("the request failed", e, true),
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            let expired = match status.as_u16() {
                403 | 404 | 410 => " (links expire: Ideogram's after 24 hours)",
                _ => "",
            };
            let transient = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
            let reason = format!("the image host answered {status}{expired}");
            let asked = crate::retry::server_delay(response.headers()).unwrap_or_default();
            return Err(Attempt {
                retry: transient.then_some(asked),
                ..Attempt::new(reason, false)
            });
        }
        let mib = self.max_bytes / (1024 * 1024);
        let image = self.media_types.is_empty();
        let what = if image { "image" } else { "file" };
        let large = format!("the {what} is larger than {mib} MiB; refused");
        let too_large = || Attempt::new(large.clone(), false);
        if response.content_length().unwrap_or(0) > self.max_bytes {
            return Err(too_large());
        }
        let claimed = content_type(response.headers());
        // A host that says it sends no image means it: asking again fetches the same.
        let octets = ["", "application/octet-stream", "binary/octet-stream"];
        if image
            && self.believe_type
            && !claimed.starts_with("image/")
            && !octets.contains(&&*claimed)
        {
            let reason = format!("the host sends {claimed}, not an image");
            return Err(Attempt::new(reason, false));
        }
        // A body that is no image is refused once its first bytes show it (and asked again).
        let not_image = |reason| Attempt::new(reason, true);
        let (mut head, mut received) = (Vec::new(), 0u64);
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Attempt::http("the download broke off", e, true))?;
            received += chunk.len() as u64;
            if received > self.max_bytes {
                return Err(too_large());
            }
            if head.len() < SNIFF_BYTES {
                head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_BYTES - head.len())]);
                if head.len() == SNIFF_BYTES && image {
                    image_type(&claimed, &head).map_err(not_image)?;
                }
            }
            if let Err(e) = sink.write(&chunk).await {
                return Ok(Err(e));
            }
        }
        if !image {
            // Checked by its bytes, as the field takes it, once read.
            return Ok(Ok("application/octet-stream"));
        }
        image_type(&claimed, &head).map(Ok).map_err(not_image)
    }
}

/// Bytes needed to tell JPEG, PNG and WebP apart.
const SNIFF_BYTES: usize = 12;

/// A body's `Content-Type`, without parameters, in lower case.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    let value = headers.get(reqwest::header::CONTENT_TYPE);
    let value = value.and_then(|v| v.to_str().ok()).unwrap_or_default();
    let bare = value.split(';').next().unwrap_or_default();
    bare.trim().to_ascii_lowercase()
}

/// An image's type: what its first bytes say whatever its label (a mislabelled
/// image is still the paid one), else a claimed `image/*` the bytes cannot show.
pub(crate) fn image_type(claimed: &str, head: &[u8]) -> Result<&'static str, String> {
    if let Some((sniffed, _)) = crate::file_kind::sniff(head) {
        return Ok(sniffed);
    }
    match IMAGE_TYPES.iter().position(|(name, _)| *name == claimed) {
        // Below 3: a type its bytes would have shown.
        Some(at) if at >= 3 => Ok(IMAGE_TYPES[at].0),
        None if claimed.starts_with("image/") => Ok("image/*"),
        _ if claimed.is_empty() => Err("the body is not an image".to_owned()),
        _ => Err(format!("the body is not an image (sent as {claimed})")),
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
