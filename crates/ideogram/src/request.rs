//! One request type for every provider and model: the spec's fields by
//! name, plus the ergonomic values that lower themselves into whichever body
//! the request goes to (`lowering`), checked before anything is sent.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aspect::AspectRatio;
use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::lowering::{Draft, Lowered, Slot, check_prompt};
use crate::model::{DEFAULT_MODEL, Model};
use crate::options::{
    ImageWeight, MagicPrompt, RenderingSpeed, StylePreset, StyleType, UpscaleFactor,
};
use crate::palette::Palette;
use crate::provider::Provider;
use crate::resolution::Resolution;
use crate::wire::WireRequest;

/// What to generate. With an [`image`](Self::image) it is image to image.
///
/// A request is the spec's fields by their spec names: typed setters for the
/// common ones, [`set`](Self::set) for every field of every body, including
/// one a regeneration adds. It goes to the first operation of its task and
/// model whose body takes every field given (the specs' `x-route`s); a field
/// no such body takes is an error naming who takes it, never dropped.
///
/// ```
/// use ideogram::{GenerateRequest, Model, Palette};
///
/// let request = GenerateRequest::new("a lighthouse at dawn, poster")
///     .model(Model::V2Turbo)
///     .resolution("1280x768".parse()?)
///     .palette("ember".parse::<Palette>()?)
///     .seed(4242)
///     .set("magic_prompt_option", "OFF");
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
///
/// # As JSON, with its JSON Schema
///
/// A request is also JSON, with the spec's field names (a batch line, an
/// agent's tool call): each ergonomic value in the text form its type parses
/// (`"resolution": "1280x768"`), the palette as the spec's `ColorPalette`,
/// every other field as the body takes it. [`json_schema`](Self::json_schema)
/// gives its schema for a provider, read from the bodies it can go to;
/// [`check`](Self::check) checks the whole request:
///
/// ```
/// use ideogram::{GenerateRequest, Provider};
///
/// let schema = GenerateRequest::json_schema(Provider::Ideogram);
/// assert!(schema["properties"]["style_codes"].is_object());
///
/// let request: GenerateRequest = serde_json::from_value(serde_json::json!({
///     "prompt": "a lighthouse at dawn, poster",
///     "model": "V_2_TURBO",
///     "resolution": "1280x768",
///     "color_palette": {"name": "EMBER"},
///     "negative_prompt": "fog",
///     "seed": 4242
/// }))
/// .unwrap();
/// request.check(Provider::Segmind)?;
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "GenerateRequest",
    description = "An image to generate with Ideogram, by the spec's field names; fields the chosen body does not take are refused, never dropped.",
    transform = crate::json_form::spec_facts
)]
pub struct GenerateRequest {
    /// What to draw.
    pub(crate) prompt: String,
    /// The Ideogram version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<Model>,
    /// The spec id of the operation to send to, instead of the first of the
    /// task and model that takes the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) operation: Option<String>,
    /// The output size; not together with `aspect_ratio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resolution: Option<Resolution>,
    /// The output shape; not together with `resolution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aspect_ratio: Option<AspectRatio>,
    /// A preset palette or weighted colours.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "palette")]
    pub(crate) color_palette: Option<Palette>,
    /// Whether Ideogram rewrites the prompt first, whatever the body calls
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) magic_prompt: Option<MagicPrompt>,
    /// An input image: makes this image to image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image: Option<ImageInput>,
    /// Images whose style to follow.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "style_references"
    )]
    pub(crate) style_reference_images: Vec<ImageInput>,
    /// A character to keep.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "character_reference",
        alias = "character_reference_image"
    )]
    pub(crate) character_reference_images: Option<ImageInput>,
    /// Where the character is in its image.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "character_mask"
    )]
    pub(crate) character_reference_images_mask: Option<ImageInput>,
    /// A transparent background (the `transparent` task).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) transparent: bool,
    /// Every other field, by its spec name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub(crate) fields: BTreeMap<String, Value>,
}

impl GenerateRequest {
    /// A request for `prompt` with every option at the model's default.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    /// Sets the body field `field` (its spec name) to `value`, as the body
    /// takes it: any field of any body, including one a regeneration adds.
    /// Checked with the rest of the request against the body it goes to.
    ///
    /// ```
    /// use ideogram::{GenerateRequest, Model, Provider};
    ///
    /// let request = GenerateRequest::new("a fox").model(Model::V3).set("style_codes", ["AAFF5733"]);
    /// request.check(Provider::Ideogram)?;
    /// let err = request.clone().model(Model::V2).check(Provider::Ideogram).unwrap_err();
    /// assert_eq!(err.field, "style_codes");
    /// # Ok::<(), ideogram::InvalidInput>(())
    /// ```
    pub fn set(mut self, field: impl Into<String>, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.insert(field.into(), value);
        self
    }

