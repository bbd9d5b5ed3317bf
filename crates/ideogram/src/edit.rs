//! Operations on an uploaded image: Ideogram 3.0's edit (with a mask),
//! reframe (to a resolution) and replace-background, and upscale, one
//! request type for the four. Lowered like a generation (`lowering`), to
//! the operation of the provider whose `x-route` runs the task.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::lowering::{Draft, Lowered, Slot};
use crate::model::Model;
use crate::options::{MagicPrompt, RenderingSpeed};
use crate::palette::Palette;
use crate::provider::Provider;

/// What to do to the image. As JSON, an object whose `op` names the
/// operation (`edit`, `reframe`, `replace-background`, `upscale`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum EditKind {
    /// Repaint where `mask` is black (a grayscale image of the input's
    /// size), from the prompt.
    Edit {
        /// Where to repaint.
        mask: ImageInput,
        /// What to paint there.
        prompt: String,
    },
    /// Extend a square image outwards to `resolution` (no prompt).
    Reframe {
        /// The size to extend to, one of Ideogram 3.0's.
        resolution: crate::resolution::Resolution,
    },
    /// Keep the subject and paint a new background from the prompt.
    ReplaceBackground {
        /// The new background.
        prompt: String,
    },
    /// Enlarge the image (Ideogram's `/upscale`; it names no model, so the
    /// result reports Ideogram 3.0's).
    Upscale {
        /// What the image shows, to guide the detail added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
        /// How closely the result keeps the input, in the spec's range
        /// (`limits::UPSCALE_INITIAL_IMAGE_REQUEST_RESEMBLANCE`; the
        /// service's default when `None`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(description = "How closely the result keeps the input.")]
        resemblance: Option<u32>,
        /// How much detail is added, in the spec's range
        /// (`limits::UPSCALE_INITIAL_IMAGE_REQUEST_DETAIL`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(description = "How much detail is added.")]
        detail: Option<u32>,
    },
}

impl EditKind {
    /// The operation's name, as the CLI calls it and the specs' `x-route`
    /// name its task.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Edit { .. } => "edit",
            Self::Reframe { .. } => "reframe",
            Self::ReplaceBackground { .. } => "replace-background",
            Self::Upscale { .. } => "upscale",
        }
    }

    /// Whether this operation on `provider` takes the field `field` (its
    /// spec name): an operation of the task whose body has it. For a caller
    /// that describes each operation's options (an agent's tool schema).
    ///
    /// ```
    /// use ideogram::{EditKind, Provider};
    ///
    /// let upscale = EditKind::Upscale { prompt: None, resemblance: None, detail: None };
    /// assert!(upscale.takes("seed", Provider::Ideogram));
    /// assert!(!upscale.takes("color_palette", Provider::Ideogram));
    /// assert!(!upscale.takes("seed", Provider::Segmind));
    /// ```
    pub fn takes(&self, field: &str, provider: Provider) -> bool {
        !crate::catalog::takers(provider, self.name(), field).is_empty()
    }

    /// The operation's prompt, if it has one.
    pub(crate) fn prompt(&self) -> Option<&str> {
        match self {
            Self::Edit { prompt, .. } | Self::ReplaceBackground { prompt } => Some(prompt),
            Self::Upscale { prompt, .. } => prompt.as_deref(),
            Self::Reframe { .. } => None,
        }
    }

    /// The model the operation names: Ideogram 3.0, but upscale names none.
    fn model(&self) -> Option<Model> {
        match self {
            Self::Upscale { .. } => None,
            _ => Some(EditRequest::MODEL),
        }
    }
}

