//! Ideogram's operations on an uploaded image: Ideogram 3.0's edit (with a
//! mask), reframe (to a resolution) and replace-background, and upscale,
//! one request type for the four. Checked before anything is sent, lowered
//! through the generated builders of their multipart bodies.

use ideogram_raw::ideogram::types as wire;
use ideogram_raw::multipart::image_size;

use crate::image_input::{ImageInput, Loaded};
use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::options::{MagicPrompt, NumImages, RenderingSpeed, Seed};
use crate::palette::Palette;
use crate::references::{part, parts};
use crate::resolution::{Resolution, SizeFamily};

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
        resolution: Resolution,
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
    /// The operation's name, as the CLI calls it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Edit { .. } => "edit",
            Self::Reframe { .. } => "reframe",
            Self::ReplaceBackground { .. } => "replace-background",
            Self::Upscale { .. } => "upscale",
        }
    }

    /// The body schema of the operation in `provider`'s spec, if it
    /// serves the operation.
    fn schema(&self, provider: Provider) -> Option<&'static str> {
        match provider {
            Provider::Ideogram => Some(match self {
                Self::Edit { .. } => "EditImageRequestV3",
                Self::Reframe { .. } => "ReframeImageRequestV3",
                Self::ReplaceBackground { .. } => "ReplaceBackgroundRequestV3",
                // Its options are in its JSON part.
                Self::Upscale { .. } => "UpscaleInitialImageRequest",
            }),
            Provider::Segmind => crate::wire::segmind_slug_schema(self.segmind_slug()?),
        }
    }

    /// Segmind's slug for the operation, if Segmind serves it (reframe and
    /// replace-background).
    pub fn segmind_slug(&self) -> Option<&'static str> {
        match self {
            Self::Reframe { .. } => Some("ideogram-3-reframe"),
            Self::ReplaceBackground { .. } => Some("ideogram-3-replace-background"),
            Self::Edit { .. } | Self::Upscale { .. } => None,
        }
    }

    /// The spec's name for the magic prompt option in this body.
    fn magic_prompt_field(&self) -> &'static str {
        match self {
            Self::Upscale { .. } => "magic_prompt_option",
            _ => "magic_prompt",
        }
    }

    /// The spec's name for `option`, an [`EditRequest`] option as its JSON
    /// names it (`palette` is `color_palette`).
    fn wire_field(&self, option: &str) -> Option<&'static str> {
        Some(match option {
            "num_images" => "num_images",
            "seed" => "seed",
            "rendering_speed" => "rendering_speed",
            "magic_prompt" => self.magic_prompt_field(),
            "palette" => "color_palette",
            "style_references" => "style_reference_images",
            _ => return None,
        })
    }

    /// Whether this operation on `provider` takes `option`, an
    /// [`EditRequest`] option as its JSON names it: the operation's body in
    /// that provider's spec has the field. For a caller that describes each
    /// operation's options (an agent's tool schema).
    ///
    /// ```
    /// use ideogram::{EditKind, Provider};
    ///
    /// let upscale = EditKind::Upscale { prompt: None, resemblance: None, detail: None };
    /// assert!(upscale.takes("seed", Provider::Ideogram));
    /// assert!(!upscale.takes("palette", Provider::Ideogram));
    /// assert!(!upscale.takes("seed", Provider::Segmind));
    /// ```
    pub fn takes(&self, option: &str, provider: Provider) -> bool {
        match (self.schema(provider), self.wire_field(option)) {
            (Some(schema), Some(field)) => takes(provider, schema, field),
            _ => false,
        }
    }

    /// The operation's prompt, if it has one.
    pub(crate) fn prompt(&self) -> Option<&str> {
        match self {
            Self::Edit { prompt, .. } | Self::ReplaceBackground { prompt } => Some(prompt),
            Self::Upscale { prompt, .. } => prompt.as_deref(),
            Self::Reframe { .. } => None,
        }
    }
}

