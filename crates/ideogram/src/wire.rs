//! A request lowered for the wire: the generated body of the operation the
//! provider and model call for, built with the generated builders (a field
//! renamed in a spec breaks compilation here, a field added is simply there,
//! reachable by [`Prepared::wire_mut`](crate::Prepared::wire_mut)).
//!
//! Segmind's models are listed once, below: each model and input with its
//! slug, its generated body, its sync and queued operations.

use ideogram_raw::ideogram::types as ideogram;
use ideogram_raw::segmind::types as segmind;
use serde::Serialize;

use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use crate::resolution::SizeFamily;
use ideogram_raw::schema::{self, Schemas};

/// The generated body a request becomes: what the service receives.
///
/// ```no_run
/// # async fn run() -> Result<(), ideogram::Error> {
/// use ideogram::{GenerateRequest, Model, Provider, WireRequest};
///
/// let request = GenerateRequest::new("a lighthouse").model(Model::V3);
/// match request.to_wire(Provider::Ideogram).await? {
///     WireRequest::IdeogramV3(body) => println!("{}", serde_json::to_string(&body).unwrap()),
///     other => println!("{other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
#[non_exhaustive]
pub enum WireRequest {
    /// Segmind `ideogram-txt-2-img` (Ideogram 2.0).
    SegmindTxt2Img(segmind::IdeogramTxt2ImgRequest),
    /// Segmind `ideogram-turbo-txt-2-img` (Ideogram 2.0 Turbo).
    SegmindTurboTxt2Img(segmind::IdeogramTurboTxt2ImgRequest),
    /// Segmind `ideogram-2a-txt-2-img` (Ideogram 2a).
    Segmind2aTxt2Img(segmind::Ideogram2aTxt2ImgRequest),
    /// Segmind `ideogram-img-2-img` (Ideogram 2.0, image to image).
    SegmindImg2Img(segmind::IdeogramImg2ImgRequest),
    /// Segmind `ideogram-turbo-img-2-img` (Ideogram 2.0 Turbo, image to image).
    SegmindTurboImg2Img(segmind::IdeogramTurboImg2ImgRequest),
    /// Segmind `ideogram-2a-img-2-img` (Ideogram 2a, image to image).
    Segmind2aImg2Img(segmind::Ideogram2aImg2ImgRequest),
    /// Ideogram `POST /generate` (models V_1 to V_2A_TURBO).
    IdeogramGenerate(ideogram::GenerateImageRequest),
    /// Ideogram `POST /v1/ideogram-v3/generate`.
    IdeogramV3(ideogram::GenerateImageRequestV3),
    /// Ideogram `POST /remix`'s `image_request` part (the image goes beside
    /// it).
    IdeogramRemix(ideogram::InitialImageRequest),
    /// Ideogram `POST /v1/ideogram-v3/generate` as multipart, with
    /// reference images.
    IdeogramV3Multipart(ideogram::GenerateImageRequestV3Multipart),
    /// Ideogram `POST /v1/ideogram-v3/generate-transparent`.
    IdeogramTransparent(ideogram::GenerateTransparentImageRequestV3),
    /// Ideogram `POST /v1/ideogram-v3/remix` (the image goes in when the
    /// request is prepared).
    IdeogramV3Remix(ideogram::RemixImageRequestV3),
    /// Ideogram `POST /v1/ideogram-v4/generate`.
    IdeogramV4(ideogram::GenerateImageRequestV4),
    /// Segmind `ideogram-3` (Ideogram 3.0).
    SegmindV3(segmind::Ideogram3Request),
    /// Segmind `ideogram-3-remix` (Ideogram 3.0, image to image).
    SegmindV3Remix(segmind::Ideogram3RemixRequest),
    /// Segmind `ideogram-character` (Ideogram 3.0 with a character
    /// reference).
    SegmindCharacter(segmind::IdeogramCharacterRequest),
    /// Segmind `ideogram-4` (Ideogram 4.0).
    SegmindV4(segmind::Ideogram4Request),
    /// Segmind `ideogram-3-reframe`.
    SegmindReframe(segmind::Ideogram3ReframeRequest),
    /// Segmind `ideogram-3-replace-background`.
    SegmindReplaceBackground(segmind::Ideogram3ReplaceBackgroundRequest),
    /// Segmind `ideogram-describe`.
    SegmindDescribe(segmind::IdeogramDescribeRequest),
}

/// The facade's values, typed for the wire, that a body is built from.
pub(crate) struct Fields {
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub seed: Option<u32>,
    pub style: Option<String>,
    pub magic_prompt: Option<String>,
    pub resolution: Option<crate::resolution::Resolution>,
    pub aspect_ratio: Option<crate::aspect::AspectRatio>,
    pub palette: Option<crate::palette::Palette>,
    pub num_images: Option<u32>,
    pub rendering_speed: Option<String>,
    pub image_weight: Option<u32>,
    pub style_preset: Option<String>,
    pub custom_model_uri: Option<String>,
}

/// A builder's conversion error as the facade's, for `field`.
fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, InvalidInput> {
    result.map_err(|e| InvalidInput::new("request", e.to_string()))
}

