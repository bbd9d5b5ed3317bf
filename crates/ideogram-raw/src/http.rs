//! The HTTP client the raw clients should run on: TLS from the crate's
//! feature (rustls by default, its roots read at the first handshake), timeouts sized for image generation,
//! redirects that never take the key to another origin, and proxies that
//! never see it in the clear.

use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};
use reqwest::{NoProxy, Proxy};

/// How long to wait for a TCP and TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a whole call may take. A generation takes tens of seconds (a
/// Segmind v1 call can approach a minute), so a short timeout would abandon
/// work that is billed anyway.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// A builder with this crate's defaults, for callers who add their own settings.
/// Proxies follow [`env_proxy`]; an invalid proxy setting means no proxy
/// here (call [`env_proxy`] to report it). reqwest sends nothing again on
/// its own: an HTTP/2 server's refusal of a request (one it did not
/// process) reaches the caller, whose retry decides (the `ideogram` crate's
/// sends it again).
///
/// With the `rustls` feature, TLS comes preconfigured: the system's roots
/// (as reqwest's default), read once per process at the first TLS
/// handshake rather than by every client built. Extra roots given with
/// `add_root_certificate` are not consulted by that configuration; pass your
/// own with `tls_backend_preconfigured` instead.
pub fn client_builder() -> reqwest::ClientBuilder {
    untimed_client_builder().timeout(REQUEST_TIMEOUT)
}

/// [`client_builder`] without its [`REQUEST_TIMEOUT`], for a caller that
/// bounds each call itself, its answer's body included (the `ideogram`
/// crate does, with one timer for the call and its answer: reqwest's own
/// timeout is a boxed timer and a wrapped body each request, about 1.1k
/// instructions more). A call made on it without such a bound may wait
/// forever on a server that stops answering.
pub fn untimed_client_builder() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(same_origin_redirects())
        // No retries of reqwest's own: it copied every request to be ready
        // to send it again after an HTTP/2 refusal (about 1.8k instructions
        // a call). A caller that retries reads the refusal in the error.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .user_agent(concat!("ideogram-raw/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    // The system's roots are read on the first TLS handshake, once per
    // process (with native-tls, reqwest's own configuration).
    #[cfg(feature = "rustls")]
    let builder = builder.tls_backend_preconfigured(crate::lazy_tls::client_config());
    match env_proxy() {
        Ok(Some(proxy)) => builder.proxy(proxy),
        _ => builder,
    }
}

/// Hosts never sent through a proxy, whatever `NO_PROXY` says: loopback.
const LOOPBACK: &str = "localhost,localhost.,127.0.0.0/8,::1,::ffff:127.0.0.0/104,0.0.0.0,::";

/// The proxy from the environment, used for `https` only: `HTTPS_PROXY`
/// (or `ALL_PROXY`), minus `NO_PROXY` and loopback.
///
/// An `https` request crosses a proxy inside a TLS tunnel, so the key stays
/// private; a plain-`http` request would hand the key to the proxy in the
/// clear, so `HTTP_PROXY` is never used, and loopback (a local mock or
/// gateway) is always reached directly. An error names the variable whose
/// value is not a proxy URL.
pub fn env_proxy() -> Result<Option<Proxy>, String> {
    let setting = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .find_map(|name| {
            let value = std::env::var(name).ok()?;
            (!value.trim().is_empty()).then_some((name, value))
        });
    let Some((name, value)) = setting else {
        return Ok(None);
    };
    let proxy = Proxy::https(value.trim()).map_err(|_| format!("{name} is not a proxy URL"))?;
    let no_proxy = match std::env::var("NO_PROXY").or_else(|_| std::env::var("no_proxy")) {
        Ok(list) if !list.trim().is_empty() => format!("{list},{LOOPBACK}"),
        _ => LOOPBACK.to_owned(),
    };
    Ok(Some(proxy.no_proxy(NoProxy::from_string(&no_proxy))))
}

/// A client with this crate's defaults.
pub fn client() -> reqwest::Result<reqwest::Client> {
    client_builder().build()
}

/// Follows redirects only within the origin (scheme, host and port) of the
/// first request. The auth header is not one `reqwest` strips on its own, so a
/// redirect to another origin is not followed at all: the caller gets the
/// 3xx answer instead of leaking the key. Nor is a 307 or 308, which asks
/// for the same request again, body and all: a POST so answered may have
/// run, and is never sent twice (the policy cannot see the method, so a
/// GET's 307 or 308 is not followed either; 301, 302 and 303 are, a POST
/// then becoming a GET without its body).
pub fn same_origin_redirects() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let first = attempt.previous().first().map(|url| url.origin());
        let resends = matches!(attempt.status().as_u16(), 307 | 308);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if !resends && first.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}