/// An operation on an uploaded image, with its options: the spec's fields
/// by name, like [`GenerateRequest`](crate::GenerateRequest). Options an
/// operation does not take (its body has no such field) are errors naming
/// the operation, never dropped.
///
/// ```no_run
/// use ideogram::{Client, EditRequest, ImageInput};
///
/// # async fn run() -> Result<(), ideogram::Error> {
/// let client = Client::ideogram_from_env()?;
/// let request = EditRequest::edit(
///     "photo.png".parse::<ImageInput>()?,
///     "mask.png".parse::<ImageInput>()?,
///     "a red door",
/// )
/// .num_images(2)
/// .set("style_type", "DESIGN");
/// let generation = client.edit(&request).await?;
/// # let _ = generation;
/// # Ok(())
/// # }
/// ```
///
/// # As JSON
///
/// The operation is an object of its own, named by its `op`; every other
/// field is the body's:
///
/// ```
/// use ideogram::{EditRequest, Provider};
///
/// let request: EditRequest = serde_json::from_value(serde_json::json!({
///     "image": "https://example.com/photo.png",
///     "operation": {"op": "reframe", "resolution": "1280x800"},
///     "seed": 7
/// }))
/// .unwrap();
/// request.check(Provider::Ideogram)?;
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[schemars(
    title = "EditRequest",
    description = "An operation on an image, by the spec's field names; fields the operation's body does not take are refused, never dropped."
)]
pub struct EditRequest {
    /// The image to work on: an http(s) URL, a `data:` URL or a path.
    image: ImageInput,
    /// What to do to it.
    #[serde(rename = "operation")]
    kind: EditKind,
    /// Whether Ideogram rewrites the prompt first, whatever the body calls
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    magic_prompt: Option<MagicPrompt>,
    /// A preset palette or weighted colours.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "palette")]
    color_palette: Option<Palette>,
    /// Images whose style to follow.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "style_references"
    )]
    pub(crate) style_reference_images: Vec<ImageInput>,
    /// Every other field, by its spec name.
    #[serde(flatten)]
    #[schemars(skip)]
    fields: BTreeMap<String, Value>,
}

impl EditRequest {
    /// The model these operations run: Ideogram 3.0.
    pub const MODEL: Model = Model::V3;

    /// `image` with `kind` done to it, every option at the service's default.
    pub fn new(image: ImageInput, kind: EditKind) -> Self {
        Self {
            image,
            kind,
            magic_prompt: None,
            color_palette: None,
            style_reference_images: Vec::new(),
            fields: BTreeMap::new(),
        }
    }

    /// Repaint where `mask` is black, from `prompt`.
    pub fn edit(image: ImageInput, mask: ImageInput, prompt: impl Into<String>) -> Self {
        Self::new(
            image,
            EditKind::Edit {
                mask,
                prompt: prompt.into(),
            },
        )
    }

    /// Extend `image` (square) to `resolution`.
    pub fn reframe(image: ImageInput, resolution: crate::resolution::Resolution) -> Self {
        Self::new(image, EditKind::Reframe { resolution })
    }

    /// Replace `image`'s background with one painted from `prompt`.
    pub fn replace_background(image: ImageInput, prompt: impl Into<String>) -> Self {
        Self::new(
            image,
            EditKind::ReplaceBackground {
                prompt: prompt.into(),
            },
        )
    }

    /// Enlarge `image` with the service's defaults.
    pub fn upscale(image: ImageInput) -> Self {
        Self::new(
            image,
            EditKind::Upscale {
                prompt: None,
                resemblance: None,
                detail: None,
            },
        )
    }

    /// Sets the body field `field` (its spec name) to `value`: any field of
    /// the operation's body (see [`GenerateRequest::set`](crate::GenerateRequest::set)).
    pub fn set(mut self, field: impl Into<String>, value: impl serde::Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.insert(field.into(), value);
        self
    }

    /// The body fields set by their spec names.
    pub fn fields(&self) -> &BTreeMap<String, Value> {
        &self.fields
    }

    /// How many images (each billed).
    pub fn num_images(self, count: u32) -> Self {
        self.set("num_images", count)
    }

    /// The seed.
    pub fn seed(self, seed: u32) -> Self {
        self.set("seed", seed)
    }

    /// Speed, quality and price.
    pub fn rendering_speed(self, speed: RenderingSpeed) -> Self {
        self.set("rendering_speed", speed)
    }

    /// Whether Ideogram rewrites the prompt first (not for reframe).
    pub fn magic_prompt(mut self, magic: MagicPrompt) -> Self {
        self.magic_prompt = Some(magic);
        self
    }

