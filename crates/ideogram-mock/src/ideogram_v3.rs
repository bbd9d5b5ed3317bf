//! Ideogram 3.0's operations beyond JSON generate: generate with reference
//! images (multipart), generate-transparent (JSON or multipart), edit,
//! remix, reframe and replace-background (multipart); `/upscale`,
//! `/describe` and layerize-text; and Ideogram 4.0's generate (JSON or
//! multipart, either prompt shape its documents show).
//! Each reads its body as the spec describes it (`form`), applies the rules
//! the schema cannot say, and answers real images: edit and
//! replace-background keep the input's size, reframe answers the requested
//! resolution, transparent answers PNGs with alpha.

use std::sync::Arc;

use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, OriginalUri, Request, State as Shared};
use axum::http::header;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use ideogram_raw::enums::pair;
use serde_json::{Value, json};

use crate::form::{self, Form, MAX_IMAGE_BYTES};
use crate::ideogram::{V3_SIZES, Work, admit, decode, parse_json, run, work_from};
use crate::ledger::{Billed, Service};
use crate::serve::{Hangup, error};
use crate::state::{State, billed};

/// An operation of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Generate,
    Transparent,
    Edit,
    Remix,
    Reframe,
    ReplaceBackground,
    Upscale,
    V4,
}

impl Op {
    /// The multipart body's schema, and the JSON body's when it takes JSON.
    fn schemas(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Generate => (
                "GenerateImageRequestV3Multipart",
                Some("GenerateImageRequestV3"),
            ),
            Self::Transparent => (
                "GenerateTransparentImageRequestV3",
                Some("GenerateTransparentImageRequestV3"),
            ),
            Self::Edit => ("EditImageRequestV3", None),
            Self::Remix => ("RemixImageRequestV3", None),
            Self::Reframe => ("ReframeImageRequestV3", None),
            Self::ReplaceBackground => ("ReplaceBackgroundRequestV3", None),
            Self::Upscale => ("UpscaleImageRequest", None),
            Self::V4 => ("GenerateImageRequestV4", Some("GenerateImageRequestV4")),
        }
    }
}

pub(crate) fn routes() -> Router<Arc<State>> {
    let op = |op: Op| {
        post(
            move |Shared(state): Shared<Arc<State>>,
                  OriginalUri(uri): OriginalUri,
                  Extension(hangup): Extension<Hangup>,
                  request: Request| async move {
                handle(op, &state, uri.path(), &hangup, request).await
            },
        )
    };
    Router::new()
        .route("/v1/ideogram-v3/generate", op(Op::Generate))
        .route("/v1/ideogram-v3/generate-transparent", op(Op::Transparent))
        .route("/v1/ideogram-v3/edit", op(Op::Edit))
        .route("/v1/ideogram-v3/remix", op(Op::Remix))
        .route("/v1/ideogram-v3/reframe", op(Op::Reframe))
        .route(
            "/v1/ideogram-v3/replace-background",
            op(Op::ReplaceBackground),
        )
        .route("/upscale", op(Op::Upscale))
        .route("/v1/ideogram-v4/generate", op(Op::V4))
        .route("/describe", post(describe))
        .route("/v1/ideogram-v3/layerize-text", post(layerize_text))
}

async fn handle(
    op: Op,
    state: &Arc<State>,
    path: &str,
    hangup: &Hangup,
    request: Request,
) -> Response {
    let fault = match admit(state, path, path.as_bytes(), request.headers(), hangup).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let form = match body(op, state, request).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    match work(op, state, &form) {
        Ok(work) => run(state, path, fault, work, hangup).await,
        Err(answer) => answer,
    }
}

/// The body, as JSON or multipart by its content type, checked against its
/// schema.
async fn body(op: Op, state: &Arc<State>, request: Request) -> Result<Form, Response> {
    let (multipart, json) = op.schemas();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let parts = Multipart::from_request(request, state)
            .await
            .map_err(|e| error(400, format!("the multipart body does not parse: {e}")))?;
        return form::read(multipart, parts).await;
    }
    let Some(json) = json else {
        return Err(error(400, "send multipart/form-data"));
    };
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|e| error(400, format!("cannot read the body: {e}")))?;
    let value = parse_json(&bytes)?;
    decode_json(json, &value)?;
    match value {
        Value::Object(value) => Ok(Form {
            value,
            ..Form::default()
        }),
        _ => Err(error(400, "the body is a JSON object")),
    }
}

