//! The client's operations on an uploaded image: edit, reframe and
//! replace-background ([`Client::edit`]), and [`Client::describe`].

use ideogram_raw::ideogram::types as wire;
use ideogram_raw::multipart::FilePart;

use super::Client;
use crate::connection::Api;
use crate::edit::{EditBody, EditKind, EditRequest, Uploads};
use crate::error::Error;
use crate::generation::{GeneratedImage, Generation};
use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::retry::{self, Method};

impl Client {
    /// Runs an Ideogram 3.0 operation on an uploaded image (edit, reframe,
    /// replace-background, upscale; reframe and replace-background on
    /// Segmind too) and waits for the images: [`Client::prepare_edit`] then
    /// [`PreparedEdit::send`]. Billed per image returned.
    pub async fn edit(&self, request: &EditRequest) -> Result<Generation, Error> {
        self.prepare_edit(request).await?.send().await
    }

    /// Everything before sending an edit: checks the request, reads and
    /// checks its images (type, size, the mask against the image) and
    /// waits for in-flight slots. Nothing has left this machine when it
    /// returns; an invalid request sends nothing.
    pub async fn prepare_edit(&self, request: &EditRequest) -> Result<PreparedEdit<'_>, Error> {
        request.check(self.provider())?;
        let conn = &*self.inner;
        if let Api::Segmind(_) = conn.api {
            let images = std::iter::once(request.image()).chain(&request.style_references);
            conn.check_urls(images, "image").await?;
            let body = EditBody::build_segmind(request).await?;
            return Ok(PreparedEdit {
                client: self,
                operation: request.kind().name(),
                prompt: request.kind().prompt().unwrap_or_default().to_owned(),
                body,
                _slots: conn.slots(1).await,
            });
        }
        let mask = match request.kind() {
            EditKind::Edit { mask, .. } => Some(conn.load_image(mask, "mask").await?),
            _ => None,
        };
        let mut style_references = Vec::new();
        for reference in &request.style_references {
            style_references.push(conn.load_image(reference, "style_reference_images").await?);
        }
        let uploads = Uploads {
            image: conn.load_image(request.image(), "image").await?,
            mask,
            style_references,
        };
        uploads.check()?;
        let body = EditBody::build(request, &uploads)?;
        let slots = conn.slots(request.images_asked()).await;
        Ok(PreparedEdit {
            client: self,
            operation: request.kind().name(),
            prompt: String::new(),
            body,
            _slots: slots,
        })
    }

    /// Separates an image's text into layers (Ideogram 3.0's
    /// layerize-text): the image without its text, downloadable like any
    /// generated image, and each text block with its box, words and look.
    /// `prompt` describes the image (written by the service when `None`).
    /// Billed per call.
    pub async fn layerize_text(
        &self,
        image: &ImageInput,
        prompt: Option<&str>,
    ) -> Result<TextLayers, Error> {
        let conn = &*self.inner;
        let Api::Ideogram(api) = &conn.api else {
            return Err(InvalidInput::new(
                "provider",
                "layerize-text runs on Ideogram's API (--provider ideogram)",
            )
            .into());
        };
        if let Some(prompt) = prompt {
            crate::request::check_prompt("prompt", prompt)?;
        }
        let loaded = conn.load_image(image, "image").await?;
        let body = wire::LayerizeTextRequest::builder()
            .image(crate::references::part(&loaded, "image"))
            .prompt(
                prompt
                    .map(|p| p.parse::<wire::Prompt>())
                    .transpose()
                    .map_err(|e| InvalidInput::new("prompt", e.to_string()))?,
            );
        let answer = retry::run(&conn.retry, Method::Post, || {
            api.post_layerize_text_v3().body(body.clone()).send()
        })
        .await;
        let answer = match answer {
            Ok(answer) => answer.into_inner(),
            Err(e) => return Err(conn.map_error(e, None).await),
        };
        // Repeated whole: every word in it goes out without the key.
        let mut blocks =
            serde_json::to_value(&answer.text_blocks).expect("generated blocks are JSON");
        conn.redact_json(&mut blocks);
        let blocks: Vec<wire::DetectedTextBlock> = serde_json::from_value(blocks).map_err(|e| {
            conn.invalid(format!("text blocks that do not decode once redacted: {e}"))
        })?;
        let seed = u64::try_from(answer.seed).unwrap_or_default();
        let mut base = conn.image_at(answer.base_image_url, prompt.unwrap_or_default().to_owned());
        base.seed = Some(seed);
        Ok(TextLayers { base, blocks, seed })
    }

    /// Words for an image (Ideogram's `/describe`, Segmind's
    /// `ideogram-describe`), each usable as a prompt. Billed per call.
    ///
    /// ```no_run
    /// # async fn run(client: ideogram::Client) -> Result<(), ideogram::Error> {
    /// let image = "photo.png".parse::<ideogram::ImageInput>()?;
    /// for text in client.describe(&image).await? {
    ///     println!("{text}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe(&self, image: &ImageInput) -> Result<Vec<String>, Error> {
        let conn = &*self.inner;
        let api = match &conn.api {
            Api::Ideogram(api) => api,
            Api::Segmind(api) => {
                conn.check_urls([image], "image_file").await?;
                let body = crate::wire::WireRequest::SegmindDescribe(
                    ideogram_raw::segmind::types::IdeogramDescribeRequest::builder()
                        .image_file(image.segmind_value().await?)
                        .try_into()
                        .map_err(|e: ideogram_raw::segmind::types::error::ConversionError| {
                            InvalidInput::new("image_file", e.to_string())
                        })?,
                );
                return match crate::wire::segmind_v1(api, &conn.retry, &body).await {
                    Ok(answer) => conn.segmind_descriptions(answer).await,
                    Err(e) => Err(conn.map_error(e, None).await),
                };
            }
        };
        let loaded = conn.load_image(image, "image_file").await?;
        let body = wire::DescribeRequest::builder().image_file(FilePart::new(
            loaded.bytes.clone(),
            loaded.file_name.clone(),
            loaded.content_type,
        ));
        let answer = retry::run(&conn.retry, Method::Post, || {
            api.post_describe().body(body.clone()).send()
        })
        .await;
        let answer = match answer {
            Ok(answer) => answer.into_inner(),
            Err(e) => return Err(conn.map_error(e, None).await),
        };
        let texts: Vec<String> = answer
            .descriptions
            .into_iter()
            .filter_map(|d| d.text)
            .map(|text| conn.redact(&text))
            .collect();
        if texts.is_empty() {
            return Err(conn.invalid("it answered 200 with no description (billed)".into()));
        }
        Ok(texts)
    }
}

