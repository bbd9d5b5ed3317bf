//! Picks the provider, finds the key and builds the client; `--offline`
//! starts the mock service in process instead.

use std::path::PathBuf;
use std::sync::Arc;

use ideogram::{AuthScheme, Client, Provider, RetryPolicy};

use crate::failure::{AUTH, Failure, USAGE};
use crate::options::Connection;
use crate::poll_cache;

/// A connected client (and the mock it talks to, when offline).
pub(crate) struct Session {
    pub client: Client,
    pub provider: Provider,
    mock: Option<Arc<Offline>>,
    /// Where the learned completion times are kept, and what was read there.
    poll_cache: Option<(PathBuf, String)>,
    /// Segmind without `--sync`, or Ideogram: a one-shot command may go
    /// through a queue (Segmind's, or a v2 generation).
    queues: bool,
}

impl Session {
    /// Whether a one-shot command may be queued, and then is journaled
    /// ([`crate::queued`]): on Segmind (the default there; `--sync` pins its
    /// v1), and on Ideogram where a v2 call answers a generation id.
    pub(crate) fn queues(&self) -> bool {
        self.queues
    }

    /// Whether it talks to the offline mock (a command to type then needs
    /// `--offline` too).
    pub(crate) fn offline(&self) -> bool {
        self.mock.is_some()
    }

    /// The command that waits for job `id` and saves it, as this session
    /// runs (`--offline` when it is).
    pub(crate) fn wait_command(&self, id: &str) -> String {
        let offline = if self.offline() { " --offline" } else { "" };
        format!(
            "{}{offline}",
            crate::failure::wait_command(self.provider, id)
        )
    }

    /// A library error of job `id`'s commands, as [`Failure::from_error`]
    /// words it, its hint's wait command the one this session needs.
    pub(crate) fn job_failure(&self, err: ideogram::Error, id: &str) -> Failure {
        let mut failure = Failure::from_error(err, self.provider);
        if self.offline() {
            let online = format!("`{}`", crate::failure::wait_command(self.provider, id));
            let here = format!("`{}`", self.wait_command(id));
            failure.hint = failure.hint.map(|hint| hint.replace(&online, &here));
        }
        failure
    }
}

impl Drop for Session {
    /// Keeps what this run's jobs taught the poll schedule.
    fn drop(&mut self) {
        if let Some((path, loaded)) = &self.poll_cache {
            poll_cache::save(path, &self.client, loaded);
        }
    }
}

/// The built-in mock `--offline` runs (the default `mock` feature).
#[cfg(feature = "mock")]
type Mock = ideogram_mock::MockServer;
/// A build without the `mock` feature has no mock to run.
#[cfg(not(feature = "mock"))]
type Mock = std::convert::Infallible;

/// The mock `--offline` started, with its URL and its key; shared by every
/// session of a process (`ideogram mcp` has one per provider).
pub(crate) struct Offline {
    _mock: Mock,
    url: String,
    key: String,
}

/// Starts the mock in process.
pub(crate) async fn offline() -> Result<Arc<Offline>, Failure> {
    let (mock, url, key) = start_mock().await?;
    Ok(Arc::new(Offline {
        _mock: mock,
        url,
        key,
    }))
}

/// Starts the mock in process: the handle, its URL and its key.
#[cfg(feature = "mock")]
async fn start_mock() -> Result<(Mock, String, String), Failure> {
    // Each run's seeds are drawn from a point of its own.
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let config = ideogram_mock::MockConfig {
        latency: std::time::Duration::from_millis(300),
        seed_offset: clock.map_or(0, |t| u64::from(t.subsec_nanos()) ^ t.as_secs()),
        job_folder: jobs_folder(),
        ..ideogram_mock::MockConfig::default()
    };
    let mock = ideogram_mock::MockServer::start(config)
        .await
        .map_err(|e| Failure::io("cannot start the offline mock", e))?;
    let (url, key) = (mock.api_url().to_owned(), mock.api_key());
    Ok((mock, url, key))
}

/// Overrides where the offline mock keeps its queued jobs.
#[cfg(feature = "mock")]
const JOBS_VARIABLE: &str = "IDEOGRAM_OFFLINE_JOBS";

/// Where the offline mock keeps its queued jobs, so that `job status` and
/// `job wait` in later processes find what `job submit` queued: the
/// variable's folder, else `<cache folder>/ideogram/offline-jobs`; none
/// (jobs last as long as the process) when there is no cache folder.
#[cfg(feature = "mock")]
fn jobs_folder() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(JOBS_VARIABLE).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Some(dirs::cache_dir()?.join("ideogram/offline-jobs"))
}

#[cfg(not(feature = "mock"))]
async fn start_mock() -> Result<(Mock, String, String), Failure> {
    Err(Failure::new(
        USAGE,
        "--offline needs the built-in mock, which this build leaves out (built without the `mock` feature)",
    )
    .hint("install with default features: cargo install --path crates/ideogram-cli"))
}

/// Connects for a command; `queue` for the `job` commands, which only
/// Segmind serves.
pub(crate) async fn connect(connection: &Connection, queue: bool) -> Result<Session, Failure> {
    let provider = provider(connection, queue)?;
    let mock = if connection.offline {
        Some(offline().await?)
    } else {
        None
    };
    session(connection, provider, mock)
}

/// The provider `--provider` names, or the default (see [`default_provider`]).
pub(crate) fn provider(connection: &Connection, queue: bool) -> Result<Provider, Failure> {
    Ok(match &connection.provider {
        Some(_) if asks_cheapest(connection) => {
            return Err(cheapest_refused());
        }
        Some(name) => name.parse::<Provider>()?,
        None => default_provider(queue, connection.offline),
    })
}