fn decode_json(schema: &str, value: &Value) -> Result<(), Response> {
    use ideogram_raw::ideogram::types as wire;
    match schema {
        "GenerateImageRequestV3" => decode::<wire::GenerateImageRequestV3>(schema, value, ""),
        "GenerateImageRequestV4" => decode::<wire::GenerateImageRequestV4>(schema, value, ""),
        _ => decode::<wire::GenerateTransparentImageRequestV3>(schema, value, ""),
    }
}

/// The documented rules the schema cannot express, then the work.
fn work(op: Op, state: &State, form: &Form) -> Result<Work, Response> {
    if op == Op::V4 {
        let prompts = ["prompt", "text_prompt", "json_prompt"];
        let given: Vec<&str> = prompts
            .into_iter()
            .filter(|p| form.value.contains_key(*p))
            .collect();
        if given.len() != 1 {
            return Err(error(
                400,
                "give exactly one of prompt, text_prompt and json_prompt",
            ));
        }
        let mut value = form.value.clone();
        if let Some(structured) = value.get("json_prompt").cloned() {
            value.insert("prompt".into(), structured.to_string().into());
        } else if let Some(text) = value.get("text_prompt").cloned() {
            value.insert("prompt".into(), text);
        }
        return work_from(state, &Value::Object(value), &V3_SIZES);
    }
    if op == Op::Upscale {
        // The request is the JSON part; the answer twice the input's size.
        let request = &form.value["image_request"];
        let mut work = work_from(state, request, &V3_SIZES)?;
        let (width, height) = form
            .file("image_file")
            .and_then(|image| form::dimensions(image))
            .unwrap_or((512, 512));
        (work.spec.width, work.spec.height) = (width * 2, height * 2);
        return Ok(work);
    }
    // Fields that exclude each other are the spec's `x-exclusive`, checked
    // with the schema (files included).
    let value = Value::Object(form.value.clone());
    for list in [
        "style_reference_images",
        "character_reference_images",
        "character_reference_images_mask",
    ] {
        let total: usize = form.all(list).iter().map(Bytes::len).sum();
        if total > MAX_IMAGE_BYTES {
            return Err(error(400, format!("{list}: larger than 10 MB in all")));
        }
    }
    let characters = form.all("character_reference_images");
    let masks = form.all("character_reference_images_mask");
    if !masks.is_empty() {
        if masks.len() != characters.len() {
            return Err(error(
                400,
                "character_reference_images_mask: one mask per character image",
            ));
        }
        for (mask, image) in masks.iter().zip(characters) {
            if form::dimensions(mask) != form::dimensions(image) {
                return Err(error(
                    400,
                    "character_reference_images_mask: each mask is its image's size",
                ));
            }
            if !form::is_grayscale(mask) {
                return Err(error(
                    400,
                    "character_reference_images_mask: must be grayscale",
                ));
            }
        }
    }
    let input = form.file("image").and_then(|image| form::dimensions(image));
    let mut work = work_from(state, &value, &V3_SIZES)?;
    match op {
        Op::Edit => {
            let mask = form.file("mask");
            if mask.and_then(|mask| form::dimensions(mask)) != input {
                return Err(error(400, "mask: must be the image's size"));
            }
            if !mask.is_some_and(|mask| form::is_grayscale(mask)) {
                return Err(error(400, "mask: must be black and white"));
            }
            (work.spec.width, work.spec.height) = input.unwrap_or((1024, 1024));
        }
        Op::ReplaceBackground => {
            (work.spec.width, work.spec.height) = input.unwrap_or((1024, 1024));
        }
        Op::Reframe => {
            let (width, height) = value["resolution"]
                .as_str()
                .and_then(pair)
                .ok_or_else(|| error(400, "resolution: required"))?;
            (work.spec.width, work.spec.height) = (width, height);
        }
        Op::Transparent => {
            work.spec.transparent = true;
            work.upscale = match value["upscale_factor"].as_str() {
                Some("X2") => 2,
                Some("X4") => 4,
                _ => 1,
            };
        }
        Op::Generate | Op::Remix | Op::Upscale | Op::V4 => {}
    }
    Ok(work)
}

