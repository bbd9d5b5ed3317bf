//! Ideogram's API: `/generate`, `/v1/ideogram-v3/generate` and multipart
//! `/remix`, at the root (with `Api-Key`) and under `/ideogram` as a gateway
//! re-serves them (either key header works on both).

use std::sync::{Arc, LazyLock};

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{OriginalUri, State as Shared};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use ideogram_raw::ideogram::types as wire;
use serde_json::{Value, json};

use crate::faults::Fault;
use crate::image::{ImageSpec, palette_colors};
use crate::ledger::{Billed, Service};
use crate::segmind::json_bytes;
use crate::serve::{Hangup, error, json};
use crate::state::{State, billed};
use ideogram_raw::enums::pair;

/// A prompt containing this fails the safety check (422, not billed).
pub const UNSAFE_TRIGGER: &str = "mock:unsafe";
/// A prompt containing this gets its first image withheld
/// (`is_image_safe: false`, no URL).
pub const WITHHELD_TRIGGER: &str = "mock:withheld";

/// The largest body the mock reads: every upload a call may carry, at
/// their documented limits, with room for the rest.
const UPLOAD_LIMIT: usize = 4 * crate::form::MAX_IMAGE_BYTES;

pub(crate) fn routes() -> Router<Arc<State>> {
    let api = Router::new()
        .route("/generate", post(generate))
        .route("/remix", post(remix))
        .merge(crate::ideogram_v3::routes())
        // An image of 10 MB and 10 MB each of style and character
        // references fit; axum's default of 2 MB would not.
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT));
    api.clone().nest("/ideogram", api)
}

/// What every generation needs once its body is checked.
pub(crate) struct Work {
    pub(crate) prompt: String,
    pub(crate) count: u32,
    /// The image as generated; served `upscale` times larger.
    pub(crate) spec: ImageSpec,
    pub(crate) style: Option<String>,
    pub(crate) upscale: u32,
}

async fn generate(
    Shared(state): Shared<Arc<State>>,
    OriginalUri(uri): OriginalUri,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let fault = match admit(&state, &path, &body, &headers, &hangup).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let work = match legacy_work(&state, &body) {
        Ok(work) => work,
        Err(answer) => return answer,
    };
    run(&state, &path, fault, work, &hangup).await
}

async fn remix(
    Shared(state): Shared<Arc<State>>,
    OriginalUri(uri): OriginalUri,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = uri.path().to_owned();
    let fault = match admit(&state, &path, path.as_bytes(), &headers, &hangup).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let Ok(mut multipart) = multipart else {
        return error(
            400,
            "send multipart/form-data with image_request and image_file",
        );
    };
    let (mut request, mut image) = (None, None);
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(data) = field.bytes().await else {
            return error(400, format!("cannot read the {name} part"));
        };
        match name.as_str() {
            "image_request" => request = Some(data),
            "image_file" => image = Some(data),
            _ => return error(400, format!("unknown part {name:?}")),
        }
    }
    let (Some(request), Some(image)) = (request, image) else {
        return error(400, "image_request and image_file are both required");
    };
    if let Err(answer) = crate::form::check_image("image_file", &image) {
        return answer;
    }
    let work = (|| {
        let value = parse_json(&request)?;
        decode::<wire::InitialImageRequest>("InitialImageRequest", &value, "image_request")?;
        work_from(&state, &value, &LEGACY_SIZES)
    })();
    match work {
        Ok(work) => run(&state, &path, fault, work, &hangup).await,
        Err(answer) => answer,
    }
}

fn legacy_work(state: &State, body: &Bytes) -> Result<Work, Response> {
    let value = parse_json(body)?;
    decode::<wire::GenerateImageRequest>("GenerateImageRequest", &value, "")?;
    let request = &value["image_request"];
    work_from(state, request, &LEGACY_SIZES)
}

