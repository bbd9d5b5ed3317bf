//! Segmind's Ideogram endpoints: v1 answers with a JPEG, v2 queues and is
//! polled; FAILED is served as 422 and unknown or expired ids as 404.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use ideogram_raw::operation::Operation;
use ideogram_raw::segmind;
use serde_json::{Value, json};

use crate::faults::Fault;
use crate::funds::NO_CREDITS;
use crate::image::{ImageSpec, palette_colors};
use crate::job_folder::{JobFolder, Kept, KeptEnd};
use crate::ledger::{Billed, Delivery, Service};
use crate::serve::{Hangup, error, json_bytes};
use crate::state::{Busy, Format, Job, JobEnd, State, billed, pause};

/// A prompt containing this makes a queued request end FAILED, as content
/// and safety blocks do.
pub const FAIL_TRIGGER: &str = "mock:fail";

/// The largest body the mock reads: an image and references of the same
/// size in all, as base64 (a third larger than their bytes), at the
/// spec's `x-max-bytes`, with room for the rest (axum's default of 2 MB
/// would refuse an image Segmind takes).
const BODY_LIMIT: usize = 3 * ideogram_raw::segmind::limits::MAX_FILE_BYTES as usize * 4 / 3;

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/v1/{slug}", post(sync))
        .route("/v2/{slug}", post(submit))
        .route("/v2/requests/{id}/status", get(status))
        .route("/v2/requests/{id}", get(result))
        // The `poll_url` a submit answers with: the older form of the result.
        .route("/v1/requests/{id}", get(result))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

/// A prompt containing `mock:ms=<n>` makes its queued request process for
/// `n` milliseconds instead of the configured time.
pub const DURATION_TRIGGER: &str = "mock:ms=";

/// A checked body: what the image depends on.
struct Checked {
    prompt: String,
    spec: ImageSpec,
    /// `ideogram-describe`: answers words about the input, not an image.
    describe: bool,
    /// The body as the ledger records it.
    fields: serde_json::Map<String, Value>,
    /// Its spec price (the low end of a range), where the spec gives one.
    usd_micros: Option<u64>,
}

