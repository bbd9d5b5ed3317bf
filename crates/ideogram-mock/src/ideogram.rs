//! What Ideogram's generating operations share once their body is read
//! (`ideogram_route`) and their task's rules applied (`ideogram_task`):
//! auth and faults, the safety check, the in-flight limit, funds, then
//! images generated, billed and answered. Either key header works, at the
//! root and under `/ideogram`.

use axum::http::HeaderMap;
use axum::response::Response;
use ideogram_raw::enums::pair;
use ideogram_raw::ideogram::types::{ErrorBody, GenerationV2, ImageObjectV2, RejectReason};
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::image::{ImageSpec, palette_colors};
use crate::ledger::{Billed, Service};
use crate::serve::{Hangup, error, json, json_bytes};
use crate::state::{State, billed};

/// A prompt containing this fails the safety check (422, not billed).
pub const UNSAFE_TRIGGER: &str = "mock:unsafe";
/// A prompt containing this gets its first image withheld
/// (`is_image_safe: false`, no URL).
pub const WITHHELD_TRIGGER: &str = "mock:withheld";

/// What every generation needs once its body is checked.
pub(crate) struct Work {
    pub(crate) prompt: String,
    pub(crate) count: u32,
    /// The image as generated; served `upscale` times larger.
    pub(crate) spec: ImageSpec,
    pub(crate) style: Option<String>,
    pub(crate) upscale: u32,
    /// The request's fields, as the ledger records them.
    pub(crate) fields: Map<String, Value>,
    /// How a v2 operation answers; `None` for v1's `{created, data}`.
    pub(crate) v2: Option<V2>,
    /// Its price, where the spec gives one (millionths of a dollar).
    pub(crate) usd_micros: Option<u64>,
}

/// How a v2 call answers: its images at once, or its id to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum V2 {
    Sync,
    /// Asked with `async` or a `webhook_url` (then `webhook`), or an
    /// operation that always runs so.
    Queued {
        webhook: bool,
    },
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
        .unwrap_or_else(|| state.default_seed(&ideogram_raw::ideogram::limits::SEED));
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
        fields: Map::new(),
        v2: None,
        usd_micros: None,
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
    if !state.authorized(headers) {
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
    state: &std::sync::Arc<State>,
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
                serde_json::to_value(ErrorBody {
                    error: Some("Too many requests in flight".to_owned()),
                    reject_reason: Some(RejectReason::InflightLimit.to_string()),
                    max_inflight_requests: Some(i64::from(config.inflight_limit)),
                    // The queue the request resolved to; the mock has one.
                    task_completion_speed: Some("fast".to_owned()),
                })
                .expect("a generated body is JSON"),
            );
        }
        let cost = config.cost * f64::from(work.count);
        if let Some(short) = state.short_of(cost, work.usd_micros) {
            return short.ideogram();
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
    // A queued generation that fails is not billed.
    let queued = matches!(work.v2, Some(V2::Queued { .. }));
    let fails = queued && crate::faults::queued_fails(&work.prompt, fault.as_ref());
    if !fails {
        let cost = config.cost * f64::from(work.count);
        state.bill(Billed {
            outputs,
            cost,
            usd_micros: work.usd_micros,
            ..billed(
                &id,
                Service::Ideogram,
                path,
                &work.prompt,
                &work.spec,
                work.fields,
            )
        });
    }
    let answer = match work.v2 {
        None => {
            let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            json!({ "created": created, "data": data })
        }
        Some(v2) => {
            // v2's image objects, as the generated type has them (no style
            // or upscaled size).
            let images = data
                .into_iter()
                .filter_map(|image| serde_json::from_value(image).ok());
            let end = match fails {
                true => Err("the mock was asked to fail it".to_owned()),
                false => Ok(images.collect()),
            };
            let seed = i64::try_from(work.spec.seed).ok();
            v2_answer(state, &id, v2, seed, end, work.usd_micros)
        }
    };
    state
        .deliver(fault, &id, json_bytes(200, &answer), hangup)
        .await
}

