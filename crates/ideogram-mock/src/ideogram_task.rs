//! What the mock does for each of Ideogram's operations, by the task its
//! `x-route` names, whatever its path: the documented rules the schema
//! cannot say, then real images. Generate, remix, transparent, edit,
//! reframe, replace-background and upscale generate images
//! (`ideogram::run`): edit and replace-background keep the input's size,
//! reframe answers the requested resolution, transparent answers PNGs with
//! alpha (enlarged by `upscale_factor`), upscale twice the input's size.
//! Describe answers words (Ideogram 4.0's v2 a structured prompt),
//! layerize-text the image without its text and one text block (v2 as a
//! generation, at once or polled); each is billed once.

use std::sync::Arc;

use axum::response::Response;
use ideogram_raw::enums::pair;
use ideogram_raw::ideogram::types::{DescribeResponseV2, Description, ImageObjectV2, TextBlockV2};
use ideogram_raw::operation::Operation;
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::form::{self, Form};
use crate::ideogram::{V2, Work, run, sizes_for, work_from};
use crate::ledger::{Billed, Service};
use crate::serve::{Hangup, error};
use crate::state::{State, billed};

/// What an operation does, as its `x-route` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Generate,
    Remix,
    Transparent,
    Edit,
    Reframe,
    ReplaceBackground,
    RemoveBackground,
    RemoveObject,
    Upscale,
    Describe,
    LayerizeText,
}

impl Task {
    /// The task of `op`, whatever its path; none for an operation without
    /// an `x-route`, or with a task the mock does not know.
    pub(crate) fn of(op: &Operation) -> Option<Self> {
        Some(match op.route?.task {
            "generate" => Self::Generate,
            "remix" => Self::Remix,
            "transparent" => Self::Transparent,
            "edit" => Self::Edit,
            "reframe" => Self::Reframe,
            "replace-background" => Self::ReplaceBackground,
            "remove-background" => Self::RemoveBackground,
            "remove-object" => Self::RemoveObject,
            "upscale" => Self::Upscale,
            "describe" => Self::Describe,
            "layerize-text" => Self::LayerizeText,
            _ => return None,
        })
    }
}

