//! Segmind's bodies: the slug table, each body's sync and queued
//! operations, and the builders (2.x by a table, 3.0, character, 4.0 and
//! the edits by their own).

use ideogram_raw::segmind::types as segmind;

use super::{Fields, WireRequest, any_case, built, typed};
use crate::invalid::InvalidInput;
use crate::model::Model;
use crate::resolution::SizeFamily;

/// Where a Segmind body's input image goes until it is read.
const IMAGE_PENDING: &str = "https://image.invalid/pending";

/// Segmind's generate slugs, once: model, whether there is an input image,
/// slug. The body each takes is the spec's (its operations table).
const SEGMIND_SLUGS: [(Model, bool, &str); 9] = [
    (Model::V2, false, "ideogram-txt-2-img"),
    (Model::V2Turbo, false, "ideogram-turbo-txt-2-img"),
    (Model::V2a, false, "ideogram-2a-txt-2-img"),
    (Model::V2, true, "ideogram-img-2-img"),
    (Model::V2Turbo, true, "ideogram-turbo-img-2-img"),
    (Model::V2a, true, "ideogram-2a-img-2-img"),
    (Model::V3, false, "ideogram-3"),
    (Model::V3, true, "ideogram-3-remix"),
    (Model::V4, false, "ideogram-4"),
];

/// Segmind's slug for `model` (image to image when `img2img`).
pub(crate) fn segmind_slug(model: Model, img2img: bool) -> Option<&'static str> {
    SEGMIND_SLUGS
        .iter()
        .find(|(m, i, _)| *m == model && *i == img2img)
        .map(|(_, _, slug)| *slug)
}

/// The model a Segmind slug names (the character model is Ideogram 3.0).
pub(crate) fn model_of_slug(slug: &str) -> Option<Model> {
    if slug == CHARACTER_SLUG {
        return Some(Model::V3);
    }
    SEGMIND_SLUGS
        .iter()
        .find(|(_, _, s)| *s == slug)
        .map(|(model, _, _)| *model)
}

/// Segmind's character model: Ideogram 3.0 with a character reference.
pub(crate) const CHARACTER_SLUG: &str = "ideogram-character";

/// The schema name of the body Segmind's `slug` takes, from the spec.
pub(crate) fn segmind_slug_schema(slug: &str) -> Option<&'static str> {
    // `/v1/{slug}` compared in place: this runs for every request.
    ideogram_raw::segmind::operations::ALL
        .iter()
        .find(|op| op.method == "POST" && op.path.strip_prefix("/v1/") == Some(slug))?
        .body
}

/// The schema name of Segmind's body for `model`.
pub(super) fn segmind_schema(model: Model, img2img: bool) -> Option<&'static str> {
    segmind_slug_schema(segmind_slug(model, img2img)?)
}

/// Every Segmind body, once: wire variant, generated type, sync and queued
/// operations.
macro_rules! segmind_bodies {
    ($($variant:ident($ty:ident), $v1:ident, $v2:ident;)+) => {
        impl WireRequest {
            /// The JSON Schema name of this body in its spec
            /// ([`ideogram_raw::schema`]).
            pub fn schema(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => stringify!($ty),)+
                    Self::IdeogramGenerate(_) => "GenerateImageRequest",
                    Self::IdeogramV3(_) => "GenerateImageRequestV3",
                    Self::IdeogramRemix(_) => "InitialImageRequest",
                    Self::IdeogramV3Multipart(_) => "GenerateImageRequestV3Multipart",
                    Self::IdeogramTransparent(_) => "GenerateTransparentImageRequestV3",
                    Self::IdeogramV4(_) => "GenerateImageRequestV4",
                    Self::IdeogramV3Remix(_) => "RemixImageRequestV3",
                }
            }
        }

        /// Sends a Segmind body to its sync operation.
        pub(crate) async fn segmind_v1(
            api: &ideogram_raw::segmind::Client,
            policy: &crate::retry::RetryPolicy,
            body: &WireRequest,
        ) -> Result<progenitor_client::ResponseValue<progenitor_client::ByteStream>, progenitor_client::Error<progenitor_client::ByteStream>> {
            match body {
                $(WireRequest::$variant(b) => crate::retry::run(policy, crate::retry::Method::Post, || api.$v1().body(b.clone()).send()).await,)+
                other => Err(progenitor_client::Error::InvalidRequest(format!("{} is not a Segmind body", other.schema()))),
            }
        }

        /// The queue operation a Segmind body is submitted through.
        pub(crate) fn segmind_v2_operation(body: &WireRequest) -> Option<&'static ideogram_raw::operation::Operation> {
            let id = match body {
                $(WireRequest::$variant(_) => stringify!($v2),)+
                _ => return None,
            };
            ideogram_raw::segmind::operations::ALL.iter().find(|op| op.id == id)
        }

        /// Queues a Segmind body.
        pub(crate) async fn segmind_v2(
            api: &ideogram_raw::segmind::Client,
            policy: &crate::retry::RetryPolicy,
            body: &WireRequest,
        ) -> Result<progenitor_client::ResponseValue<segmind::QueueSubmitResponse>, progenitor_client::Error<progenitor_client::ByteStream>> {
            match body {
                $(WireRequest::$variant(b) => crate::retry::run(policy, crate::retry::Method::Post, || api.$v2().body(b.clone()).send()).await,)+
                other => Err(progenitor_client::Error::InvalidRequest(format!("{} is not a Segmind body", other.schema()))),
            }
        }
    };
}