/// A v2 call's answer, as the generated [`GenerationV2`]: its results at
/// once (`Sync`), or its id alone, the results kept as the generation to
/// poll (and POSTed to the webhook receiver once done, if asked).
/// `end` is the results, or why the generation fails (queued only);
/// `usd_micros` what a completed one reports it cost, where the config
/// reports usage costs.
pub(crate) fn v2_answer(
    state: &std::sync::Arc<State>,
    id: &str,
    v2: V2,
    seed: Option<i64>,
    end: Result<Vec<ImageObjectV2>, String>,
    usd_micros: Option<u64>,
) -> Value {
    let mut answer = GenerationV2 {
        generation_id: Some(id.to_owned()),
        seed,
        data: Vec::new(),
        generation_kind: None,
        width: None,
        height: None,
    };
    match v2 {
        V2::Sync => answer.data = end.unwrap_or_default(),
        V2::Queued { webhook } => {
            // The signed result is POSTed once it is done, to the receiver
            // standing in for the body's URL.
            let config = state.config();
            let receiver = config.webhook_receiver.as_ref().filter(|_| webhook);
            if let (Some(url), Ok(images)) = (receiver, &end) {
                crate::generations::deliver_when_done(state, id, url, images);
            }
            state.accept_generation(id, end);
            if config.usage_costs {
                state.report_usage_cost(id, usd_micros);
            }
            state.keep_generation(id);
        }
    }
    serde_json::to_value(answer).expect("a generated answer is JSON")
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

/// The sizes a request of the schema `schema` comes out at: its
/// `resolution` enum's; for a request that names only an aspect ratio, those
/// of the requests that offer the same aspect ratios with a resolution.
pub(crate) fn sizes_for(schema: &str) -> Vec<(u32, u32)> {
    let spec = ideogram_raw::schema::ideogram();
    let resolutions = |name: &str| {
        spec.field_values(name, "resolution")
            .map(|values| values.into_iter().filter_map(pair).collect::<Vec<_>>())
    };
    resolutions(schema)
        .or_else(|| {
            let ratios = spec.field_values(schema, "aspect_ratio")?;
            spec.names()
                .filter(|name| spec.field_values(name, "aspect_ratio").as_ref() == Some(&ratios))
                .find_map(resolutions)
        })
        .unwrap_or_default()
}

/// The legal size closest in shape to `ratio` (`ASPECT_16_9` or `16x9`),
/// about a megapixel.
fn size_for_ratio(ratio: &str, sizes: &[(u32, u32)]) -> (u32, u32) {
    let (w, h) = pair(ratio).unwrap_or((1, 1));
    let want = (f64::from(w) / f64::from(h)).ln();
    sizes
        .iter()
        .min_by(|a, b| {
            let score = |&&(sw, sh): &&(u32, u32)| {
                ((f64::from(sw) / f64::from(sh)).ln() - want).abs() * 100.0
                    + ((f64::from(sw) * f64::from(sh)).ln() - (1024.0f64 * 1024.0).ln()).abs()
            };
            score(a).total_cmp(&score(b))
        })
        .copied()
        .unwrap_or((1024, 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_from_the_spec() {
        let legacy = sizes_for("ImageRequest");
        let v3 = sizes_for("GenerateImageRequestV3");
        assert_eq!(legacy.len(), 78);
        assert_eq!(v3.len(), 69);
        assert_eq!(sizes_for("InitialImageRequest"), legacy);
        // Only aspect ratios: the sizes of the requests with the same ones.
        assert_eq!(sizes_for("GenerateTransparentImageRequestV3"), v3);
        assert_eq!(size_for_ratio("ASPECT_16_9", &legacy), (1280, 720));
        assert_eq!(size_for_ratio("1x1", &v3), (1024, 1024));
        assert_eq!(size_for_ratio("1x1", &[]), (1024, 1024));
    }
}
