//! The one client: every provider and operation behind the same calls,
//! retries, error mapping and security rules.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ideogram_raw::auth::{ApiKey, Auth, AuthScheme};
use ideogram_raw::{ideogram as raw_ideogram, segmind as raw_segmind};
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorAnswer, excerpt};
use crate::generation::{GeneratedImage, Generation, ImageData};
use crate::image_input::{ImageInput, Loaded};
use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::queue::{Job, PollSchedule};
use crate::request::{GenerateRequest, Plan};
use crate::retry::{self, Method, RetryPolicy};

/// A client for one provider. Cheap to clone; clones share connections.
///
/// ```no_run
/// # async fn run() -> Result<(), ideogram::Error> {
/// let client = ideogram::Client::segmind_from_env()?;
/// let generation = client.generate(&ideogram::GenerateRequest::new("a red fox, woodcut")).await?;
/// generation.images[0].save("fox.jpg").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    provider: Provider,
    base_url: String,
    api: Api,
    downloader: reqwest::Client,
    retry: RetryPolicy,
    poll: PollSchedule,
    /// Images this client lets be in flight at once (Ideogram allows 10 per
    /// organisation); waiting here is cheaper than a 429 and a backoff.
    in_flight: Option<(Arc<tokio::sync::Semaphore>, u32)>,
}

#[derive(Debug)]
enum Api {
    Segmind(raw_segmind::Client),
    Ideogram(raw_ideogram::Client),
}

/// Settings for a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    provider: Provider,
    base_url: Option<String>,
    scheme: Option<AuthScheme>,
    key: Option<ApiKey>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    poll: PollSchedule,
    user_agent: Option<String>,
    http: Option<reqwest::Client>,
    allow_insecure_http: bool,
    max_images_in_flight: Option<u32>,
}

/// Ideogram's documented in-flight limit: 10 images per organisation.
pub const IDEOGRAM_IN_FLIGHT_LIMIT: u32 = 10;

impl Client {
    /// Segmind with `key`.
    pub fn segmind(key: impl Into<String>) -> Result<Self, Error> {
        Self::builder(Provider::Segmind).api_key(key).build()
    }

    /// Segmind with the key in `SEGMIND_API_KEY`.
    pub fn segmind_from_env() -> Result<Self, Error> {
        Self::builder(Provider::Segmind).build()
    }

    /// Ideogram's API with `key`.
    pub fn ideogram(key: impl Into<String>) -> Result<Self, Error> {
        Self::builder(Provider::Ideogram).api_key(key).build()
    }

    /// Ideogram's API with the key in `IDEOGRAM_API_KEY`.
    pub fn ideogram_from_env() -> Result<Self, Error> {
        Self::builder(Provider::Ideogram).build()
    }

    /// A builder for `provider`, for base URL (gateways, mocks), auth scheme,
    /// timeouts, retries and the HTTP client.
    pub fn builder(provider: Provider) -> ClientBuilder {
        ClientBuilder {
            provider,
            base_url: None,
            scheme: None,
            key: None,
            timeout: ideogram_raw::http::REQUEST_TIMEOUT,
            connect_timeout: ideogram_raw::http::CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            poll: PollSchedule::default(),
            user_agent: None,
            http: None,
            allow_insecure_http: false,
            max_images_in_flight: match provider {
                Provider::Ideogram => Some(IDEOGRAM_IN_FLIGHT_LIMIT),
                Provider::Segmind => None,
            },
        }
    }

    /// The provider this client talks to.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The poll schedule [`Job::wait`] uses.
    pub fn poll_schedule(&self) -> &PollSchedule {
        &self.inner.poll
    }

