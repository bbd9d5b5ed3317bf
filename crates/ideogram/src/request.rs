//! One request type for every provider and model, checked against what the
//! chosen model accepts before anything is sent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aspect::AspectRatio;
use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::options::{
    ImageWeight, MagicPrompt, NumImages, RenderingSpeed, Seed, StylePreset, StyleType,
    UpscaleFactor,
};
use crate::palette::Palette;
use crate::references::References;
use crate::resolution::Resolution;
use crate::wire::{self, Fields, WireRequest};

/// What to generate. With an [`image`](Self::image) it is image to image.
///
/// Options a model does not take are errors naming the model, never silently
/// dropped.
///
/// ```
/// use ideogram::{GenerateRequest, Model, Palette};
///
/// let request = GenerateRequest::new("a lighthouse at dawn, poster")
///     .model(Model::V2Turbo)
///     .resolution("1280x768".parse()?)
///     .palette("ember".parse::<Palette>()?)
///     .seed(4242);
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
///
/// # As JSON, with its JSON Schema
///
/// A request is also JSON: each value in the text form its type parses
/// (`"resolution": "1280x768"`), the palette as the spec's `ColorPalette`.
/// Its JSON Schema is what an agent's tool definition needs; reading JSON
/// checks each value, and [`check`](Self::check) the whole request:
///
/// ```
/// use ideogram::{GenerateRequest, Provider, schemars::schema_for};
///
/// let schema = schema_for!(GenerateRequest);
/// println!("{}", serde_json::to_string_pretty(&schema).unwrap());
///
/// let request: GenerateRequest = serde_json::from_value(serde_json::json!({
///     "prompt": "a lighthouse at dawn, poster",
///     "model": "V_2_TURBO",
///     "resolution": "1280x768",
///     "palette": {"name": "EMBER"},
///     "seed": 4242
/// }))
/// .unwrap();
/// request.check(Provider::Segmind)?;
///
/// // Every generated body has its schema too.
/// let body = schema_for!(ideogram::raw::segmind::types::IdeogramTurboTxt2ImgRequest);
/// assert!(body.get("properties").is_some());
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "GenerateRequest",
    description = "An image to generate with Ideogram; fields a model does not take are refused, never dropped.",
    transform = crate::json_form::spec_facts
)]
pub struct GenerateRequest {
    /// What to draw.
    pub(crate) prompt: String,
    /// The Ideogram version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<Model>,
    /// The output size; not together with `aspect_ratio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resolution: Option<Resolution>,
    /// The output shape; not together with `resolution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aspect_ratio: Option<AspectRatio>,
    /// A preset palette or weighted colours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) palette: Option<Palette>,
    /// The style; which values a model takes depends on the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) style: Option<StyleType>,
    /// Whether Ideogram rewrites the prompt first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) magic_prompt: Option<MagicPrompt>,
    /// What to keep out of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) negative_prompt: Option<String>,
    /// The same request with the same seed gives the same image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<Seed>,
    /// How many images, each billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) num_images: Option<u32>,
    /// Ideogram 3.0's speed, quality and price trade-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rendering_speed: Option<RenderingSpeed>,
    /// An input image: makes this image to image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image: Option<ImageInput>,
    /// How closely image to image follows the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image_weight: Option<ImageWeight>,
    /// One of Ideogram 3.0's named looks (Ideogram's API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) style_preset: Option<StylePreset>,
    /// A custom model, `model/<name>/version/<version>` (Ideogram 3.0 and
    /// 4.0 on Ideogram's API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) custom_model_uri: Option<String>,
    /// Images whose style to follow (Ideogram 3.0; 10 MB in all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) style_references: Vec<ImageInput>,
    /// A character to keep (Ideogram 3.0; priced higher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) character_reference: Option<ImageInput>,
    /// Where the character is in its image: grayscale, the image's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) character_mask: Option<ImageInput>,
    /// A transparent background (Ideogram 3.0's generate-transparent, a PNG
    /// with alpha).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) transparent: bool,
    /// Enlarge a transparent image (X2 and X4 cost extra).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upscale: Option<UpscaleFactor>,
}