/// Checks shared by every operation and builds the work.
pub(crate) fn work_from(
    state: &State,
    request: &Value,
    sizes: &[(u32, u32)],
) -> Result<Work, Response> {
    if request.get("resolution").is_some() && request.get("aspect_ratio").is_some() {
        return Err(error(
            400,
            "resolution and aspect_ratio cannot be used together",
        ));
    }
    let (width, height) = match (
        request["resolution"].as_str(),
        request["aspect_ratio"].as_str(),
    ) {
        (Some(r), _) => pair(r).ok_or_else(|| error(400, "resolution: not understood"))?,
        (None, Some(ratio)) => size_for_ratio(ratio, sizes),
        _ => (1024, 1024),
    };
    let seed = request["seed"]
        .as_u64()
        .unwrap_or_else(|| state.default_seed(seeds(&ideogram_raw::ideogram::limits::SEED)));
    Ok(Work {
        prompt: request["prompt"].as_str().unwrap_or_default().to_owned(),
        count: request["num_images"].as_u64().unwrap_or(1) as u32,
        spec: ImageSpec {
            width,
            height,
            seed,
            palette: palette_colors(&request["color_palette"]),
            transparent: false,
        },
        style: request["style_type"].as_str().map(str::to_owned),
        upscale: 1,
    })
}

/// Auth and the faults that strike before anything is read.
pub(crate) async fn admit(
    state: &State,
    path: &str,
    request_key: &[u8],
    headers: &HeaderMap,
    hangup: &Hangup,
) -> Result<Option<Fault>, Response> {
    let key = state.config().api_key;
    let given = headers
        .get("api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let bearer = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
            bearer.strip_prefix("Bearer ").map(str::to_owned)
        });
    if given.as_deref() != Some(key.as_str()) {
        return Err(error(401, "Unauthorized"));
    }
    let fault = state.fault("POST", path, request_key);
    match state.before(&fault, hangup, path).await {
        Some(answer) => Err(answer),
        None => Ok(fault),
    }
}

/// Safety, the in-flight limit and funds; then generates, bills and answers.
pub(crate) async fn run(
    state: &State,
    path: &str,
    fault: Option<Fault>,
    work: Work,
    hangup: &Hangup,
) -> Response {
    let _busy = state.busy();
    if work.prompt.contains(UNSAFE_TRIGGER) {
        return error(
            422,
            "Prompt provided failed safety check due to the inclusion of prohibited content.",
        );
    }
    let config = state.config();
    let _slot = {
        let mut inflight = state.inflight.lock().expect("inflight");
        if *inflight + work.count > config.inflight_limit {
            state
                .rejected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return json(
                429,
                json!({
                    "error": "Too many requests in flight",
                    "reject_reason": "inflight_limit",
                    "max_inflight_requests": config.inflight_limit,
                }),
            );
        }
        let cost = config.cost * f64::from(work.count);
        if !state.can_pay(cost) {
            return json(
                402,
                json!({"error": "Insufficient funds", "reject_reason": "insufficient_funds"}),
            );
        }
        *inflight += work.count;
        InFlight {
            state,
            count: work.count,
        }
    };
    crate::state::pause(config.latency).await;

    let id = state.next_id("ido");
    let mut data = Vec::new();
    let mut outputs = Vec::new();
    for i in 0..work.count {
        let spec = ImageSpec {
            seed: work.spec.seed + u64::from(i),
            width: work.spec.width * work.upscale,
            height: work.spec.height * work.upscale,
            ..work.spec.clone()
        };
        let url = state.publish(&format!("{id}-{i}"), spec.clone(), "png");
        let withheld = i == 0 && work.prompt.contains(WITHHELD_TRIGGER);
        let mut image = json!({
            "url": if withheld { Value::Null } else { json!(url) },
            "prompt": work.prompt,
            "resolution": format!("{}x{}", work.spec.width, work.spec.height),
            "is_image_safe": !withheld,
            "seed": spec.seed,
            "style_type": work.style.clone().unwrap_or_else(|| "GENERAL".into()),
        });
        if work.upscale > 1 {
            image["upscaled_resolution"] = json!(format!("{}x{}", spec.width, spec.height));
        }
        data.push(image);
        outputs.push(url);
    }
    let cost = config.cost * f64::from(work.count);
    state.bill(Billed {
        outputs,
        cost,
        ..billed(&id, Service::Ideogram, path, &work.prompt, &work.spec)
    });
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let answer = json_bytes(200, &json!({ "created": created, "data": data }));
    state.deliver(fault, &id, answer, hangup).await
}