    /// Generates images and waits for them: Segmind's v1 call, or Ideogram's
    /// `/generate`, `/v1/ideogram-v3/generate` or `/remix` by model and
    /// input. The request is checked first; an invalid one sends nothing.
    pub async fn generate(&self, request: &GenerateRequest) -> Result<Generation, Error> {
        let plan = request.plan(self.provider())?;
        let _slots = match &self.inner.in_flight {
            Some((slots, limit)) => {
                let wanted = request.num_images.unwrap_or(1).clamp(1, *limit);
                Some(
                    slots
                        .acquire_many(wanted)
                        .await
                        .expect("the semaphore is never closed"),
                )
            }
            None => None,
        };
        match (&self.inner.api, plan) {
            (Api::Segmind(api), Plan::Segmind { model, body, image }) => {
                let body = self.segmind_body(body, image.as_ref()).await?;
                let answer = segmind_v1(api, &self.inner.retry, model, image.is_some(), body).await;
                let answer = checked(Provider::Segmind, answer, segmind_answer).await?;
                self.segmind_generation(model, request.prompt(), answer)
                    .await
            }
            (Api::Ideogram(api), Plan::IdeogramLegacy(body)) => {
                let answer = retry::run(&self.inner.retry, Method::Post, || {
                    api.post_generate_image().body(body.clone()).send()
                })
                .await;
                self.ideogram_generation(request.chosen_model(), answer)
                    .await
            }
            (Api::Ideogram(api), Plan::IdeogramV3(body)) => {
                let answer = retry::run(&self.inner.retry, Method::Post, || {
                    api.post_generate_image_v3().body(body.clone()).send()
                })
                .await;
                self.ideogram_generation(request.chosen_model(), answer)
                    .await
            }
            (
                Api::Ideogram(api),
                Plan::IdeogramRemix {
                    request: body,
                    image,
                },
            ) => {
                let image = self.load_image(&image).await?;
                let answer = retry::run(&self.inner.retry, Method::Post, || {
                    api.post_remix_image()
                        .image_request(body.clone())
                        .image_file(
                            image.bytes.clone(),
                            image.file_name.clone(),
                            image.content_type,
                        )
                        .send()
                })
                .await;
                self.ideogram_generation(request.chosen_model(), answer)
                    .await
            }
            _ => unreachable!("plans are made for the client's own provider"),
        }
    }

    /// Queues a generation on Segmind's v2 queue and returns at once with the
    /// job; [`Job::wait`] polls it to the end. Ideogram's API has no queue.
    pub async fn submit(&self, request: &GenerateRequest) -> Result<Job, Error> {
        let plan = request.plan(self.provider())?;
        let (Api::Segmind(api), Plan::Segmind { model, body, image }) = (&self.inner.api, plan)
        else {
            return Err(InvalidInput::new(
                "provider",
                "only Segmind has a queue; Ideogram's API answers synchronously: use generate",
            )
            .into());
        };
        let body = self.segmind_body(body, image.as_ref()).await?;
        let queued = segmind_v2(api, &self.inner.retry, model, image.is_some(), body).await;
        let queued = checked(Provider::Segmind, queued, segmind_answer)
            .await?
            .into_inner();
        Ok(Job::new(
            self.clone(),
            queued.request_id,
            Some(model),
            Some(request.prompt().to_owned()),
        ))
    }

    /// A queued job from its id alone, to check on or wait for (Segmind keeps
    /// results 1 hour).
    pub fn job(&self, id: impl Into<String>) -> Job {
        Job::new(self.clone(), id.into(), None, None)
    }