segmind_bodies! {
    SegmindTxt2Img(IdeogramTxt2ImgRequest), ideogram_txt_2_img, submit_ideogram_txt_2_img;
    SegmindTurboTxt2Img(IdeogramTurboTxt2ImgRequest), ideogram_turbo_txt_2_img, submit_ideogram_turbo_txt_2_img;
    Segmind2aTxt2Img(Ideogram2aTxt2ImgRequest), ideogram_2a_txt_2_img, submit_ideogram_2a_txt_2_img;
    SegmindImg2Img(IdeogramImg2ImgRequest), ideogram_img_2_img, submit_ideogram_img_2_img;
    SegmindTurboImg2Img(IdeogramTurboImg2ImgRequest), ideogram_turbo_img_2_img, submit_ideogram_turbo_img_2_img;
    Segmind2aImg2Img(Ideogram2aImg2ImgRequest), ideogram_2a_img_2_img, submit_ideogram_2a_img_2_img;
    SegmindV3(Ideogram3Request), ideogram_3, submit_ideogram_3;
    SegmindV3Remix(Ideogram3RemixRequest), ideogram_3_remix, submit_ideogram_3_remix;
    SegmindCharacter(IdeogramCharacterRequest), ideogram_character, submit_ideogram_character;
    SegmindV4(Ideogram4Request), ideogram_4, submit_ideogram_4;
    SegmindReframe(Ideogram3ReframeRequest), ideogram_3_reframe, submit_ideogram_3_reframe;
    SegmindReplaceBackground(Ideogram3ReplaceBackgroundRequest), ideogram_3_replace_background, submit_ideogram_3_replace_background;
    SegmindDescribe(IdeogramDescribeRequest), ideogram_describe, submit_ideogram_describe;
}

impl WireRequest {
    /// Puts a Segmind body's input image (a URL or base64): the image of
    /// an image to image, reframe or replace-background body, the
    /// reference of a character body, the image to describe.
    pub(crate) fn set_image_file(&mut self, value: String) -> Result<(), InvalidInput> {
        let file = built(segmind::ImageFile::try_from(value))?;
        match self {
            Self::SegmindImg2Img(b) => b.image_file = file,
            Self::SegmindTurboImg2Img(b) => b.image_file = file,
            Self::Segmind2aImg2Img(b) => b.image_file = file,
            Self::SegmindDescribe(b) => b.image_file = file,
            Self::SegmindV3Remix(b) => b.image = file,
            Self::SegmindReframe(b) => b.image = file,
            Self::SegmindReplaceBackground(b) => b.image = file,
            Self::SegmindCharacter(b) => b.character_reference_image = file,
            other => {
                return Err(InvalidInput::new(
                    "image",
                    format!("{} takes no input image", other.schema()),
                ));
            }
        }
        Ok(())
    }
}

