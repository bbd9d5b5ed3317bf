//! The one client: every provider and operation behind the same calls,
//! retries, error mapping and security rules.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use ideogram_raw::answer::{ErrorAnswer, one_line};
use ideogram_raw::auth::{ApiKey, Auth, AuthScheme};
use ideogram_raw::{ideogram as raw_ideogram, segmind as raw_segmind};
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::download::Downloader;
use crate::error::{Error, from_answer};
use crate::generation::{GeneratedImage, Generation, ImageData};
use crate::image_input::{ImageInput, Loaded};
use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::queue::{Job, PollSchedule};
use crate::request::{GenerateRequest, Plan};
use crate::retry::{self, Method, RetryPolicy};
use crate::wire::{self, WireRequest};

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
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    /// The provider and the base URL without any credentials in it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.inner.provider)
            .field("base_url", &self.base_url())
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

struct Inner {
    provider: Provider,
    base_url: String,
    api: Api,
    downloader: Downloader,
    key: ApiKey,
    retry: RetryPolicy,
    poll: PollSchedule,
    timeout: Duration,
    /// Images this client lets be in flight at once (Ideogram allows 10 per
    /// organisation); waiting here is cheaper than a 429 and a backoff.
    in_flight: Option<(Arc<tokio::sync::Semaphore>, u32)>,
}

enum Api {
    Segmind(raw_segmind::Client),
    Ideogram(raw_ideogram::Client),
}

/// Whether a call may create and bill something: what decides when
/// [`Client::call`] sends it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Billing {
    /// It generates and bills: sent again only after a 429 or when it
    /// certainly never left this machine.
    Billed,
    /// It reads (a status, a result): also sent again after 5xx answers and
    /// network errors.
    Free,
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
    max_download_bytes: u64,
}

