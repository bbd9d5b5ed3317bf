//! Ideogram's bodies: the legacy `/generate` and `/remix`, 3.0 and its
//! other operations' bodies derived from it, and 4.0.

use ideogram_raw::ideogram::types as ideogram;

use super::{Fields, WireRequest, built, typed};
use crate::invalid::InvalidInput;
use crate::model::Model;
use crate::resolution::SizeFamily;

/// Ideogram's legacy `/generate` body (or `/remix`'s `image_request` when
/// `remix`), built with the generated builders.
pub(crate) fn ideogram_legacy(
    model: Model,
    remix: bool,
    f: &Fields,
) -> Result<WireRequest, InvalidInput> {
    let model = model
        .to_wire()
        .ok_or_else(|| InvalidInput::new("model", format!("{model} has its own endpoint")))?;
    let magic = f
        .magic_prompt
        .as_deref()
        .map(|m| typed::<ideogram::MagicPromptOption>("magic_prompt", m))
        .transpose()?;
    let style = f
        .style
        .as_deref()
        .map(|s| typed::<ideogram::StyleType>("style", s))
        .transpose()?;
    let resolution = f.resolution.map(|r| r.to_ideogram()).transpose()?;
    let ratio = f.aspect_ratio.map(|r| r.to_ideogram()).transpose()?;
    let palette = f.palette.as_ref().map(|p| p.to_ideogram());
    let seed = f.seed.map(|s| ideogram::Seed::from(i64::from(s)));
    let count = f.num_images.map(num_images).transpose()?;
    if remix {
        let weight = f
            .image_weight
            .unwrap_or(crate::options::ImageWeight::DEFAULT.get().into());
        let body = ideogram::InitialImageRequest::builder()
            .prompt(f.prompt.as_str())
            .model(Some(model))
            .magic_prompt_option(magic)
            .style_type(style)
            .resolution(resolution)
            .aspect_ratio(ratio)
            .color_palette(palette)
            .seed(seed)
            .num_images(count)
            .negative_prompt(f.negative_prompt.clone())
            .image_weight(built(std::num::NonZeroU32::try_from(weight))?);
        return Ok(WireRequest::IdeogramRemix(built(body.try_into())?));
    }
    let request = ideogram::ImageRequest::builder()
        .prompt(f.prompt.as_str())
        .model(Some(model))
        .magic_prompt_option(magic)
        .style_type(style)
        .resolution(resolution)
        .aspect_ratio(ratio)
        .color_palette(palette)
        .seed(seed)
        .num_images(count)
        .negative_prompt(f.negative_prompt.clone());
    let body = ideogram::GenerateImageRequest::builder().image_request(request);
    Ok(WireRequest::IdeogramGenerate(built(body.try_into())?))
}

/// The options Ideogram 3.0's bodies share, in the spec's types: each body
/// takes those its builder has a setter for (the rest are refused by the
/// net after lowering, `nothing_dropped`).
struct V3Options {
    prompt: ideogram::Prompt,
    magic_prompt: Option<ideogram::MagicPromptOption>,
    style_type: Option<ideogram::StyleTypeV3>,
    rendering_speed: Option<ideogram::RenderingSpeed>,
    resolution: Option<ideogram::ResolutionV3>,
    aspect_ratio: Option<ideogram::AspectRatioV3>,
    color_palette: Option<ideogram::ColorPalette>,
    seed: Option<ideogram::Seed>,
    num_images: Option<ideogram::NumImages>,
    negative_prompt: Option<String>,
    style_preset: Option<ideogram::StylePresetV3>,
    custom_model_uri: Option<ideogram::CustomModelUri>,
}

impl V3Options {
    fn new(f: &Fields) -> Result<Self, InvalidInput> {
        Ok(Self {
            prompt: built(f.prompt.parse::<ideogram::Prompt>())?,
            magic_prompt: f
                .magic_prompt
                .as_deref()
                .map(|m| typed("magic_prompt", m))
                .transpose()?,
            style_type: f.style.as_deref().map(|s| typed("style", s)).transpose()?,
            rendering_speed: f
                .rendering_speed
                .as_deref()
                .map(|s| typed("rendering_speed", s))
                .transpose()?,
            resolution: f.resolution.map(|r| r.to_ideogram_v3()).transpose()?,
            aspect_ratio: f.aspect_ratio.map(|r| r.to_ideogram_v3()).transpose()?,
            color_palette: f.palette.as_ref().map(|p| p.to_ideogram()),
            seed: f.seed.map(|s| ideogram::Seed::from(i64::from(s))),
            num_images: f.num_images.map(num_images).transpose()?,
            negative_prompt: f.negative_prompt.clone(),
            style_preset: f
                .style_preset
                .as_deref()
                .map(|s| typed("style_preset", s))
                .transpose()?,
            custom_model_uri: custom_model(f)?,
        })
    }
}

