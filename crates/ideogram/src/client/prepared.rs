//! A request checked and holding its in-flight slot, and the one send path.

use ideogram_raw::ideogram::types::GenerationV2;
use ideogram_raw::operation::Operation;
use progenitor_client::ResponseValue;

use crate::answers::Body;

use super::{Billing, Client};
use crate::answers::V2Answer;
use crate::connection::Connection;
use crate::error::Error;
use crate::generation::Generation;
use crate::invalid::InvalidInput;
use crate::lowering::Lowered;
use crate::model::Model;
use crate::provider::Provider;
use crate::queue::Job;
use crate::wire::WireRequest;

/// Whether `operation` may answer a generation to poll (Ideogram's v2).
pub(crate) fn polled(operation: &Operation) -> bool {
    operation.route.is_some_and(|route| route.poll.is_some())
}

/// A checked request holding its in-flight slot, its body open to changes
/// ([`Client::prepare`]).
pub struct Prepared<'a> {
    client: &'a Client,
    model: Model,
    wire: WireRequest,
    _slots: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Prepared<'_> {
    /// The client, the operation and the prompt, without the images' bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("client", self.client)
            .field("operation", &self.wire.operation().id)
            .field("prompt", &self.wire.prompt())
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl<'a> Prepared<'a> {
    /// Reads the images of `lowered` and waits for `images` in-flight slots.
    pub(super) async fn new(
        client: &'a Client,
        lowered: Lowered,
        model: Model,
        images: u32,
    ) -> Result<Self, Error> {
        let conn = &*client.inner;
        // An operation that runs one model runs it, whatever the request
        // defaulted to (one pinned without a model).
        let only = lowered
            .operation
            .route
            .and_then(|route| match route.models {
                [one] => Model::ALL.into_iter().find(|m| m.name() == *one),
                _ => None,
            });
        let wire = read(conn, lowered).await?;
        Ok(Self {
            client,
            model: only.unwrap_or(model),
            wire,
            _slots: conn.slots(images.max(1)).await,
        })
    }

    /// The prompt as the body sends it, for a job to record.
    fn prompt(&self) -> String {
        self.wire.prompt().to_owned()
    }

    /// The client that sends it.
    pub(super) fn client(&self) -> &'a Client {
        self.client
    }

    /// The body that will be sent.
    pub fn wire(&self) -> &WireRequest {
        &self.wire
    }

    /// The body, to set any field of the spec's body the request has no
    /// value for; it is checked against the spec again before sending.
    ///
    /// ```no_run
    /// use ideogram::{Client, GenerateRequest, Model};
    ///
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let client = Client::ideogram_from_env()?;
    /// let request = GenerateRequest::new("a lighthouse, poster").model(Model::V3);
    /// let mut prepared = client.prepare(&request).await?;
    /// prepared.wire_mut().body_mut().insert("style_preset".into(), "ART_DECO".into());
    /// let generation = prepared.generate().await?;
    /// # let _ = generation;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wire_mut(&mut self) -> &mut WireRequest {
        &mut self.wire
    }

    /// Whether [`generate`](Self::generate) goes through a queue: on
    /// Segmind, unless the client pins sync v1
    /// ([`segmind_sync`](crate::ClientBuilder::segmind_sync)), where the
    /// operation has a queued twin (the spec's `x-route.queue`). A caller
    /// that must record the request id before waiting (a journal)
    /// [`submit`](Self::submit)s itself when this is `true`.
    ///
    /// On Ideogram, a v2 call that answers a generation id to poll: one
    /// made with `async` or a `webhook_url` (`x-delivery` fields), or to an
    /// operation that always runs so (its body takes no `async`).
    pub fn queued(&self) -> bool {
        let conn = &*self.client.inner;
        let operation = self.wire.operation();
        match conn.provider {
            Provider::Segmind => {
                !conn.segmind_sync && operation.route.and_then(|r| r.queue).is_some()
            }
            _ if !polled(operation) => false,
            provider => {
                let schema = crate::catalog::schemas(provider);
                schema.answers_later(self.wire.schema(), self.wire.body())
            }
        }
    }

    /// Sends the request and waits for the images (see [`Client::generate`]):
    /// on Segmind's queue where [`queued`](Self::queued), a submit then a
    /// wait on the learned poll (a failure after the submit names the
    /// request id, to resume with [`Client::job`]).
    pub async fn generate(self) -> Result<Generation, Error> {
        use tracing::Instrument as _;
        let (provider, model) = (self.client.provider(), self.model);
        let span = tracing::info_span!("generate", %provider, %model);
        // Instrumented only for a listening span: the wrapper moves the
        // call's future and enters the span on every poll otherwise.
        if span.is_disabled() {
            self.run().await
        } else {
            self.run().instrument(span).await
        }
    }

    /// [`generate`](Self::generate) within its span.
    async fn run(self) -> Result<Generation, Error> {
        if self.queued() {
            return self.submit().await?.wait().await;
        }
        tracing::trace!(prompt = self.wire.prompt(), "sending");
        let conn = &self.client.inner;
        let operation = self.wire.operation();
        let answer = send(self.client, operation, &self.wire).await?;
        match conn.provider {
            Provider::Segmind => conn.segmind_v1_generation(self.model, self.wire.prompt(), answer),
            Provider::Ideogram if polled(operation) => {
                match conn.ideogram_v2_bytes(self.model, answer)? {
                    V2Answer::Images(generation) => Ok(generation),
                    // It runs on (the operation always does): its slots held while it does.
                    V2Answer::Running(id) => {
                        tracing::debug!(%id, "running");
                        let job =
                            Job::submitted(conn.clone(), id, self.model, self.prompt(), operation);
                        job.wait().await
                    }
                }
            }
            Provider::Ideogram => conn.ideogram_bytes(self.model, answer),
        }
    }

    /// Whether [`submit`](Self::submit) can queue this request, known
    /// before anything is sent: `Err` naming the providers that have a
    /// queue when this one answers the request's operation only at once.
    /// A caller that prices a submit first (`--quote`, a budget) checks
    /// this so that it never prices what would be refused.
    pub fn check_submit(&self) -> Result<(), Error> {
        self.queue().map(drop)
    }

    /// Where [`submit`](Self::submit) sends the request: Segmind's queue
    /// operation for it, or `None` for an Ideogram v2 call answered with
    /// an id to poll (sent to its own operation).
    fn queue(&self) -> Result<Option<&'static Operation>, Error> {
        let conn = &self.client.inner;
        let operation = self.wire.operation();
        if conn.provider == Provider::Ideogram && polled(operation) {
            return Ok(None);
        }
        let queue_of = |op: &Operation| op.route.and_then(|r| r.queue);
        let operations = |p| crate::catalog::operations(p).iter();
        let find = |id| operations(conn.provider).find(|op: &&Operation| op.id == id);
        let Some(queue) = queue_of(operation).and_then(find) else {
            let queued = Provider::ALL
                .into_iter()
                .filter(|p| operations(*p).any(|op| queue_of(op).is_some()));
            let queued: Vec<String> = queued.map(|p| p.to_string()).collect();
            let (queued, provider) = (queued.join(", "), conn.provider);
            let why = format!(
                "only {queued} has a queue; {provider} answers {} at once: use generate",
                operation.id
            );
            return Err(InvalidInput::new("provider", why).into());
        };
        Ok(Some(queue))
    }

    /// Queues the request (see [`Client::submit`]).
    #[tracing::instrument(name = "submit", skip_all, fields(provider = %self.client.provider(), model = %self.model))]
    pub async fn submit(self) -> Result<Job, Error> {
        let conn = &self.client.inner;
        let operation = self.wire.operation();
        let Some(queue) = self.queue()? else {
            tracing::trace!(prompt = self.wire.prompt(), "sending");
            let answer = send(self.client, operation, &self.wire).await?;
            // Its id, whether it runs on or (asked without `async`) answered at once.
            let answer: GenerationV2 = conn.decode_json(answer).await?;
            let why = "it answered without a generation id; it may run and bill";
            let id = conn.generation_id(&answer, why)?;
            tracing::debug!(%id, "queued");
            return Ok(Job::submitted(
                conn.clone(),
                id,
                self.model,
                self.prompt(),
                operation,
            ));
        };
        tracing::trace!(prompt = self.wire.prompt(), "sending");
        let answer = send(self.client, queue, &self.wire).await?;
        let queued: ideogram_raw::segmind::types::QueueSubmitResponse =
            conn.decode_json(answer).await?;
        let id = conn.redact(&queued.request_id);
        if id.trim().is_empty() {
            let why = "the queue answered without a request id; the job may run and bill";
            return Err(conn.invalid(why.into()));
        }
        tracing::debug!(%id, "queued");
        let job = Job::submitted(conn.clone(), id, self.model, self.prompt(), queue);
        Ok(job)
    }
}

/// `lowered` with its images read; a URL Segmind would fetch after billing
/// is checked first.
pub(crate) async fn read(conn: &Connection, lowered: Lowered) -> Result<WireRequest, Error> {
    if conn.provider == Provider::Segmind {
        for image in lowered.images.iter().filter(|i| !i.file) {
            conn.check_urls(image.inputs.iter(), image.named, image.accepts)
                .await?;
        }
    }
    WireRequest::read(lowered, &conn.inputs).await
}

/// Sends `wire` to `operation` as a billed call, checked against the spec
/// again if it changed since lowering checked it (the one check it gets).
pub(crate) async fn send(
    client: &Client,
    operation: &Operation,
    wire: &WireRequest,
) -> Result<ResponseValue<Body>, Error> {
    let conn = &*client.inner;
    if wire.provider() != conn.provider {
        let why = format!("{} is not a body {} takes", wire.schema(), conn.provider);
        return Err(InvalidInput::new("body", why).into());
    }
    let payload = wire.checked()?.payload();
    let attempt = || conn.send_once(operation, payload);
    client.call_checked(Billing::Billed, attempt).await
}