/// An Ideogram 3.0 operation on an uploaded image, with its options. Options
/// an operation does not take (its spec body has no such field) are errors
/// naming the operation, never dropped.
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
/// .num_images(2);
/// let generation = client.edit(&request).await?;
/// # let _ = generation;
/// # Ok(())
/// # }
/// ```
///
/// # As JSON, with its JSON Schema
///
/// Like [`GenerateRequest`](crate::GenerateRequest), an edit is also JSON,
/// with the schema an agent's tool definition needs; the operation is an
/// object of its own, named by its `op`:
///
/// ```
/// use ideogram::{EditRequest, Provider, schemars::schema_for};
///
/// println!("{}", serde_json::to_string_pretty(&schema_for!(EditRequest)).unwrap());
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
#[serde(deny_unknown_fields)]
#[schemars(
    title = "EditRequest",
    description = "An Ideogram 3.0 operation on an image; options the operation does not take are refused, never dropped."
)]
pub struct EditRequest {
    /// The image to work on: an http(s) URL, a `data:` URL or a path.
    image: ImageInput,
    /// What to do to it.
    #[serde(rename = "operation")]
    kind: EditKind,
    /// How many images, each billed (Ideogram's API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    num_images: Option<u32>,
    /// The same request with the same seed gives the same image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u32>,
    /// Ideogram 3.0's speed, quality and price trade-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rendering_speed: Option<RenderingSpeed>,
    /// Whether Ideogram rewrites the prompt first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    magic_prompt: Option<MagicPrompt>,
    /// A preset palette or weighted colours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    palette: Option<Palette>,
    /// Images whose style to follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) style_references: Vec<ImageInput>,
}

impl EditRequest {
    /// The model these operations run: Ideogram 3.0.
    pub const MODEL: Model = Model::V3;

