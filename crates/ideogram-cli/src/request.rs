//! Turns command-line and batch options into a checked request.

use ideogram::{
    EditKind, EditRequest, GenerateRequest, ImageInput, ImageWeight, InvalidInput, MagicPrompt,
    Model, Palette, RenderingSpeed, Seed, SpecEnum, StylePreset, StyleType, UpscaleFactor,
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
pub(crate) fn edit(
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

/// A whole number as written, if one was, its error naming `field`.
pub(crate) fn whole(field: &'static str, text: Option<&str>) -> Result<Option<u32>, InvalidInput> {
    text.map(|t| {
        t.trim()
            .parse::<u32>()
            .map_err(|_| InvalidInput::new(field, format!("{t:?} is not a whole number")))
    })
    .transpose()
}

/// The mask of an edit, named as the command calls it.
pub(crate) fn mask(text: &str) -> Result<ImageInput, InvalidInput> {
    image_named(text, "mask")
}

/// The request for `prompt` with `options`.
pub(crate) fn build(prompt: &str, options: &Options) -> Result<GenerateRequest, InvalidInput> {
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
    if options.character_mask.is_some() && options.character_ref.is_none() {
        return Err(InvalidInput::new(
            "character_reference_images_mask",
            "a mask goes with a character reference (character_ref)",
        ));
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
    if let Some(preset) = &options.style_preset {
        request = request.style_preset(StylePreset::parse_loose(preset)?);
    }
    if let Some(uri) = &options.custom_model {
        request = request.custom_model_uri(uri);
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
pub(crate) fn with_image(
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

/// What a batch item makes: a generation, or an operation on an image.
#[derive(Debug)]
pub(crate) enum Work {
    Generate(GenerateRequest),
    Edit(EditRequest),
}

impl Work {
    /// The whole request checked for `provider`, nothing read or sent.
    pub(crate) fn check(&self, provider: ideogram::Provider) -> Result<(), ideogram::InvalidInput> {
        match self {
            Self::Generate(request) => request.check(provider),
            Self::Edit(request) => request.check(provider),
        }
    }

    /// The images it makes (checked by the library; one unless asked).
    pub(crate) fn images(&self) -> usize {
        match self {
            Self::Generate(request) => request.num_images_asked().unwrap_or(1) as usize,
            Self::Edit(request) => request.images_asked() as usize,
        }
    }

    /// Whether it names an image (a file or a URL) to read before sending.
    pub(crate) fn reads_images(&self) -> bool {
        match self {
            Self::Generate(request) => !request.input_images().is_empty(),
            Self::Edit(request) => !request.input_images().is_empty(),
        }
    }

    pub(crate) fn model(&self) -> ideogram::Model {
        match self {
            Self::Generate(request) => request.chosen_model(),
            Self::Edit(_) => EditRequest::MODEL,
        }
    }
}

/// An item checked and holding its in-flight slot, ready to send.
pub(crate) enum Ready<'a> {
    Generate(ideogram::Prepared<'a>),
    Edit(ideogram::Prepared<'a>),
}

impl Ready<'_> {
    pub(crate) async fn generate(self) -> Result<ideogram::Generation, ideogram::Error> {
        match self {
            Self::Generate(prepared) => prepared.generate().await,
            Self::Edit(prepared) => prepared.generate().await,
        }
    }

    pub(crate) async fn submit(self) -> Result<ideogram::Job, ideogram::Error> {
        match self {
            Self::Generate(prepared) => prepared.submit().await,
            Self::Edit(prepared) => prepared.submit().await,
        }
    }
}

/// The operations a batch line names with `"op"` (`generate` when absent).
const OPS: [&str; 6] = [
    "generate",
    "remix",
    "edit",
    "reframe",
    "replace-background",
    "upscale",
];

/// A batch line's fields that are not generation options: the operation
/// and its images and numbers, and which fields the line itself set.
#[derive(Debug, Default)]
pub(crate) struct LineExtras {
    op: Option<String>,
    image: Option<String>,
    mask: Option<String>,
    weight: Option<String>,
    resemblance: Option<String>,
    detail: Option<String>,
    keys: Vec<String>,
}

/// One batch line as the work it asks for and the words its files are
/// named from.
pub(crate) fn batch_work(
    line: &str,
    base: &Options,
) -> Result<(String, Options, Work), InvalidInput> {
    let (prompt, options, extras) = batch_item(line, base)?;
    let op = extras.op.as_deref().unwrap_or("generate");
    let image = || {
        extras
            .image
            .as_deref()
            .ok_or_else(|| InvalidInput::new("batch line", format!("{op} needs an \"image\"")))
    };
    let prompt_for = |what: &str| {
        prompt
            .clone()
            .ok_or_else(|| InvalidInput::new("batch line", format!("{what} needs a \"prompt\"")))
    };
    // Fields a line sets that its operation does not take are errors.
    let refuse = |taken: &[&str]| -> Result<(), InvalidInput> {
        match extras.keys.iter().find(|k| !taken.contains(&k.as_str())) {
            Some(key) => Err(InvalidInput::new(
                "batch line",
                format!("{key}: {op} does not take it"),
            )),
            None => Ok(()),
        }
    };
    const COMMON: [&str; 8] = [
        "op",
        "image",
        "num_images",
        "seed",
        "speed",
        "rendering_speed",
        "palette",
        "style_ref",
    ];
    let edit_options = EditOptions {
        num_images: options.num_images.clone(),
        seed: options.seed.clone(),
        speed: options.speed.clone(),
        magic_prompt: options.magic_prompt.clone(),
        palette: options.palette.clone(),
        style_refs: options.style_refs.clone(),
    };
    // Generation options, from the line or the batch's command line, that
    // an operation on an image has no place for: refused, never dropped.
    let generation_only = [
        ("model", options.model.is_some()),
        (
            "resolution",
            options.resolution.is_some() && op != "reframe",
        ),
        ("aspect", options.aspect.is_some()),
        ("style", options.style.is_some()),
        ("negative", options.negative.is_some()),
        ("character_ref", options.character_ref.is_some()),
        ("character_mask", options.character_mask.is_some()),
        ("transparent", options.transparent),
        ("upscale", options.upscale.is_some()),
        ("style_preset", options.style_preset.is_some()),
        ("custom_model", options.custom_model.is_some()),
    ];
    let edit = |kind: EditKind, taken: &[&str]| -> Result<Work, InvalidInput> {
        refuse(&[&COMMON[..], taken, &["style_refs"]].concat())?;
        if let Some((name, _)) = generation_only.iter().find(|(_, set)| *set) {
            return Err(InvalidInput::new(
                "batch line",
                format!("{name}: {op} does not take it (a batch option applies to every line)"),
            ));
        }
        Ok(Work::Edit(edit(image()?, kind, &edit_options)?))
    };
    let (named, work) = match op {
        "generate" | "remix" => {
            if op == "remix" && extras.image.is_none() {
                image()?;
            }
            if let Some(key) = ["mask", "resemblance", "detail"]
                .into_iter()
                .find(|k| extras.keys.iter().any(|set| set == k))
            {
                return Err(InvalidInput::new(
                    "batch line",
                    format!("{key}: {op} does not take it"),
                ));
            }
            if extras.weight.is_some() && extras.image.is_none() {
                return Err(InvalidInput::new(
                    "batch line",
                    "weight: an image weight needs an \"image\"",
                ));
            }
            let text = prompt_for(op)?;
            let mut request = build(&text, &options)?;
            if let Some(image) = &extras.image {
                request = with_image(request, image, extras.weight.as_deref())?;
            }
            (text, Work::Generate(request))
        }
        "edit" => {
            let text = prompt_for(op)?;
            let mask = extras
                .mask
                .as_deref()
                .ok_or_else(|| InvalidInput::new("batch line", "edit needs a \"mask\""))?;
            let kind = EditKind::Edit {
                mask: self::mask(mask)?,
                prompt: text.clone(),
            };
            (text, edit(kind, &["prompt", "mask", "magic_prompt"])?)
        }
        "reframe" => {
            let resolution: ideogram::Resolution = options
                .resolution
                .as_deref()
                .ok_or_else(|| InvalidInput::new("batch line", "reframe needs a \"resolution\""))?
                .parse()?;
            let kind = EditKind::Reframe { resolution };
            (
                format!("reframe {resolution}"),
                edit(kind, &["resolution"])?,
            )
        }
        "replace-background" => {
            let text = prompt_for(op)?;
            let kind = EditKind::ReplaceBackground {
                prompt: text.clone(),
            };
            (text, edit(kind, &["prompt", "magic_prompt"])?)
        }
        "upscale" => {
            let kind = EditKind::Upscale {
                prompt: prompt.clone(),
                resemblance: whole("resemblance", extras.resemblance.as_deref())?,
                detail: whole("detail", extras.detail.as_deref())?,
            };
            let named = prompt.clone().unwrap_or_else(|| "upscaled".to_owned());
            (
                named,
                edit(kind, &["prompt", "magic_prompt", "resemblance", "detail"])?,
            )
        }
        other => {
            return Err(InvalidInput::new(
                "batch line",
                format!("op {other:?} is not one of {}", OPS.join(", ")),
            ));
        }
    };
    Ok((named, options, work))
}

/// One batch line: a bare prompt, or a JSON object whose fields override
/// `base` (the option names as on the command line), with the fields that
/// are not generation options apart.
fn batch_item(
    line: &str,
    base: &Options,
) -> Result<(Option<String>, Options, LineExtras), InvalidInput> {
    let line = line.trim();
    if !line.starts_with('{') {
        return Ok((Some(line.to_owned()), base.clone(), LineExtras::default()));
    }
    let value: Value = serde_json::from_str(line)
        .map_err(|e| InvalidInput::new("batch line", format!("not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| InvalidInput::new("batch line", "must be a JSON object"))?;
    let mut options = base.clone();
    let mut prompt = None;
    let mut extras = LineExtras::default();
    for (key, value) in object {
        let key_name = key.replace('-', "_");
        extras.keys.push(key_name.clone());
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
            "style_preset" => &mut options.style_preset,
            "custom_model" | "custom_model_uri" => &mut options.custom_model,
            "op" => &mut extras.op,
            "image" => &mut extras.image,
            "mask" => &mut extras.mask,
            "weight" | "image_weight" => &mut extras.weight,
            "resemblance" => &mut extras.resemblance,
            "detail" => &mut extras.detail,
            other => {
                return Err(InvalidInput::new(
                    "batch line",
                    format!(
                        "unknown field {other:?}; fields: op, prompt, image, mask, weight, model, resolution, aspect, palette, style, magic_prompt, negative, seed, num_images, speed, style_ref, style_preset, custom_model, character_ref, character_mask, transparent, upscale, resemblance, detail"
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
    Ok((prompt, options, extras))
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
        let (prompt, options, _) = batch_item("  a plain prompt ", &base).unwrap();
        assert_eq!(
            (prompt.as_deref(), options.seed.as_deref()),
            (Some("a plain prompt"), Some("100"))
        );
        let (prompt, options, _) =
            batch_item(r#"{"prompt": "x", "seed": 4242, "aspect": "16:9"}"#, &base).unwrap();
        assert_eq!(prompt.as_deref(), Some("x"));
        assert_eq!(options.seed.as_deref(), Some("4242"));
        assert_eq!(
            (options.resolution, options.aspect.as_deref()),
            (None, Some("16:9"))
        );
        assert!(
            batch_work(r#"{"seed": 1}"#, &base)
                .unwrap_err()
                .message
                .contains("generate needs a \"prompt\"")
        );
        assert!(
            batch_item(r#"{"prompt": "x", "colour": "red"}"#, &base)
                .unwrap_err()
                .message
                .contains("unknown field")
        );
    }

    #[test]
    fn batch_lines_name_image_operations() {
        let base = Options::default();
        let work = |line: &str| batch_work(line, &base).map(|(named, _, work)| (named, work));
        let (named, reframe) =
            work(r#"{"op": "reframe", "image": "a.png", "resolution": "1280x800"}"#).unwrap();
        assert_eq!(named, "reframe 1280x800");
        assert!(
            matches!(reframe, Work::Edit(ref r) if matches!(r.kind(), EditKind::Reframe { .. }))
        );
        let (_, remix) = work(r#"{"prompt": "at night", "image": "a.png", "weight": 70}"#).unwrap();
        assert!(matches!(remix, Work::Generate(_)));
        let refused = |line: &str| work(line).unwrap_err().message;
        assert!(
            refused(r#"{"op": "edit", "image": "a.png", "prompt": "x"}"#)
                .contains("needs a \"mask\"")
        );
        assert!(
            refused(r#"{"op": "reframe", "image": "a.png"}"#).contains("needs a \"resolution\"")
        );
        assert!(refused(r#"{"op": "upscale"}"#).contains("needs an \"image\""));
        assert!(
            refused(
                r#"{"op": "reframe", "image": "a.png", "resolution": "1280x800", "model": "3"}"#
            )
            .contains("model: reframe does not take it")
        );
        assert!(
            refused(r#"{"prompt": "x", "mask": "m.png"}"#)
                .contains("mask: generate does not take it")
        );
        assert!(
            refused(r#"{"op": "paint", "image": "a.png"}"#).contains("not one of generate, remix")
        );
        assert!(refused(r#"{"prompt": "x", "weight": 70}"#).contains("needs an \"image\""));
        let err = work(r#"{"prompt": "x", "model": "3", "character_mask": "m.png"}"#).unwrap_err();
        assert_eq!(err.field, "character_reference_images_mask");
        // A batch option an image operation has no place for is refused.
        let base = Options {
            negative: Some("blurry".into()),
            ..Options::default()
        };
        let err = batch_work(r#"{"op": "upscale", "image": "a.png"}"#, &base).unwrap_err();
        assert!(
            err.message.contains("negative: upscale does not take it"),
            "{err}"
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