    /// The body fields set by their spec names (everything but the
    /// ergonomic values).
    pub fn fields(&self) -> &BTreeMap<String, Value> {
        &self.fields
    }

    /// The model (default [`DEFAULT_MODEL`]).
    pub fn model(mut self, model: Model) -> Self {
        self.model = Some(model);
        self
    }

    /// Sends to the operation with the spec id `id` (`ideogram_3`,
    /// `post_generate_image_v3`), instead of the first of the task and model
    /// that takes the request: for an operation a spec adds beside another
    /// of the same task.
    pub fn operation(mut self, id: impl Into<String>) -> Self {
        self.operation = Some(id.into());
        self
    }

    /// The exact output size. Excludes [`aspect_ratio`](Self::aspect_ratio).
    pub fn resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = Some(resolution);
        self
    }

    /// The output shape: the body's aspect ratio, or where it takes sizes
    /// only, the size of the nearest shape, about a megapixel.
    pub fn aspect_ratio(mut self, ratio: AspectRatio) -> Self {
        self.aspect_ratio = Some(ratio);
        self
    }

    /// A colour palette (`color_palette`).
    pub fn palette(mut self, palette: impl Into<Palette>) -> Self {
        self.color_palette = Some(palette.into());
        self
    }

    /// The style (`style_type`).
    pub fn style(self, style: StyleType) -> Self {
        self.set("style_type", style)
    }

    /// Whether Ideogram may rewrite the prompt (`magic_prompt`,
    /// `magic_prompt_option` or `enable_prompt_expansion`, as the body has
    /// it).
    pub fn magic_prompt(mut self, magic: MagicPrompt) -> Self {
        self.magic_prompt = Some(magic);
        self
    }

    /// What to keep out of the image.
    pub fn negative_prompt(self, text: impl Into<String>) -> Self {
        self.set("negative_prompt", text.into())
    }

    /// The seed; its range depends on the body.
    pub fn seed(self, seed: u32) -> Self {
        self.set("seed", seed)
    }

    /// How many images, each billed.
    pub fn num_images(self, count: u32) -> Self {
        self.set("num_images", count)
    }

    /// Ideogram 3.0's rendering speed.
    pub fn rendering_speed(self, speed: RenderingSpeed) -> Self {
        self.set("rendering_speed", speed)
    }

    /// An input image: makes this image to image.
    pub fn image(mut self, image: ImageInput) -> Self {
        self.image = Some(image);
        self
    }

    /// How closely image to image follows the input.
    pub fn image_weight(self, weight: ImageWeight) -> Self {
        self.set("image_weight", weight.get())
    }

    /// Adds an image whose style to follow (`style_reference_images`; at
    /// most 10 MB in all, sent as a file part or, on Segmind, a URL or a
    /// local file's base64).
    pub fn style_reference(mut self, image: ImageInput) -> Self {
        self.style_reference_images.push(image);
        self
    }

    /// A character to keep (one image), with an optional mask of its size,
    /// grayscale. On Segmind it goes to the operation whose body takes it
    /// (`ideogram-character`), which takes no mask.
    pub fn character_reference(mut self, image: ImageInput, mask: Option<ImageInput>) -> Self {
        self.character_reference_images = Some(image);
        self.character_reference_images_mask = mask;
        self
    }

    /// A transparent background: the operation of the `transparent` task
    /// (Ideogram 3.0's generate-transparent), which answers PNGs with alpha.
    pub fn transparent(mut self) -> Self {
        self.transparent = true;
        self
    }

    /// Enlarges a transparent image (`upscale_factor`; X2 and X4 cost
    /// extra).
    pub fn upscale(self, factor: UpscaleFactor) -> Self {
        self.set("upscale_factor", factor)
    }

    /// One of Ideogram 3.0's named looks.
    pub fn style_preset(self, preset: StylePreset) -> Self {
        self.set("style_preset", preset)
    }

    /// A custom model to generate with, `model/<name>/version/<version>`.
    pub fn custom_model_uri(self, uri: impl Into<String>) -> Self {
        self.set("custom_model_uri", uri.into())
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// How many images were asked for, if a count was given.
    pub fn num_images_asked(&self) -> Option<u32> {
        self.fields
            .contains_key("num_images")
            .then(|| count(&self.fields))
    }

    /// Every image the request reads, with the field that holds it (an
    /// image field set by its spec name included): for a caller that
    /// decides which files or URLs a request may use.
    ///
    /// ```
    /// use ideogram::{GenerateRequest, ImageInput};
    ///
    /// let request = GenerateRequest::new("a fox")
    ///     .image(ImageInput::file("fox.png"))
    ///     .style_reference(ImageInput::url("https://example.com/style.png"))
    ///     .set("mask", "mask.png");
    /// let fields: Vec<String> = request.input_images().into_iter().map(|(field, _)| field).collect();
    /// assert_eq!(fields, ["image", "style_reference_images", "mask"]);
    /// ```
    pub fn input_images(&self) -> Vec<(String, ImageInput)> {
        self.slots()
            .into_iter()
            .map(|(slot, image)| (slot.name().to_owned(), image))
            .chain(crate::lowering::named_images(&self.fields))
            .collect()
    }

    /// The images given as the request's own values, each with where it
    /// goes: one list for checking, lowering and naming them.
    fn slots(&self) -> Vec<(Slot, ImageInput)> {
        let slot = Slot::Field;
        let one = |slot: Slot, image: &Option<ImageInput>| image.clone().map(|i| (slot, i));
        one(Slot::Input, &self.image)
            .into_iter()
            .chain(one(
                slot("character_reference_images"),
                &self.character_reference_images,
            ))
            .chain(one(
                slot("character_reference_images_mask"),
                &self.character_reference_images_mask,
            ))
            .chain(
                self.style_reference_images
                    .iter()
                    .map(|i| (slot("style_reference_images"), i.clone())),
            )
            .collect()
    }

    /// The model that will be used.
    pub fn chosen_model(&self) -> Model {
        self.model.unwrap_or(DEFAULT_MODEL)
    }

    /// The task the request runs: `transparent`, `remix` with an input
    /// image, else `generate`.
    pub fn task(&self) -> &'static str {
        if self.transparent {
            "transparent"
        } else if self.image.is_some() {
            "remix"
        } else {
            "generate"
        }
    }

    /// Checks the request against what `provider` and the model accept,
    /// without sending (or reading) anything: the same checks
    /// [`Client::generate`](crate::Client::generate) runs first.
    pub fn check(&self, provider: Provider) -> Result<(), InvalidInput> {
        self.lower(provider).map(drop)
    }

    /// The request lowered into the body of the operation it goes to on
    /// `provider`, checked. Nothing is read or sent.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        check_prompt("prompt", &self.prompt)?;
        if self.resolution.is_some() && self.aspect_ratio.is_some() {
            return Err(InvalidInput::new(
                "resolution",
                "give a resolution or an aspect ratio, not both",
            ));
        }
        if self.character_reference_images_mask.is_some()
            && self.character_reference_images.is_none()
        {
            return Err(InvalidInput::new(
                "character_reference_images_mask",
                "a mask goes with a character reference",
            ));
        }
        let images = self.slots();
        for (slot, image) in &images {
            slot.check(image)?;
        }
        Draft {
            task: self.task(),
            model: Some(self.chosen_model()),
            operation: self.operation.as_deref(),
            prompt: Some(&self.prompt),
            resolution: self.resolution,
            aspect_ratio: self.aspect_ratio,
            palette: self.color_palette.as_ref(),
            magic_prompt: self.magic_prompt,
            images: &images,
            fields: &self.fields,
        }
        .lower(provider)
    }

    /// The JSON Schema of a request for `provider`: the request's own
    /// fields, and every field of every body of the generate, remix and
    /// transparent operations, as the spec describes it, with the models
    /// that take it. What an agent's tool definition needs, read from the
    /// specs, so a field a regeneration adds is in it.
    pub fn json_schema(provider: Provider) -> Value {
        crate::json_form::request_schema::<Self>(provider, &["generate", "remix", "transparent"])
    }

    /// The generated body this request becomes for `provider`: the same
    /// checks as sending, and a local input image read into a JSON body
    /// (a URL stays a URL; a multipart body's files are not in it).
    ///
    /// ```
    /// use ideogram::{GenerateRequest, Model, Provider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), ideogram::Error> {
    /// let request = GenerateRequest::new("a fox, woodcut").model(Model::V3).seed(7);
    /// let wire = request.to_wire(Provider::Ideogram).await?;
    /// assert_eq!(wire.operation().id, "post_generate_image_v3");
    /// assert_eq!(wire.body()["seed"], 7);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn to_wire(&self, provider: Provider) -> Result<WireRequest, crate::error::Error> {
        let lowered = self.lower(provider)?;
        let downloader = crate::download::Downloader::standalone()?;
        WireRequest::read(lowered, &downloader).await
    }
}

/// The images `fields` ask for (`num_images`, 1 when not a count), for
/// the in-flight slots.
pub(crate) fn count(fields: &BTreeMap<String, Value>) -> u32 {
    fields
        .get("num_images")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1)
}