/// `/describe`: words for an image, billed once.
async fn describe(
    Shared(state): Shared<Arc<State>>,
    OriginalUri(uri): OriginalUri,
    Extension(hangup): Extension<Hangup>,
    request: Request,
) -> Response {
    let path = uri.path();
    let fault = match admit(&state, path, path.as_bytes(), request.headers(), &hangup).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let parts = match Multipart::from_request(request, &state).await {
        Ok(parts) => parts,
        Err(e) => return error(400, format!("send multipart/form-data: {e}")),
    };
    let form = match form::read("DescribeRequest", parts).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let config = state.config();
    if !state.can_pay(config.cost) {
        return crate::serve::json(
            402,
            json!({"error": "Insufficient funds", "reject_reason": "insufficient_funds"}),
        );
    }
    let (width, height) = form
        .file("image_file")
        .and_then(|image| form::dimensions(image))
        .unwrap_or_default();
    let id = state.next_id("idd");
    let spec = crate::image::ImageSpec {
        width,
        height,
        seed: 0,
        palette: Vec::new(),
        transparent: false,
    };
    state.bill(Billed {
        cost: config.cost,
        ..billed(&id, Service::Ideogram, path, "", &spec)
    });
    let text = crate::segmind::description(&spec);
    let answer = crate::segmind::json_bytes(200, &json!({"descriptions": [{"text": text}]}));
    state.deliver(fault, &id, answer, &hangup).await
}

/// `/v1/ideogram-v3/layerize-text`: the image without its text (the same
/// size, served by the image origin) and one text block, billed once.
async fn layerize_text(
    Shared(state): Shared<Arc<State>>,
    OriginalUri(uri): OriginalUri,
    Extension(hangup): Extension<Hangup>,
    request: Request,
) -> Response {
    let path = uri.path();
    let fault = match admit(&state, path, path.as_bytes(), request.headers(), &hangup).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let parts = match Multipart::from_request(request, &state).await {
        Ok(parts) => parts,
        Err(e) => return error(400, format!("send multipart/form-data: {e}")),
    };
    let form = match form::read("LayerizeTextRequest", parts).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let config = state.config();
    if !state.can_pay(config.cost) {
        return crate::serve::json(
            402,
            json!({"error": "Insufficient funds", "reject_reason": "insufficient_funds"}),
        );
    }
    let (width, height) = form
        .file("image")
        .and_then(|image| form::dimensions(image))
        .unwrap_or((512, 512));
    let seed = form.value.get("seed").and_then(Value::as_u64).unwrap_or(1);
    let id = state.next_id("idl");
    let spec = crate::image::ImageSpec {
        width,
        height,
        seed,
        palette: Vec::new(),
        transparent: false,
    };
    let base = state.publish(&format!("{id}-base"), spec.clone(), "png");
    let prompt = form
        .value
        .get("prompt")
        .and_then(Value::as_str)
        .unwrap_or("");
    state.bill(Billed {
        cost: config.cost,
        outputs: vec![base.clone()],
        ..billed(&id, Service::Ideogram, path, prompt, &spec)
    });
    let block = json!({
        "x": width / 8, "y": height / 8, "width": width * 3 / 4, "height": height / 4,
        "text": "OPEN LATE", "alignment": "center", "angle": 0.0,
        "font_name": "Inter", "font_alternatives": ["Roboto"], "font_size": 48,
        "line_height": 1.2, "color": "#FFFFFF", "formatting": ["bold", "all_caps"],
        "role": "heading",
    });
    let answer = crate::segmind::json_bytes(
        200,
        &json!({"base_image_url": base, "original_image_url": null, "text_blocks": [block], "seed": seed}),
    );
    state.deliver(fault, &id, answer, &hangup).await
}