/// Segmind's body for `model`, built with the generated builders: 2.x by
/// the table below, 3.0 and 4.0 by their own.
pub(crate) fn segmind_body(
    model: Model,
    img2img: bool,
    f: &Fields,
) -> Result<WireRequest, InvalidInput> {
    match (model, img2img) {
        (Model::V3, _) => segmind_v3(img2img, f),
        (Model::V4, false) => segmind_v4(f),
        _ => segmind_legacy(model, img2img, f),
    }
}

/// Segmind's 2.x bodies: model and input, wire variant, generated body, and
/// the body's optional field groups.
macro_rules! segmind_legacy {
    ($($model:ident, $img:literal => $variant:ident($ty:ident), [$($group:ident),*];)+) => {
        /// Segmind's 2.x body for `model`, built with the generated builder.
        fn segmind_legacy(model: Model, img2img: bool, f: &Fields) -> Result<WireRequest, InvalidInput> {
            match (model, img2img) {
                $((Model::$model, $img) => {
                    let b = segmind::$ty::builder()
                        .prompt(f.prompt.as_str())
                        .magic_prompt_option(f.magic_prompt.as_deref().map(|m| typed::<segmind::MagicPromptOption>("magic_prompt", m)).transpose()?)
                        .resolution(f.resolution.map(|r| r.to_segmind()).transpose()?)
                        .seed(segmind_seed(f)?)
                        .style_type(f.style.as_deref().map(|s| typed::<segmind::StyleType>("style", s)).transpose()?);
                    $(let b = segmind_legacy!(@$group b, f);)*
                    Ok(WireRequest::$variant(built(b.try_into())?))
                })+
                _ => Err(InvalidInput::new("model", format!("Segmind does not serve {model}"))),
            }
        }
    };
    (@palette $b:ident, $f:ident) => {
        $b.color_palette($f.palette.as_ref().map(|p| p.to_segmind()))
    };
    (@negative $b:ident, $f:ident) => {
        $b.negative_prompt($f.negative_prompt.clone())
    };
    (@image $b:ident, $f:ident) => {
        $b.image_file(IMAGE_PENDING)
            .image_weight($f.image_weight.map(|w| built(w.try_into()).map(segmind::ImageWeight)).transpose()?)
    };
}

segmind_legacy! {
    V2, false => SegmindTxt2Img(IdeogramTxt2ImgRequest), [palette, negative];
    V2Turbo, false => SegmindTurboTxt2Img(IdeogramTurboTxt2ImgRequest), [palette, negative];
    V2a, false => Segmind2aTxt2Img(Ideogram2aTxt2ImgRequest), [];
    V2, true => SegmindImg2Img(IdeogramImg2ImgRequest), [palette, negative, image];
    V2Turbo, true => SegmindTurboImg2Img(IdeogramTurboImg2ImgRequest), [palette, negative, image];
    V2a, true => Segmind2aImg2Img(Ideogram2aImg2ImgRequest), [negative, image];
}

/// The seed in Segmind's type.
fn segmind_seed(f: &Fields) -> Result<Option<segmind::Seed>, InvalidInput> {
    f.seed
        .map(|s| built(i32::try_from(s)).map(segmind::Seed::from))
        .transpose()
}

/// The facade's values in the types Segmind's 3.0 bodies share.
struct SegmindV3Fields {
    resolution: Option<segmind::ResolutionV3>,
    aspect_ratio: Option<segmind::AspectRatioV3>,
    rendering_speed: Option<segmind::RenderingSpeedV3>,
    magic_prompt: Option<segmind::MagicPromptOption>,
    style_type: Option<segmind::StyleTypeV3>,
    seed: Option<segmind::Seed>,
    palette: Option<segmind::ColorPalette>,
}

impl SegmindV3Fields {
    fn new(f: &Fields) -> Result<Self, InvalidInput> {
        Ok(Self {
            resolution: f
                .resolution
                .map(|r| typed("resolution", &r.check_in(SizeFamily::V3)?.to_string()))
                .transpose()?,
            aspect_ratio: f
                .aspect_ratio
                .map(|r| typed("aspect_ratio", &r.to_ideogram_v3()?.to_string()))
                .transpose()?,
            rendering_speed: f
                .rendering_speed
                .as_deref()
                .map(|s| typed("rendering_speed", s))
                .transpose()?,
            magic_prompt: f
                .magic_prompt
                .as_deref()
                .map(|m| typed("magic_prompt", m))
                .transpose()?,
            style_type: f.style.as_deref().map(|s| typed("style", s)).transpose()?,
            seed: segmind_seed(f)?,
            palette: f.palette.as_ref().map(|p| p.to_segmind()),
        })
    }
}