/// The longest an image download may go without a byte before it is
/// given up and asked again (the whole call is bounded by the timeout).
pub(crate) const DOWNLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

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
            max_download_bytes: crate::download::MAX_DOWNLOAD_BYTES,
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

    /// The base URL requests go to, without any credentials it holds.
    pub fn base_url(&self) -> String {
        shown_url(&self.inner.base_url).trim_matches('"').to_owned()
    }

    /// How long one call may take (the builder's
    /// [`timeout`](ClientBuilder::timeout)): the longest a sent request waits
    /// for its answer, per attempt.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The poll schedule [`Job::wait`] uses.
    pub fn poll_schedule(&self) -> &PollSchedule {
        &self.inner.poll
    }

    /// Generates images and waits for them: Segmind's v1 call, or Ideogram's
    /// `/generate`, `/v1/ideogram-v3/generate` or `/remix` by model and
    /// input. The request is checked first; an invalid one sends nothing.
    pub async fn generate(&self, request: &GenerateRequest) -> Result<Generation, Error> {
        self.prepare(request).await?.generate().await
    }

    /// Queues a generation on Segmind's v2 queue and returns at once with the
    /// job; [`Job::wait`] polls it to the end. Ideogram's API has no queue.
    pub async fn submit(&self, request: &GenerateRequest) -> Result<Job, Error> {
        self.prepare(request).await?.submit().await
    }

    /// Everything before sending: checks the request, reads its input image
    /// (a local file, or a URL Ideogram's remix needs uploaded) and waits for
    /// an in-flight slot. Nothing has left this machine when it returns, and
    /// [`Prepared::generate`] or [`Prepared::submit`] sends at once: the
    /// moment to record "about to pay" (a batch's journal) without recording
    /// requests that only waited for their turn.
    ///
    /// ```no_run
    /// # async fn run(client: ideogram::Client) -> Result<(), ideogram::Error> {
    /// let request = ideogram::GenerateRequest::new("a red fox, woodcut");
    /// let prepared = client.prepare(&request).await?;
    /// // record_sending(&request)?;
    /// let generation = prepared.generate().await?;
    /// # let _ = generation;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn prepare<'a>(
        &'a self,
        request: &'a GenerateRequest,
    ) -> Result<Prepared<'a>, Error> {
        let Plan {
            model,
            mut wire,
            image,
        } = request.plan(self.provider())?;
        let upload = match (&image, self.provider()) {
            (Some(image), Provider::Segmind) => {
                // Segmind would fetch a URL after the request is paid for:
                // an unreachable, endless or non-image one is refused first.
                if let ImageInput::Url(_) = image {
                    self.load_image(image).await?;
                }
                wire.set_image_file(image.segmind_value().await?)?;
                None
            }
            (Some(image), Provider::Ideogram) => Some(self.load_image(image).await?),
            (None, _) => None,
        };
        let slots = match &self.inner.in_flight {
            Some((slots, limit)) => {
                let wanted = request.num_images.unwrap_or(1).clamp(1, *limit);
                Some(
                    slots
                        .clone()
                        .acquire_many_owned(wanted)
                        .await
                        .expect("the semaphore is never closed"),
                )
            }
            None => None,
        };
        Ok(Prepared {
            client: self,
            request,
            model,
            wire,
            upload,
            _slots: slots,
        })
    }

    /// A queued job from its id alone, to check on or wait for (Segmind keeps
    /// results 1 hour).
    pub fn job(&self, id: impl Into<String>) -> Job {
        Job::new(self.clone(), id.into(), None, None)
    }

    /// `text` from the network with the key redacted, as one line.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.inner.key.redact(text).into_owned()
    }

    /// A raw error mapped to this crate's error by status first, its words
    /// redacted; `job` is the queued request a GET asked about.
    pub(crate) async fn map_error(&self, err: RawError<ByteStream>, job: Option<&str>) -> Error {
        let provider = self.provider();
        let answer = match err {
            RawError::ErrorResponse(answer) => ErrorAnswer::read(answer).await,
            RawError::UnexpectedResponse(response) => ErrorAnswer::from_response(response).await,
            RawError::CommunicationError(source) => {
                return self.transport(!source.is_connect(), source);
            }
            RawError::ResponseBodyError(source) | RawError::InvalidUpgrade(source) => {
                return self.transport(true, source);
            }
            RawError::InvalidResponsePayload(body, e) => {
                return self.invalid(format!(
                    "an answer that does not decode ({e}): {}",
                    self.excerpt(&body)
                ));
            }
            RawError::InvalidRequest(message) => {
                return InvalidInput::new("request", self.redact(&message)).into();
            }
            RawError::Custom(message) => return Error::Config(self.redact(&message)),
        };
        let message = answer.message_with(|words| self.redact(words));
        let status = answer.status.as_u16();
        if !(300..600).contains(&status) {
            return self.invalid(format!(
                "it answered {status}, which this call does not document: {message}"
            ));
        }
        match from_answer(
            provider,
            status,
            &answer.headers,
            message,
            answer.reject_reason().map(|r| self.redact(&r)),
            job,
        ) {
            Error::Redirected { status, location } => Error::Redirected {
                status,
                location: location.map(|l| self.redact(&l)),
            },
            other => other,
        }
    }

    /// A transport error with any credentials taken out of its URL.
    fn transport(&self, sent: bool, mut source: reqwest::Error) -> Error {
        if let Some(url) = source.url_mut() {
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        Error::Transport { sent, source }
    }

    /// An unexpected answer. Its message may quote what the server sent (a
    /// decoder's error does), so it is redacted here, whatever built it.
    fn invalid(&self, message: String) -> Error {
        Error::InvalidResponse {
            provider: self.provider(),
            message: self.redact(&message),
        }
    }

    /// The start of a body for a message: redacted text (redacted before it
    /// is cut), or its size.
    fn excerpt(&self, body: &[u8]) -> String {
        match std::str::from_utf8(body) {
            Ok(text) => one_line(&self.redact(text)),
            Err(_) => format!("{} bytes that are not text", body.len()),
        }
    }

    pub(crate) fn segmind_api(&self) -> Result<&raw_segmind::Client, Error> {
        match &self.inner.api {
            Api::Segmind(api) => Ok(api),
            Api::Ideogram(_) => Err(InvalidInput::new(
                "provider",
                "only Segmind has a queue; Ideogram's API answers synchronously: use generate",
            )
            .into()),
        }
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The generated Segmind client this client runs on: the key, the
    /// base URL, redirects kept within the origin and the answer cap come
    /// with it. Call its operations through [`Client::call`] to have the
    /// retry rules, the in-flight limit and the error mapping too. An error
    /// for an Ideogram client.
    pub fn raw_segmind(&self) -> Result<raw_segmind::Client, Error> {
        match &self.inner.api {
            Api::Segmind(api) => Ok(api.clone()),
            Api::Ideogram(_) => Err(InvalidInput::new(
                "provider",
                "this client talks to Ideogram's API; build one with Client::segmind",
            )
            .into()),
        }
    }

    /// The generated Ideogram client this client runs on (see
    /// [`Client::raw_segmind`]). An error for a Segmind client.
    pub fn raw_ideogram(&self) -> Result<raw_ideogram::Client, Error> {
        match &self.inner.api {
            Api::Ideogram(api) => Ok(api.clone()),
            Api::Segmind(_) => Err(InvalidInput::new(
                "provider",
                "this client talks to Segmind; build one with Client::ideogram",
            )
            .into()),
        }
    }

    /// Runs a generated operation with every guarantee [`Client::generate`]
    /// gives: sent again only as [`Billing`] allows (a billed call only after
    /// a 429 or when it never left this machine), `images` in-flight slots
    /// held while it runs (Ideogram's limit; 0 for calls that generate
    /// nothing), and its error mapped into [`Error`] by status, the key
    /// redacted. `call` builds the request afresh for each attempt, with the
    /// generated builder of a client from [`Client::raw_segmind`] or
    /// [`Client::raw_ideogram`].
    ///
    /// ```no_run
    /// use ideogram::raw::segmind::types::Ideogram2aTxt2ImgRequest;
    /// use ideogram::{Billing, Client};
    ///
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let client = Client::segmind_from_env()?;
    /// let api = client.raw_segmind()?;
    /// let body = Ideogram2aTxt2ImgRequest::builder()
    ///     .prompt("a lighthouse at dawn")
    ///     .seed(Some(4242.into()));
    /// let queued = client
    ///     .call(Billing::Billed, 1, || {
    ///         api.submit_ideogram_2a_txt_2_img().body(body.clone()).send()
    ///     })
    ///     .await?;
    /// println!("queued as {}", queued.into_inner().request_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn call<T, F, Fut>(
        &self,
        billing: Billing,
        images: u32,
        mut call: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, RawError<ByteStream>>>,
    {
        let _slots = match (&self.inner.in_flight, images) {
            (Some((slots, limit)), 1..) => Some(
                slots
                    .clone()
                    .acquire_many_owned(images.min(*limit))
                    .await
                    .expect("the semaphore is never closed"),
            ),
            _ => None,
        };
        let method = match billing {
            Billing::Billed => Method::Post,
            Billing::Free => Method::Get,
        };
        match retry::run(&self.inner.retry, method, &mut call).await {
            Ok(answer) => Ok(answer),
            Err(e) => Err(self.map_error(e, None).await),
        }
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
            data: ImageData::Url(self.redact(&url)),
            prompt,
            seed: None,
            resolution: None,
            is_safe: true,
            style: None,
            downloader: self.inner.downloader.clone(),
        }
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
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let bytes = self.collect(answer.into_inner()).await?;
        let data = if content_type == "application/json" {
            self.json_image(&bytes)?
        } else {
            match crate::download::image_type(&content_type, &bytes) {
                Ok(found) => ImageData::Bytes {
                    bytes,
                    content_type: found.to_owned(),
                },
                Err(reason) => {
                    return Err(self.invalid(format!(
                        "a 200 answer (billed) that is not an image: {reason}: {}",
                        self.excerpt(&bytes[..bytes.len().min(200)])
                    )));
                }
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
            request_id: header(&headers, "x-request-id").map(|id| self.redact(id)),
            credits_left: header(&headers, "x-remaining-credits").and_then(|s| s.parse().ok()),
            images: vec![image],
        })
    }

    /// A v1 answer's body, whole (the raw client caps it at 64 MiB). Billed:
    /// it came with a 200.
    async fn collect(&self, stream: ByteStream) -> Result<Bytes, Error> {
        let mut stream = stream.into_inner();
        let mut body = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                self.invalid(format!(
                    "the answer broke off after a 200 (billed): {}",
                    self.redact(&crate::error::chain(&e))
                ))
            })?;
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    async fn ideogram_generation(
        &self,
        model: Model,
        result: Result<
            ResponseValue<raw_ideogram::types::GenerateImageResponse>,
            RawError<ByteStream>,
        >,
    ) -> Result<Generation, Error> {
        let answer = match result {
            Ok(answer) => answer.into_inner(),
            Err(RawError::InvalidResponsePayload(body, e)) => self.unwrap_envelope(&body, &e)?,
            Err(e) => return Err(self.map_error(e, None).await),
        };
        if answer.data.is_empty() {
            return Err(self.invalid(
                "it answered 200 with no images; whether that was billed is not documented".into(),
            ));
        }
        let images = answer
            .data
            .into_iter()
            .map(|image| GeneratedImage {
                data: match image.url {
                    Some(url) if image.is_image_safe && !url.is_empty() => {
                        ImageData::Url(self.redact(&url))
                    }
                    _ => ImageData::Withheld,
                },
                prompt: self.redact(&image.prompt),
                seed: u64::try_from(image.seed).ok(),
                resolution: Some(self.redact(&image.resolution)),
                is_safe: image.is_image_safe,
                style: image.style_type.map(|s| self.redact(&s)),
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

    /// A 2xx body that is not Ideogram's answer may be a gateway's envelope
    /// (`openapi/ideogram.yaml`, `GatewayEnvelope`): its `data` is the answer,
    /// or null when the call failed, described by `code` and `message`.
    fn unwrap_envelope(
        &self,
        body: &[u8],
        decode_error: &serde_json::Error,
    ) -> Result<raw_ideogram::types::GenerateImageResponse, Error> {
        let envelope = serde_json::from_slice::<raw_ideogram::types::GatewayEnvelope>(body)
            .ok()
            .filter(|e| e.code.is_some() || e.message.is_some());
        let Some(envelope) = envelope else {
            return Err(self.invalid(format!(
                "an answer that does not decode ({decode_error}): {}",
                self.excerpt(body)
            )));
        };
        if !envelope.data.is_null() {
            return serde_json::from_value(envelope.data).map_err(|e| {
                self.invalid(format!(
                    "a gateway envelope whose data does not decode ({e}): {}",
                    self.excerpt(body)
                ))
            });
        }
        let message = one_line(&self.redact(envelope.message.as_deref().unwrap_or("")));
        let code = match &envelope.code {
            Some(Value::String(code)) => self.redact(code),
            Some(Value::Null) | None => String::new(),
            Some(other) => self.redact(&other.to_string()),
        };
        // A code that is an HTTP error status means what that status means.
        match code.parse::<u16>() {
            Ok(status @ 400..=599) => Err(from_answer(
                Provider::Ideogram,
                status,
                &HeaderMap::new(),
                message,
                None,
                None,
            )),
            _ => Err(Error::Gateway { code, message }),
        }
    }

    /// Reads a local image, or downloads one from a URL (without the key).
    async fn load_image(&self, image: &ImageInput) -> Result<Loaded, Error> {
        if let Some(loaded) = image.read_local().await? {
            return Ok(loaded);
        }
        let ImageInput::Url(url) = image else {
            unreachable!("only URLs are not local")
        };
        // Fetched to be uploaded: never more than the services accept.
        let mut downloader = self.inner.downloader.clone();
        downloader.max_bytes = crate::image_input::MAX_IMAGE_BYTES as u64;
        let mut sink = BytesMut::new();
        downloader
            .fetch(url, &mut sink, std::path::Path::new(url))
            .await
            .map_err(|e| InvalidInput::new("image", format!("cannot fetch {url}: {e}")))?;
        Ok(Loaded::check(sink.freeze(), url)?)
    }

    /// A JSON v1 answer: the image as a URL or base64, under `image`,
    /// `output` or `url` (the model pages' sample code reads JSON; observed
    /// answers are bytes).
    fn json_image(&self, body: &[u8]) -> Result<ImageData, Error> {
        use base64::Engine as _;
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            self.invalid(format!("a JSON answer (billed) that does not parse: {e}"))
        })?;
        let found = ["image", "output", "url"]
            .iter()
            .find_map(|key| match &value[key] {
                Value::String(s) => Some(s.clone()),
                Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .ok_or_else(|| {
                self.invalid(format!(
                    "a JSON answer (billed) without an image: {}",
                    self.excerpt(body)
                ))
            })?;
        if found.starts_with("http://") || found.starts_with("https://") {
            return Ok(ImageData::Url(self.redact(&found)));
        }
        let encoded = found.rsplit(',').next().unwrap_or(&found);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| self.invalid(format!("a JSON image (billed) that is not base64: {e}")))?;
        let content_type = crate::download::image_type("", &bytes)
            .map_err(|reason| self.invalid(format!("a JSON image (billed): {reason}")))?;
        Ok(ImageData::Bytes {
            bytes: bytes.into(),
            content_type: content_type.to_owned(),
        })
    }
}

/// A checked request holding its in-flight slot, ready to send
/// ([`Client::prepare`]), its generated body open to changes.
pub struct Prepared<'a> {
    client: &'a Client,
    request: &'a GenerateRequest,
    model: Model,
    wire: WireRequest,
    /// Ideogram's remix sends the image as a part of its own.
    upload: Option<Loaded>,
    _slots: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Prepared<'_> {
    /// The client and the request, without the image's bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("client", self.client)
            .field("prompt", &self.request.prompt())
            .field("model", &self.request.chosen_model())
            .finish_non_exhaustive()
    }
}