/// Releases in-flight slots however the handler ends (answered or dropped).
struct InFlight<'a> {
    state: &'a State,
    count: u32,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *self.state.inflight.lock().expect("inflight") -= self.count;
    }
}

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| error(400, format!("Invalid JSON body: {e}")))
}

/// Checks a body as Ideogram would: its schema from the spec (ranges,
/// counts, nulls, enums, patterns, unknown fields), then a decode into the
/// generated type; 400 naming the field (under `at`, a multipart part).
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    schema: &str,
    value: &Value,
    at: &str,
) -> Result<(), Response> {
    let prefixed = |path: String| match (at.is_empty(), path.is_empty()) {
        (true, _) => path,
        (false, true) => at.to_owned(),
        (false, false) => format!("{at}.{path}"),
    };
    ideogram_raw::schema::ideogram()
        .check(schema, value)
        .map_err(|v| error(400, field_message(prefixed(v.path), &v.message)))?;
    serde_path_to_error::deserialize::<_, T>(value.clone())
        .map(drop)
        .map_err(|e| {
            error(
                400,
                field_message(prefixed(e.path().to_string()), e.inner()),
            )
        })
}

/// `field: message`, or the message alone for the body itself.
fn field_message(field: String, message: &dyn std::fmt::Display) -> String {
    if field.is_empty() || field == "." {
        message.to_string()
    } else {
        format!("{field}: {message}")
    }
}

/// A spec's seed range as the mock draws from it.
pub(crate) fn seeds(range: &std::ops::RangeInclusive<i64>) -> std::ops::RangeInclusive<u64> {
    let fit = |n: i64| u64::try_from(n).unwrap_or(0);
    fit(*range.start())..=fit(*range.end())
}

/// The legal sizes, read from the spec's enums through the generated types.
static LEGACY_SIZES: LazyLock<Vec<(u32, u32)>> = LazyLock::new(sizes_of::<wire::Resolution>);
pub(crate) static V3_SIZES: LazyLock<Vec<(u32, u32)>> =
    LazyLock::new(sizes_of::<wire::ResolutionV3>);

fn sizes_of<T: schemars::JsonSchema>() -> Vec<(u32, u32)> {
    ideogram_raw::enums::values::<T>()
        .iter()
        .filter_map(|v| pair(v))
        .collect()
}

/// The legal size closest in shape to `ratio` (`ASPECT_16_9` or `16x9`),
/// about a megapixel.
fn size_for_ratio(ratio: &str, sizes: &[(u32, u32)]) -> (u32, u32) {
    let (w, h) = pair(ratio).unwrap_or((1, 1));
    let want = (f64::from(w) / f64::from(h)).ln();
    *sizes
        .iter()
        .min_by(|a, b| {
            let score = |&&(sw, sh): &&(u32, u32)| {
                ((f64::from(sw) / f64::from(sh)).ln() - want).abs() * 100.0
                    + ((f64::from(sw) * f64::from(sh)).ln() - (1024.0f64 * 1024.0).ln()).abs()
            };
            score(a).total_cmp(&score(b))
        })
        .expect("sizes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_from_the_spec() {
        assert_eq!(LEGACY_SIZES.len(), 78);
        assert_eq!(V3_SIZES.len(), 69);
        assert_eq!(size_for_ratio("ASPECT_16_9", &LEGACY_SIZES), (1280, 720));
        assert_eq!(size_for_ratio("1x1", &V3_SIZES), (1024, 1024));
    }
}