/// Segmind's Ideogram 3.0 body: `ideogram-3`, or `ideogram-3-remix` with an
/// input image.
fn segmind_v3(img2img: bool, f: &Fields) -> Result<WireRequest, InvalidInput> {
    let v = SegmindV3Fields::new(f)?;
    if img2img {
        let b = segmind::Ideogram3RemixRequest::builder()
            .image(IMAGE_PENDING)
            .prompt(f.prompt.as_str())
            .image_weight(
                f.image_weight
                    .map(|w| built(w.try_into()).map(segmind::ImageWeight))
                    .transpose()?,
            )
            .negative_prompt(f.negative_prompt.clone())
            .resolution(v.resolution)
            .aspect_ratio(v.aspect_ratio)
            .rendering_speed(v.rendering_speed)
            .magic_prompt(v.magic_prompt)
            .seed(v.seed)
            .style_type(v.style_type)
            .color_palette(v.palette);
        return Ok(WireRequest::SegmindV3Remix(built(b.try_into())?));
    }
    let b = segmind::Ideogram3Request::builder()
        .prompt(f.prompt.as_str())
        .negative_prompt(f.negative_prompt.clone())
        .resolution(v.resolution)
        .aspect_ratio(v.aspect_ratio)
        .rendering_speed(v.rendering_speed)
        .magic_prompt(v.magic_prompt)
        .seed(v.seed)
        .style_type(v.style_type)
        .color_palette(v.palette);
    Ok(WireRequest::SegmindV3(built(b.try_into())?))
}

/// Segmind's character body: Ideogram 3.0 with a character reference
/// (put in by [`WireRequest::set_image_file`]). Its enums are written in
/// title case: a value is matched to the spec's ignoring case.
pub(crate) fn segmind_character(f: &Fields) -> Result<WireRequest, InvalidInput> {
    let b = segmind::IdeogramCharacterRequest::builder()
        .character_reference_image(IMAGE_PENDING)
        .prompt(f.prompt.as_str())
        .resolution(
            f.resolution
                .map(|r| typed("resolution", &r.check_in(SizeFamily::V3)?.to_string()))
                .transpose()?,
        )
        .aspect_ratio(
            f.aspect_ratio
                .map(|r| typed("aspect_ratio", &r.to_string()))
                .transpose()?,
        )
        .style_type(
            f.style
                .as_deref()
                .map(|s| any_case("style", s))
                .transpose()?,
        )
        .rendering_speed(
            f.rendering_speed
                .as_deref()
                .map(|s| any_case("rendering_speed", s))
                .transpose()?,
        )
        .magic_prompt_option(
            f.magic_prompt
                .as_deref()
                .map(|m| any_case("magic_prompt", m))
                .transpose()?,
        )
        .seed(segmind_seed(f)?);
    Ok(WireRequest::SegmindCharacter(built(b.try_into())?))
}

/// Segmind's Ideogram 4.0 body. It takes a named size rather than a
/// resolution: an aspect ratio becomes the size of that shape.
fn segmind_v4(f: &Fields) -> Result<WireRequest, InvalidInput> {
    let b = segmind::Ideogram4Request::builder()
        .prompt(f.prompt.as_str())
        .image_size(f.aspect_ratio.map(image_size).transpose()?)
        .rendering_speed(
            f.rendering_speed
                .as_deref()
                .map(|s| typed::<segmind::Ideogram4RequestRenderingSpeed>("rendering_speed", s))
                .transpose()?
                .unwrap_or_default(),
        )
        .enable_prompt_expansion(
            f.magic_prompt
                .as_deref()
                .map(|m| typed::<segmind::MagicPromptOption>("magic_prompt", m))
                .transpose()?
                != Some(segmind::MagicPromptOption::Off),
        )
        .seed(f.seed.map(i64::from));
    Ok(WireRequest::SegmindV4(built(b.try_into())?))
}