/// A client of `provider` as `connection` says: the key from the
/// environment or `--api-key-file`, or the already started `mock` when
/// offline.
pub(crate) fn session(
    connection: &Connection,
    provider: Provider,
    mock: Option<Arc<Offline>>,
) -> Result<Session, Failure> {
    session_with(connection, provider, mock, ideogram::InputUrlPolicy::any())
}

/// [`session`], input image URLs bound by `input_urls` (`ideogram mcp`
/// fetches URLs an agent names: public ones only).
pub(crate) fn session_with(
    connection: &Connection,
    provider: Provider,
    mock: Option<Arc<Offline>>,
    input_urls: ideogram::InputUrlPolicy,
) -> Result<Session, Failure> {
    let retry = RetryPolicy::default().max_retries(connection.retries());
    let mut builder = Client::builder(provider)
        .input_urls(input_urls)
        .retry(retry)
        .segmind_sync(connection.sync)
        .user_agent(concat!("ideogram-cli/", env!("CARGO_PKG_VERSION")));
    if connection.bearer {
        builder = builder.auth_scheme(AuthScheme::Bearer);
    }
    match &mock {
        Some(offline) => {
            if connection.base_url.is_some() {
                return Err(Failure::new(
                    USAGE,
                    "--offline and --base-url exclude each other",
                ));
            }
            builder = builder.base_url(&offline.url).api_key(&offline.key);
        }
        None => {
            if let Some(url) = &connection.base_url {
                builder = builder.base_url(url);
            }
            builder = builder.api_key(key(connection, provider)?);
        }
    }
    let client = builder
        .build()
        .map_err(|e| Failure::from_error(e, provider))?;
    let poll_cache = poll_cache::path(connection.offline, client.on_loopback()).and_then(|path| {
        let loaded = poll_cache::load(&path)?;
        client.completion_times().extend(&loaded);
        Some((path, loaded.to_json()))
    });
    Ok(Session {
        client,
        provider,
        mock,
        poll_cache,
        // Ideogram's v2 queues a call made with `async` (or always, for some).
        queues: provider != Provider::Segmind || !connection.sync,
    })
}

/// The provider when `--provider` is not given: Segmind for its queue,
/// else the one whose key is set, Segmind when both are (said on stderr,
/// never picked silently), Ideogram when neither is.
fn default_provider(queue: bool, offline: bool) -> Provider {
    let set = |provider: Provider| {
        std::env::var(provider.key_variable()).is_ok_and(|key| !key.trim().is_empty())
    };
    match (set(Provider::Segmind), set(Provider::Ideogram)) {
        _ if queue => Provider::Segmind,
        (true, true) => {
            if !offline {
                crate::output::tell(&format!(
                    "note: {} and {} are both set: using segmind (--provider ideogram for Ideogram's API)",
                    Provider::Segmind.key_variable(),
                    Provider::Ideogram.key_variable()
                ));
            }
            Provider::Segmind
        }
        (true, false) => Provider::Segmind,
        (false, _) => Provider::Ideogram,
    }
}

fn key(connection: &Connection, provider: Provider) -> Result<String, Failure> {
    if let Some(path) = &connection.api_key_file {
        return key_from_file(path);
    }
    let variable = provider.key_variable();
    match std::env::var(variable) {
        Ok(key) if !key.trim().is_empty() => Ok(key.trim().to_owned()),
        _ => Err(Failure::new(
            AUTH,
            format!("no API key for {provider}: set {variable} or pass --api-key-file FILE"),
        )
        .hint("add --offline to try everything against the built-in mock")),
    }
}

/// The key on the first line of `path` (`--api-key-file`), from then on
/// redacted from everything printed.
pub(crate) fn key_from_file(path: &std::path::Path) -> Result<String, Failure> {
    let text = read_key_file(path)?;
    let key = text.lines().next().unwrap_or_default().trim().to_owned();
    if key.is_empty() {
        return Err(Failure::new(
            AUTH,
            format!("{} holds no key", path.display()),
        ));
    }
    crate::redact::learn_file(&key, path);
    Ok(key)
}

/// A key file's text: a regular file, its first 64 KiB at most.
fn read_key_file(path: &std::path::Path) -> Result<String, Failure> {
    use std::io::Read as _;
    let file = open_regular(path, AUTH)?;
    let cannot = |e| Failure::io(format!("cannot read {}", path.display()), e);
    let mut bytes = Vec::new();
    file.take(64 * 1024)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::new(AUTH, format!("{} is not text", path.display())))
}

/// Opens `path` for reading only if it is a regular file: looked at before
/// opening (opening a FIFO would wait for a writer for ever) and after (in
/// case it was swapped). Refusals exit with `code`.
pub(crate) fn open_regular(path: &std::path::Path, code: u8) -> Result<std::fs::File, Failure> {
    let cannot = |e| Failure::io(format!("cannot read {}", path.display()), e);
    let not_regular = || Failure::new(code, format!("{} is not a regular file", path.display()));
    if !std::fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// What `--provider` says to pick the cheapest provider.
pub(crate) const CHEAPEST: &str = "cheapest";

/// Whether `connection` asks for the cheapest provider.
pub(crate) fn asks_cheapest(connection: &Connection) -> bool {
    connection
        .provider
        .as_deref()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case(CHEAPEST))
}

/// The refusal of `--provider cheapest` where it has no meaning.
pub(crate) fn cheapest_refused() -> Failure {
    Failure::new(
        USAGE,
        "--provider cheapest picks a provider for generate and quote only",
    )
    .hint("name one: --provider segmind or --provider ideogram")
}