/// The schema of the request `op` carries: its body's, or where it nests
/// the request's fields in one (`x-route`'s `nest`), that field's.
pub(crate) fn request_schema(op: &Operation) -> Option<&'static str> {
    let body = op.body?;
    let Some(nest) = op.route.and_then(|route| route.nest) else {
        return Some(body);
    };
    ideogram_raw::schema::ideogram().get(body)?["properties"][nest]["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

/// Answers `form`, the checked body of `op`, as its task says.
pub(crate) async fn answer(
    op: &Operation,
    state: &Arc<State>,
    path: &str,
    fault: Option<Fault>,
    form: Form,
    hangup: &Hangup,
) -> Response {
    let Some(task) = Task::of(op) else {
        return error(501, format!("{}: the mock does not serve its task", op.id));
    };
    // The input image's size, from the field the route names.
    let input = op
        .route
        .and_then(|route| route.image)
        .and_then(|field| form.file(field))
        .and_then(|image| form::dimensions(image));
    let fields = form.fields(op.body.unwrap_or_default());
    let usd_micros = op.priced(&form.value).map(|p| p.usd_micros);
    match task {
        Task::Describe => {
            let asked = Asked::new(path, fault, input, fields, usd_micros);
            describe(op, state, asked, hangup).await
        }
        Task::LayerizeText => {
            let v2 = v2(op, &form);
            let asked = Asked::new(path, fault, input, fields, usd_micros);
            layerize_text(state, asked, v2, hangup).await
        }
        _ => match work(task, op, state, &form, input) {
            Ok(work) => {
                let v2 = v2(op, &form);
                let work = Work {
                    fields,
                    v2,
                    usd_micros,
                    ..work
                };
                run(state, path, fault, work, hangup).await
            }
            Err(answer) => answer,
        },
    }
}

/// How a v2 operation answers (`None` for v1: it has no `poll` route), as
/// the spec's `x-delivery` fields say ([`Schemas::answers_later`]).
///
/// [`Schemas::answers_later`]: ideogram_raw::schema::Schemas::answers_later
fn v2(op: &Operation, form: &Form) -> Option<V2> {
    op.route?.poll?;
    let (spec, schema) = (
        ideogram_raw::schema::ideogram(),
        op.body.unwrap_or_default(),
    );
    Some(if spec.answers_later(schema, &form.value) {
        let webhook = spec.delivered_to(schema, &form.value).is_some();
        V2::Queued { webhook }
    } else {
        V2::Sync
    })
}

/// The documented rules the schema cannot express, then the work.
fn work(
    task: Task,
    op: &Operation,
    state: &State,
    form: &Form,
    input: Option<(u32, u32)>,
) -> Result<Work, Response> {
    let schema = request_schema(op)
        .ok_or_else(|| error(500, format!("{}: the spec names no request schema", op.id)))?;
    let mut request = match op.route.and_then(|route| route.nest) {
        Some(nest) => form.value.get(nest).cloned().unwrap_or_default(),
        None => Value::Object(form.value.clone()),
    };
    one_prompt(schema, &mut request)?;
    references(form)?;
    let mut work = work_from(state, &request, &sizes_for(schema))?;
    match task {
        // A mask (required where the schema says; 4.5's precise edit takes
        // none) is the image's size and black and white.
        Task::Edit | Task::RemoveObject => {
            let mask = form.file("mask");
            let required = ideogram_raw::schema::ideogram()
                .get(schema)
                .is_some_and(|s| {
                    s["required"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|f| f == "mask"))
                });
            // An image named by its asset identifier (no file part) has no
            // size here: a mask is compared with an uploaded image only.
            let uploaded = (op.route.and_then(|route| route.image))
                .is_some_and(|field| form.file(field).is_some());
            if mask.is_some() || required {
                if uploaded && mask.and_then(|mask| form::dimensions(mask)) != input {
                    return Err(error(400, "mask: must be the image's size"));
                }
                if !mask.is_some_and(|mask| form::is_grayscale(mask)) {
                    return Err(error(400, "mask: must be black and white"));
                }
            }
            (work.spec.width, work.spec.height) = input.unwrap_or((1024, 1024));
        }
        Task::ReplaceBackground => {
            (work.spec.width, work.spec.height) = input.unwrap_or((1024, 1024));
        }
        Task::RemoveBackground => {
            (work.spec.width, work.spec.height) = input.unwrap_or((1024, 1024));
            work.spec.transparent = true;
        }
        Task::Reframe => {
            (work.spec.width, work.spec.height) = request["resolution"]
                .as_str()
                .and_then(pair)
                .ok_or_else(|| error(400, "resolution: required"))?;
        }
        Task::Transparent => {
            work.spec.transparent = true;
            // `X2`, `X4`: the factor the images are enlarged by.
            work.upscale = request["upscale_factor"]
                .as_str()
                .and_then(|factor| factor.strip_prefix('X')?.parse().ok())
                .unwrap_or(1);
        }
        Task::Upscale => {
            let (width, height) = input.unwrap_or((512, 512));
            (work.spec.width, work.spec.height) = (width * 2, height * 2);
        }
        Task::Generate | Task::Remix | Task::Describe | Task::LayerizeText => {}
    }
    Ok(work)
}

/// Where the schema does not require `prompt` but makes it exclude others
/// (an `x-exclusive` group holding it: Ideogram 4.0's `prompt`,
/// `text_prompt` and `json_prompt`), exactly one of the group is given, and
/// it is the prompt (a structured one as its JSON text).
fn one_prompt(schema: &str, request: &mut Value) -> Result<(), Response> {
    let Some(spec) = ideogram_raw::schema::ideogram().get(schema) else {
        return Ok(());
    };
    let required = spec["required"].as_array();
    if required.is_some_and(|fields| fields.iter().any(|f| f == "prompt")) {
        return Ok(());
    }
    let groups = spec["x-exclusive"].as_array().into_iter().flatten();
    let Some(group) = groups
        .filter_map(Value::as_array)
        .find(|group| group.iter().any(|f| f == "prompt"))
    else {
        return Ok(());
    };
    let names: Vec<&str> = group.iter().filter_map(Value::as_str).collect();
    let given: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| request.get(name).is_some())
        .collect();
    let [one] = given[..] else {
        return Err(error(
            400,
            format!("give exactly one of {}", names.join(", ")),
        ));
    };
    let prompt = match &request[one] {
        Value::String(text) => text.clone(),
        structured => structured.to_string(),
    };
    request["prompt"] = prompt.into();
    Ok(())
}

