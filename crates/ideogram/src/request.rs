//! One request type for every provider and model: the spec's fields by name
//! plus ergonomic values, lowered into whichever body it goes to.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aspect::AspectRatio;
use crate::catalog::is_image_field;
use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::lowering::{Draft, Lowered, Slot, check_prompt, images_of};
use crate::model::{DEFAULT_MODEL, Model};
use crate::options::{ImageWeight, MagicPrompt, StylePreset, StyleType, UpscaleFactor};
use crate::palette::Palette;
use crate::provider::Provider;
use crate::resolution::Resolution;
use crate::wire::WireRequest;

/// What to generate; with an [`image`](Self::image), image to image. Typed
/// setters for the common fields, [`set`](Self::set) for any body field by
/// its spec name. It goes to the first operation of its task and model whose
/// body takes every field given; a field none takes is an error naming who
/// takes it, never dropped.
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
/// A request is also JSON by the spec's field names (a batch line, an
/// agent's tool call), each ergonomic value in the text its type parses;
/// [`json_schema`](Self::json_schema) gives its schema for a provider:
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
    /// The spec id of the operation to send to, if not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) operation: Option<String>,
    /// The output size; not together with `aspect_ratio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resolution: Option<Resolution>,
    /// The output shape; not together with `resolution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aspect_ratio: Option<AspectRatio>,
    /// An input image: makes this image to image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image: Option<ImageInput>,
    /// A character to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "character_reference", alias = "character_reference_image")]
    pub(crate) character_reference_images: Option<ImageInput>,
    /// Where the character is in its image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "character_mask")]
    pub(crate) character_reference_images_mask: Option<ImageInput>,
    /// A transparent background. Runs the `transparent` task.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) transparent: bool,
    #[serde(flatten)]
    pub(crate) common: Common,
}

/// What a [`GenerateRequest`] and an [`EditRequest`](crate::EditRequest)
/// share: ergonomic values each body spells its own way, and spec fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct Common {
    /// A preset palette or weighted colours.
    #[serde(skip_serializing_if = "Option::is_none", alias = "palette")]
    pub(crate) color_palette: Option<Palette>,
    /// Whether Ideogram rewrites the prompt first, in any body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) magic_prompt: Option<MagicPrompt>,
    /// Images whose style to follow.
    #[serde(skip_serializing_if = "Vec::is_empty", alias = "style_references")]
    pub(crate) style_reference_images: Vec<ImageInput>,
    /// Every other field, by its spec name.
    #[serde(flatten)]
    #[schemars(skip)]
    pub(crate) fields: BTreeMap<String, Value>,
}

/// A request's images with their slots: held in place for the few most
/// requests have (a vector was an allocation a call).
pub(crate) type Slots<'a> = smallvec::SmallVec<[(Slot, &'a ImageInput); 3]>;

impl Common {
    /// `own` images with their slots, then the style references, in one list.
    pub(crate) fn slots<'a>(
        &'a self,
        own: impl IntoIterator<Item = (Slot, Option<&'a ImageInput>)>,
    ) -> Slots<'a> {
        let style = Slot::Field("style_reference_images");
        let styles = self.style_reference_images.iter().map(|i| (style, Some(i)));
        own.into_iter()
            .chain(styles)
            .filter_map(|(slot, image)| Some((slot, image?)))
            .collect()
    }

    /// Each image of `slots` named by `name`, then those set by an image
    /// field's spec name (one that does not parse is left to the check).
    pub(crate) fn input_images(
        &self,
        slots: Slots<'_>,
        name: fn(&'static str) -> &'static str,
    ) -> Vec<(String, ImageInput)> {
        let named = self.fields.iter().filter(|(f, _)| is_image_field(f));
        let named = named.flat_map(|(field, value)| {
            let images = images_of(field, value).unwrap_or_default().into_iter();
            images.map(move |image| (field.clone(), image))
        });
        slots
            .into_iter()
            .map(|(slot, image)| (name(slot.name()).to_owned(), image.clone()))
            .chain(named)
            .collect()
    }
}

/// The setters and readers both request types share over [`Common`].
macro_rules! common_methods {
    () => {
        /// Sets the body field `field` (its spec name, in any body, one a
        /// regeneration adds included) to `value`, checked with the rest.
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
        pub fn set(mut self, field: impl Into<String>, value: impl serde::Serialize) -> Self {
            let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
            self.common.fields.insert(field.into(), value);
            self
        }

        /// The body fields set by their spec names (not the ergonomic values).
        pub fn fields(&self) -> &std::collections::BTreeMap<String, serde_json::Value> {
            &self.common.fields
        }

        setters! {
            /// A colour palette (`color_palette`).
            palette(palette: impl Into<crate::palette::Palette>) => common.color_palette = Some(palette.into());
            /// Whether Ideogram may rewrite the prompt (`magic_prompt`, as the body calls it).
            magic_prompt(magic: crate::options::MagicPrompt) => common.magic_prompt = Some(magic);
            /// The seed; its range depends on the body.
            seed(seed: u32) => set "seed" = seed;
            /// How many images, each billed.
            num_images(count: u32) => set "num_images" = count;
            /// Ideogram 3.0's speed, quality and price trade-off.
            rendering_speed(speed: crate::options::RenderingSpeed) => set "rendering_speed" = speed;
        }

        /// Adds an image whose style to follow (`style_reference_images`, 10 MB in all).
        pub fn style_reference(mut self, image: crate::image_input::ImageInput) -> Self {
            self.common.style_reference_images.push(image);
            self
        }

        /// The images asked for (`num_images`; 1 unless a count is set).
        pub fn images_asked(&self) -> u32 {
            let count = self.fields().get("num_images").and_then(|n| n.as_u64());
            count.and_then(|n| u32::try_from(n).ok()).unwrap_or(1)
        }

        /// Checks the request as sending to `provider` would, sending nothing.
        pub fn check(&self, provider: crate::provider::Provider) -> Result<(), InvalidInput> {
            self.lower(provider).map(drop)
        }
    };
}
pub(crate) use common_methods;