/// A value parsed into a generated type (an enum, a newtype), or `field`'s
/// error listing what that type takes.
fn typed<T>(field: &'static str, text: &str) -> Result<T, InvalidInput>
where
    T: std::str::FromStr + schemars::JsonSchema,
{
    text.parse().map_err(|_| {
        let allowed = ideogram_raw::enums::values::<T>();
        InvalidInput::new(
            field,
            format!("{text:?} is not allowed; use one of {}", allowed.join(", ")),
        )
    })
}

/// A value parsed into a generated enum whose spelling differs in case
/// (Segmind's character model writes `Realistic`): the spec's value that
/// equals it ignoring case, or `field`'s error listing them.
fn any_case<T>(field: &'static str, text: &str) -> Result<T, InvalidInput>
where
    T: std::str::FromStr + schemars::JsonSchema,
{
    let allowed = ideogram_raw::enums::values::<T>();
    let value = allowed
        .iter()
        .find(|v| v.eq_ignore_ascii_case(text))
        .map_or(text, String::as_str);
    typed(field, value)
}

/// The spec and object schema whose fields a request for `model` on
/// `provider` is sent in (the `image_request` of Ideogram's legacy bodies),
/// or `None` when no operation takes it (an input image with V_3).
pub(crate) fn fields_schema(
    provider: Provider,
    model: Model,
    img2img: bool,
) -> Option<(&'static Schemas, &'static str)> {
    match provider {
        Provider::Segmind => Some((schema::segmind(), segmind_schema(model, img2img)?)),
        Provider::Ideogram => Some((
            schema::ideogram(),
            match (model, img2img) {
                (Model::V3, false) => "GenerateImageRequestV3",
                (Model::V3, true) => "RemixImageRequestV3",
                (Model::V4, false) => "GenerateImageRequestV4",
                (Model::V4, true) => return None,
                (_, false) => "ImageRequest",
                (_, true) => "InitialImageRequest",
            },
        )),
    }
}

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
    ideogram_raw::operation::Operation::find(
        ideogram_raw::segmind::operations::ALL,
        "POST",
        &format!("/v1/{slug}"),
    )?
    .body
}

/// The schema name of Segmind's body for `model`.
fn segmind_schema(model: Model, img2img: bool) -> Option<&'static str> {
    segmind_slug_schema(segmind_slug(model, img2img)?)
}

/// Every Segmind body, once: wire variant, generated type, sync and queued
/// operations.
macro_rules! segmind_bodies {
    ($($variant:ident($ty:ident), $v1:ident, $v2:ident;)+) => {
        impl WireRequest {
            /// The JSON Schema name of this body in its spec.
            pub(crate) fn schema(&self) -> &'static str {
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
        .enable_prompt_expansion(f.magic_prompt.as_deref() != Some("OFF"))
        .seed(f.seed.map(i64::from));
    Ok(WireRequest::SegmindV4(built(b.try_into())?))
}

/// The values of an edit on Segmind, its images already as Segmind takes
/// them (URLs, or base64).
pub(crate) struct SegmindEdit<'a> {
    pub kind: &'a crate::edit::EditKind,
    pub image: String,
    pub style_references: Vec<String>,
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
    let styles = (!e.style_references.is_empty())
        .then(|| {
            e.style_references
                .into_iter()
                .map(segmind::ImageFile::try_from)
                .collect::<Result<Vec<_>, _>>()
                .map(segmind::StyleReferenceImages)
        })
        .transpose()
        .map_err(|err| InvalidInput::new("style_reference_images", err.to_string()))?;
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
        return Err(InvalidInput::new(
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

impl WireRequest {
    /// Ideogram 3.0's JSON body as its multipart form with `references`
    /// read, checked and attached; Segmind's bodies with theirs put in (a
    /// URL, or a local file as base64); any other body as it is.
    pub(crate) async fn with_references(
        self,
        references: &crate::references::References,
        downloader: &crate::download::Downloader,
    ) -> Result<Self, crate::Error> {
        match self {
            Self::IdeogramV3(body) => Ok(Self::IdeogramV3Multipart(
                references.attach(&body, downloader).await?,
            )),
            Self::SegmindCharacter(body) => {
                let mut wire = Self::SegmindCharacter(body);
                if let Some(reference) = &references.character {
                    wire.set_image_file(reference.segmind_value().await?)?;
                }
                Ok(wire)
            }
            Self::SegmindV3(mut body) => {
                body.style_reference_images = segmind_styles(references).await?;
                Ok(Self::SegmindV3(body))
            }
            Self::SegmindV3Remix(mut body) => {
                body.style_reference_images = segmind_styles(references).await?;
                Ok(Self::SegmindV3Remix(body))
            }
            other => Ok(other),
        }
    }
}

/// Style references as Segmind takes them: URLs, or local files as
/// base64.
async fn segmind_styles(
    references: &crate::references::References,
) -> Result<Option<segmind::StyleReferenceImages>, crate::Error> {
    if references.style.is_empty() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for image in &references.style {
        files.push(built(segmind::ImageFile::try_from(
            image.segmind_value().await?,
        ))?);
    }
    Ok(Some(segmind::StyleReferenceImages(files)))
}

fn num_images(n: u32) -> Result<ideogram::NumImages, InvalidInput> {
    built(std::num::NonZeroU32::try_from(n)).map(ideogram::NumImages::from)
}
