//! Turns command-line and batch options into a checked request.

use ideogram::{
    EditKind, EditRequest, GenerateRequest, ImageInput, ImageWeight, InvalidInput, MagicPrompt,
    Model, Palette, RenderingSpeed, Seed, SpecEnum, StyleType, UpscaleFactor,
};
use serde_json::Value;

use crate::args::{EditOptions, Options};

/// An image count as written.
fn count_of(text: &str) -> Result<u32, InvalidInput> {
    text.trim().parse().map_err(|_| {
        let range = ideogram::NumImages::range();
        InvalidInput::new(
            "num_images",
            format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )
    })
}

/// An image operation's request: `kind` done to `image`, with `options`.
pub fn edit(
    image: &str,
    kind: EditKind,
    options: &EditOptions,
) -> Result<EditRequest, InvalidInput> {
    let mut request = EditRequest::new(image.parse()?, kind);
    if let Some(count) = &options.num_images {
        request = request.num_images(count_of(count)?);
    }
    if let Some(seed) = &options.seed {
        request = request.seed(seed.parse::<Seed>()?.0);
    }
    if let Some(speed) = &options.speed {
        request = request.rendering_speed(RenderingSpeed::parse_loose(speed)?);
    }
    if let Some(magic) = &options.magic_prompt {
        request = request.magic_prompt(MagicPrompt::parse_loose(magic)?);
    }
    if let Some(palette) = &options.palette {
        request = request.palette(palette.parse::<Palette>()?);
    }
    for reference in &options.style_refs {
        request = request.style_reference(image_named(reference, "style_reference_images")?);
    }
    Ok(request)
}

/// The mask of an edit, named as the command calls it.
pub fn mask(text: &str) -> Result<ImageInput, InvalidInput> {
    image_named(text, "mask")
}

/// The request for `prompt` with `options`.
pub fn build(prompt: &str, options: &Options) -> Result<GenerateRequest, InvalidInput> {
    let mut request = GenerateRequest::new(prompt);
    if let Some(model) = &options.model {
        request = request.model(model.parse::<Model>()?);
    }
    if let Some(resolution) = &options.resolution {
        request = request.resolution(resolution.parse()?);
    }
    if let Some(aspect) = &options.aspect {
        request = request.aspect_ratio(aspect.parse()?);
    }
    if let Some(palette) = &options.palette {
        request = request.palette(palette.parse::<Palette>()?);
    }
    if let Some(style) = &options.style {
        request = request.style(StyleType::parse_loose(style)?);
    }
    if let Some(magic) = &options.magic_prompt {
        request = request.magic_prompt(MagicPrompt::parse_loose(magic)?);
    }
    if let Some(negative) = &options.negative {
        request = request.negative_prompt(negative);
    }
    if let Some(seed) = &options.seed {
        request = request.seed(seed.parse::<Seed>()?.0);
    }
    if let Some(count) = &options.num_images {
        request = request.num_images(count_of(count)?);
    }
    if let Some(speed) = &options.speed {
        request = request.rendering_speed(RenderingSpeed::parse_loose(speed)?);
    }
    for reference in &options.style_refs {
        request = request.style_reference(image_named(reference, "style_reference_images")?);
    }
    if let Some(character) = &options.character_ref {
        let mask = options
            .character_mask
            .as_deref()
            .map(|m| image_named(m, "character_reference_images_mask"))
            .transpose()?;
        request = request
            .character_reference(image_named(character, "character_reference_images")?, mask);
    }
    if options.transparent {
        request = request.transparent();
    }
    if let Some(factor) = &options.upscale {
        request = request.upscale(UpscaleFactor::parse_loose(factor)?);
    }
    Ok(request)
}

/// An input image whose errors name `field`.
fn image_named(text: &str, field: &'static str) -> Result<ImageInput, InvalidInput> {
    text.parse::<ImageInput>().map_err(|mut e| {
        e.field = field.into();
        e
    })
}

/// Adds the input image of a remix.
pub fn with_image(
    request: GenerateRequest,
    image: &str,
    weight: Option<&str>,
) -> Result<GenerateRequest, InvalidInput> {
    let mut request = request.image(image.parse::<ImageInput>()?);
    if let Some(weight) = weight {
        request = request.image_weight(weight.parse::<ImageWeight>()?);
    }
    Ok(request)
}

