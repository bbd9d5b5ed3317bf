//! The one client: every provider and operation behind the same calls,
//! retries, error mapping and security rules.

mod builder;
mod edit;
mod prepared;
mod priced;

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
use crate::retry::{self, Billing};

/// A client for one provider. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Connection>,
}

// Shared across tasks and threads.
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

    /// The provider this client talks to.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The base URL requests go to, without any credentials it holds.
    pub fn base_url(&self) -> String {
        self.inner.shown_base_url()
    }

    /// Whether the base URL is on this machine (a mock, a local gateway).
    pub fn on_loopback(&self) -> bool {
        reqwest::Url::parse(&self.inner.base_url).is_ok_and(|url| builder::on_loopback(&url))
    }

    /// How long a request waits for its answer, per attempt.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The poll schedule [`Job::wait`] uses.
    pub fn poll_schedule(&self) -> &PollSchedule {
        &self.inner.poll
    }

    /// The completion times its jobs taught it, per model, to keep with
    /// [`CompletionTimes::to_json`].
    pub fn completion_times(&self) -> &CompletionTimes {
        &self.inner.completion
    }

    /// Generates images and waits for them; an invalid request sends nothing.
    /// On Segmind it queues the request and waits on the learned poll
    /// (its sync v1 is in maintenance mode), unless the client pins v1
    /// ([`ClientBuilder::segmind_sync`]).
    pub async fn generate(&self, request: &GenerateRequest) -> Result<Generation, Error> {
        self.prepare(request).await?.generate().await
    }

    /// Queues a generation and returns the job at once ([`Job::wait`] polls
    /// it): on Segmind's v2 queue, or on Ideogram as a v2 call made with
    /// `async` (see [`Client::prepare_job`]).
    pub async fn submit(&self, request: &GenerateRequest) -> Result<Job, Error> {
        self.prepare_job(request).await?.submit().await
    }

    /// Everything before queueing (see [`Client::prepare`]); on Ideogram,
    /// the request lowered with `async` into the first operation taking it
    /// (as asked where its operation always runs asynchronously).
    pub async fn prepare_job(&self, request: &GenerateRequest) -> Result<Prepared<'_>, Error> {
        if self.provider() == Provider::Ideogram {
            match request.clone().set("async", true).lower(Provider::Ideogram) {
                Ok(lowered) => {
                    let model = request.chosen_model();
                    let images = request.images_asked();
                    return Prepared::new(self, lowered, model, images).await;
                }
                Err(e) if e.is_not_taken() && e.field == "async" => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.prepare(request).await
    }

    /// Checks the request, reads its images and waits for an in-flight
    /// slot; nothing has left yet, and [`Prepared::generate`] sends at once:
    /// the moment to record "about to pay" (example: [`Prepared::wire_mut`]).
    pub async fn prepare(&self, request: &GenerateRequest) -> Result<Prepared<'_>, Error> {
        let lowered = request.lower(self.provider())?;
        let model = request.chosen_model();
        Prepared::new(self, lowered, model, request.images_asked()).await
    }

    /// A queued job from its id alone (Segmind keeps results for
    /// [`Provider::result_ttl`](crate::Provider::result_ttl) after
    /// submission: an hour).
    pub fn job(&self, id: impl Into<String>) -> Job {
        Job::new(self.inner.clone(), id.into())
    }

    /// The generated Segmind client of this client's key, base URL,
    /// redirects, answer cap and timeout (reqwest's, each call), to use
    /// through [`Client::call`].
    pub fn raw_segmind(&self) -> Result<raw_segmind::Client, Error> {
        match self.inner.raw()? {
            Api::Segmind(api) => Ok(api.clone()),
            Api::Ideogram(_) => Err(other_provider("Ideogram's API", "Client::segmind")),
        }
    }

    /// The generated Ideogram client of this client's settings (see
    /// [`Client::raw_segmind`]).
    pub fn raw_ideogram(&self) -> Result<raw_ideogram::Client, Error> {
        match self.inner.raw()? {
            Api::Ideogram(api) => Ok(api.clone()),
            Api::Segmind(_) => Err(other_provider("Segmind", "Client::ideogram")),
        }
    }

    /// Runs a generated operation with [`Client::generate`]'s guarantees:
    /// its body (JSON or multipart) checked against the spec's schema before
    /// it is sent, sent again only as [`Billing`] allows, `images` in-flight
    /// slots held, errors mapped and redacted. `call` builds each attempt
    /// afresh (example: [`Client::generation_from_ideogram`]).
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
        // Its body is checked like every body the facade builds: one the
        // spec refuses is not sent.
        let run = retry::run(
            &self.inner.retry,
            billing,
            self.inner.timeout,
            None,
            &mut call,
        );
        match ideogram_raw::checked::checked(run).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(self.inner.map_error(e, None)),
            Err(violation) => Err(InvalidInput::from(violation).into()),
        }
    }

    /// [`Client::call`] for a body the facade built and has already checked
    /// against the spec ([`WireRequest`](crate::WireRequest)): retried as
    /// `billing` allows, errors mapped and redacted, without the raw hooks'
    /// second check (serialising the body, parsing it back and walking the
    /// schema again: about 4k instructions of a 3.0 generate).
    pub(crate) async fn call_checked<T, F, Fut>(
        &self,
        billing: Billing,
        mut call: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, RawError<ByteStream>>>,
    {
        match retry::run(
            &self.inner.retry,
            billing,
            self.inner.timeout,
            None,
            &mut call,
        )
        .await
        {
            Ok(answer) => Ok(answer),
            Err(e) => Err(self.inner.map_error(e, None)),
        }
    }

    /// A result URL kept from an earlier call, to download without the key.
    pub fn remote_image(
        &self,
        url: impl Into<String>,
        prompt: impl Into<String>,
    ) -> GeneratedImage {
        self.inner.image_at(url.into(), prompt.into())
    }

    /// Ideogram's generated answer of the images' shape (from
    /// [`Client::call`]) as a [`Generation`] of `model`: words redacted, an
    /// unsafe image's URL withheld; another shape is
    /// [`Error::InvalidResponse`].
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
    /// [`Generation`] of `model` for `prompt`.
    pub async fn generation_from_segmind_v1(
        &self,
        model: Model,
        prompt: &str,
        answer: ResponseValue<ByteStream>,
    ) -> Result<Generation, Error> {
        // Read on the raw client's own timeout (it has reqwest's).
        let answer = crate::answers::read_answer(answer).await;
        self.inner.segmind_v1_generation(model, prompt, answer)
    }
}

/// The error for a raw client of the other provider.
fn other_provider(talks_to: &str, build: &str) -> Error {
    let why = format!("this client talks to {talks_to}; build one with {build}");
    InvalidInput::new("provider", why).into()
}

#[cfg(test)]
impl Client {
    /// The connection under this client, for the crate's own tests.
    pub(crate) fn connection(&self) -> &Connection {
        &self.inner
    }
}
