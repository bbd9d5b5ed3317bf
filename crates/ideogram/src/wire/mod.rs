//! A request lowered for the wire: the generated body of the operation the
//! provider and model call for, built with the generated builders (a field
//! renamed in a spec breaks compilation here, a field added is simply there,
//! reachable by [`Prepared::wire_mut`](crate::Prepared::wire_mut)).
//!
//! Segmind's models are listed once, in `segmind_bodies`: each model and
//! input with its slug, its generated body, its sync and queued operations;
//! Ideogram's bodies are built in `ideogram_bodies`.

use ideogram_raw::ideogram::types as ideogram;
use ideogram_raw::segmind::types as segmind;
use serde::Serialize;

use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};
use ideogram_raw::schema::{self, Schemas};

mod ideogram_bodies;
mod segmind_bodies;

pub(crate) use ideogram_bodies::{
    ideogram_legacy, ideogram_transparent, ideogram_v3, ideogram_v3_remix, ideogram_v4,
};
use segmind_bodies::segmind_schema;
pub(crate) use segmind_bodies::{
    CHARACTER_SLUG, SegmindEdit, model_of_slug, segmind_body, segmind_character, segmind_edit,
    segmind_slug, segmind_slug_schema, segmind_styles, segmind_v1, segmind_v2,
    segmind_v2_operation,
};

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
                body.style_reference_images = segmind_styles(&references.style).await?;
                Ok(Self::SegmindV3(body))
            }
            Self::SegmindV3Remix(mut body) => {
                body.style_reference_images = segmind_styles(&references.style).await?;
                Ok(Self::SegmindV3Remix(body))
            }
            other => Ok(other),
        }
    }
}