impl Checked {
    /// The processing time the prompt asks for, if it does.
    fn processing_for(&self) -> Option<Duration> {
        let rest = &self.prompt[self.prompt.find(DURATION_TRIGGER)? + DURATION_TRIGGER.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok().map(Duration::from_millis)
    }
}

async fn sync(
    Shared(state): Shared<Arc<State>>,
    Path(slug): Path<String>,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _busy = state.busy();
    let path = format!("/v1/{slug}");
    let checked = match admit(&state, &path, &slug, &headers, &body, &hangup).await {
        Ok(ok) => ok,
        Err(answer) => return answer,
    };
    let (fault, checked) = checked;
    let config = state.config();
    pause(config.latency).await;
    let id = state.next_id("seg");
    let cost = config.cost;
    let mut answer = if checked.describe {
        state.bill(Billed {
            cost,
            usd_micros: checked.usd_micros,
            ..billed(
                &id,
                Service::Segmind,
                &slug,
                "",
                &checked.spec,
                checked.fields,
            )
        });
        json_bytes(
            200,
            &json!({"descriptions": [{"text": description(&checked.spec)}]}),
        )
    } else {
        let url = state.publish(&id, checked.spec.clone(), "jpg");
        state.bill(Billed {
            outputs: vec![url],
            cost,
            usd_micros: checked.usd_micros,
            ..billed(
                &id,
                Service::Segmind,
                &slug,
                &checked.prompt,
                &checked.spec,
                checked.fields,
            )
        });
        let mut answer = axum::http::Response::new(state.encoded(&checked.spec, Format::Jpeg));
        answer
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
        answer
    };
    let h = answer.headers_mut();
    h.insert(
        ideogram_raw::segmind::headers::X_REMAINING_CREDITS,
        HeaderValue::from_str(&format!("{:.3}", state.credits())).expect("credits"),
    );
    h.insert(
        ideogram_raw::segmind::headers::X_COST,
        HeaderValue::from_str(&format!("{cost}")).expect("cost"),
    );
    h.insert(
        ideogram_raw::segmind::headers::X_GENERATION_TIME,
        HeaderValue::from_str(&format!("{:.3}", config.latency.as_secs_f64())).expect("time"),
    );
    h.insert(
        ideogram_raw::segmind::headers::X_SEED_VALUE,
        HeaderValue::from(checked.spec.seed),
    );
    h.insert(
        ideogram_raw::segmind::headers::X_REQUEST_ID,
        HeaderValue::from_str(&id).expect("id"),
    );
    state.deliver(fault, &id, answer, &hangup).await
}

async fn submit(
    Shared(state): Shared<Arc<State>>,
    Path(slug): Path<String>,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v2/{slug}");
    let (fault, checked) = match admit(&state, &path, &slug, &headers, &body, &hangup).await {
        Ok(ok) => ok,
        Err(answer) => return answer,
    };
    let config = state.config();
    if let Some(folder) = &config.job_folder {
        return submit_kept(&state, folder, slug, fault, checked, &hangup).await;
    }
    let immediate =
        (config.queued_for + checked.processing_for().unwrap_or(config.processing_for)).is_zero();
    let id = state.next_id("seg");
    state.jobs.lock().expect("jobs").insert(
        id.clone(),
        Job {
            created: Instant::now(),
            queued_for: config.queued_for,
            answer_lost: fault.as_ref().is_some_and(Fault::breaks_answer),
            done: None,
            completed_at: None,
            status_polls: 0,
        },
    );
    let fails = crate::faults::queued_fails(&checked.prompt, fault.as_ref());
    let finishing = finish(
        state.clone(),
        id.clone(),
        slug,
        checked,
        fails,
        state.busy(),
    );
    if immediate {
        // Nothing to wait for: the job ends before its submit is answered,
        // so the first status poll finds it done (no race with a task).
        finishing.await;
    } else {
        tokio::spawn(finishing);
    }
    queued(&state, &id, fault, &hangup).await
}

/// The answer to a submit that queued `id`.
async fn queued(state: &State, id: &str, fault: Option<Fault>, hangup: &Hangup) -> Response {
    let base = &state.api_url;
    let answer = json!({
        "request_id": id,
        "status": "QUEUED",
        "poll_url": format!("{base}/v1/requests/{id}"),
        "status_url": format!("{base}/v2/requests/{id}/status"),
        "response_url": format!("{base}/v2/requests/{id}"),
    });
    state
        .deliver(fault, "", json_bytes(200, &answer), hangup)
        .await
}

/// A submit whose job is kept in `folder` for other processes: its end is
/// decided and billed now (the submit is the billed call), written with
/// the submit's time, and told from the clock by whoever asks.
async fn submit_kept(
    state: &State,
    folder: &std::path::Path,
    slug: String,
    fault: Option<Fault>,
    checked: Checked,
    hangup: &Hangup,
) -> Response {
    // Billed while being handled: not settled until answered.
    let _busy = state.busy();
    let config = state.config();
    let folder = JobFolder::new(folder);
    folder.prune(config.retention);
    let id = match folder.reserve() {
        Ok(id) => id,
        Err(e) => return error(500, format!("the mock cannot keep the job: {e}")),
    };
    let processing_for = checked.processing_for().unwrap_or(config.processing_for);
    let spec = checked.spec.clone();
    let describe = checked.describe;
    // Decided before it is written, billed only once it is kept.
    let end = if crate::faults::queued_fails(&checked.prompt, fault.as_ref()) {
        KeptEnd::Failed {
            reason: SAFETY_BLOCK.into(),
        }
    } else if state.short_of(config.cost, checked.usd_micros).is_some() {
        KeptEnd::Failed {
            reason: NO_CREDITS.into(),
        }
    } else if describe {
        KeptEnd::Text {
            text: description(&spec),
            inference_time: config.processing_for.as_secs_f64(),
        }
    } else {
        KeptEnd::Image {
            spec,
            inference_time: config.processing_for.as_secs_f64(),
        }
    };
    let billed_end = !matches!(end, KeptEnd::Failed { .. });
    if let Err(e) = folder.write(&id, &Kept::new(config.queued_for, processing_for, end)) {
        folder.remove(&id);
        return error(500, format!("the mock cannot keep the job: {e}"));
    }
    if billed_end {
        let lost = fault.as_ref().is_some_and(Fault::breaks_answer);
        bill_queued(state, &id, &slug, checked, lost);
    }
    queued(state, &id, fault, hangup).await
}

/// Why a queued request with [`FAIL_TRIGGER`] fails.
const SAFETY_BLOCK: &str = "Content blocked by the safety filter";

/// Bills queued request `id` (answered through the queue, or `lost` when
/// its submit's answer was broken) and returns its end.
fn bill_queued(state: &State, id: &str, slug: &str, checked: Checked, lost: bool) -> JobEnd {
    let config = state.config();
    let inference_time = config.processing_for.as_secs_f64();
    let delivery = if lost {
        Delivery::Broken
    } else {
        Delivery::Queued
    };
    // A describe answers words; an image, its URL on the image origin.
    let (output, outputs, prompt) = if checked.describe {
        (description(&checked.spec), Vec::new(), "")
    } else {
        let url = state.publish(id, checked.spec.clone(), "jpg");
        (url.clone(), vec![url], checked.prompt.as_str())
    };
    state.bill(Billed {
        outputs,
        cost: config.cost,
        usd_micros: checked.usd_micros,
        delivery,
        ..billed(
            id,
            Service::Segmind,
            slug,
            prompt,
            &checked.spec,
            checked.fields,
        )
    });
    JobEnd::Completed {
        output,
        inference_time,
    }
}

/// Runs a queued request to its end: billed and COMPLETED, or FAILED
/// (when it `fails`: see [`crate::faults::queued_fails`]).
async fn finish(
    state: Arc<State>,
    id: String,
    slug: String,
    checked: Checked,
    fails: bool,
    _busy: Busy,
) {
    let config = state.config();
    let processing_for = checked.processing_for().unwrap_or(config.processing_for);
    pause(config.queued_for + processing_for).await;
    let end = if fails {
        JobEnd::Failed(SAFETY_BLOCK.into())
    } else if state.short_of(config.cost, checked.usd_micros).is_some() {
        JobEnd::Failed(NO_CREDITS.into())
    } else {
        let lost = state
            .jobs
            .lock()
            .expect("jobs")
            .get(&id)
            .is_some_and(|job| job.answer_lost);
        bill_queued(&state, &id, &slug, checked, lost)
    };
    if let Some(job) = state.jobs.lock().expect("jobs").get_mut(&id) {
        job.done = Some(end);
        job.completed_at = Some(Instant::now());
    }
}

async fn status(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
) -> Response {
    poll(&state, &id, &headers, &hangup, false).await
}

async fn result(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
) -> Response {
    poll(&state, &id, &headers, &hangup, true).await
}

async fn poll(
    state: &State,
    id: &str,
    headers: &HeaderMap,
    hangup: &Hangup,
    with_output: bool,
) -> Response {
    if let Err(answer) = authorize(state, headers) {
        return answer;
    }
    let path = if with_output {
        format!("/v2/requests/{id}")
    } else {
        format!("/v2/requests/{id}/status")
    };
    let fault = state.fault("GET", &path, b"");
    if let Some(answer) = state.before(&fault, hangup, &path).await {
        return answer;
    }
    let retention = state.config().retention;
    let job = {
        let mut jobs = state.jobs.lock().expect("jobs");
        let job = jobs.get_mut(id);
        if let Some(job) = job.filter(|_| !with_output) {
            job.status_polls += 1;
        }
        jobs.get(id).cloned()
    };
    // Kept for `retention`, and gone from then on.
    let seen = match job {
        Some(job) => Some(job)
            .filter(|job| job.created.elapsed() < retention)
            .map(|job| (job.created.elapsed(), job.queued_for, job.done)),
        None => kept(state, id),
    };
    let Some((elapsed, queued_for, done)) = seen else {
        return error(404, format!("Request {id} not found"));
    };
    let (code, body) = match done {
        Some(JobEnd::Failed(reason)) => (
            422,
            json!({"request_id": id, "status": "FAILED", "error": reason, "metrics": {"inference_time": 0.0}}),
        ),
        Some(JobEnd::Completed {
            output,
            inference_time,
        }) => {
            let mut body = json!({"request_id": id, "status": "COMPLETED", "metrics": {"inference_time": inference_time}});
            if with_output {
                body["output"] = json!(output);
            }
            (200, body)
        }
        None => {
            let state = if elapsed < queued_for {
                "QUEUED"
            } else {
                "PROCESSING"
            };
            (
                200,
                json!({"request_id": id, "status": state, "metrics": {}}),
            )
        }
    };
    state
        .deliver(fault, "", json_bytes(code, &body), hangup)
        .await
}

/// The job `id` as the job folder keeps it, if one is set: the time since
/// its submit, how long it queues, and its end once reached (its image
/// then served by this process's image origin). An expired one is removed.
fn kept(state: &State, id: &str) -> Option<(Duration, Duration, Option<JobEnd>)> {
    let config = state.config();
    let folder = JobFolder::new(config.job_folder.as_deref()?);
    let job = folder.read(id)?;
    // An Ideogram generation kept beside them is not Segmind's.
    if matches!(job.end, KeptEnd::Generation { .. }) {
        return None;
    }
    let elapsed = job.elapsed();
    if elapsed >= config.retention {
        folder.remove(id);
        return None;
    }
    let queued_for = job.queued_for();
    let done = job.ended().then(|| match job.end {
        KeptEnd::Image {
            spec,
            inference_time,
        } => JobEnd::Completed {
            output: state.publish(id, spec, "jpg"),
            inference_time,
        },
        KeptEnd::Text {
            text,
            inference_time,
        } => JobEnd::Completed {
            output: text,
            inference_time,
        },
        KeptEnd::Failed { reason } => JobEnd::Failed(reason),
        KeptEnd::Generation { .. } => unreachable!("left out above"),
    });
    Some((elapsed, queued_for, done))
}

/// The checks every POST goes through, in the service's order: auth, faults,
/// content type, body, rate limit, credits.
async fn admit(
    state: &State,
    path: &str,
    slug: &str,
    headers: &HeaderMap,
    body: &Bytes,
    hangup: &Hangup,
) -> Result<(Option<crate::faults::Fault>, Checked), Response> {
    authorize(state, headers)?;
    let fault = state.fault("POST", path, body);
    if let Some(answer) = state.before(&fault, hangup, path).await {
        return Err(answer);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(error(406, "Invalid content type: send application/json"));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| error(400, format!("Invalid JSON body: {e}")))?;
    check_body(path, slug, &value)?;
    if let Some(limited) = state.rate_limited() {
        return Err(limited);
    }
    let usd_micros = priced(slug, &value);
    if let Some(short) = state.short_of(state.config().cost, usd_micros) {
        return Err(short.segmind());
    }
    let (width, height) = size(&value);
    let seed = value["seed"]
        .as_u64()
        .unwrap_or_else(|| state.default_seed(&ideogram_raw::segmind::limits::SEED));
    let spec = ImageSpec {
        width,
        height,
        seed,
        palette: palette_colors(&value["color_palette"]),
        transparent: false,
    };
    Ok((
        fault,
        Checked {
            prompt: value["prompt"].as_str().unwrap_or_default().to_owned(),
            spec,
            describe: slug == "ideogram-describe",
            fields: crate::form::json_fields(&value),
            usd_micros,
        },
    ))
}

/// What the spec says a call of `slug` with `body` costs (the low end of a
/// range), by its v1 operation, which carries the price for the queued
/// twin too.
fn priced(slug: &str, body: &Value) -> Option<u64> {
    let path = format!("/v1/{slug}");
    let op = Operation::find(ideogram_raw::segmind::operations::ALL, "POST", &path)?;
    Some(op.priced(body.as_object()?)?.usd_micros)
}

/// The size an answer has: the resolution asked (`RESOLUTION_1024_768` or
/// `1024x768`), else Ideogram 4.0's `image_size`, else the aspect ratio's
/// (`16x9`, `16:9`) at about a megapixel, else the input image's when it
/// came as base64, else 1024x1024.
fn size(body: &Value) -> (u32, u32) {
    let text = |field: &str| body[field].as_str();
    if let Some(pair) = text("resolution").and_then(ideogram_raw::enums::pair) {
        return pair;
    }
    let named = match text("image_size") {
        Some("square") => Some((512, 512)),
        Some("portrait_4_3") => Some((768, 1024)),
        Some("portrait_16_9") => Some((576, 1024)),
        Some("landscape_4_3") => Some((1024, 768)),
        Some("landscape_16_9") => Some((1024, 576)),
        Some(_) => Some((1024, 1024)),
        None => None,
    };
    let ratio = text("aspect_ratio")
        .map(|r| r.replace(':', "x"))
        .and_then(|r| ideogram_raw::enums::pair(&r))
        .map(|(w, h)| {
            let scale = (1024.0 * 1024.0 / f64::from(w * h)).sqrt();
            let side = |n: u32| ((f64::from(n) * scale / 64.0).round() as u32).max(1) * 64;
            (side(w), side(h))
        });
    let input = || {
        use base64::Engine as _;
        let encoded = text("image").or(text("image_file"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        ideogram_raw::multipart::image_size(&bytes)
    };
    named.or(ratio).or_else(input).unwrap_or((1024, 1024))
}

/// What the describe operations (both services') say of an image.
pub(crate) fn description(spec: &ImageSpec) -> String {
    format!(
        "A {}x{} image of bands of colour, shaded from top to bottom.",
        spec.width, spec.height
    )
}

fn authorize(state: &State, headers: &HeaderMap) -> Result<(), Response> {
    let key = state.config().api_key;
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(given) if given == key => Ok(()),
        Some(_) => Err(error(401, "Invalid API key")),
        None if headers.contains_key(header::AUTHORIZATION) => Err(error(
            401,
            "Bearer tokens are not accepted: send the key in x-api-key",
        )),
        None => Err(error(401, "Missing API key: send it in x-api-key")),
    }
}

/// Checks a body as Segmind would: the operation at `path` found in the
/// spec's operations, its body schema's checks (ranges, counts, nulls,
/// enums, patterns, unknown fields), then a decode into its generated type.
/// An unknown slug is 404; a bad body 400 naming the field, as the model
/// pages document.
fn check_body(path: &str, slug: &str, body: &Value) -> Result<(), Response> {
    let schema = Operation::find(segmind::operations::ALL, "POST", path)
        .and_then(|op| op.body)
        .ok_or_else(|| error(404, format!("Model {slug} not found")))?;
    crate::check::body(
        ideogram_raw::schema::segmind(),
        segmind::operations::with_body_type::<crate::check::Decode>,
        schema,
        body,
    )?;
    image_sizes(schema, body)
}

/// Each image a body carries as base64 holds at most its field's
/// `x-max-bytes` (a URL is fetched, and held to it, later).
fn image_sizes(schema: &str, body: &Value) -> Result<(), Response> {
    let schemas = ideogram_raw::schema::segmind();
    for (name, value) in body.as_object().into_iter().flatten() {
        let facts = schemas.field_facts(schema, name).filter(|f| f.image);
        let Some(max) = facts.and_then(|f| f.max_bytes) else {
            continue;
        };
        let items = match value {
            Value::Array(items) => items.as_slice(),
            one => std::slice::from_ref(one),
        };
        for text in items.iter().filter_map(Value::as_str) {
            let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                continue;
            }
            let data = text.split_once(";base64,").map_or(text, |(_, data)| data);
            let bytes = data.trim_end_matches('=').len() as u64 * 3 / 4;
            if bytes > max {
                let message = format!("{name}: larger than {} MB", max / 1_048_576);
                return Err(error(400, message));
            }
        }
    }
    Ok(())
}