/// The reference images' rules (their sizes in all are the spec's,
/// checked as the form is read): one mask per character image, each its
/// image's size and grayscale.
fn references(form: &Form) -> Result<(), Response> {
    let characters = form.all("character_reference_images");
    let masks = form.all("character_reference_images_mask");
    if masks.is_empty() {
        return Ok(());
    }
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
    Ok(())
}

/// What a describe or layerize call asked, once its body is read.
struct Asked<'a> {
    path: &'a str,
    fault: Option<Fault>,
    /// The input image's size.
    input: Option<(u32, u32)>,
    /// The request's fields, as the ledger records them.
    fields: Map<String, Value>,
    /// Its price as the spec's `x-price` says, where it says.
    usd_micros: Option<u64>,
}

impl<'a> Asked<'a> {
    fn new(
        path: &'a str,
        fault: Option<Fault>,
        input: Option<(u32, u32)>,
        fields: Map<String, Value>,
        usd_micros: Option<u64>,
    ) -> Self {
        Self {
            path,
            fault,
            input,
            fields,
            usd_micros,
        }
    }
}

/// Describe: words for the image, billed once. v1 answers `descriptions`;
/// v2 (its path's version) the generated `DescribeResponseV2`: Ideogram
/// 4.0's (an operation routed for it) a structured `json_prompt`, 3.0's
/// `descriptions`.
async fn describe(op: &Operation, state: &State, asked: Asked<'_>, hangup: &Hangup) -> Response {
    let config = state.config();
    if let Some(short) = state.short_of(config.cost, asked.usd_micros) {
        return short.ideogram();
    }
    let (width, height) = asked.input.unwrap_or_default();
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
        usd_micros: asked.usd_micros,
        ..billed(&id, Service::Ideogram, asked.path, "", &spec, asked.fields)
    });
    let text = crate::segmind::description(&spec);
    let answer = if !op.path.starts_with("/v2/") {
        json!({"descriptions": [{"text": text}]})
    } else {
        let structured = op.route.is_some_and(|r| r.models.contains(&"V_4"));
        let mut answer = DescribeResponseV2 {
            created: Some(chrono::Utc::now()),
            description_id: id.clone(),
            descriptions: Vec::new(),
            json_prompt: Map::new(),
        };
        if structured {
            answer.json_prompt = Map::from_iter([
                ("summary".to_owned(), json!(text)),
                ("width".to_owned(), json!(width)),
                ("height".to_owned(), json!(height)),
            ]);
        } else {
            answer.descriptions = vec![Description { text: Some(text) }];
        }
        serde_json::to_value(answer).expect("a generated answer is JSON")
    };
    let answer = crate::serve::json_bytes(200, &answer);
    state.deliver(asked.fault, &id, answer, hangup).await
}

