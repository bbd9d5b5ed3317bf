//! The one client: every provider and operation behind the same calls,
//! retries, error mapping and security rules.

mod builder;
mod edit;
mod prepared;

use std::sync::Arc;
use std::time::Duration;

use ideogram_raw::{ideogram as raw_ideogram, segmind as raw_segmind};
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};

pub use builder::{ClientBuilder, IDEOGRAM_IN_FLIGHT_LIMIT};
pub use edit::TextLayers;
pub use prepared::Prepared;

use crate::completion::CompletionTimes;
use crate::connection::{Api, Connection};
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation};
use crate::invalid::InvalidInput;
use crate::model::Model;
use crate::poll::PollSchedule;
use crate::provider::Provider;
use crate::queue::Job;
use crate::request::GenerateRequest;
use crate::retry::{self, Method};

/// A client for one provider (the crate docs show it at work). Cheap to
/// clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Connection>,
}

// A client is shared across tasks and threads; keep it so.
const _: () = {
    const fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Client>();
};

impl std::fmt::Debug for Client {
    /// The provider and the base URL without any credentials in it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// Whether a call may bill: what decides when [`Client::call`] sends it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Billing {
    /// Sent again only after a 429 or when it certainly never left.
    Billed,
    /// A read: also sent again after 5xx answers and network errors.
    Free,
}

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

    /// A builder for `provider`: base URL, auth scheme, timeouts, retries.
    pub fn builder(provider: Provider) -> ClientBuilder {
        ClientBuilder::new(provider)
    }

    /// The connection under this client, for the crate's own tests.
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.inner
    }

    /// The provider this client talks to.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The base URL requests go to, without any credentials it holds.
    pub fn base_url(&self) -> String {
        self.inner.shown_base_url()
    }

    /// Whether the base URL is on this machine (a mock, a local gateway),
    /// whose completion times may not hold for the service.
    pub fn on_loopback(&self) -> bool {
        reqwest::Url::parse(&self.inner.base_url).is_ok_and(|url| builder::on_loopback(&url))
    }

    /// How long a sent request waits for its answer, per attempt (the
    /// builder's [`timeout`](ClientBuilder::timeout)).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The poll schedule [`Job::wait`] uses.
    pub fn poll_schedule(&self) -> &PollSchedule {
        &self.inner.poll
    }

    /// The completion times its jobs taught it, per model (shared by its
    /// clones), to save with [`CompletionTimes::to_json`] for the next run.
    pub fn completion_times(&self) -> &CompletionTimes {
        &self.inner.completion
    }

    /// Generates images and waits for them, through the operation the
    /// spec's routes give the model and input; an invalid request sends
    /// nothing.
    pub async fn generate(&self, request: &GenerateRequest) -> Result<Generation, Error> {
        self.prepare(request).await?.generate().await
    }

    /// Queues a generation on Segmind's v2 queue and returns the job at once
    /// ([`Job::wait`] polls it). Ideogram's API has no queue.
    pub async fn submit(&self, request: &GenerateRequest) -> Result<Job, Error> {
        self.prepare(request).await?.submit().await
    }

    /// Everything before sending: checks the request, reads its input images
    /// and waits for an in-flight slot. Nothing has left this machine when it
    /// returns, and [`Prepared::generate`] or [`Prepared::submit`] sends at
    /// once: the moment to record "about to pay" (a batch's journal).
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
        let lowered = request.lower(self.provider())?;
        Prepared::new(
            self,
            lowered,
            request.chosen_model(),
            request.prompt().to_owned(),
            request.num_images_asked().unwrap_or(1),
        )
        .await
    }

    /// A queued job from its id alone (Segmind keeps results 1 hour).
    pub fn job(&self, id: impl Into<String>) -> Job {
        Job::new(self.inner.clone(), id.into())
    }

    /// The generated Segmind client this client runs on, with its key,
    /// base URL, same-origin redirects and answer cap; call its operations
    /// through [`Client::call`] for the retry rules, the in-flight limit and
    /// the error mapping too. An error for an Ideogram client.
    pub fn raw_segmind(&self) -> Result<raw_segmind::Client, Error> {
        match &self.inner.api {
            Api::Segmind(api) => Ok(api.clone()),
            Api::Ideogram(_) => Err(other_provider("Ideogram's API", "Client::segmind")),
        }
    }

    /// The generated Ideogram client this client runs on (see
    /// [`Client::raw_segmind`]). An error for a Segmind client.
    pub fn raw_ideogram(&self) -> Result<raw_ideogram::Client, Error> {
        match &self.inner.api {
            Api::Ideogram(api) => Ok(api.clone()),
            Api::Segmind(_) => Err(other_provider("Segmind", "Client::ideogram")),
        }
    }

    /// Runs a generated operation with every guarantee [`Client::generate`]
    /// gives: its body (JSON or multipart) checked against the spec's schema
    /// before it is sent (an [`Error::Validation`] naming the field and what
    /// it allows),
    /// sent again only as [`Billing`] allows, `images` in-flight slots
    /// held while it runs (0 for calls that generate nothing), its error
    /// mapped into [`Error`] by status, the key redacted. `call` builds the
    /// request afresh for each attempt, from [`Client::raw_segmind`] or
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
        let _slots = self.inner.slots(images).await;
        let method = match billing {
            Billing::Billed => Method::Post,
            Billing::Free => Method::Get,
        };
        // Its body is checked against the operation's schema like every body
        // the facade builds: one the spec refuses is not sent.
        let run = retry::run(&self.inner.retry, method, &mut call);
        match ideogram_raw::checked::checked(run).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(self.inner.map_error(e, None).await),
            Err(violation) => Err(InvalidInput::from(violation).into()),
        }
    }

    /// An image at `url` (a result URL kept from an earlier call), to
    /// download with this client's downloader, without the key.
    pub fn remote_image(
        &self,
        url: impl Into<String>,
        prompt: impl Into<String>,
    ) -> GeneratedImage {
        self.inner.image_at(url.into(), prompt.into())
    }

    /// Ideogram's generated answer (from [`Client::call`]) as a
    /// [`Generation`] of `model`: words redacted (URLs kept whole), an unsafe
    /// image's URL withheld, downloads through this client.
    ///
    /// ```no_run
    /// use ideogram::raw::ideogram::types::{GenerateImageRequest, ImageRequest};
    /// use ideogram::{Billing, Client, Model};
    ///
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let client = Client::ideogram_from_env()?;
    /// let api = client.raw_ideogram()?;
    /// let body = GenerateImageRequest::builder()
    ///     .image_request(ImageRequest::builder().prompt("a lighthouse at dawn"));
    /// let answer = client
    ///     .call(Billing::Billed, 1, || {
    ///         api.post_generate_image().body(body.clone()).send()
    ///     })
    ///     .await?;
    /// let generation = client.generation_from_ideogram(Model::V2, answer.into_inner())?;
    /// generation.images[0].save("lighthouse.png").await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Any generated answer of the images' shape is taken
    /// (`GenerateImageResponse`, `ImageGenerationResponseV4`); another shape
    /// is [`Error::InvalidResponse`].
    pub fn generation_from_ideogram<T: serde::Serialize>(
        &self,
        model: Model,
        answer: T,
    ) -> Result<Generation, Error> {
        self.inner.ideogram_answer(model, answer)
    }

    /// A Segmind queue result as a [`Generation`] of `model` for `prompt`;
    /// one not COMPLETED, or without a URL, is [`Error::InvalidResponse`].
    pub fn generation_from_segmind_queue(
        &self,
        model: Model,
        prompt: &str,
        answer: raw_segmind::types::QueueResultResponse,
    ) -> Result<Generation, Error> {
        self.inner.segmind_queue_generation(model, prompt, answer)
    }

    /// A Segmind v1 answer (the image, or JSON holding it) as a
    /// [`Generation`] of `model` for `prompt`, with what its headers give.
    pub async fn generation_from_segmind_v1(
        &self,
        model: Model,
        prompt: &str,
        answer: ResponseValue<ByteStream>,
    ) -> Result<Generation, Error> {
        self.inner
            .segmind_v1_generation(model, prompt, answer)
            .await
    }
}

/// The error for a raw client of the other provider.
fn other_provider(talks_to: &str, build: &str) -> Error {
    InvalidInput::new(
        "provider",
        format!("this client talks to {talks_to}; build one with {build}"),
    )
    .into()
}
