//! A request checked and holding its in-flight slot, its generated body
//! open to changes: everything before sending, then the send itself.

use ideogram_raw::multipart::FilePart;

use super::Client;
use crate::connection::Api;
use crate::error::Error;
use crate::generation::Generation;
use crate::image_input::Loaded;
use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::queue::Job;
use crate::request::{GenerateRequest, Plan};
use crate::retry::{self, Method};
use crate::wire::{self, WireRequest};

/// A checked request holding its in-flight slot, ready to send
/// ([`Client::prepare`]), its generated body open to changes.
pub struct Prepared<'a> {
    client: &'a Client,
    request: &'a GenerateRequest,
    model: Model,
    wire: WireRequest,
    /// Ideogram's remix sends the image as a part of its own.
    upload: Option<Loaded>,
    /// Whether `wire` is as the plan checked it against the spec: nothing
    /// put into it since.
    checked: bool,
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

impl<'a> Prepared<'a> {
    /// See [`Client::prepare`].
    pub(super) async fn new(
        client: &'a Client,
        request: &'a GenerateRequest,
    ) -> Result<Self, Error> {
        let Plan {
            model,
            mut wire,
            image,
            references,
        } = request.plan(client.provider())?;
        if client.provider() == Provider::Segmind {
            let urls = references.style.iter().chain(&references.character);
            client.inner.check_urls(urls, "reference").await?;
        }
        // The plan checked the body; what is put into it below is checked
        // again before sending.
        let checked = references.is_empty() && image.is_none();
        if !references.is_empty() {
            wire = wire
                .with_references(&references, &client.inner.inputs)
                .await?;
        }
        let upload = match (&image, client.provider()) {
            (Some(image), Provider::Segmind) => {
                client.inner.check_urls([image], "image").await?;
                wire.set_image_file(image.segmind_value().await?)?;
                None
            }
            (Some(image), Provider::Ideogram) => {
                Some(client.inner.load_image(image, "image").await?)
            }
            (None, _) => None,
        };
        let slots = client
            .inner
            .slots(request.num_images.unwrap_or(1).max(1))
            .await;
        Ok(Self {
            client,
            request,
            model,
            wire,
            upload,
            checked,
            _slots: slots,
        })
    }

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
        self.checked = false;
        &mut self.wire
    }

    /// The body as it goes: checked against the spec once more if anything
    /// was put into it after the plan's check (an image, references, a
    /// change through [`Prepared::wire_mut`]).
    fn checked_wire(&self) -> Result<&WireRequest, Error> {
        if self.checked {
            return Ok(&self.wire);
        }
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
    #[tracing::instrument(name = "generate", skip_all, fields(provider = %self.client.provider(), model = %self.model))]
    pub async fn generate(self) -> Result<Generation, Error> {
        tracing::trace!(prompt = self.request.prompt(), "sending");
        let wire = self.checked_wire()?;
        let (client, model) = (self.client, self.model);
        let conn = &*client.inner;
        let retry = &conn.retry;
        match (&conn.api, wire) {
            (Api::Segmind(api), body) => match wire::segmind_v1(api, retry, body).await {
                Ok(answer) => {
                    conn.segmind_v1_generation(model, self.request.prompt(), answer)
                        .await
                }
                Err(e) => Err(conn.map_error(e, None).await),
            },
            (Api::Ideogram(api), WireRequest::IdeogramGenerate(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image().body(body.clone()).send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramV3(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image_v3().body(body.clone()).send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramV3Remix(body)) => {
                let image = self.upload.as_ref().expect("a remix has its image");
                let mut body = body.clone();
                body.image = crate::references::part(image, "image");
                let answer = retry::run(retry, Method::Post, || {
                    api.post_remix_image_v3().body(body.clone()).send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramV4(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image_v4().body(body.clone()).send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramV3Multipart(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image_v3_multipart()
                        .body(body.clone())
                        .send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramTransparent(body)) => {
                let answer = retry::run(retry, Method::Post, || {
                    api.post_generate_image_v3_transparent()
                        .body(body.clone())
                        .send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
            }
            (Api::Ideogram(api), WireRequest::IdeogramRemix(body)) => {
                let image = self.upload.as_ref().expect("a remix has its image");
                let body = ideogram_raw::ideogram::types::RemixImageRequest::builder()
                    .image_request(body.clone())
                    .image_file(FilePart::new(
                        image.bytes.clone(),
                        image.file_name.clone(),
                        image.content_type,
                    ));
                let answer = retry::run(retry, Method::Post, || {
                    api.post_remix_image().body(body.clone()).send()
                })
                .await;
                conn.ideogram_outcome(model, answer).await
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
        submit(&self.client.inner, wire, self.model, self.request.prompt()).await
    }
}

/// Queues a Segmind body on the v2 queue: the job of `model` for `prompt`.
#[tracing::instrument(name = "submit", skip_all, fields(provider = "segmind", %model))]
pub(super) async fn submit(
    conn: &std::sync::Arc<crate::connection::Connection>,
    wire: &WireRequest,
    model: Model,
    prompt: &str,
) -> Result<Job, Error> {
    tracing::trace!(prompt, "sending");
    let api = conn.segmind_api()?;
    let queued = match wire::segmind_v2(api, &conn.retry, wire).await {
        Ok(answer) => answer.into_inner(),
        Err(e) => return Err(conn.map_error(e, None).await),
    };
    let id = conn.redact(&queued.request_id);
    if id.trim().is_empty() {
        return Err(conn
            .invalid("the queue answered without a request id; the job may run and bill".into()));
    }
    tracing::debug!(%id, "queued");
    let operation = wire::segmind_v2_operation(wire).expect("a body the queue took");
    Ok(Job::submitted(
        conn.clone(),
        id,
        model,
        prompt.to_owned(),
        operation,
        std::time::Instant::now(),
    ))
}