/// The model used when none is chosen: Ideogram 2.0, both APIs' default.
pub const DEFAULT_MODEL: Model = Model::V2;

impl GenerateRequest {
    /// A request for `prompt` with every option at the model's default.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    /// The model (default [`DEFAULT_MODEL`]).
    pub fn model(mut self, model: Model) -> Self {
        self.model = Some(model);
        self
    }

    /// The exact output size. Excludes [`aspect_ratio`](Self::aspect_ratio).
    pub fn resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = Some(resolution);
        self
    }

    /// The output shape. Segmind takes sizes only, so there the nearest legal
    /// size of that shape is sent.
    pub fn aspect_ratio(mut self, ratio: AspectRatio) -> Self {
        self.aspect_ratio = Some(ratio);
        self
    }

    /// A colour palette (models V_2, V_2_TURBO and V_3).
    pub fn palette(mut self, palette: impl Into<Palette>) -> Self {
        self.palette = Some(palette.into());
        self
    }

    /// The style.
    pub fn style(mut self, style: StyleType) -> Self {
        self.style = Some(style);
        self
    }

    /// Whether Ideogram may rewrite the prompt.
    pub fn magic_prompt(mut self, magic: MagicPrompt) -> Self {
        self.magic_prompt = Some(magic);
        self
    }

    /// What to keep out of the image (models V_1, V_2 and their turbos, V_3).
    pub fn negative_prompt(mut self, text: impl Into<String>) -> Self {
        self.negative_prompt = Some(text.into());
        self
    }

    /// The seed; its range depends on the provider.
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = Some(Seed(seed));
        self
    }

    /// How many images (1 to 8 on Ideogram's API; Segmind makes one).
    pub fn num_images(mut self, count: u32) -> Self {
        self.num_images = Some(count);
        self
    }

    /// Ideogram 3.0's rendering speed.
    pub fn rendering_speed(mut self, speed: RenderingSpeed) -> Self {
        self.rendering_speed = Some(speed);
        self
    }

    /// An input image: makes this image to image.
    pub fn image(mut self, image: ImageInput) -> Self {
        self.image = Some(image);
        self
    }

    /// How closely image to image follows the input.
    pub fn image_weight(mut self, weight: ImageWeight) -> Self {
        self.image_weight = Some(weight);
        self
    }

    /// Adds an image whose style to follow (Ideogram 3.0; at most 10 MB in
    /// all on Ideogram's API, sent as a file part; on Segmind in the JSON
    /// body, a URL or a local file's base64).
    pub fn style_reference(mut self, image: ImageInput) -> Self {
        self.style_references.push(image);
        self
    }

    /// A character to keep (one image), with an optional mask of its size,
    /// grayscale (Ideogram 3.0; priced as a character generation). On
    /// Segmind it goes to `ideogram-character`, which takes no mask.
    pub fn character_reference(mut self, image: ImageInput, mask: Option<ImageInput>) -> Self {
        self.character_reference = Some(image);
        self.character_mask = mask;
        self
    }

    /// A transparent background: Ideogram 3.0's generate-transparent, which
    /// answers PNGs with alpha.
    pub fn transparent(mut self) -> Self {
        self.transparent = true;
        self
    }

    /// Enlarges a transparent image (X2 and X4 cost extra).
    pub fn upscale(mut self, factor: UpscaleFactor) -> Self {
        self.upscale = Some(factor);
        self
    }

    /// One of Ideogram 3.0's named looks (Ideogram's API).
    pub fn style_preset(mut self, preset: StylePreset) -> Self {
        self.style_preset = Some(preset);
        self
    }

    /// A custom model to generate with, `model/<name>/version/<version>`
    /// (Ideogram 3.0 and 4.0 on Ideogram's API).
    pub fn custom_model_uri(mut self, uri: impl Into<String>) -> Self {
        self.custom_model_uri = Some(uri.into());
        self
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// How many images were asked for (see [`num_images`](Self::num_images)),
    /// if a count was given.
    pub fn num_images_asked(&self) -> Option<u32> {
        self.num_images
    }

    /// Every image the request reads, with the field that holds it: for
    /// a caller that decides which files or URLs a request may use.
    ///
    /// ```
    /// use ideogram::{GenerateRequest, ImageInput};
    ///
    /// let request = GenerateRequest::new("a fox")
    ///     .image(ImageInput::file("fox.png"))
    ///     .style_reference(ImageInput::url("https://example.com/style.png"));
    /// let fields: Vec<&str> = request.input_images().map(|(field, _)| field).collect();
    /// assert_eq!(fields, ["image", "style_references"]);
    /// ```
    pub fn input_images(&self) -> impl Iterator<Item = (&'static str, &ImageInput)> {
        let image = self.image.as_ref().map(|i| ("image", i));
        let character = self.character_reference.as_ref();
        let mask = self.character_mask.as_ref();
        image
            .into_iter()
            .chain(
                self.style_references
                    .iter()
                    .map(|i| ("style_references", i)),
            )
            .chain(character.map(|i| ("character_reference", i)))
            .chain(mask.map(|i| ("character_mask", i)))
    }

    /// The model that will be used.
    pub fn chosen_model(&self) -> Model {
        self.model.unwrap_or(DEFAULT_MODEL)
    }

    /// Checks the request against what `provider` and the model accept,
    /// without sending (or reading) anything: the same checks
    /// [`Client::generate`](crate::Client::generate) runs first.
    pub fn check(&self, provider: Provider) -> Result<(), InvalidInput> {
        self.plan(provider).map(drop)
    }

    /// Checks the request against what `provider` and the model accept and
    /// says how it will be sent. Nothing is read or sent.
    pub(crate) fn plan(&self, provider: Provider) -> Result<Plan, InvalidInput> {
        let model = self.chosen_model();
        check_prompt("prompt", &self.prompt)?;
        if let Some(negative) = &self.negative_prompt {
            check_prompt("negative_prompt", negative)?;
        }
        model.check_provider(provider)?;
        if self.resolution.is_some() && self.aspect_ratio.is_some() {
            return Err(InvalidInput::new(
                "resolution",
                "give a resolution or an aspect ratio, not both",
            ));
        }
        let img2img = self.image.is_some();
        // Every body has a prompt: the models with a body for this input.
        let given = [
            (img2img, "image", "prompt", "an input image"),
            (
                self.palette.is_some(),
                "palette",
                "color_palette",
                "a colour palette",
            ),
            (
                self.negative_prompt.is_some(),
                "negative_prompt",
                "negative_prompt",
                "a negative prompt",
            ),
            (
                self.rendering_speed.is_some(),
                "rendering_speed",
                "rendering_speed",
                "a rendering speed",
            ),
            (self.style.is_some(), "style", "style_type", "a style"),
            (
                self.style_preset.is_some(),
                "style_preset",
                "style_preset",
                "a style preset",
            ),
            (
                self.custom_model_uri.is_some(),
                "custom_model_uri",
                "custom_model_uri",
                "a custom model",
            ),
            // Segmind takes no count at all (`NumImages::new` says so).
            (
                self.num_images.is_some() && provider == Provider::Ideogram,
                "num_images",
                "num_images",
                "an image count",
            ),
            (
                self.resolution.is_some(),
                "resolution",
                "resolution",
                "a resolution",
            ),
        ];
        // Segmind's character model (3.0 with a character reference) has a
        // body of its own.
        let segmind_character = provider == Provider::Segmind
            && self.character_reference.is_some()
            && model == Model::V3
            && !img2img;
        // The body's schema and the model's name, looked up once for every
        // question below (as `Model::takes` would look them up each time).
        let fields_schema = wire::fields_schema(provider, model, img2img);
        let model_name = model.to_string();
        let model_takes = |wire_field: &str| {
            fields_schema.is_some_and(|(spec, name)| spec.takes(name, wire_field, &model_name))
        };
        let character_schema = segmind_character
            .then(|| wire::segmind_slug_schema(wire::CHARACTER_SLUG))
            .flatten();
        let body_takes = |wire_field: &str| {
            if segmind_character {
                character_schema.is_some_and(|body| {
                    ideogram_raw::schema::segmind().takes(body, wire_field, &model_name)
                })
            } else {
                model_takes(wire_field)
            }
        };
        for (_, field, wire_field, what) in given.into_iter().filter(|g| g.0) {
            if segmind_character && !body_takes(wire_field) {
                return Err(InvalidInput::not_taken(
                    field,
                    format!("Segmind's character model does not take {what}"),
                ));
            }
            if !model_takes(wire_field) {
                let others = Model::taking(provider, img2img, wire_field);
                let message = if others.is_empty() {
                    format!("{model} does not take {what} on {provider}")
                } else {
                    format!("{model} does not take {what} on {provider}; {others} do")
                };
                return Err(InvalidInput::not_taken(field, message));
            }
        }
        let v3_only = [
            (
                !self.style_references.is_empty(),
                "style_reference_images",
                "style references",
            ),
            (
                self.character_reference.is_some(),
                "character_reference_images",
                "a character reference",
            ),
            (self.transparent, "transparent", "a transparent background"),
        ];
        for (_, field, what) in v3_only.into_iter().filter(|g| g.0) {
            // Segmind's character model takes its reference; its 3.0
            // bodies take style references (the character body does not).
            let segmind_takes = match field {
                "character_reference_images" => segmind_character,
                "style_reference_images" => {
                    provider == Provider::Segmind && body_takes("style_reference_images")
                }
                _ => false,
            };
            if segmind_takes {
                continue;
            }
            if provider != Provider::Ideogram || model != Model::V3 || img2img {
                let limits = match field {
                    "transparent" => " on ideogram, without an input image",
                    "style_reference_images" => " (on ideogram, without an input image)",
                    _ => ", without an input image",
                };
                return Err(InvalidInput::new(
                    field,
                    format!("only {} takes {what}{limits}", Model::V3),
                ));
            }
        }
        let references = References {
            style: self.style_references.clone(),
            character: self.character_reference.clone(),
            character_mask: self.character_mask.clone(),
        };
        if self.character_mask.is_some() && self.character_reference.is_none() {
            return Err(InvalidInput::new(
                "character_reference_images_mask",
                "a mask goes with a character reference",
            ));
        }
        if self.character_mask.is_some() && provider == Provider::Segmind {
            return Err(InvalidInput::new(
                "character_reference_images_mask",
                "Segmind's character model takes no mask for its reference",
            ));
        }
        if self.transparent && !references.is_empty() {
            return Err(InvalidInput::new(
                "transparent",
                "a transparent image takes no reference images",
            ));
        }
        if self.upscale.is_some() && !self.transparent {
            return Err(InvalidInput::new(
                "upscale",
                "only a transparent image is upscaled",
            ));
        }
        if self.image_weight.is_some() && !img2img {
            return Err(InvalidInput::new(
                "image_weight",
                "only applies with an input image",
            ));
        }
        if let Some(image) = &self.image {
            image.check()?;
        }
        if let Some(style) = self.style {
            crate::options::check_style(style, model, provider, img2img)?;
        }
        if let Some(seed) = self.seed {
            seed.check_for_model(model, provider, img2img)?;
        }
        let num_images = self
            .num_images
            .map(|n| NumImages::new(n, provider))
            .transpose()?;
        let family = model.size_family();
        // An aspect ratio goes as one where the body takes it; on Segmind's
        // bodies that take sizes only, as the nearest size (or, on 4.0, the
        // named size of its shape).
        // Asked of the spec only when there is a ratio to place.
        let ratio_taken =
            self.aspect_ratio.is_some() && (body_takes("aspect_ratio") || body_takes("image_size"));
        let ratio_as_size = self.aspect_ratio.is_some()
            && provider == Provider::Segmind
            && !ratio_taken
            && body_takes("resolution");
        if self.aspect_ratio.is_some() && !ratio_taken && !ratio_as_size {
            return Err(InvalidInput::not_taken(
                "aspect_ratio",
                format!("{model} does not take an aspect ratio on {provider}"),
            ));
        }
        let resolution = match (self.resolution, self.aspect_ratio) {
            (Some(r), _) => Some(r.check_in(family)?),
            (None, Some(ratio)) if ratio_as_size => {
                Some(Resolution::nearest_to_aspect(ratio, family))
            }
            _ => None,
        };

        let fields = Fields {
            prompt: self.prompt.clone(),
            negative_prompt: self.negative_prompt.clone(),
            seed: self.seed.map(|s| s.0),
            style: self.style.map(|s| s.to_string()),
            magic_prompt: self.magic_prompt.map(|m| m.to_string()),
            resolution,
            aspect_ratio: self.aspect_ratio.filter(|_| ratio_taken),
            palette: self.palette.clone(),
            num_images: num_images.map(|n| u32::from(n.get())),
            rendering_speed: self.rendering_speed.map(|s| s.to_string()),
            style_preset: self.style_preset.map(|s| s.to_string()),
            custom_model_uri: self.custom_model_uri.clone(),
            // Segmind documents 50 as the default; sent whenever there is an
            // input image, so every provider gets the same weight.
            image_weight: self
                .image
                .as_ref()
                .map(|_| u32::from(self.image_weight.unwrap_or(ImageWeight::DEFAULT).get())),
        };
        let wire = match provider {
            Provider::Segmind if segmind_character => wire::segmind_character(&fields)?,
            Provider::Segmind => wire::segmind_body(model, self.image.is_some(), &fields)?,
            Provider::Ideogram if model == Model::V4 => wire::ideogram_v4(&fields)?,
            Provider::Ideogram if model == Model::V3 && self.transparent => {
                wire::ideogram_transparent(&fields, self.upscale)?
            }
            Provider::Ideogram if model == Model::V3 && img2img => {
                wire::ideogram_v3_remix(&fields, fields.image_weight)?
            }
            Provider::Ideogram if model == Model::V3 => wire::ideogram_v3(&fields)?,
            Provider::Ideogram => wire::ideogram_legacy(model, self.image.is_some(), &fields)?,
        };
        let json = serde_json::to_value(&wire).expect("a generated body is JSON");
        nothing_dropped(&fields, &wire, &json)?;
        // The spec's verdict on the body as built: ranges, counts, patterns.
        let schemas = match provider {
            Provider::Segmind => ideogram_raw::schema::segmind(),
            Provider::Ideogram => ideogram_raw::schema::ideogram(),
        };
        schemas.check(wire.schema(), &json)?;
        Ok(Plan {
            model,
            wire,
            image: self.image.clone(),
            references,
        })
    }

    /// The generated body this request becomes for `provider`: the same
    /// checks as sending, and a local input image read into Segmind's body
    /// (a URL stays a URL; [`Client::generate`](crate::Client::generate)
    /// also fetches it to check it first).
    ///
    /// ```
    /// use ideogram::{GenerateRequest, Model, Provider, WireRequest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), ideogram::Error> {
    /// let request = GenerateRequest::new("a fox, woodcut").model(Model::V3).seed(7);
    /// let wire = request.to_wire(Provider::Ideogram).await?;
    /// // The generated type of Ideogram 3.0's body, as the spec names it.
    /// let WireRequest::IdeogramV3(body) = &wire else { unreachable!() };
    /// assert_eq!(body.prompt.as_str(), "a fox, woodcut");
    /// assert_eq!(serde_json::to_value(&wire).unwrap()["seed"], 7);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn to_wire(&self, provider: Provider) -> Result<WireRequest, crate::Error> {
        let plan = self.plan(provider)?;
        let mut wire = plan.wire;
        if let (Some(image), Provider::Segmind) = (&plan.image, provider) {
            wire.set_image_file(image.segmind_value().await?)?;
        }
        if !plan.references.is_empty() {
            let downloader = crate::download::Downloader::standalone()?;
            wire = wire.with_references(&plan.references, &downloader).await?;
        }
        Ok(wire)
    }
}