    pub(crate) fn segmind_api(&self) -> Result<&raw_segmind::Client, Error> {
        match &self.inner.api {
            Api::Segmind(api) => Ok(api),
            Api::Ideogram(_) => {
                Err(InvalidInput::new("provider", "only Segmind has a queue").into())
            }
        }
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// An image at `url` (a result URL kept from an earlier call), to
    /// download or save with this client's downloader, without the key.
    pub fn remote_image(
        &self,
        url: impl Into<String>,
        prompt: impl Into<String>,
    ) -> GeneratedImage {
        self.image_at(url.into(), prompt.into())
    }

    pub(crate) fn image_at(&self, url: String, prompt: String) -> GeneratedImage {
        GeneratedImage {
            data: ImageData::Url(url),
            prompt,
            seed: None,
            resolution: None,
            is_safe: true,
            style: None,
            downloader: self.inner.downloader.clone(),
        }
    }

    /// Completes a Segmind body with the input image: URLs as they are,
    /// files and bytes as base64.
    async fn segmind_body(
        &self,
        mut body: Map<String, Value>,
        image: Option<&ImageInput>,
    ) -> Result<Value, Error> {
        if let Some(image) = image {
            let value = match image {
                ImageInput::Url(url) => url.clone(),
                local => local.read_local().await?.expect("a local image").base64(),
            };
            body.insert("image_file".into(), Value::String(value));
        }
        Ok(Value::Object(body))
    }

    /// Reads a local image, or downloads one from a URL (without the key).
    async fn load_image(&self, image: &ImageInput) -> Result<Loaded, Error> {
        if let Some(loaded) = image.read_local().await? {
            return Ok(loaded);
        }
        let ImageInput::Url(url) = image else {
            unreachable!("only URLs are not local")
        };
        let source = self.image_at(url.clone(), String::new());
        let bytes = source.bytes().await?;
        Ok(Loaded::check(bytes, url)?)
    }

    async fn segmind_generation(
        &self,
        model: Model,
        prompt: &str,
        answer: ResponseValue<ByteStream>,
    ) -> Result<Generation, Error> {
        let headers = answer.headers().clone();
        let content_type = header(&headers, "content-type")
            .unwrap_or_default()
            .to_owned();
        let bytes = collect(answer.into_inner()).await?;
        let data = if content_type.starts_with("application/json") {
            json_image(&bytes)?
        } else {
            let content_type = match crate::image_input::sniff(&bytes) {
                Some((sniffed, _)) => sniffed.to_owned(),
                // A type this crate cannot recognise by its bytes is taken on
                // trust; one it can (JPEG, PNG, WebP) must match.
                None if content_type.starts_with("image/")
                    && !["image/jpeg", "image/png", "image/webp"]
                        .contains(&content_type.as_str()) =>
                {
                    content_type
                }
                None => {
                    return Err(invalid(
                        Provider::Segmind,
                        format!(
                            "a 200 answer with {content_type:?} that is not an image: {}",
                            excerpt(&bytes)
                        ),
                    ));
                }
            };
            ImageData::Bytes {
                bytes,
                content_type,
            }
        };
        let image = GeneratedImage {
            data,
            prompt: prompt.to_owned(),
            seed: header(&headers, "x-seed-value").and_then(|s| s.parse().ok()),
            resolution: None,
            is_safe: true,
            style: None,
            downloader: self.inner.downloader.clone(),
        };
        Ok(Generation {
            provider: Provider::Segmind,
            model,
            request_id: header(&headers, "x-request-id").map(str::to_owned),
            credits_left: header(&headers, "x-remaining-credits").and_then(|s| s.parse().ok()),
            images: vec![image],
        })
    }

    async fn ideogram_generation(
        &self,
        model: Model,
        answer: Result<
            ResponseValue<raw_ideogram::types::GenerateImageResponse>,
            RawError<raw_ideogram::types::ErrorBody>,
        >,
    ) -> Result<Generation, Error> {
        let answer = checked(Provider::Ideogram, answer, ideogram_answer).await?;
        let images = answer
            .into_inner()
            .data
            .into_iter()
            .map(|image| GeneratedImage {
                data: match image.url {
                    Some(url) if image.is_image_safe && !url.is_empty() => ImageData::Url(url),
                    _ => ImageData::Withheld,
                },
                prompt: image.prompt,
                seed: u64::try_from(image.seed).ok(),
                resolution: Some(image.resolution),
                is_safe: image.is_image_safe,
                style: image.style_type,
                downloader: self.inner.downloader.clone(),
            })
            .collect();
        Ok(Generation {
            provider: Provider::Ideogram,
            model,
            request_id: None,
            credits_left: None,
            images,
        })
    }
}

impl ClientBuilder {
    /// The key (otherwise read from `SEGMIND_API_KEY` or `IDEOGRAM_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(ApiKey::new(key));
        self
    }

