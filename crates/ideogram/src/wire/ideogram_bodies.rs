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

/// Ideogram 3.0's body, built with the generated builder.
pub(crate) fn ideogram_v3(f: &Fields) -> Result<WireRequest, InvalidInput> {
    let body = ideogram::GenerateImageRequestV3::builder()
        .prompt(f.prompt.as_str())
        .magic_prompt(
            f.magic_prompt
                .as_deref()
                .map(|m| typed::<ideogram::MagicPromptOption>("magic_prompt", m))
                .transpose()?,
        )
        .style_type(
            f.style
                .as_deref()
                .map(|s| typed::<ideogram::StyleTypeV3>("style", s))
                .transpose()?,
        )
        .rendering_speed(
            f.rendering_speed
                .as_deref()
                .map(|s| typed::<ideogram::RenderingSpeed>("rendering_speed", s))
                .transpose()?,
        )
        .resolution(f.resolution.map(|r| r.to_ideogram_v3()).transpose()?)
        .aspect_ratio(f.aspect_ratio.map(|r| r.to_ideogram_v3()).transpose()?)
        .color_palette(f.palette.as_ref().map(|p| p.to_ideogram()))
        .seed(f.seed.map(|s| ideogram::Seed::from(i64::from(s))))
        .num_images(f.num_images.map(num_images).transpose()?)
        .negative_prompt(f.negative_prompt.clone())
        .style_preset(
            f.style_preset
                .as_deref()
                .map(|s| typed::<ideogram::StylePresetV3>("style_preset", s))
                .transpose()?,
        )
        .custom_model_uri(custom_model(f)?);
    Ok(WireRequest::IdeogramV3(built(body.try_into())?))
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

/// Ideogram 3.0's body as generate-transparent's, upscaled by `upscale`.
pub(crate) fn ideogram_transparent(
    v3: WireRequest,
    upscale: Option<ideogram::UpscaleFactor>,
) -> Result<WireRequest, InvalidInput> {
    let extra = upscale.map(|factor| ("upscale_factor", factor.to_string().into()));
    v3_as(
        "GenerateTransparentImageRequestV3",
        "a transparent image",
        v3,
        extra,
    )
    .map(WireRequest::IdeogramTransparent)
}

/// Ideogram 3.0's body as its remix's, with `image_weight`; the image (a
/// placeholder until it is read) goes in when the request is prepared.
pub(crate) fn ideogram_v3_remix(
    v3: WireRequest,
    image_weight: Option<u32>,
) -> Result<WireRequest, InvalidInput> {
    let mut body: ideogram::RemixImageRequestV3 = v3_as(
        "RemixImageRequestV3",
        "Ideogram 3.0's remix",
        v3,
        image_weight.map(|w| ("image_weight", w.into())),
    )?;
    body.image = ideogram_raw::multipart::FilePart::new(Vec::new(), "pending.png", "image/png");
    Ok(WireRequest::IdeogramV3Remix(body))
}

/// Ideogram 3.0's JSON body as the body of another 3.0 operation (`what`),
/// the schema `schema`, with `extra` set (and an empty image where it needs
/// one): a field that body (per the spec) does not have is an error naming
/// it.
fn v3_as<T: serde::de::DeserializeOwned>(
    schema: &str,
    what: &str,
    v3: WireRequest,
    extra: Option<(&str, serde_json::Value)>,
) -> Result<T, InvalidInput> {
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(&v3).expect("a generated body is JSON")
    else {
        unreachable!("a body is an object")
    };
    let taken = ideogram_raw::schema::ideogram()
        .get(schema)
        .and_then(|s| s["properties"].as_object())
        .expect("the spec has the body");
    if let Some(field) = fields.keys().find(|f| !taken.contains_key(*f)) {
        return Err(InvalidInput::not_taken(
            field.clone(),
            format!("{what} does not take it"),
        ));
    }
    if let Some((name, value)) = extra {
        fields.insert(name.into(), value);
    }
    if taken.contains_key("image") {
        fields.insert("image".into(), "data:image/png;base64,".into());
    }
    serde_json::from_value(fields.into()).map_err(|e| InvalidInput::new("request", e.to_string()))
}

fn num_images(n: u32) -> Result<ideogram::NumImages, InvalidInput> {
    built(std::num::NonZeroU32::try_from(n)).map(ideogram::NumImages::from)
}