/// The values of an edit on Segmind, its images already as Segmind takes
/// them (URLs, or base64).
pub(crate) struct SegmindEdit<'a> {
    pub kind: &'a crate::edit::EditKind,
    pub image: String,
    pub style_references: Option<segmind::StyleReferenceImages>,
    pub seed: Option<u32>,
    pub rendering_speed: Option<String>,
    pub magic_prompt: Option<String>,
    pub palette: Option<segmind::ColorPalette>,
}

/// Segmind's body for a reframe or a replace-background, built with the
/// generated builders; an edit Segmind does not serve is an error.
pub(crate) fn segmind_edit(e: SegmindEdit<'_>) -> Result<WireRequest, InvalidInput> {
    use crate::edit::EditKind;
    let image = built(segmind::ImageFile::try_from(e.image))?;
    let styles = e.style_references;
    let speed = e
        .rendering_speed
        .as_deref()
        .map(|s| typed::<segmind::RenderingSpeedV3>("rendering_speed", s))
        .transpose()?;
    let seed = e
        .seed
        .map(|s| built(i32::try_from(s)).map(segmind::Seed::from))
        .transpose()?;
    match e.kind {
        EditKind::Reframe { resolution } => {
            let b = segmind::Ideogram3ReframeRequest::builder()
                .image(image)
                .resolution(Some(typed("resolution", &resolution.to_string())?))
                .rendering_speed(speed)
                .seed(seed)
                .style_reference_images(styles)
                .color_palette(e.palette);
            Ok(WireRequest::SegmindReframe(built(b.try_into())?))
        }
        EditKind::ReplaceBackground { prompt } => {
            let b = segmind::Ideogram3ReplaceBackgroundRequest::builder()
                .image(image)
                .prompt(prompt.as_str())
                .rendering_speed(speed)
                .magic_prompt(
                    e.magic_prompt
                        .as_deref()
                        .map(|m| typed("magic_prompt", m))
                        .transpose()?,
                )
                .seed(seed)
                .style_reference_images(styles)
                .color_palette(e.palette);
            Ok(WireRequest::SegmindReplaceBackground(built(b.try_into())?))
        }
        other => Err(InvalidInput::new(
            "provider",
            format!("Segmind does not serve {}", other.name()),
        )),
    }
}

/// Ideogram 4.0's named size on Segmind for an aspect ratio: the spec's
/// `ImageSize` value whose name says that shape (`square_hd`,
/// `portrait_4_3` is 3:4, `landscape_16_9` is 16:9), the first that does.
fn image_size(ratio: crate::aspect::AspectRatio) -> Result<segmind::ImageSize, InvalidInput> {
    let shape = |name: &str| -> Option<String> {
        if name.starts_with("square") {
            return Some("1:1".into());
        }
        let (kind, sides) = name.split_once('_')?;
        let (a, b) = sides.split_once('_')?;
        match kind {
            "landscape" => Some(format!("{a}:{b}")),
            "portrait" => Some(format!("{b}:{a}")),
            _ => None,
        }
    };
    let sizes = ideogram_raw::enums::values::<segmind::ImageSize>();
    let wanted = ratio.to_string();
    match sizes
        .iter()
        .find(|s| shape(s).as_deref() == Some(wanted.as_str()))
    {
        Some(name) => typed("aspect_ratio", name),
        None => {
            let mut shapes: Vec<String> = sizes.iter().filter_map(|s| shape(s)).collect();
            shapes.dedup();
            Err(InvalidInput::new(
                "aspect_ratio",
                format!(
                    "{} on Segmind takes {}, not {wanted}",
                    Model::V4,
                    shapes.join(", ")
                ),
            ))
        }
    }
}

/// Style references as Segmind takes them: URLs, or local files as
/// base64.
pub(crate) async fn segmind_styles(
    images: &[crate::image_input::ImageInput],
) -> Result<Option<segmind::StyleReferenceImages>, crate::Error> {
    if images.is_empty() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for image in images {
        files.push(built(segmind::ImageFile::try_from(
            image.segmind_value().await?,
        ))?);
    }
    Ok(Some(segmind::StyleReferenceImages(files)))
}
