//! The client's operations on an uploaded image.

use ideogram_raw::ideogram::types::{ImageObjectV2, LayerizeTextResponse};
use ideogram_raw::operation::Operation;
use progenitor_client::ResponseValue;

use crate::answers::Body;

use super::Client;
use super::prepared::{Prepared, polled, read, send};
use crate::answers::V2Results;
use crate::edit::EditRequest;
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation};
use crate::image_input::ImageInput;
use crate::image_text::{DescribeRequest, LayerizeRequest, TextBlocks};
use crate::lowering::Lowered;
use crate::queue::Job;
use crate::quote::Quote;

impl Client {
    /// Runs an operation on an uploaded image and waits for the images; on
    /// Segmind through its queue, as [`Client::generate`] does.
    pub async fn edit(&self, request: &EditRequest) -> Result<Generation, Error> {
        self.prepare_edit(request).await?.generate().await
    }

    /// Everything before sending an edit (see [`Client::prepare`]).
    pub async fn prepare_edit(&self, request: &EditRequest) -> Result<Prepared<'_>, Error> {
        let lowered = request.lower(self.provider())?;
        let model = request.chosen_model();
        let images = request.images_asked();
        Prepared::new(self, lowered, model, images).await
    }

    /// Separates an image's text into layers (Ideogram 3.0's
    /// layerize-text); `prompt` describes the image. Billed per call
    /// (the model or operation chosen: [`layerize`](Self::layerize)).
    pub async fn layerize_text(
        &self,
        image: &ImageInput,
        prompt: Option<&str>,
    ) -> Result<TextLayers, Error> {
        let mut request = LayerizeRequest::new(image.clone());
        if let Some(prompt) = prompt {
            request = request.prompt(prompt);
        }
        self.layerize(&request).await
    }

    /// Separates an image's text into layers on the operation the request
    /// picks: v1 layerize-text, or v2's design layerize (answered at once,
    /// or with `async` or a `webhook_url` polled until done, as a
    /// [`Job`] is). Billed per call; a paid answer that does not decode is
    /// an error that says so, with the URLs it held.
    pub async fn layerize(&self, request: &LayerizeRequest) -> Result<TextLayers, Error> {
        let lowered = request.lower(self.provider())?;
        let (answer, operation) = self.on_image(lowered).await?;
        let conn = &self.inner;
        let prompt = request.prompt_text().unwrap_or_default();
        if !polled(operation) {
            return self.v1_layers(answer, prompt).await;
        }
        let data = match conn.v2_results(answer)? {
            V2Results::Done(data) => data,
            V2Results::Running(id) => {
                tracing::debug!(%id, "running");
                let model = request.chosen_model().unwrap_or(LayerizeRequest::MODEL);
                let job = Job::submitted(conn.clone(), id, model, prompt.to_owned(), operation);
                job.wait_results().await?
            }
        };
        self.v2_layers(data, prompt)
    }

    /// v1 layerize-text's answer as [`TextLayers`].
    async fn v1_layers(
        &self,
        answer: ResponseValue<Body>,
        prompt: &str,
    ) -> Result<TextLayers, Error> {
        let conn = &*self.inner;
        let answer: LayerizeTextResponse = conn.decode_json(answer).await?;
        let blocks = TextBlocks::V1(self.redacted_blocks(&answer.text_blocks)?);
        let seed = u64::try_from(answer.seed).unwrap_or_default();
        let mut base = conn.image_at(answer.base_image_url, prompt.to_owned());
        base.seed = Some(seed);
        Ok(TextLayers {
            base,
            blocks,
            seed,
            design: None,
        })
    }

    /// A completed v2 layerize's results (billed) as [`TextLayers`]: its
    /// `layerized_image`, whose base has no text; one without a base is an
    /// answer that did not decode, its URLs kept to fetch what was paid.
    fn v2_layers(&self, data: Vec<ImageObjectV2>, prompt: &str) -> Result<TextLayers, Error> {
        let conn = &*self.inner;
        let layered = data.iter().position(|image| {
            image
                .base_image_url
                .as_deref()
                .is_some_and(|url| !url.is_empty())
        });
        let Some(layered) = layered else {
            let body = serde_json::to_vec(&data).expect("generated results are JSON");
            let why = "it answered (billed) without a layerized image's base_image_url";
            return Err(conn.undecoded(&body, format!("{why}: {}", conn.excerpt(&body))));
        };
        let image = data.into_iter().nth(layered).expect("found above");
        let blocks = TextBlocks::V2(self.redacted_blocks(&image.text_blocks)?);
        let seed = image
            .seed
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or_default();
        let at = |url: String| {
            let mut image = conn.image_at(url, prompt.to_owned());
            image.seed = Some(seed);
            image
        };
        let base = at(image.base_image_url.unwrap_or_default());
        let design = image.url.filter(|url| !url.is_empty()).map(at);
        Ok(TextLayers {
            base,
            blocks,
            seed,
            design,
        })
    }

    /// Text blocks the server wrote, repeated whole, so redacted whole.
    fn redacted_blocks<T>(&self, blocks: &[T]) -> Result<Vec<T>, Error>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let conn = &*self.inner;
        let mut value = serde_json::to_value(blocks).expect("generated blocks are JSON");
        conn.redact_json(&mut value);
        serde_json::from_value(value)
            .map_err(|e| conn.invalid(format!("text blocks that do not decode once redacted: {e}")))
    }

    /// Words for an image (Ideogram's `/describe`, Segmind's
    /// `ideogram-describe`), each usable as a prompt. Billed per call
    /// (example: [`describe_with`](Self::describe_with); another model:
    /// [`describe_request`](Self::describe_request)).
    pub async fn describe(&self, image: &ImageInput) -> Result<Vec<String>, Error> {
        self.describe_request(&DescribeRequest::new(image.clone()))
            .await
    }

    /// [`describe`](Self::describe) with other fields of the describe body
    /// by their spec names, such as `describe_model_version`.
    ///
    /// ```no_run
    /// # async fn run(client: ideogram::Client) -> Result<(), ideogram::Error> {
    /// let image = "photo.png".parse::<ideogram::ImageInput>()?;
    /// let words = client
    ///     .describe_with(&image, [("describe_model_version", serde_json::json!("V_2"))])
    ///     .await?;
    /// println!("{}", words.join("\n"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe_with(
        &self,
        image: &ImageInput,
        fields: impl IntoIterator<Item = (impl Into<String>, serde_json::Value)>,
    ) -> Result<Vec<String>, Error> {
        let request = fields
            .into_iter()
            .fold(DescribeRequest::new(image.clone()), |r, (k, v)| r.set(k, v));
        self.describe_request(&request).await
    }

    /// Words for an image on the model or operation `request` chooses
    /// (Ideogram 4.0's v2 describe: [`DescribeRequest`]'s example). A
    /// structured prompt answered (4.0's `json_prompt`) is one description,
    /// its JSON text, usable as a `json_prompt`. Billed per call.
    pub async fn describe_request(&self, request: &DescribeRequest) -> Result<Vec<String>, Error> {
        let lowered = request.lower(self.provider())?;
        let (answer, _) = self.on_image(lowered).await?;
        self.inner.descriptions(answer)
    }

    /// What [`describe_request`](Self::describe_request) would cost (see
    /// [`Client::quote`]): its image is read as for the call, nothing runs.
    pub async fn quote_describe(&self, request: &DescribeRequest) -> Result<Quote, Error> {
        self.quote_lowered(request.lower(self.provider())?).await
    }

    /// What [`layerize`](Self::layerize) would cost (see [`Client::quote`]).
    pub async fn quote_layerize(&self, request: &LayerizeRequest) -> Result<Quote, Error> {
        self.quote_lowered(request.lower(self.provider())?).await
    }

    /// Reads and checks `request`'s image as
    /// [`describe_request`](Self::describe_request) would (a file, or a URL
    /// within the download caps), sending nothing: a caller that sends many
    /// refuses an unreadable one before any is sent.
    pub async fn check_describe(&self, request: &DescribeRequest) -> Result<(), Error> {
        self.check_lowered(request.lower(self.provider())?).await
    }

    /// [`check_describe`](Self::check_describe) for [`layerize`](Self::layerize).
    pub async fn check_layerize(&self, request: &LayerizeRequest) -> Result<(), Error> {
        self.check_lowered(request.lower(self.provider())?).await
    }

    /// The spec's price for [`describe_request`](Self::describe_request)
    /// (`x-price`), marked as an estimate: nothing is read or sent, not even
    /// a dry run, so a caller that only records what a paid call cost asks
    /// the service nothing more. An error where the spec gives no price.
    pub fn estimate_describe(&self, request: &DescribeRequest) -> Result<Quote, Error> {
        estimate_lowered(request.lower(self.provider())?)
    }

    /// The spec's price for [`layerize`](Self::layerize), sending nothing
    /// (see [`estimate_describe`](Self::estimate_describe)).
    pub fn estimate_layerize(&self, request: &LayerizeRequest) -> Result<Quote, Error> {
        estimate_lowered(request.lower(self.provider())?)
    }

    /// What a lowered request on an image would cost; its image is read.
    async fn quote_lowered(&self, lowered: Lowered) -> Result<Quote, Error> {
        let wire = read(&self.inner, lowered).await?;
        super::priced::quote(self, &wire).await
    }

    /// Reads and checks a lowered request's images, sending nothing.
    async fn check_lowered(&self, lowered: Lowered) -> Result<(), Error> {
        read(&self.inner, lowered).await.map(drop)
    }

    /// The answer to a lowered request on an image alone, and the operation
    /// that answered.
    async fn on_image(
        &self,
        lowered: Lowered,
    ) -> Result<(ResponseValue<Body>, &'static Operation), Error> {
        let body = read(&self.inner, lowered).await?;
        let operation = body.operation();
        Ok((send(self, operation, &body).await?, operation))
    }
}

/// The spec's price for a lowered request, sending nothing.
fn estimate_lowered(lowered: Lowered) -> Result<Quote, Error> {
    crate::quote::estimate(lowered.operation, &lowered.body)
}

/// An image's text as layers ([`Client::layerize_text`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TextLayers {
    /// The image with its text removed (its URL expires after 24 hours).
    pub base: GeneratedImage,
    /// Each block of text, as the spec's generated type for the operation
    /// that answered describes it.
    pub blocks: TextBlocks,
    /// The seed used (0 where the answer gives none).
    pub seed: u64,
    /// The design as v2 answers it beside its base (its `url`), where it
    /// does: paid for like the base.
    pub design: Option<GeneratedImage>,
}