/// One batch line: a bare prompt, or a JSON object whose fields override
/// `base` (`prompt` required; the option names as on the command line).
pub fn batch_item(line: &str, base: &Options) -> Result<(String, Options), InvalidInput> {
    let line = line.trim();
    if !line.starts_with('{') {
        return Ok((line.to_owned(), base.clone()));
    }
    let value: Value = serde_json::from_str(line)
        .map_err(|e| InvalidInput::new("batch line", format!("not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| InvalidInput::new("batch line", "must be a JSON object"))?;
    let mut options = base.clone();
    let mut prompt = None;
    for (key, value) in object {
        let key_name = key.replace('-', "_");
        match (key_name.as_str(), value) {
            ("style_ref" | "style_refs", Value::Array(items)) => {
                options.style_refs = items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            InvalidInput::new(
                                "batch line",
                                format!("{key}: {item} is not a path or URL"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                continue;
            }
            ("style_ref" | "style_refs", Value::String(one)) => {
                options.style_refs = vec![one.clone()];
                continue;
            }
            ("transparent", Value::Bool(on)) => {
                options.transparent = *on;
                continue;
            }
            _ => {}
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(InvalidInput::new(
                    "batch line",
                    format!("{key}: {other} is not text or a number"),
                ));
            }
        };
        let slot = match key.replace('-', "_").as_str() {
            "prompt" => &mut prompt,
            "model" => &mut options.model,
            "resolution" => &mut options.resolution,
            "aspect" | "aspect_ratio" => &mut options.aspect,
            "palette" => &mut options.palette,
            "style" => &mut options.style,
            "magic_prompt" => &mut options.magic_prompt,
            "negative" | "negative_prompt" => &mut options.negative,
            "seed" => &mut options.seed,
            "num_images" => &mut options.num_images,
            "speed" | "rendering_speed" => &mut options.speed,
            "character_ref" => &mut options.character_ref,
            "character_mask" => &mut options.character_mask,
            "upscale" => &mut options.upscale,
            other => {
                return Err(InvalidInput::new(
                    "batch line",
                    format!(
                        "unknown field {other:?}; fields: prompt, model, resolution, aspect, palette, style, magic_prompt, negative, seed, num_images, speed, style_ref, character_ref, character_mask, transparent, upscale"
                    ),
                ));
            }
        };
        *slot = Some(text);
    }
    if object.contains_key("resolution") {
        options.aspect = None;
    } else if object.contains_key("aspect") || object.contains_key("aspect_ratio") {
        options.resolution = None;
    }
    let prompt =
        prompt.ok_or_else(|| InvalidInput::new("batch line", "a JSON item needs a \"prompt\""))?;
    Ok((prompt, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_lines_override_the_base_options() {
        let base = Options {
            seed: Some("100".into()),
            resolution: Some("1024x1024".into()),
            ..Options::default()
        };
        let (prompt, options) = batch_item("  a plain prompt ", &base).unwrap();
        assert_eq!(
            (prompt.as_str(), options.seed.as_deref()),
            ("a plain prompt", Some("100"))
        );
        let (prompt, options) =
            batch_item(r#"{"prompt": "x", "seed": 4242, "aspect": "16:9"}"#, &base).unwrap();
        assert_eq!(prompt, "x");
        assert_eq!(options.seed.as_deref(), Some("4242"));
        assert_eq!(
            (options.resolution, options.aspect.as_deref()),
            (None, Some("16:9"))
        );
        assert!(
            batch_item(r#"{"seed": 1}"#, &base)
                .unwrap_err()
                .message
                .contains("needs a \"prompt\"")
        );
        assert!(
            batch_item(r#"{"prompt": "x", "colour": "red"}"#, &base)
                .unwrap_err()
                .message
                .contains("unknown field")
        );
    }

    #[test]
    fn option_values_are_checked_by_the_library() {
        let bad = Options {
            seed: Some("lots".into()),
            ..Options::default()
        };
        assert_eq!(build("x", &bad).unwrap_err().field, "seed");
        let bad = Options {
            resolution: Some("1000x1000".into()),
            ..Options::default()
        };
        assert_eq!(build("x", &bad).unwrap_err().field, "resolution");
    }
}
