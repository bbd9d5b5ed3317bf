//! Settings for a [`Client`], and the checks before it exists: the key
//! found, the base URL safe for it.

use std::sync::Arc;
use std::time::Duration;

use ideogram_raw::auth::{ApiKey, Auth, AuthScheme};
use url::Host;

use super::Client;
use crate::completion::CompletionTimes;
use crate::connection::{Api, Connection, RawHttp, shown_url};
use crate::download::{DownloadHttp, Downloader};
use crate::error::{ConfigError, Error};
use crate::poll::PollSchedule;
use crate::provider::Provider;
use crate::retry::RetryPolicy;
use crate::url_guard::InputUrlPolicy;

/// Settings for a [`Client`].
///
/// Defaults, each changed by the setter of the same name:
///
/// - base URL: the provider's ([`Provider::base_url`]); `http://` only to
///   a loopback host unless [`allow_insecure_http`](Self::allow_insecure_http);
/// - key: `SEGMIND_API_KEY` or `IDEOGRAM_API_KEY`; auth: the provider's
///   header (`x-api-key`, `Api-Key`);
/// - `timeout`: 300 s a call, per attempt; `connect_timeout`: 10 s;
/// - `retry`: [`RetryPolicy::default`]; `poll_schedule`:
///   [`PollSchedule::default`]; `completion_times`: a new, empty
///   [`CompletionTimes`] (each model starts from the spec's typical time);
/// - `max_images_in_flight`: 10 on Ideogram ([`IDEOGRAM_IN_FLIGHT_LIMIT`]),
///   none on Segmind;
/// - `input_urls`: any address ([`InputUrlPolicy::any`]);
/// - `segmind_sync`: `false`: on Segmind, [`Client::generate`] and
///   [`Client::edit`] go through the v2 queue wherever the model has one
///   (submit, wait on the learned poll, fetch), since Segmind's sync v1 is
///   in maintenance mode; `true` pins sync v1 (the image's bytes in the
///   answer);
/// - downloads: at most 64 MiB ([`MAX_DOWNLOAD_BYTES`](crate::MAX_DOWNLOAD_BYTES)),
///   given up after 30 s without a byte and retried as GETs.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    provider: Provider,
    base_url: String,
    scheme: AuthScheme,
    key: Option<ApiKey>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    poll: PollSchedule,
    completion: CompletionTimes,
    user_agent: String,
    http: Option<reqwest::Client>,
    allow_insecure_http: bool,
    max_images_in_flight: Option<u32>,
    max_download_bytes: u64,
    input_urls: InputUrlPolicy,
    segmind_sync: bool,
}

/// Ideogram's documented in-flight limit: 10 images per organisation.
pub const IDEOGRAM_IN_FLIGHT_LIMIT: u32 = 10;