    /// A palette (`color_palette`).
    pub fn palette(mut self, palette: impl Into<Palette>) -> Self {
        self.color_palette = Some(palette.into());
        self
    }

    /// An image whose style to follow (repeatable; at most 10 MB in all).
    pub fn style_reference(mut self, image: ImageInput) -> Self {
        self.style_reference_images.push(image);
        self
    }

    /// What is done to the image.
    pub fn kind(&self) -> &EditKind {
        &self.kind
    }

    /// The input image.
    pub fn image(&self) -> &ImageInput {
        &self.image
    }

    /// Every image the request reads, with the field that holds it (an
    /// image field set by its spec name included): for a caller that
    /// decides which files or URLs a request may use.
    ///
    /// ```
    /// use ideogram::{EditRequest, ImageInput};
    ///
    /// let request = EditRequest::edit(
    ///     ImageInput::file("photo.png"),
    ///     ImageInput::file("mask.png"),
    ///     "a red door",
    /// );
    /// let fields: Vec<String> = request.input_images().into_iter().map(|(field, _)| field).collect();
    /// assert_eq!(fields, ["image", "operation.mask"]);
    /// ```
    pub fn input_images(&self) -> Vec<(String, ImageInput)> {
        self.slots()
            .into_iter()
            .map(|(slot, image)| {
                // The mask is given inside the operation.
                let name = match slot.name() {
                    "mask" => "operation.mask",
                    name => name,
                };
                (name.to_owned(), image)
            })
            .chain(crate::lowering::named_images(&self.fields))
            .collect()
    }

    /// The images given as the request's own values, each with where it
    /// goes: one list for checking, lowering and naming them.
    fn slots(&self) -> Vec<(Slot, ImageInput)> {
        let mut images = vec![(Slot::Input, self.image.clone())];
        if let EditKind::Edit { mask, .. } = &self.kind {
            images.push((Slot::Field("mask"), mask.clone()));
        }
        let style = Slot::Field("style_reference_images");
        images.extend(
            self.style_reference_images
                .iter()
                .map(|i| (style, i.clone())),
        );
        images
    }

    /// The images asked for (1 unless set).
    pub fn images_asked(&self) -> u32 {
        crate::request::count(&self.fields)
    }

    /// Everything that can be checked without reading an image: the
    /// provider, the prompt, each field against the operation's spec body,
    /// the values against their ranges.
    pub fn check(&self, provider: Provider) -> Result<(), InvalidInput> {
        self.lower(provider).map(drop)
    }

    /// The JSON Schema of a request for the operation `task` (an
    /// [`EditKind::name`]) on `provider`: the request's own fields and every
    /// field of that operation's body, read from the spec (see
    /// [`GenerateRequest::json_schema`](crate::GenerateRequest::json_schema)).
    pub fn json_schema(provider: Provider, task: &str) -> Value {
        crate::json_form::request_schema::<Self>(provider, &[task])
    }

    /// The request lowered into its operation's body on `provider`.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        if let Some(prompt) = self.kind.prompt() {
            crate::lowering::check_prompt("prompt", prompt)?;
        }
        let images = self.slots();
        let mut fields = self.fields.clone();
        let mut resolution = None;
        match &self.kind {
            EditKind::Reframe { resolution: size } => resolution = Some(*size),
            EditKind::Upscale {
                resemblance,
                detail,
                ..
            } => {
                for (field, value) in [("resemblance", resemblance), ("detail", detail)] {
                    if let Some(value) = value {
                        fields.insert(field.to_owned(), (*value).into());
                    }
                }
            }
            EditKind::Edit { .. } | EditKind::ReplaceBackground { .. } => {}
        }
        for (slot, image) in &images {
            slot.check(image)?;
        }
        Draft {
            task: self.kind.name(),
            model: self.kind.model(),
            operation: None,
            prompt: self.kind.prompt(),
            resolution,
            aspect_ratio: None,
            palette: self.color_palette.as_ref(),
            magic_prompt: self.magic_prompt,
            images: &images,
            fields: &fields,
        }
        .lower(provider)
    }
}