    /// `image` with `kind` done to it, every option at the service's default.
    pub fn new(image: ImageInput, kind: EditKind) -> Self {
        Self {
            image,
            kind,
            num_images: None,
            seed: None,
            rendering_speed: None,
            magic_prompt: None,
            palette: None,
            style_references: Vec::new(),
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
    pub fn reframe(image: ImageInput, resolution: Resolution) -> Self {
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

    /// How many images (each billed).
    pub fn num_images(mut self, count: u32) -> Self {
        self.num_images = Some(count);
        self
    }

    /// The seed.
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Speed, quality and price.
    pub fn rendering_speed(mut self, speed: RenderingSpeed) -> Self {
        self.rendering_speed = Some(speed);
        self
    }

    /// Whether Ideogram rewrites the prompt first (not for reframe).
    pub fn magic_prompt(mut self, magic: MagicPrompt) -> Self {
        self.magic_prompt = Some(magic);
        self
    }

    /// A palette.
    pub fn palette(mut self, palette: impl Into<Palette>) -> Self {
        self.palette = Some(palette.into());
        self
    }

    /// An image whose style to follow (repeatable; at most 10 MB in all).
    pub fn style_reference(mut self, image: ImageInput) -> Self {
        self.style_references.push(image);
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

    /// Every image the request reads, with the field that holds it: for
    /// a caller that decides which files or URLs a request may use.
    ///
    /// ```
    /// use ideogram::{EditRequest, ImageInput};
    ///
    /// let request = EditRequest::edit(
    ///     ImageInput::file("photo.png"),
    ///     ImageInput::file("mask.png"),
    ///     "a red door",
    /// );
    /// let fields: Vec<&str> = request.input_images().map(|(field, _)| field).collect();
    /// assert_eq!(fields, ["image", "operation.mask"]);
    /// ```
    pub fn input_images(&self) -> impl Iterator<Item = (&'static str, &ImageInput)> {
        let mask = match &self.kind {
            EditKind::Edit { mask, .. } => Some(("operation.mask", mask)),
            _ => None,
        };
        std::iter::once(("image", &self.image)).chain(mask).chain(
            self.style_references
                .iter()
                .map(|i| ("style_references", i)),
        )
    }

    /// The images asked for (1 unless set).
    pub fn images_asked(&self) -> u32 {
        self.num_images.unwrap_or(1)
    }

    /// Everything that can be checked without reading an image: the
    /// provider, the prompt, each option against the operation's spec body,
    /// the values against their ranges.
    pub fn check(&self, provider: Provider) -> Result<(), InvalidInput> {
        let Some(schema) = self.kind.schema(provider) else {
            return Err(InvalidInput::new(
                "provider",
                format!(
                    "{} runs on Ideogram's API only (--provider ideogram): \
                     Segmind serves no such operation",
                    self.kind.name()
                ),
            ));
        };
        if let Some(prompt) = self.kind.prompt() {
            crate::request::check_prompt("prompt", prompt)?;
        }
        let set = [
            ("num_images", self.num_images.is_some()),
            ("seed", self.seed.is_some()),
            ("rendering_speed", self.rendering_speed.is_some()),
            ("magic_prompt", self.magic_prompt.is_some()),
            ("palette", self.palette.is_some()),
            ("style_references", !self.style_references.is_empty()),
        ];
        for (option, given) in set {
            let field = self.kind.wire_field(option).unwrap_or(option);
            if given && !takes(provider, schema, field) {
                return Err(InvalidInput::not_taken(
                    field,
                    format!("{} does not take it", self.kind.name()),
                ));
            }
        }
        if let Some(count) = self.num_images {
            NumImages::new(count, provider)?;
        }
        if let Some(seed) = self.seed {
            Seed(seed).check_for(provider)?;
        }
        match &self.kind {
            EditKind::Reframe { resolution } => {
                resolution.check_in(SizeFamily::V3)?;
            }
            EditKind::Upscale {
                resemblance,
                detail,
                ..
            } => {
                use ideogram_raw::ideogram::limits;
                for (field, value, range) in [
                    (
                        "resemblance",
                        resemblance,
                        limits::UPSCALE_INITIAL_IMAGE_REQUEST_RESEMBLANCE,
                    ),
                    (
                        "detail",
                        detail,
                        limits::UPSCALE_INITIAL_IMAGE_REQUEST_DETAIL,
                    ),
                ] {
                    if let Some(value) = value
                        && !range.contains(&i64::from(*value))
                    {
                        return Err(InvalidInput::new(
                            field,
                            format!("{value} is outside {}..={}", range.start(), range.end()),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Whether `provider`'s spec's body `schema` has `field`.
fn takes(provider: Provider, schema: &str, field: &str) -> bool {
    let spec = match provider {
        Provider::Segmind => ideogram_raw::schema::segmind(),
        Provider::Ideogram => ideogram_raw::schema::ideogram(),
    };
    spec.get(schema)
        .is_some_and(|s| s["properties"].get(field).is_some())
}

/// The images a request uploads, read and checked.
pub(crate) struct Uploads {
    pub(crate) image: Loaded,
    pub(crate) mask: Option<Loaded>,
    pub(crate) style_references: Vec<Loaded>,
}

impl Uploads {
    /// Checks what needs the bytes: the mask is black and white (grayscale)
    /// and the image's size, the style references fit 10 MB in all.
    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        if let Some(mask) = &self.mask {
            if !ideogram_raw::multipart::is_grayscale(&mask.bytes) {
                return Err(InvalidInput::new(
                    "mask",
                    "a mask is black and white (grayscale); this one is not, or does not decode",
                ));
            }
            let (image, mask) = (image_size(&self.image.bytes), image_size(&mask.bytes));
            if image != mask {
                let shown = |size: Option<(u32, u32)>| {
                    size.map_or("unknown".to_owned(), |(w, h)| format!("{w}x{h}"))
                };
                return Err(InvalidInput::new(
                    "mask",
                    format!(
                        "is {}, the image {}: a mask is its image's size",
                        shown(mask),
                        shown(image)
                    ),
                ));
            }
        }
        crate::references::total("style_reference_images", &self.style_references)?;
        Ok(())
    }
}

/// An edit's generated body, built with its generated builder
/// ([`PreparedEdit::body_mut`](crate::PreparedEdit::body_mut) opens it to
/// fields the facade has no setter for).
#[derive(Debug)]
#[non_exhaustive]
pub enum EditBody {
    /// Ideogram 3.0's edit (multipart).
    Edit(wire::EditImageRequestV3),
    /// Ideogram 3.0's reframe (multipart).
    Reframe(wire::ReframeImageRequestV3),
    /// Ideogram 3.0's replace-background (multipart).
    ReplaceBackground(wire::ReplaceBackgroundRequestV3),
    /// Ideogram's upscale (multipart).
    Upscale(wire::UpscaleImageRequest),
    /// Segmind's JSON body (reframe, replace-background).
    Segmind(crate::wire::WireRequest),
}

impl EditBody {
    /// The JSON Schema name of this body in its spec
    /// ([`ideogram_raw::schema`]).
    pub fn schema(&self) -> &'static str {
        match self {
            Self::Edit(_) => "EditImageRequestV3",
            Self::Reframe(_) => "ReframeImageRequestV3",
            Self::ReplaceBackground(_) => "ReplaceBackgroundRequestV3",
            Self::Upscale(_) => "UpscaleImageRequest",
            Self::Segmind(body) => body.schema(),
        }
    }

    /// Checks the body is `provider`'s, and against its spec's schema:
    /// ranges, patterns, the fields that exclude each other.
    pub(crate) fn check(&self, provider: Provider) -> Result<(), InvalidInput> {
        let segmind = matches!(self, Self::Segmind(_));
        if segmind != (provider == Provider::Segmind) {
            return Err(InvalidInput::new(
                "body",
                format!("{} is not a body {provider} takes", self.schema()),
            ));
        }
        let (spec, json) = match self {
            Self::Edit(b) => (ideogram_raw::schema::ideogram(), serde_json::to_value(b)),
            Self::Reframe(b) => (ideogram_raw::schema::ideogram(), serde_json::to_value(b)),
            Self::ReplaceBackground(b) => {
                (ideogram_raw::schema::ideogram(), serde_json::to_value(b))
            }
            Self::Upscale(b) => (ideogram_raw::schema::ideogram(), serde_json::to_value(b)),
            Self::Segmind(b) => (ideogram_raw::schema::segmind(), serde_json::to_value(b)),
        };
        let json = json.expect("a generated body is JSON");
        if spec.get(self.schema()).is_none() {
            return Err(InvalidInput::new(
                "body",
                format!("{} is not an edit body {provider} takes", self.schema()),
            ));
        }
        spec.check(self.schema(), &json).map_err(InvalidInput::from)
    }

    /// Segmind's body of `request`: the image, and each style reference, as
    /// a URL (checked by fetching it first) or a local file's base64.
    pub(crate) async fn build_segmind(request: &EditRequest) -> Result<Self, crate::Error> {
        let body = crate::wire::segmind_edit(crate::wire::SegmindEdit {
            kind: &request.kind,
            image: request.image.segmind_value().await?,
            style_references: crate::wire::segmind_styles(&request.style_references).await?,
            seed: request.seed,
            rendering_speed: request.rendering_speed.map(|s| s.to_string()),
            magic_prompt: request.magic_prompt.map(|m| m.to_string()),
            palette: request.palette.as_ref().map(Palette::to_segmind),
        })?;
        let body = Self::Segmind(body);
        body.check(Provider::Segmind)?;
        Ok(body)
    }

    /// Builds the body of `request` with its uploads.
    pub(crate) fn build(request: &EditRequest, uploads: &Uploads) -> Result<Self, InvalidInput> {
        let prompt = |text: &str| {
            text.parse::<wire::Prompt>()
                .map_err(|e| InvalidInput::new("prompt", e.to_string()))
        };
        let image = part(&uploads.image, "image");
        let styles = parts(&uploads.style_references, "style");
        let count = request.num_images.map(built_num_images).transpose()?;
        let seed = request.seed.map(|s| wire::Seed::from(i64::from(s)));
        let palette = request.palette.as_ref().map(Palette::to_ideogram);
        // The options every operation's builder has, then the conversion
        // the generated builder checks.
        macro_rules! shared {
            ($builder:expr) => {
                $builder
                    .num_images(count)
                    .seed(seed)
                    .rendering_speed(request.rendering_speed)
                    .color_palette(palette)
                    .style_reference_images(styles)
                    .try_into()
                    .map_err(|e: wire::error::ConversionError| {
                        InvalidInput::new("request", e.to_string())
                    })?
            };
        }
        if let EditKind::Upscale {
            prompt: text,
            resemblance,
            detail,
        } = &request.kind
        {
            let positive = |value: &Option<u32>| value.and_then(std::num::NonZeroU32::new);
            let mut options = wire::UpscaleInitialImageRequest::builder()
                .prompt(text.as_deref().map(prompt).transpose()?)
                .num_images(count)
                .seed(seed)
                .magic_prompt_option(request.magic_prompt);
            if let Some(value) = positive(resemblance) {
                options = options.resemblance(value);
            }
            if let Some(value) = positive(detail) {
                options = options.detail(value);
            }
            return wire::UpscaleImageRequest::builder()
                .image_file(image)
                .image_request(options)
                .try_into()
                .map(Self::Upscale)
                .map_err(|e: wire::error::ConversionError| {
                    InvalidInput::new("request", e.to_string())
                });
        }
        Ok(match &request.kind {
            EditKind::Edit { prompt: text, .. } => {
                let mask = uploads.mask.as_ref().expect("an edit has its mask");
                Self::Edit(shared!(
                    wire::EditImageRequestV3::builder()
                        .image(image)
                        .mask(part(mask, "mask"))
                        .prompt(prompt(text)?)
                        .magic_prompt(request.magic_prompt)
                ))
            }
            EditKind::Reframe { resolution } => Self::Reframe(shared!(
                wire::ReframeImageRequestV3::builder()
                    .image(image)
                    .resolution(resolution.to_ideogram_v3()?)
            )),
            EditKind::Upscale { .. } => unreachable!("built above"),
            EditKind::ReplaceBackground { prompt: text } => Self::ReplaceBackground(shared!(
                wire::ReplaceBackgroundRequestV3::builder()
                    .image(image)
                    .prompt(prompt(text)?)
                    .magic_prompt(request.magic_prompt)
            )),
        })
    }
}

fn built_num_images(count: u32) -> Result<wire::NumImages, InvalidInput> {
    std::num::NonZeroU32::new(count)
        .map(wire::NumImages::from)
        .ok_or_else(|| InvalidInput::new("num_images", "at least 1"))
}