impl GenerateRequest {
    common_methods!();

    /// A request for `prompt` with every option at the model's default.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    setters! {
        /// The model (default [`DEFAULT_MODEL`]).
        model(model: Model) => model = Some(model);
        /// Sends to the operation with the spec id `id` (`ideogram_3`), not the first.
        operation(id: impl Into<String>) => operation = Some(id.into());
        /// The exact output size. Excludes [`aspect_ratio`](Self::aspect_ratio).
        resolution(resolution: Resolution) => resolution = Some(resolution);
        /// The output shape; a body taking sizes only gets a megapixel of it.
        aspect_ratio(ratio: AspectRatio) => aspect_ratio = Some(ratio);
        /// An input image: makes this image to image.
        image(image: ImageInput) => image = Some(image);
        /// The style (`style_type`).
        style(style: StyleType) => set "style_type" = style;
        /// What to keep out of the image.
        negative_prompt(text: impl Into<String>) => set "negative_prompt" = text.into();
        /// How closely image to image follows the input.
        image_weight(weight: ImageWeight) => set "image_weight" = weight.get();
        /// Enlarges a transparent image (`upscale_factor`; X2, X4 cost extra).
        upscale(factor: UpscaleFactor) => set "upscale_factor" = factor;
        /// One of Ideogram 3.0's named looks.
        style_preset(preset: StylePreset) => set "style_preset" = preset;
        /// A custom model to generate with, `model/<name>/version/<version>`.
        custom_model_uri(uri: impl Into<String>) => set "custom_model_uri" = uri.into();
    }

    /// A character to keep (one image), with an optional grayscale mask of
    /// its size; Segmind's `ideogram-character` takes no mask.
    pub fn character_reference(mut self, image: ImageInput, mask: Option<ImageInput>) -> Self {
        self.character_reference_images = Some(image);
        self.character_reference_images_mask = mask;
        self
    }

    /// A transparent background: the `transparent` task, PNGs with alpha.
    pub fn transparent(mut self) -> Self {
        self.transparent = true;
        self
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// How many images were asked for, if a count was given.
    pub fn num_images_asked(&self) -> Option<u32> {
        let given = self.fields().contains_key("num_images");
        given.then(|| self.images_asked())
    }

    /// Every image the request reads, with its field: for a caller that
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
        self.common.input_images(self.slots(), |name| name)
    }

    /// The request's images, each with where it goes.
    fn slots(&self) -> crate::request::Slots<'_> {
        let character = Slot::Field("character_reference_images");
        let mask = Slot::Field("character_reference_images_mask");
        self.common.slots([
            (Slot::Input, self.image.as_ref()),
            (character, self.character_reference_images.as_ref()),
            (mask, self.character_reference_images_mask.as_ref()),
        ])
    }

    /// The model that will be used.
    pub fn chosen_model(&self) -> Model {
        self.model.unwrap_or(DEFAULT_MODEL)
    }

    /// The task it runs: `transparent`, `remix` with an image, or `generate`.
    pub fn task(&self) -> &'static str {
        if self.transparent {
            "transparent"
        } else if self.image.is_some() {
            "remix"
        } else {
            "generate"
        }
    }

    /// The request lowered into its operation's body on `provider`.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        check_prompt("prompt", &self.prompt)?;
        if self.resolution.is_some() && self.aspect_ratio.is_some() {
            let why = "give a resolution or an aspect ratio, not both";
            return Err(InvalidInput::new("resolution", why));
        }
        if self.character_reference_images_mask.is_some()
            && self.character_reference_images.is_none()
        {
            let why = "a mask goes with a character reference";
            return Err(InvalidInput::new("character_reference_images_mask", why));
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
            palette: self.common.color_palette.as_ref(),
            magic_prompt: self.common.magic_prompt,
            images: &images,
            fields: self.fields(),
        }
        .lower(provider)
    }

    /// The JSON Schema of a request for `provider` (an agent's tool): its
    /// own fields and every generate, remix and transparent body's.
    pub fn json_schema(provider: Provider) -> Value {
        crate::json_form::request_schema::<Self>(provider, &["generate", "remix", "transparent"])
    }

    /// The body this request becomes for `provider`, checked as sending
    /// would (without a multipart body's files).
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
