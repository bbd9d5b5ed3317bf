//! One request type for every provider and model, checked against what the
//! chosen model accepts before anything is sent.

use ideogram_raw::ideogram::types as wire;
use serde_json::{Map, Value, json};

use crate::aspect::AspectRatio;
use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::options::{ImageWeight, MagicPrompt, NumImages, RenderingSpeed, Seed, StyleType};
use crate::palette::Palette;
use crate::resolution::Resolution;

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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenerateRequest {
    pub(crate) prompt: String,
    pub(crate) model: Option<Model>,
    pub(crate) resolution: Option<Resolution>,
    pub(crate) aspect_ratio: Option<AspectRatio>,
    pub(crate) palette: Option<Palette>,
    pub(crate) style: Option<StyleType>,
    pub(crate) magic_prompt: Option<MagicPrompt>,
    pub(crate) negative_prompt: Option<String>,
    pub(crate) seed: Option<Seed>,
    pub(crate) num_images: Option<u32>,
    pub(crate) rendering_speed: Option<RenderingSpeed>,
    pub(crate) image: Option<ImageInput>,
    pub(crate) image_weight: Option<ImageWeight>,
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

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// How many images were asked for (see [`num_images`](Self::num_images)),
    /// if a count was given.
    pub fn num_images_asked(&self) -> Option<u32> {
        self.num_images
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
        if self.resolution.is_some() && matches!(model, Model::V1 | Model::V1Turbo) {
            return Err(InvalidInput::new(
                "resolution",
                format!(
                    "{model} takes no resolution (the 2.0 and later models do); give an aspect ratio"
                ),
            ));
        }
        let unsupported = |field: &'static str, what: &str| {
            InvalidInput::new(field, format!("{model} does not take {what}"))
        };
        if self.palette.is_some() && !model.takes_palette() {
            return Err(unsupported(
                "palette",
                "a colour palette (V_2, V_2_TURBO and V_3 do)",
            ));
        }
        if self.negative_prompt.is_some() && !model.takes_negative_prompt() {
            return Err(unsupported(
                "negative_prompt",
                "a negative prompt (V_1, V_1_TURBO, V_2, V_2_TURBO and V_3 do)",
            ));
        }
        if self.rendering_speed.is_some() && model != Model::V3 {
            return Err(unsupported(
                "rendering_speed",
                "a rendering speed (only V_3 does)",
            ));
        }
        if self.image_weight.is_some() && self.image.is_none() {
            return Err(InvalidInput::new(
                "image_weight",
                "only applies with an input image",
            ));
        }
        if let Some(image) = &self.image {
            image.check()?;
            if model == Model::V3 {
                return Err(unsupported(
                    "image",
                    "an input image here; remix with V_2 or V_2_TURBO",
                ));
            }
        }
        if let Some(style) = self.style {
            style.check_for(model, provider)?;
        }
        if let Some(seed) = self.seed {
            seed.check_for(provider)?;
        }
        let num_images = self
            .num_images
            .map(|n| NumImages::new(n, provider))
            .transpose()?;
        let family = model.size_family();
        let resolution = match (self.resolution, self.aspect_ratio) {
            (Some(r), _) => Some(r.check_in(family)?),
            (None, Some(ratio)) if provider == Provider::Segmind => {
                Some(Resolution::nearest_to_aspect(ratio, family))
            }
            _ => None,
        };

        let mut body = Map::new();
        body.insert("prompt".into(), json!(self.prompt));
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                body.insert(key.into(), value);
            }
        };
        let image_weight = self.image.as_ref().map(|_| {
            // Segmind documents 50 as the default; Ideogram's remix applies its own.
            json!(self.image_weight.unwrap_or(ImageWeight::DEFAULT).get())
        });
        put(
            "negative_prompt",
            self.negative_prompt.as_ref().map(|t| json!(t)),
        );
        put("style_type", self.style.map(|s| json!(s.api_name())));
        put("seed", self.seed.map(|s| json!(s.0)));
        put(
            "color_palette",
            self.palette.as_ref().map(Palette::wire_json),
        );
        put("num_images", num_images.map(|n| json!(n.get())));

        let magic = self.magic_prompt.map(|m| json!(m.api_name()));
        Ok(match provider {
            Provider::Segmind => {
                put("magic_prompt_option", magic);
                put("resolution", resolution.map(|r| json!(r.legacy_name())));
                put("image_weight", image_weight);
                // The spec's verdict on the body, the input image stood in
                // for by a URL until it is read.
                let schema = crate::client::segmind_schema(model, self.image.is_some())
                    .ok_or_else(|| {
                        InvalidInput::new("model", format!("Segmind does not serve {model}"))
                    })?;
                let mut checked = Value::Object(body.clone());
                if self.image.is_some() {
                    checked["image_file"] = json!("https://image.invalid/input.png");
                }
                ideogram_raw::schema::segmind().check(schema, &checked)?;
                Plan::Segmind {
                    model,
                    body,
                    image: self.image.clone(),
                }
            }
            Provider::Ideogram if model == Model::V3 => {
                put("magic_prompt", magic);
                put("resolution", resolution.map(|r| json!(r.to_string())));
                let ratio = self
                    .aspect_ratio
                    .map(AspectRatio::to_ideogram_v3)
                    .transpose()?;
                put("aspect_ratio", ratio.map(|r| json!(r.to_string())));
                put(
                    "rendering_speed",
                    self.rendering_speed.map(|s| json!(s.api_name())),
                );
                Plan::IdeogramV3(decode("GenerateImageRequestV3", body)?)
            }
            Provider::Ideogram => {
                put("model", Some(json!(model.api_name())));
                put("magic_prompt_option", magic);
                put("resolution", resolution.map(|r| json!(r.legacy_name())));
                let ratio = self
                    .aspect_ratio
                    .map(AspectRatio::to_ideogram)
                    .transpose()?;
                put("aspect_ratio", ratio.map(|r| json!(r.to_string())));
                match &self.image {
                    Some(image) => {
                        put("image_weight", image_weight);
                        Plan::IdeogramRemix {
                            request: decode("InitialImageRequest", body)?,
                            image: image.clone(),
                        }
                    }
                    None => Plan::IdeogramLegacy(decode(
                        "GenerateImageRequest",
                        json!({ "image_request": body }),
                    )?),
                }
            }
        })
    }
}

/// Checks a body against the spec's schema `schema` (ranges, counts, nulls,
/// enums, patterns, unknown fields) and decodes it into its generated wire
/// type.
fn decode<T: serde::de::DeserializeOwned>(
    schema: &str,
    body: impl Into<Value>,
) -> Result<T, InvalidInput> {
    let body = body.into();
    ideogram_raw::schema::ideogram().check(schema, &body)?;
    serde_json::from_value(body).map_err(|e| InvalidInput::new("request", e.to_string()))
}

/// A prompt must show something (not only spaces or zero-width characters)
/// and fit the cap.
fn check_prompt(field: &'static str, text: &str) -> Result<(), InvalidInput> {
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

/// How a checked request goes out.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    /// A Segmind model slug's flat JSON body; the input image is resolved to
    /// a URL or base64 when sent.
    Segmind {
        model: Model,
        body: Map<String, Value>,
        image: Option<ImageInput>,
    },
    /// Ideogram's legacy `/generate`.
    IdeogramLegacy(wire::GenerateImageRequest),
    /// Ideogram's `/v1/ideogram-v3/generate`.
    IdeogramV3(wire::GenerateImageRequestV3),
    /// Ideogram's multipart `/remix`.
    IdeogramRemix {
        request: wire::InitialImageRequest,
        image: ImageInput,
    },
}