impl ClientBuilder {
    /// The defaults for `provider` (see [`Client::builder`]).
    pub(super) fn new(provider: Provider) -> Self {
        ClientBuilder {
            provider,
            base_url: provider.base_url().to_owned(),
            scheme: match provider {
                Provider::Segmind => AuthScheme::segmind(),
                Provider::Ideogram => AuthScheme::ideogram(),
            },
            key: None,
            timeout: ideogram_raw::http::REQUEST_TIMEOUT,
            connect_timeout: ideogram_raw::http::CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            poll: PollSchedule::default(),
            completion: CompletionTimes::default(),
            user_agent: concat!("ideogram-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            http: None,
            allow_insecure_http: false,
            max_download_bytes: crate::download::MAX_DOWNLOAD_BYTES,
            input_urls: InputUrlPolicy::any(),
            segmind_sync: false,
            max_images_in_flight: (provider == Provider::Ideogram)
                .then_some(IDEOGRAM_IN_FLIGHT_LIMIT),
        }
    }

    setters! {
        /// The key (otherwise read from `SEGMIND_API_KEY` or `IDEOGRAM_API_KEY`).
        api_key(key: impl Into<String>) => key = Some(ApiKey::new(key));
        /// Where to send requests: a gateway, a mock, a regional endpoint.
        base_url(url: impl Into<String>) => base_url = url.into();
        /// How the key is sent (gateways want [`AuthScheme::Bearer`]).
        auth_scheme(scheme: AuthScheme) => scheme = scheme;
        /// How long a whole call may take, per attempt, its answer read
        /// included; on the system's clock (a paused tokio clock does not
        /// end it).
        timeout(timeout: Duration) => timeout = timeout;
        /// How long to wait for a connection.
        connect_timeout(timeout: Duration) => connect_timeout = timeout;
        /// The retry policy (see [`RetryPolicy`]).
        retry(policy: RetryPolicy) => retry = policy;
        /// The poll schedule for [`Job::wait`](crate::Job::wait).
        poll_schedule(schedule: PollSchedule) => poll = schedule;
        /// The completion times the poll schedule learns into: one kept
        /// across runs ([`CompletionTimes::from_json`]), or shared.
        completion_times(times: CompletionTimes) => completion = times;
        /// The `User-Agent` header.
        user_agent(agent: impl Into<String>) => user_agent = agent.into();
        /// Runs on a caller's `reqwest::Client` (proxies, custom roots), with
        /// its timeouts, and [`timeout`](Self::timeout) on each attempt; give it `ideogram_raw::http::same_origin_redirects()`
        /// so redirects cannot carry the key to another host.
        http_client(client: reqwest::Client) => http = Some(client);
        /// How many images may be in flight at once from this client and its
        /// clones; calls beyond it wait instead of drawing 429s (`None`: off).
        max_images_in_flight(limit: Option<u32>) => max_images_in_flight = limit.map(|n| n.max(1));
        /// The largest image a download accepts; a larger one fails with
        /// [`Error::Download`] and leaves no file.
        max_download_bytes(max: u64) => max_download_bytes = max;
        /// Which addresses input image URLs may reach: a server fetching URLs
        /// for others passes [`InputUrlPolicy::public_only`].
        input_urls(policy: InputUrlPolicy) => input_urls = policy;
        /// On Segmind, sends [`Client::generate`] and [`Client::edit`] to sync
        /// v1 (`true`) instead of the v2 queue (`false`, the default): v1 is
        /// in maintenance mode, but answers with the image's bytes, its seed
        /// and the credits left. A failure after a queue submit names the
        /// request id to resume with [`Client::job`].
        segmind_sync(sync: bool) => segmind_sync = sync;
        /// Allows a plain `http://` base URL on a non-loopback host, the key
        /// then in the clear.
        allow_insecure_http(allow: bool) => allow_insecure_http = allow;
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let provider = self.provider;
        let key = resolve_key(provider, self.key, |name| std::env::var(name).ok())?;
        let base_url = check_base_url(&self.base_url, self.allow_insecure_http)?;
        let auth = Auth::new(self.scheme, key.clone());
        auth.header().map_err(ConfigError::from)?;

        let agent = self.user_agent;
        let shared_agent: Arc<str> = agent.as_str().into();
        let lazy = || {
            let agent = Some(shared_agent.clone());
            DownloadHttp::lazy(self.timeout, self.connect_timeout, agent)
        };
        ideogram_raw::http::env_proxy().map_err(ConfigError::Proxy)?;
        // Without reqwest's timeout: every call the client makes goes
        // through `retry::run`, which bounds each attempt and its answer
        // with one timer. The raw clients handed out get reqwest's own.
        let (http, downloader, raw_http) = match self.http {
            Some(http) => (
                http.clone(),
                DownloadHttp::given(http.clone()),
                RawHttp::Given(http),
            ),
            None => (
                ideogram_raw::http::untimed_client_builder()
                    .connect_timeout(self.connect_timeout)
                    .user_agent(&agent)
                    .build()
                    .map_err(ConfigError::HttpClient)?,
                lazy(),
                RawHttp::Timed {
                    connect_timeout: self.connect_timeout,
                    user_agent: agent.clone(),
                },
            ),
        };
        let downloader = Downloader {
            http: downloader,
            retry: self.retry.clone(),
            key: Some(key.clone()),
            max_bytes: self.max_download_bytes,
            deadline: self.timeout,
            believe_type: false,
            media_types: &[],
        };
        let inputs = Downloader {
            http: if self.input_urls.guards() {
                lazy().guarded(self.input_urls)
            } else {
                downloader.http.clone()
            },
            believe_type: true,
            media_types: &[],
            ..downloader.clone()
        };
        let api = Api::new(provider, &base_url, http, auth.clone());
        let semaphore = |n| (Arc::new(tokio::sync::Semaphore::new(n as usize)), n);
        Ok(Client {
            inner: Arc::new(Connection {
                provider,
                base_url,
                api,
                raw: std::sync::OnceLock::new(),
                raw_http,
                auth,
                downloader,
                inputs,
                key,
                retry: self.retry,
                poll: self.poll,
                completion: self.completion,
                timeout: self.timeout,
                in_flight: self.max_images_in_flight.map(semaphore),
                segmind_sync: self.segmind_sync,
            }),
        })
    }
}

/// The key given, or the one in the provider's variable (read by `lookup`).
fn resolve_key(
    provider: Provider,
    given: Option<ApiKey>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ApiKey, Error> {
    let variable = provider.key_variable();
    given
        .or_else(|| {
            let found = lookup(variable)?;
            (!found.trim().is_empty()).then(|| ApiKey::new(found.trim()))
        })
        .ok_or_else(|| ConfigError::MissingKey { variable }.into())
}

/// Accepts `https://` anywhere and `http://` on loopback (or when allowed),
/// without a trailing slash; messages show it without credentials.
fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<String, Error> {
    let shown = shown_url(url);
    let parsed = reqwest::Url::parse(url).map_err(|source| ConfigError::BaseUrl {
        url: shown.clone(),
        source,
    })?;
    let error = match parsed.scheme() {
        "http" if !allow_insecure_http && !on_loopback(&parsed) => {
            ConfigError::InsecureHttp { url: shown }
        }
        "http" | "https" => return Ok(url.trim_end_matches('/').to_owned()),
        other => ConfigError::Scheme {
            url: shown,
            scheme: other.to_owned(),
        },
    };
    Err(error.into())
}

/// Whether `url`'s host is this machine.
pub(super) fn on_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.to_canonical().is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_for_loopback_unless_allowed() {
        assert!(check_base_url("https://api.segmind.com/", false).is_ok());
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://localhost.:1",
            "http://[::1]:9",
            "http://[::ffff:127.0.0.1]:9",
        ] {
            assert!(check_base_url(local, false).is_ok(), "{local}");
        }
        let err = check_base_url("http://gateway.example", false).unwrap_err();
        assert!(
            matches!(err, Error::Config(ConfigError::InsecureHttp { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(check_base_url("http://gateway.example", true).is_ok());
        assert!(matches!(
            check_base_url("ftp://x", true),
            Err(Error::Config(ConfigError::Scheme { .. }))
        ));
        assert!(matches!(
            check_base_url("not a url", true),
            Err(Error::Config(ConfigError::BaseUrl { .. }))
        ));
        assert_eq!(
            check_base_url("https://gw.example/ideogram/", false).unwrap(),
            "https://gw.example/ideogram"
        );
    }

    #[test]
    fn a_missing_key_names_the_variable() {
        let err = resolve_key(Provider::Segmind, None, |_| None).unwrap_err();
        assert!(matches!(
            err,
            Error::Config(ConfigError::MissingKey {
                variable: "SEGMIND_API_KEY"
            })
        ));
        assert_eq!(
            err.to_string(),
            "configuration: no API key: set SEGMIND_API_KEY or pass one to the client"
        );
        let blank = resolve_key(Provider::Ideogram, None, |_| Some("  ".into())).unwrap_err();
        assert!(blank.to_string().contains("IDEOGRAM_API_KEY"), "{blank}");
        let found = resolve_key(Provider::Ideogram, None, |name| {
            (name == "IDEOGRAM_API_KEY").then(|| " k-1 \n".to_owned())
        });
        assert_eq!(found.unwrap().expose_secret(), "k-1");
    }

    #[test]
    fn base_url_credentials_never_print() {
        let client = Client::builder(Provider::Ideogram)
            .base_url("http://alice:s3cret@127.0.0.1:9/gw")
            .api_key("k")
            .build()
            .unwrap();
        let printed = format!("{client:?} {}", client.base_url());
        assert!(
            !printed.contains("s3cret") && printed.contains("127.0.0.1:9/gw"),
            "{printed}"
        );
        let err = check_base_url("http://user:s3cret@gateway.example/x", false).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = check_base_url("nonsense://user:s3cret@", false).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = check_base_url("user:s3cret@no scheme", false).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