    /// Where to send requests: a gateway, a mock, a regional endpoint.
    /// `http://` is refused unless the host is loopback or
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How the key is sent (default: `x-api-key` for Segmind, `Api-Key` for
    /// Ideogram; gateways want [`AuthScheme::Bearer`]).
    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.scheme = Some(scheme);
        self
    }

    /// How long a whole call may take (default 300 s: generations are slow).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The poll schedule for [`Job::wait`].
    pub fn poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.poll = schedule;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Runs on a caller's `reqwest::Client` (for proxies, custom roots). Its
    /// timeouts apply, not this builder's; give it
    /// `ideogram_raw::http::same_origin_redirects()` so redirects cannot carry
    /// the key to another host.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How many images may be in flight at once from this client (and its
    /// clones); calls beyond it wait their turn instead of drawing 429s.
    /// Default: 10 for Ideogram (its documented per-organisation limit), no
    /// limit for Segmind. `None` turns it off.
    pub fn max_images_in_flight(mut self, limit: Option<u32>) -> Self {
        self.max_images_in_flight = limit.map(|n| n.max(1));
        self
    }

    /// Allows a plain `http://` base URL on a non-loopback host: the key then
    /// crosses the network in the clear.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let provider = self.provider;
        let key = match self.key {
            Some(key) => key,
            None => match std::env::var(provider.key_variable()) {
                Ok(key) if !key.trim().is_empty() => ApiKey::new(key.trim()),
                _ => {
                    return Err(Error::Config(format!(
                        "no API key: set {} or pass one to the client",
                        provider.key_variable()
                    )));
                }
            },
        };
        let default_url = match provider {
            Provider::Segmind => ideogram_raw::SEGMIND_BASE_URL,
            Provider::Ideogram => ideogram_raw::IDEOGRAM_BASE_URL,
        };
        let base_url = check_base_url(
            self.base_url.as_deref().unwrap_or(default_url),
            self.allow_insecure_http,
        )?;
        let scheme = self.scheme.unwrap_or_else(|| match provider {
            Provider::Segmind => AuthScheme::segmind(),
            Provider::Ideogram => AuthScheme::ideogram(),
        });
        let auth = Auth::new(scheme, key);
        auth.header().map_err(|e| Error::Config(e.to_string()))?;

        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("ideogram-rs/", env!("CARGO_PKG_VERSION")).to_owned());
        let config =
            |e: reqwest::Error| Error::Config(format!("cannot build the HTTP client: {e}"));
        let (http, downloader) = match self.http {
            Some(http) => (http.clone(), http),
            None => (
                ideogram_raw::http::client_builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.connect_timeout)
                    .user_agent(&agent)
                    .build()
                    .map_err(config)?,
                // Image downloads never carry the key, so ordinary redirects are fine.
                reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.connect_timeout)
                    .user_agent(&agent)
                    .build()
                    .map_err(config)?,
            ),
        };
        let api = match provider {
            Provider::Segmind => {
                Api::Segmind(raw_segmind::Client::new_with_client(&base_url, http, auth))
            }
            Provider::Ideogram => {
                Api::Ideogram(raw_ideogram::Client::new_with_client(&base_url, http, auth))
            }
        };
        let in_flight = self
            .max_images_in_flight
            .map(|n| (Arc::new(tokio::sync::Semaphore::new(n as usize)), n));
        Ok(Client {
            inner: Arc::new(Inner {
                provider,
                base_url,
                api,
                downloader,
                retry: self.retry,
                poll: self.poll,
                in_flight,
            }),
        })
    }
}