/// The setters Ideogram 3.0's generate and remix builders share, given
/// `V3Options` `o` (the prompt aside).
macro_rules! v3_shared {
    ($builder:expr, $o:ident) => {
        $builder
            .magic_prompt($o.magic_prompt)
            .style_type($o.style_type)
            .rendering_speed($o.rendering_speed)
            .resolution($o.resolution)
            .aspect_ratio($o.aspect_ratio)
            .color_palette($o.color_palette)
            .seed($o.seed)
            .num_images($o.num_images)
            .negative_prompt($o.negative_prompt)
            .style_preset($o.style_preset)
            .custom_model_uri($o.custom_model_uri)
    };
}

/// Ideogram 3.0's body, built with the generated builder.
pub(crate) fn ideogram_v3(f: &Fields) -> Result<WireRequest, InvalidInput> {
    let o = V3Options::new(f)?;
    let body = v3_shared!(
        ideogram::GenerateImageRequestV3::builder().prompt(o.prompt.to_string()),
        o
    );
    Ok(WireRequest::IdeogramV3(built(body.try_into())?))
}

/// Ideogram 3.0's generate-transparent body, upscaled by `upscale`, built
/// with its generated builder.
pub(crate) fn ideogram_transparent(
    f: &Fields,
    upscale: Option<ideogram::UpscaleFactor>,
) -> Result<WireRequest, InvalidInput> {
    let o = V3Options::new(f)?;
    let body = ideogram::GenerateTransparentImageRequestV3::builder()
        .prompt(o.prompt)
        .magic_prompt(o.magic_prompt)
        .rendering_speed(o.rendering_speed)
        .aspect_ratio(o.aspect_ratio)
        .seed(o.seed)
        .num_images(o.num_images)
        .negative_prompt(o.negative_prompt)
        .custom_model_uri(o.custom_model_uri)
        .upscale_factor(upscale);
    Ok(WireRequest::IdeogramTransparent(built(body.try_into())?))
}

/// Ideogram 3.0's remix body with `image_weight`, built with its generated
/// builder; the image (a placeholder until it is read) goes in when the
/// request is prepared.
pub(crate) fn ideogram_v3_remix(
    f: &Fields,
    image_weight: Option<u32>,
) -> Result<WireRequest, InvalidInput> {
    let o = V3Options::new(f)?;
    let weight = image_weight.unwrap_or(crate::options::ImageWeight::DEFAULT.get().into());
    let body = ideogram::RemixImageRequestV3::builder()
        .prompt(o.prompt)
        .image(ideogram_raw::multipart::FilePart::new(
            Vec::new(),
            "pending.png",
            "image/png",
        ))
        .image_weight(built(std::num::NonZeroU32::try_from(weight))?);
    let body = v3_shared!(body, o);
    Ok(WireRequest::IdeogramV3Remix(built(body.try_into())?))
}

/// A custom model's URI in the spec's type (its pattern checked).
fn custom_model(f: &Fields) -> Result<Option<ideogram::CustomModelUri>, InvalidInput> {
    f.custom_model_uri
        .as_deref()
        .map(|uri| {
            uri.parse().map_err(|e: ideogram::error::ConversionError| {
                InvalidInput::new("custom_model_uri", e.to_string())
            })
        })
        .transpose()
}

/// Ideogram 4.0's body, built with the generated builder: the prompt as
/// the official document's `prompt`.
pub(crate) fn ideogram_v4(f: &Fields) -> Result<WireRequest, InvalidInput> {
    let body = ideogram::GenerateImageRequestV4::builder()
        .prompt(Some(built(f.prompt.parse::<ideogram::Prompt>())?))
        .magic_prompt_option(
            f.magic_prompt
                .as_deref()
                .map(|m| typed::<ideogram::MagicPromptOption>("magic_prompt", m))
                .transpose()?,
        )
        .rendering_speed(
            f.rendering_speed
                .as_deref()
                .map(|s| typed::<ideogram::RenderingSpeedV4>("rendering_speed", s))
                .transpose()?,
        )
        .resolution(
            f.resolution
                .map(|r| typed("resolution", &r.check_in(SizeFamily::V4)?.to_string()))
                .transpose()?,
        )
        .seed(f.seed.map(i64::from))
        .custom_model_uri(custom_model(f)?);
    Ok(WireRequest::IdeogramV4(built(body.try_into())?))
}

fn num_images(n: u32) -> Result<ideogram::NumImages, InvalidInput> {
    built(std::num::NonZeroU32::try_from(n)).map(ideogram::NumImages::from)
}