/// A net under the checks above: every option given is in the body as
/// built, under one of its wire names. A builder with no place for an
/// option drops it without a word; this makes that an error instead of a
/// paid request without it.
fn nothing_dropped(
    f: &Fields,
    wire: &WireRequest,
    json: &serde_json::Value,
) -> Result<(), InvalidInput> {
    // Ideogram's legacy body holds the fields in its `image_request`.
    let body = json.get("image_request").unwrap_or(json);
    let given: [(bool, &str, &[&str]); 10] = [
        (
            f.negative_prompt.is_some(),
            "negative_prompt",
            &["negative_prompt"],
        ),
        (f.seed.is_some(), "seed", &["seed"]),
        (f.style.is_some(), "style", &["style_type"]),
        (
            f.magic_prompt.is_some(),
            "magic_prompt",
            &[
                "magic_prompt",
                "magic_prompt_option",
                "enable_prompt_expansion",
            ],
        ),
        (f.palette.is_some(), "palette", &["color_palette"]),
        (f.num_images.is_some(), "num_images", &["num_images"]),
        (
            f.rendering_speed.is_some(),
            "rendering_speed",
            &["rendering_speed"],
        ),
        (f.style_preset.is_some(), "style_preset", &["style_preset"]),
        (
            f.custom_model_uri.is_some(),
            "custom_model_uri",
            &["custom_model_uri"],
        ),
        (
            f.resolution.is_some() || f.aspect_ratio.is_some(),
            "resolution",
            &["resolution", "aspect_ratio", "image_size"],
        ),
    ];
    for (_, field, names) in given.into_iter().filter(|g| g.0) {
        if !names.iter().any(|name| body.get(name).is_some()) {
            return Err(InvalidInput::not_taken(
                field,
                format!("{} has no place for it", wire.schema()),
            ));
        }
    }
    Ok(())
}

/// How a checked request goes out: its generated body, and the input image
/// to read (Segmind takes it in the body, Ideogram's remix beside it).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub model: Model,
    pub wire: WireRequest,
    pub image: Option<ImageInput>,
    /// Reference images, read and attached when the request is prepared.
    pub references: References,
}

/// A prompt must show something (not only spaces or zero-width characters)
/// and fit the cap.
pub(crate) fn check_prompt(field: &'static str, text: &str) -> Result<(), InvalidInput> {
    let visible = text
        .chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && !ideogram_raw::answer::is_invisible(c));
    if !visible {
        return Err(InvalidInput::new(
            field,
            if text.is_empty() || text.chars().all(char::is_whitespace) {
                "must not be empty".to_owned()
            } else {
                "holds only invisible characters (zero-width spaces or the like)".to_owned()
            },
        ));
    }
    let chars = text.chars().count();
    let max = *ideogram_raw::ideogram::limits::PROMPT.end();
    if chars > max {
        return Err(InvalidInput::new(
            field,
            format!("is {chars} characters; at most {max} are accepted"),
        ));
    }
    Ok(())
}