impl Prepared<'_> {
    /// The generated body that will be sent.
    pub fn wire(&self) -> &WireRequest {
        &self.wire
    }

    /// The generated body, to set what the facade has no setter for: any
    /// field of the spec's body, including one added by a regeneration. The
    /// generated types check what is set; the spec's ranges are checked
    /// again before sending.
    ///
    /// ```no_run
    /// use ideogram::raw::ideogram::types::StylePresetV3;
    /// use ideogram::{Client, GenerateRequest, Model, WireRequest};
    ///
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let client = Client::ideogram_from_env()?;
    /// let request = GenerateRequest::new("a lighthouse, poster").model(Model::V3);
    /// let mut prepared = client.prepare(&request).await?;
    /// if let WireRequest::IdeogramV3(body) = prepared.wire_mut() {
    ///     body.style_preset = Some(StylePresetV3::ArtDeco);
    /// }
    /// let generation = prepared.generate().await?;
    /// # let _ = generation;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wire_mut(&mut self) -> &mut WireRequest {
        &mut self.wire
    }

    /// The body as it goes: checked against the spec once more, after any
    /// change through [`Prepared::wire_mut`].
    fn checked_wire(&self) -> Result<&WireRequest, Error> {
        let schemas = match self.client.provider() {
            Provider::Segmind => ideogram_raw::schema::segmind(),
            Provider::Ideogram => ideogram_raw::schema::ideogram(),
        };
        let json = serde_json::to_value(&self.wire).expect("a generated body is JSON");
        schemas
            .check(self.wire.schema(), &json)
            .map_err(InvalidInput::from)?;
        Ok(&self.wire)
    }

    /// Sends the request and waits for the images (see [`Client::generate`]).
    pub async fn generate(self) -> Result<Generation, Error> {
        let wire = self.checked_wire()?;
        let (client, model) = (self.client, self.model);
        let inner = &client.inner;
        let retry = &inner.retry;
        match (&inner.api, wire) {
            (Api::Segmind(api), body) => match wire::segmind_v1(api, retry, body).await {
                Ok(answer) => {
                    client
                        .segmind_generation(model, self.request.prompt(), answer)
                        .await
                }
                Err(e) => Err(client.map_error(e, None).await),
            },
            (Api::Ideogram(api), WireRequest::IdeogramGenerate(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image().body(body.clone()).send()
                })
                .await;
                client.ideogram_generation(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramV3(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image_v3().body(body.clone()).send()
                })
                .await;
                client.ideogram_generation(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramRemix(body)) => {
                let image = self.upload.as_ref().expect("a remix has its image");
                let answer = retry::run(retry, Method::Post, || {
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
                client.ideogram_generation(model, answer).await
            }
            (Api::Ideogram(_), other) => Err(InvalidInput::new(
                "request",
                format!("{} is not a body Ideogram's API takes", other.schema()),
            )
            .into()),
        }
    }

    /// Queues the request on Segmind's v2 queue (see [`Client::submit`]).
    pub async fn submit(self) -> Result<Job, Error> {
        let wire = self.checked_wire()?;
        let client = self.client;
        let api = client.segmind_api()?;
        let queued = match wire::segmind_v2(api, &client.inner.retry, wire).await {
            Ok(answer) => answer.into_inner(),
            Err(e) => return Err(client.map_error(e, None).await),
        };
        let id = client.redact(&queued.request_id);
        if id.trim().is_empty() {
            return Err(client.invalid(
                "the queue answered without a request id; the job may run and bill".into(),
            ));
        }
        Ok(Job::new(
            client.clone(),
            id,
            Some(self.model),
            Some(self.request.prompt().to_owned()),
        ))
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

    /// The largest image a download accepts (default
    /// [`MAX_DOWNLOAD_BYTES`](crate::MAX_DOWNLOAD_BYTES), 64 MiB); a larger
    /// one fails with [`Error::Download`] and leaves no file.
    pub fn max_download_bytes(mut self, max: u64) -> Self {
        self.max_download_bytes = max;
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
        let key = resolve_key(provider, self.key, |name| std::env::var(name).ok())?;
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
        let auth = Auth::new(scheme, key.clone());
        auth.header().map_err(|e| Error::Config(e.to_string()))?;

        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("ideogram-rs/", env!("CARGO_PKG_VERSION")).to_owned());
        ideogram_raw::http::env_proxy().map_err(Error::Config)?;
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
                // Image downloads never carry the key, so ordinary redirects
                // are fine; proxies follow the same rules.
                ideogram_raw::http::client_builder()
                    .redirect(reqwest::redirect::Policy::limited(
                        ideogram_raw::http::MAX_REDIRECTS,
                    ))
                    .timeout(self.timeout)
                    // An image host silent this long is stuck: ask again.
                    .read_timeout(DOWNLOAD_IDLE_TIMEOUT.min(self.timeout))
                    .connect_timeout(self.connect_timeout)
                    .user_agent(&agent)
                    .build()
                    .map_err(config)?,
            ),
        };
        let downloader = Downloader {
            http: downloader,
            retry: self.retry.clone(),
            key: Some(key.clone()),
            max_bytes: self.max_download_bytes,
            deadline: self.timeout,
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
                key,
                retry: self.retry,
                poll: self.poll,
                timeout: self.timeout,
                in_flight,
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
    if let Some(key) = given {
        return Ok(key);
    }
    match lookup(provider.key_variable()) {
        Some(key) if !key.trim().is_empty() => Ok(ApiKey::new(key.trim())),
        _ => Err(Error::Config(format!(
            "no API key: set {} or pass one to the client",
            provider.key_variable()
        ))),
    }
}

/// Accepts `https://` anywhere and `http://` on loopback (or when allowed);
/// returns the URL without a trailing slash. Messages show the URL without
/// any credentials in it.
fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<String, Error> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::Config(format!("the base URL {} is not a URL: {e}", shown_url(url))))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback());
    let shown = shown_url(url);
    match parsed.scheme() {
        "https" => {}
        "http" if loopback || allow_insecure_http => {}
        "http" => {
            return Err(Error::Config(format!(
                "the base URL {shown} is plain http on a non-loopback host: the key would cross the \
                 network in the clear; use https or allow_insecure_http(true)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "the base URL {shown}: scheme {other:?} is not http(s)"
            )));
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A URL for a message: without `user:password@`, in quotes.
pub(crate) fn shown_url(url: &str) -> String {
    let shown = match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        // Not a URL with a host: drop whatever precedes an `@`, which could
        // be credentials.
        _ => url.rsplit('@').next().unwrap_or_default().to_owned(),
    };
    format!("{:?}", shown.trim_end_matches('/'))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
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
        let err = resolve_key(Provider::Segmind, None, |_| None).unwrap_err();
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
