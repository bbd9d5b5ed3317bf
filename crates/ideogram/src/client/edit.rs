//! The client's operations on an uploaded image.

use std::collections::BTreeMap;

use ideogram_raw::ideogram::types::{DetectedTextBlock, LayerizeTextResponse};
use progenitor_client::{ByteStream, ResponseValue};

use super::Client;
use super::prepared::{Prepared, read, send};
use crate::edit::EditRequest;
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation};
use crate::image_input::ImageInput;
use crate::lowering::{Draft, Slot};
use crate::model::Model;
use crate::quote::Quote;
use crate::wire::WireRequest;

impl Client {
    /// Runs an operation on an uploaded image and waits for the images; on
    /// Segmind through its queue, as [`Client::generate`] does.
    pub async fn edit(&self, request: &EditRequest) -> Result<Generation, Error> {
        self.prepare_edit(request).await?.generate().await
    }

    /// Everything before sending an edit (see [`Client::prepare`]).
    pub async fn prepare_edit(&self, request: &EditRequest) -> Result<Prepared<'_>, Error> {
        let lowered = request.lower(self.provider())?;
        let (model, prompt) = (request.chosen_model(), request.kind().prompt());
        let images = request.images_asked();
        Prepared::new(self, lowered, model, prompt.unwrap_or_default(), images).await
    }

    /// Separates an image's text into layers (Ideogram 3.0's
    /// layerize-text); `prompt` describes the image. Billed per call.
    pub async fn layerize_text(
        &self,
        image: &ImageInput,
        prompt: Option<&str>,
    ) -> Result<TextLayers, Error> {
        if let Some(prompt) = prompt {
            crate::lowering::check_prompt("prompt", prompt)?;
        }
        let none = BTreeMap::new();
        let answer = self
            .on_image("layerize-text", Some(Model::V3), image, prompt, &none)
            .await?;
        let conn = &*self.inner;
        let answer: LayerizeTextResponse = conn.decode_json(answer).await?;
        // Repeated whole, so redacted whole.
        let mut blocks =
            serde_json::to_value(&answer.text_blocks).expect("generated blocks are JSON");
        conn.redact_json(&mut blocks);
        let blocks: Vec<DetectedTextBlock> = serde_json::from_value(blocks).map_err(|e| {
            conn.invalid(format!("text blocks that do not decode once redacted: {e}"))
        })?;
        let seed = u64::try_from(answer.seed).unwrap_or_default();
        let mut base = conn.image_at(answer.base_image_url, prompt.unwrap_or_default().to_owned());
        base.seed = Some(seed);
        Ok(TextLayers { base, blocks, seed })
    }

    /// Words for an image (Ideogram's `/describe`, Segmind's
    /// `ideogram-describe`), each usable as a prompt. Billed per call
    /// (example: [`describe_with`](Self::describe_with)).
    pub async fn describe(&self, image: &ImageInput) -> Result<Vec<String>, Error> {
        self.describe_with(image, std::iter::empty::<(String, serde_json::Value)>())
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
        let fields = fields.into_iter().map(|(k, v)| (k.into(), v)).collect();
        let answer = self.on_image("describe", None, image, None, &fields);
        self.inner.descriptions(answer.await?).await
    }

    /// What [`describe`](Self::describe) of `image` would cost (see
    /// [`Client::quote`]); the image is read as it would be for the call.
    pub async fn quote_describe(&self, image: &ImageInput) -> Result<Quote, Error> {
        let wire = self
            .on_image_wire("describe", None, image, None, &BTreeMap::new())
            .await?;
        super::priced::quote(self, &wire).await
    }

    /// What [`layerize_text`](Self::layerize_text) would cost (see
    /// [`Client::quote`]).
    pub async fn quote_layerize_text(
        &self,
        image: &ImageInput,
        prompt: Option<&str>,
    ) -> Result<Quote, Error> {
        let none = BTreeMap::new();
        let wire = self
            .on_image_wire("layerize-text", Some(Model::V3), image, prompt, &none)
            .await?;
        super::priced::quote(self, &wire).await
    }

    /// The answer to `task` run on `image` alone (and `prompt`).
    async fn on_image(
        &self,
        task: &str,
        model: Option<Model>,
        image: &ImageInput,
        prompt: Option<&str>,
        fields: &BTreeMap<String, serde_json::Value>,
    ) -> Result<ResponseValue<ByteStream>, Error> {
        let body = self
            .on_image_wire(task, model, image, prompt, fields)
            .await?;
        send(self, body.operation(), &body).await
    }

    /// `task` on `image` (and `prompt`) as it goes on the wire: checked and
    /// its image read, nothing sent.
    async fn on_image_wire(
        &self,
        task: &str,
        model: Option<Model>,
        image: &ImageInput,
        prompt: Option<&str>,
        fields: &BTreeMap<String, serde_json::Value>,
    ) -> Result<WireRequest, Error> {
        image.check()?;
        let lowered = Draft {
            task,
            model,
            operation: None,
            prompt,
            resolution: None,
            aspect_ratio: None,
            palette: None,
            magic_prompt: None,
            images: &[(Slot::Input, image.clone())],
            fields,
        }
        .lower(self.provider())?;
        read(&self.inner, lowered).await
    }
}

/// An image's text as layers ([`Client::layerize_text`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TextLayers {
    /// The image with its text removed (its URL expires after 24 hours).
    pub base: GeneratedImage,
    /// Each block of text, as the spec's generated type describes it.
    pub blocks: Vec<DetectedTextBlock>,
    /// The seed used.
    pub seed: u64,
}
