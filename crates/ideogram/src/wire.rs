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
                (Model::V3, true) => return None,
                (_, false) => "ImageRequest",
                (_, true) => "InitialImageRequest",
            },
        )),
    }
}

/// Where a Segmind img2img body's image goes until it is read.
const IMAGE_PENDING: &str = "https://image.invalid/pending";

/// Segmind's models, once: model and input, slug, wire variant, generated
/// body, sync and queued operations, and the body's optional field groups.
macro_rules! segmind_models {
    ($($model:ident, $img:literal => $slug:literal, $variant:ident($ty:ident), $v1:ident, $v2:ident, [$($group:ident),*];)+) => {
        /// Segmind's slug for `model` (image to image when `img2img`).
        pub(crate) fn segmind_slug(model: Model, img2img: bool) -> Option<&'static str> {
            match (model, img2img) {
                $((Model::$model, $img) => Some($slug),)+
                _ => None,
            }
        }

        /// The schema name of Segmind's body for `model`.
        fn segmind_schema(model: Model, img2img: bool) -> Option<&'static str> {
            match (model, img2img) {
                $((Model::$model, $img) => Some(stringify!($ty)),)+
                _ => None,
            }
        }

        /// The model a Segmind slug names.
        pub(crate) fn model_of_slug(slug: &str) -> Option<Model> {
            match slug {
                $($slug => Some(Model::$model),)+
                _ => None,
            }
        }

        /// Segmind's body for `model`, built with the generated builder.
        pub(crate) fn segmind_body(model: Model, img2img: bool, f: &Fields) -> Result<WireRequest, InvalidInput> {
            match (model, img2img) {
                $((Model::$model, $img) => {
                    let b = segmind::$ty::builder()
                        .prompt(f.prompt.as_str())
                        .magic_prompt_option(f.magic_prompt.as_deref().map(|m| typed::<segmind::MagicPromptOption>("magic_prompt", m)).transpose()?)
                        .resolution(f.resolution.map(|r| r.to_segmind()).transpose()?)
                        .seed(f.seed.map(|s| built(i32::try_from(s)).map(segmind::Seed::from)).transpose()?)
                        .style_type(f.style.as_deref().map(|s| typed::<segmind::StyleType>("style", s)).transpose()?);
                    $(let b = segmind_models!(@$group b, f);)*
                    Ok(WireRequest::$variant(built(b.try_into())?))
                })+
                _ => Err(InvalidInput::new("model", format!("Segmind does not serve {model}"))),
            }
        }

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
                }
            }

            /// Puts a Segmind image to image body's input image (a URL or
            /// base64).
            pub(crate) fn set_image_file(&mut self, value: String) -> Result<(), InvalidInput> {
                let file = built(segmind::ImageFile::try_from(value))?;
                segmind_models!(@image_file self, file, $($variant [$($group),*])+);
                Ok(())
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
    (@image_file $self:ident, $file:ident, $($variant:ident [$($group:ident),*])+) => {
        match $self {
            $(Self::$variant(b) => segmind_models!(@set $($group)* ; b, $file),)+
            other => return Err(InvalidInput::new("image", format!("{} takes no input image", other.schema()))),
        }
    };
    (@set ; $b:ident, $file:ident) => {{
        let _ = ($b, $file);
        return Err(InvalidInput::new("image", "this body takes no input image"));
    }};
    (@set image $($rest:ident)* ; $b:ident, $file:ident) => {
        $b.image_file = $file
    };
    (@set $first:ident $($rest:ident)* ; $b:ident, $file:ident) => {
        segmind_models!(@set $($rest)* ; $b, $file)
    };
}

segmind_models! {
    V2, false => "ideogram-txt-2-img", SegmindTxt2Img(IdeogramTxt2ImgRequest), ideogram_txt_2_img, submit_ideogram_txt_2_img, [palette, negative];
    V2Turbo, false => "ideogram-turbo-txt-2-img", SegmindTurboTxt2Img(IdeogramTurboTxt2ImgRequest), ideogram_turbo_txt_2_img, submit_ideogram_turbo_txt_2_img, [palette, negative];
    V2a, false => "ideogram-2a-txt-2-img", Segmind2aTxt2Img(Ideogram2aTxt2ImgRequest), ideogram_2a_txt_2_img, submit_ideogram_2a_txt_2_img, [];
    V2, true => "ideogram-img-2-img", SegmindImg2Img(IdeogramImg2ImgRequest), ideogram_img_2_img, submit_ideogram_img_2_img, [palette, negative, image];
    V2Turbo, true => "ideogram-turbo-img-2-img", SegmindTurboImg2Img(IdeogramTurboImg2ImgRequest), ideogram_turbo_img_2_img, submit_ideogram_turbo_img_2_img, [palette, negative, image];
    V2a, true => "ideogram-2a-img-2-img", Segmind2aImg2Img(Ideogram2aImg2ImgRequest), ideogram_2a_img_2_img, submit_ideogram_2a_img_2_img, [negative, image];
}

/// Ideogram's legacy `/generate` body (or `/remix`'s `image_request` when
/// `remix`), built with the generated builders.
pub(crate) fn ideogram_legacy(
    model: Model,
    remix: bool,
    f: &Fields,
) -> Result<WireRequest, InvalidInput> {
    let model = model.to_wire();
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
        .negative_prompt(f.negative_prompt.clone());
    Ok(WireRequest::IdeogramV3(built(body.try_into())?))
}

/// Ideogram 3.0's body as generate-transparent's, upscaled by `upscale`:
/// a field the transparent body (per the spec) does not have is an error
/// naming it.
pub(crate) fn ideogram_transparent(
    v3: WireRequest,
    upscale: Option<ideogram::UpscaleFactor>,
) -> Result<WireRequest, InvalidInput> {
    const SCHEMA: &str = "GenerateTransparentImageRequestV3";
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(&v3).expect("a generated body is JSON")
    else {
        unreachable!("a body is an object")
    };
    let taken = ideogram_raw::schema::ideogram()
        .get(SCHEMA)
        .and_then(|s| s["properties"].as_object())
        .expect("the spec has the transparent body");
    if let Some(field) = fields.keys().find(|f| !taken.contains_key(*f)) {
        return Err(InvalidInput::new(
            field.clone(),
            "a transparent image does not take it",
        ));
    }
    if let Some(factor) = upscale {
        fields.insert("upscale_factor".into(), factor.to_string().into());
    }
    serde_json::from_value(fields.into())
        .map(WireRequest::IdeogramTransparent)
        .map_err(|e| InvalidInput::new("request", e.to_string()))
}

impl WireRequest {
    /// Ideogram 3.0's JSON body as its multipart form with `references`
    /// read, checked and attached; any other body as it is.
    pub(crate) async fn with_references(
        self,
        references: &crate::references::References,
        downloader: &crate::download::Downloader,
    ) -> Result<Self, crate::Error> {
        match self {
            Self::IdeogramV3(body) => Ok(Self::IdeogramV3Multipart(
                references.attach(&body, downloader).await?,
            )),
            other => Ok(other),
        }
    }
}

fn num_images(n: u32) -> Result<ideogram::NumImages, InvalidInput> {
    built(std::num::NonZeroU32::try_from(n)).map(ideogram::NumImages::from)
}