/// Layerize-text: the image without its text (the same size, served by the
/// image origin) and its text blocks, billed once. v1 answers one block
/// with its font; v2 (an operation polled for its results) one
/// `layerized_image` holding the design (`url`), the base and a
/// `TextBlockV2`, at once or as a generation to poll, as the other v2 calls.
async fn layerize_text(
    state: &Arc<State>,
    asked: Asked<'_>,
    v2: Option<V2>,
    hangup: &Hangup,
) -> Response {
    let config = state.config();
    if let Some(short) = state.short_of(config.cost, asked.usd_micros) {
        return short.ideogram();
    }
    let (width, height) = asked.input.unwrap_or((512, 512));
    let fields = asked.fields;
    let seed = fields.get("seed").and_then(Value::as_u64).unwrap_or(1);
    let prompt = fields
        .get("prompt")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let id = state.next_id("idl");
    let spec = crate::image::ImageSpec {
        width,
        height,
        seed,
        palette: Vec::new(),
        transparent: false,
    };
    let base = state.publish(&format!("{id}-base"), spec.clone(), "png");
    let mut outputs = vec![base.clone()];
    let design = v2.map(|_| state.publish(&format!("{id}-0"), spec.clone(), "png"));
    outputs.extend(design.clone());
    state.bill(Billed {
        cost: config.cost,
        outputs,
        usd_micros: asked.usd_micros,
        ..billed(&id, Service::Ideogram, asked.path, &prompt, &spec, fields)
    });
    let (x, y, w, h) = (width / 8, height / 8, width * 3 / 4, height / 4);
    let answer = match v2 {
        None => json!({
            "base_image_url": base, "original_image_url": null, "seed": seed,
            "text_blocks": [{
                "x": x, "y": y, "width": w, "height": h,
                "text": "OPEN LATE", "alignment": "center", "angle": 0.0,
                "font_name": "Inter", "font_alternatives": ["Roboto"], "font_size": 48,
                "line_height": 1.2, "color": "#FFFFFF", "formatting": ["bold", "all_caps"],
                "role": "heading",
            }],
        }),
        Some(v2) => {
            let block = TextBlockV2 {
                text: "OPEN LATE".into(),
                x: x.into(),
                y: y.into(),
                width: w.into(),
                height: Some(h.into()),
                line_height: Some(1.2),
                role: Some("heading".into()),
            };
            let layered = ImageObjectV2 {
                object_type: Some("layerized_image".into()),
                url: design,
                base_image_url: Some(base),
                text_blocks: vec![block],
                is_image_safe: true,
                prompt: Some(prompt),
                resolution: Some(format!("{width}x{height}")),
                seed: i64::try_from(seed).ok(),
                asset_id: None,
            };
            let seed = i64::try_from(seed).ok();
            let end = Ok(vec![layered]);
            crate::ideogram::v2_answer(state, &id, v2, seed, end, asked.usd_micros)
        }
    };
    let answer = crate::serve::json_bytes(200, &answer);
    state.deliver(asked.fault, &id, answer, hangup).await
}

#[cfg(test)]
mod tests {
    use ideogram_raw::operation::Route;

    use super::*;

    /// An operation as a spec might add it: a path the mock has never seen.
    fn added(task: &'static str, body: &'static str, nest: Option<&'static str>) -> Operation {
        Operation {
            id: "post_added",
            method: "POST",
            path: "/v9/added",
            content_type: Some("multipart/form-data"),
            body: Some(body),
            typical: None,
            accept: Some("application/json"),
            route: Some(Route {
                task,
                models: &[],
                image: Some("image"),
                nest,
                queue: None,
                poll: None,
                serves: &[],
            }),
            rate_limit: None,
            deprecation: None,
            result_ttl: None,
            price: None,
            dry_run: None,
        }
    }

    #[test]
    fn behaviour_follows_the_route_not_the_path() {
        let reframe = added("reframe", "ReframeImageRequestV3", None);
        assert_eq!(Task::of(&reframe), Some(Task::Reframe));
        assert_eq!(request_schema(&reframe), Some("ReframeImageRequestV3"));
        let upscale = added("upscale", "UpscaleImageRequest", Some("image_request"));
        assert_eq!(Task::of(&upscale), Some(Task::Upscale));
        assert_eq!(request_schema(&upscale), Some("UpscaleInitialImageRequest"));
        assert_eq!(Task::of(&added("paint", "DescribeRequest", None)), None);
        let unrouted = Operation {
            route: None,
            ..reframe
        };
        assert_eq!(Task::of(&unrouted), None);
        // Every task of the spec's table is one the mock serves.
        for op in ideogram_raw::ideogram::operations::ALL {
            if op.route.is_some() {
                assert!(Task::of(op).is_some(), "{}", op.id);
                assert!(request_schema(op).is_some(), "{}", op.id);
            }
        }
    }

    #[test]
    fn only_a_request_without_a_required_prompt_picks_one_of_its_group() {
        let mut v4 = json!({"json_prompt": {"subject": "a lighthouse"}});
        one_prompt("GenerateImageRequestV4", &mut v4).expect("one given");
        assert_eq!(v4["prompt"], r#"{"subject":"a lighthouse"}"#);
        let mut none = json!({"seed": 1});
        let refused = one_prompt("GenerateImageRequestV4", &mut none).expect_err("none given");
        assert_eq!(refused.status(), 400);
        let mut v3 = json!({"prompt": "a lighthouse"});
        one_prompt("GenerateImageRequestV3", &mut v3).expect("v3 requires its prompt");
        assert_eq!(v3, json!({"prompt": "a lighthouse"}));
    }
}