/// An edit checked, its images read and its in-flight slots held
/// ([`Client::prepare_edit`]); [`send`](Self::send) sends it at once.
pub struct PreparedEdit<'a> {
    client: &'a Client,
    operation: &'static str,
    /// The prompt, for the images of Segmind's answer (Ideogram's carry it).
    prompt: String,
    body: EditBody,
    _slots: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::fmt::Debug for PreparedEdit<'_> {
    /// The client and the operation, without the images' bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedEdit")
            .field("client", self.client)
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl PreparedEdit<'_> {
    /// The generated body that will be sent.
    pub fn body(&self) -> &EditBody {
        &self.body
    }

    /// The generated body, to set what the facade has no setter for (any
    /// field of the spec's body, including one added by a regeneration);
    /// checked against the spec again before sending.
    ///
    /// ```no_run
    /// use ideogram::{Client, EditBody, EditRequest, ImageInput};
    ///
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let client = Client::ideogram_from_env()?;
    /// let request = EditRequest::edit(
    ///     ImageInput::file("photo.png"),
    ///     ImageInput::file("mask.png"),
    ///     "a red door",
    /// );
    /// let mut prepared = client.prepare_edit(&request).await?;
    /// if let EditBody::Edit(body) = prepared.body_mut() {
    ///     body.style_codes = Some(vec!["AAFF5733".parse().expect("a style code")].into());
    /// }
    /// let generation = prepared.send().await?;
    /// # let _ = generation;
    /// # Ok(())
    /// # }
    /// ```
    pub fn body_mut(&mut self) -> &mut EditBody {
        &mut self.body
    }

    /// Sends the edit and waits for the images (see [`Client::edit`]).
    #[tracing::instrument(name = "edit", skip_all, fields(provider = %self.client.provider(), operation = self.operation))]
    pub async fn send(self) -> Result<Generation, Error> {
        tracing::trace!(prompt = self.prompt, "sending");
        self.body.check(self.client.provider())?;
        let conn = &*self.client.inner;
        let api = match (&conn.api, &self.body) {
            (Api::Segmind(api), EditBody::Segmind(body)) => {
                return match crate::wire::segmind_v1(api, &conn.retry, body).await {
                    Ok(answer) => {
                        conn.segmind_v1_generation(EditRequest::MODEL, &self.prompt, answer)
                            .await
                    }
                    Err(e) => Err(conn.map_error(e, None).await),
                };
            }
            (Api::Ideogram(api), _) => api,
            (Api::Segmind(_), _) => {
                unreachable!("checked: a Segmind client sends Segmind's bodies")
            }
        };
        let answer = match &self.body {
            EditBody::Edit(body) => {
                retry::run(&conn.retry, Method::Post, || {
                    api.post_edit_image_v3().body(body.clone()).send()
                })
                .await
            }
            EditBody::Reframe(body) => {
                retry::run(&conn.retry, Method::Post, || {
                    api.post_reframe_image_v3().body(body.clone()).send()
                })
                .await
            }
            EditBody::ReplaceBackground(body) => {
                retry::run(&conn.retry, Method::Post, || {
                    api.post_replace_background_v3().body(body.clone()).send()
                })
                .await
            }
            EditBody::Upscale(body) => {
                retry::run(&conn.retry, Method::Post, || {
                    api.post_upscale_image().body(body.clone()).send()
                })
                .await
            }
            EditBody::Segmind(_) => {
                unreachable!("checked: an Ideogram client sends Ideogram's bodies")
            }
        };
        conn.ideogram_outcome(EditRequest::MODEL, answer).await
    }
}

impl PreparedEdit<'_> {
    /// Queues the edit on Segmind's v2 queue and returns at once with the
    /// job (reframe and replace-background; Ideogram's API has no queue).
    pub async fn submit(self) -> Result<crate::Job, Error> {
        self.body.check(self.client.provider())?;
        let EditBody::Segmind(body) = &self.body else {
            return Err(InvalidInput::new(
                "provider",
                "only Segmind has a queue; Ideogram's API answers at once: use send",
            )
            .into());
        };
        super::prepared::submit(&self.client.inner, body, EditRequest::MODEL, &self.prompt).await
    }
}

/// An image's text as layers ([`Client::layerize_text`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TextLayers {
    /// The image with its text removed (its URL expires after 24 hours).
    pub base: GeneratedImage,
    /// Each block of text, as the spec's generated type describes it.
    pub blocks: Vec<wire::DetectedTextBlock>,
    /// The seed used.
    pub seed: u64,
}