/// Accepts `https://` anywhere and `http://` on loopback (or when allowed);
/// returns the URL without a trailing slash.
fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<String, Error> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| Error::Config(format!("base URL {url:?}: {e}")))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback || allow_insecure_http => {}
        "http" => {
            return Err(Error::Config(format!(
                "base URL {url:?} is plain http on a non-loopback host: the key would cross the network \
                 in the clear; use https or allow_insecure_http(true)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "base URL {url:?}: scheme {other:?} is not http(s)"
            )));
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn invalid(provider: Provider, message: String) -> Error {
    Error::InvalidResponse { provider, message }
}

async fn collect(stream: ByteStream) -> Result<Bytes, Error> {
    use futures::TryStreamExt as _;
    let chunks: Vec<Bytes> = stream
        .into_inner()
        .try_collect()
        .await
        .map_err(|source| Error::Transport { sent: true, source })?;
    Ok(chunks.concat().into())
}

/// A JSON v1 answer: the image as a URL or base64, under `image`, `output` or
/// `url` (the model pages' sample code reads JSON; observed answers are bytes).
fn json_image(body: &[u8]) -> Result<ImageData, Error> {
    use base64::Engine as _;
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            Provider::Segmind,
            format!("a JSON answer that does not parse: {e}"),
        )
    })?;
    let found = ["image", "output", "url"]
        .iter()
        .find_map(|key| match &value[key] {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .ok_or_else(|| {
            invalid(
                Provider::Segmind,
                format!("a JSON answer without an image: {}", excerpt(body)),
            )
        })?;
    if found.starts_with("http://") || found.starts_with("https://") {
        return Ok(ImageData::Url(found));
    }
    let encoded = found.rsplit(',').next().unwrap_or(&found);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| {
            invalid(
                Provider::Segmind,
                format!("a JSON image that is not base64: {e}"),
            )
        })?;
    let content_type =
        crate::image_input::sniff(&bytes).map_or("application/octet-stream", |(t, _)| t);
    Ok(ImageData::Bytes {
        bytes: bytes.into(),
        content_type: content_type.to_owned(),
    })
}

pub(crate) fn segmind_answer(answer: ResponseValue<raw_segmind::types::ErrorBody>) -> ErrorAnswer {
    let (status, headers) = (answer.status(), answer.headers().clone());
    ErrorAnswer {
        status,
        headers,
        message: answer.into_inner().error,
        reject_reason: None,
    }
}

fn ideogram_answer(answer: ResponseValue<raw_ideogram::types::ErrorBody>) -> ErrorAnswer {
    let (status, headers) = (answer.status(), answer.headers().clone());
    let body = answer.into_inner();
    ErrorAnswer {
        status,
        headers,
        message: body
            .error
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        reject_reason: body.reject_reason,
    }
}

/// A raw result with its error mapped to this crate's error (reading the
/// body of an undocumented answer for its message).
pub(crate) async fn checked<T, E>(
    provider: Provider,
    result: Result<ResponseValue<T>, RawError<E>>,
    answer: impl FnOnce(ResponseValue<E>) -> ErrorAnswer,
) -> Result<ResponseValue<T>, Error> {
    let err = match result {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    Err(match err {
        RawError::ErrorResponse(body) => answer(body).into_error(provider),
        RawError::UnexpectedResponse(response) => {
            let (status, headers) = (response.status(), response.headers().clone());
            let body = response.bytes().await.unwrap_or_default();
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| excerpt(&body));
            ErrorAnswer {
                status,
                headers,
                message,
                reject_reason: None,
            }
            .into_error(provider)
        }
        RawError::CommunicationError(source) => Error::Transport {
            sent: !source.is_connect(),
            source,
        },
        RawError::ResponseBodyError(source) | RawError::InvalidUpgrade(source) => {
            Error::Transport { sent: true, source }
        }
        RawError::InvalidResponsePayload(body, e) => invalid(
            provider,
            format!("an answer that does not decode ({e}): {}", excerpt(&body)),
        ),
        RawError::InvalidRequest(message) => InvalidInput::new("request", message).into(),
        RawError::Custom(message) => Error::Config(message),
    })
}

macro_rules! segmind_dispatch {
    ($name:ident, $answer:ty, [$($model:ident, $img:literal => $op:ident, $ty:ident;)+]) => {
        async fn $name(
            api: &raw_segmind::Client,
            policy: &RetryPolicy,
            model: Model,
            img2img: bool,
            body: Value,
        ) -> Result<ResponseValue<$answer>, RawError<raw_segmind::types::ErrorBody>> {
            match (model, img2img) {
                $((Model::$model, $img) => {
                    let body: raw_segmind::types::$ty = serde_json::from_value(body)
                        .map_err(|e| RawError::InvalidRequest(e.to_string()))?;
                    retry::run(policy, Method::Post, || api.$op().body(body.clone()).send()).await
                })+
                _ => Err(RawError::InvalidRequest(format!("Segmind does not serve {model}"))),
            }
        }
    };
}

segmind_dispatch!(segmind_v1, ByteStream, [
    V2, false => ideogram_txt_2_img, IdeogramTxt2ImgRequest;
    V2Turbo, false => ideogram_turbo_txt_2_img, IdeogramTurboTxt2ImgRequest;
    V2a, false => ideogram_2a_txt_2_img, Ideogram2aTxt2ImgRequest;
    V2, true => ideogram_img_2_img, IdeogramImg2ImgRequest;
    V2Turbo, true => ideogram_turbo_img_2_img, IdeogramTurboImg2ImgRequest;
    V2a, true => ideogram_2a_img_2_img, Ideogram2aImg2ImgRequest;
]);

segmind_dispatch!(segmind_v2, raw_segmind::types::QueueSubmitResponse, [
    V2, false => submit_ideogram_txt_2_img, IdeogramTxt2ImgRequest;
    V2Turbo, false => submit_ideogram_turbo_txt_2_img, IdeogramTurboTxt2ImgRequest;
    V2a, false => submit_ideogram_2a_txt_2_img, Ideogram2aTxt2ImgRequest;
    V2, true => submit_ideogram_img_2_img, IdeogramImg2ImgRequest;
    V2Turbo, true => submit_ideogram_turbo_img_2_img, IdeogramTurboImg2ImgRequest;
    V2a, true => submit_ideogram_2a_img_2_img, Ideogram2aImg2ImgRequest;
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_for_loopback_unless_allowed() {
        assert!(check_base_url("https://api.segmind.com/", false).is_ok());
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(check_base_url(local, false).is_ok(), "{local}");
        }
        let err = check_base_url("http://gateway.example", false).unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(check_base_url("http://gateway.example", true).is_ok());
        assert!(check_base_url("ftp://x", true).is_err());
        assert_eq!(
            check_base_url("https://gw.example/ideogram/", false).unwrap(),
            "https://gw.example/ideogram"
        );
    }

    #[test]
    fn a_missing_key_names_the_variable() {
        // Point at a variable no environment sets by asking for a provider
        // whose variable we clear for this process only if unset already.
        if std::env::var("SEGMIND_API_KEY").is_err() {
            let err = Client::segmind_from_env().unwrap_err();
            assert_eq!(
                err.to_string(),
                "configuration: no API key: set SEGMIND_API_KEY or pass one to the client"
            );
        }
    }

    #[test]
    fn json_answers_carry_urls_or_base64() {
        assert_eq!(
            json_image(br#"{"image": "https://cdn.test/a.jpg"}"#).unwrap(),
            ImageData::Url("https://cdn.test/a.jpg".into())
        );
        let png = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b"\x89PNG\r\n\x1a\nxx",
        );
        let data = json_image(format!(r#"{{"image": "data:image/png;base64,{png}"}}"#).as_bytes())
            .unwrap();
        assert!(
            matches!(data, ImageData::Bytes { ref content_type, .. } if content_type == "image/png")
        );
        assert!(json_image(br#"{"status": "ok"}"#).is_err());
    }
}
