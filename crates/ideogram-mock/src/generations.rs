//! Ideogram's v2 generations: a call made with `async` or a `webhook_url`
//! (or one whose operation always runs so) is answered its
//! `generation_id` at once, and its results are polled at the operation
//! its route names (`GET /v2/generations/{id}`): `pending` while it runs
//! (the mock's `queued_for` plus `processing_for`), then `completed` with
//! its images, or `failed` (a prompt with [`FAIL_TRIGGER`], not billed). Polls are
//! limited as the spec's `x-rate-limit` says (or the mock's config), and
//! one too many is answered 429 with `Retry-After`.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::Router;
use axum::extract::{OriginalUri, State as Shared};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use ideogram_raw::ideogram::types::{
    GenerationState, GenerationStatusV2, ImageObjectV2, WebhookDelivery,
};
use ideogram_raw::operation::Operation;

use crate::job_folder::{JobFolder, Kept, KeptEnd};
use crate::serve::{Hangup, error, json};
use crate::state::{Generation, State};

#[cfg(doc)]
use crate::FAIL_TRIGGER;

impl State {
    /// Keeps a generation that completes with `data` (or fails with the
    /// reason) once the config's queue times have passed.
    pub(crate) fn accept_generation(&self, id: &str, end: Result<Vec<ImageObjectV2>, String>) {
        let config = self.config();
        let generation = Generation {
            created: chrono::Utc::now(),
            accepted: Instant::now(),
            runs_for: config.queued_for + config.processing_for,
            end,
            usage_cost: None,
        };
        let mut all = self.generations.lock().expect("generations");
        all.insert(id.to_owned(), generation);
    }

    /// Has the generation `id` report `usd_micros` as its usage cost once
    /// completed.
    pub(crate) fn report_usage_cost(&self, id: &str, usd_micros: Option<u64>) {
        let mut all = self.generations.lock().expect("generations");
        if let Some(generation) = all.get_mut(id) {
            generation.usage_cost = usd_micros;
        }
    }

    /// Keeps the generation `id` in the job folder, where one is set, as
    /// Segmind's queued jobs are kept: mocks of other processes (the CLI's
    /// `--offline`, a command each) answer its polls and serve its images.
    /// One that cannot be written there (billed with its call all the
    /// same) stays this process's alone to answer, as without a folder.
    pub(crate) fn keep_generation(&self, id: &str) {
        let config = self.config();
        let Some(dir) = config.job_folder.as_deref() else {
            return;
        };
        let Some(generation) = self
            .generations
            .lock()
            .expect("generations")
            .get(id)
            .cloned()
        else {
            return;
        };
        let (data, failure) = match &generation.end {
            Ok(data) => (serde_json::to_value(data).unwrap_or_default(), None),
            Err(reason) => (serde_json::Value::Array(Vec::new()), Some(reason.clone())),
        };
        // Each image its results name on this process's image origin.
        let prefix = format!("{}/images/", self.cdn_url);
        let mut images = Vec::new();
        let mut urls = Vec::new();
        collect_strings(&data, &mut urls);
        for url in urls {
            if let Some(name) = url.strip_prefix(&prefix)
                && let Some(spec) = self.image(name)
            {
                images.push((name.to_owned(), spec));
            }
        }
        let end = KeptEnd::Generation {
            data,
            images,
            cdn: self.cdn_url.clone(),
            usage_cost: generation.usage_cost,
            failure,
        };
        let folder = JobFolder::new(dir);
        folder.prune(config.retention);
        let kept = Kept::new(config.queued_for, config.processing_for, end);
        // An id another process holds (48 random bits: never, in practice)
        // is left alone; a reservation not written is removed.
        if folder.reserve_id(id).is_ok() && folder.write(id, &kept).is_err() {
            folder.remove(id);
        }
    }

    /// The generation `id` as the job folder keeps it, if it does (another
    /// process took the call): its images published on this process's
    /// image origin, its results naming them there. One past the
    /// retention is gone, its file removed.
    fn kept_generation(&self, id: &str) -> Option<Generation> {
        let config = self.config();
        let folder = JobFolder::new(config.job_folder.as_deref()?);
        let job = folder.read(id)?;
        if job.elapsed() >= config.retention {
            folder.remove(id);
            return None;
        }
        let KeptEnd::Generation {
            data,
            images,
            cdn,
            usage_cost,
            failure,
        } = &job.end
        else {
            return None;
        };
        for (name, spec) in images {
            self.publish_named(name.clone(), spec.clone());
        }
        let end = match failure {
            Some(reason) => Err(reason.clone()),
            None => {
                let text = serde_json::to_string(data).ok()?;
                let here = text.replace(
                    &format!("{cdn}/images/"),
                    &format!("{}/images/", self.cdn_url),
                );
                Ok(serde_json::from_str::<Vec<ImageObjectV2>>(&here).ok()?)
            }
        };
        Some(Generation {
            created: chrono::DateTime::<chrono::Utc>::from(job.submitted()),
            accepted: Instant::now()
                .checked_sub(job.elapsed())
                .unwrap_or_else(Instant::now),
            runs_for: job.runs_for(),
            end,
            usage_cost: *usage_cost,
        })
    }
}

/// Every string in `value`, at every level.
fn collect_strings(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => into.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, into)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, into)),
        _ => {}
    }
}

/// Once the generation `id` is done (the config's queue times), POSTs its
/// `data` to `url` (the config's `webhook_receiver`) as a signed delivery;
/// the call that asked for it does not wait for the receiver.
pub(crate) fn deliver_when_done(state: &Arc<State>, id: &str, url: &str, data: &[ImageObjectV2]) {
    let config = state.config();
    let runs_for = config.queued_for + config.processing_for;
    let as_delivered = |image| serde_json::from_value(serde_json::to_value(image).ok()?).ok();
    let images = data.iter().filter_map(as_delivered);
    let delivery = WebhookDelivery {
        generation_id: id.to_owned(),
        created: Some(chrono::Utc::now()),
        data: images.collect(),
    };
    let (state, url) = (state.clone(), url.to_owned());
    tokio::spawn(async move {
        tokio::time::sleep(runs_for).await;
        // A receiver that is gone misses it, as with Ideogram (no retries here).
        let _ = state.webhooks.deliver(&url, &delivery, None).await;
    });
}

/// A GET route for each operation of `table` that some route polls.
pub(crate) fn routes(table: &'static [Operation]) -> Router<Arc<State>> {
    let polled = |op: &&Operation| {
        let routes = table.iter().filter_map(|other| other.route);
        op.method == "GET" && routes.into_iter().any(|r| r.poll == Some(op.id))
    };
    let mut api = Router::new();
    for op in table.iter().filter(polled) {
        api = api.route(
            op.path,
            get(
                move |Shared(state): Shared<Arc<State>>,
                      OriginalUri(uri): OriginalUri,
                      Extension(hangup): Extension<Hangup>,
                      headers: HeaderMap| async move {
                    status(op, &state, uri.path(), &headers, &hangup).await
                },
            ),
        );
    }
    api.clone().nest("/ideogram", api)
}

/// One poll: auth, an injected fault (as Segmind's status poll takes
/// them), the rate limit, then the generation's state.
async fn status(
    op: &Operation,
    state: &State,
    path: &str,
    headers: &HeaderMap,
    hangup: &Hangup,
) -> Response {
    if !state.authorized(headers) {
        return error(401, "Unauthorized");
    }
    let fault = state.fault("GET", path, b"");
    if let Some(answer) = state.before(&fault, hangup, path).await {
        return answer;
    }
    if let Some(answer) = over_limit(op, state) {
        return answer;
    }
    let Some(id) = path.rsplit('/').next().filter(|id| !id.is_empty()) else {
        return error(400, "a generation id");
    };
    let here = state
        .generations
        .lock()
        .expect("generations")
        .get(id)
        .cloned();
    let Some(generation) = here.or_else(|| state.kept_generation(id)) else {
        return error(404, format!("no generation {id}"));
    };
    let mut answer = GenerationStatusV2 {
        generation_id: id.to_owned(),
        status: GenerationState::Pending.to_string(),
        created: Some(generation.created),
        failure_reason: None,
        response_type: None,
        data: Vec::new(),
        usage_cost_usd_micros: None,
    };
    if generation.accepted.elapsed() >= generation.runs_for {
        match generation.end {
            Ok(data) => {
                answer.status = GenerationState::Completed.to_string();
                answer.response_type = Some("url".into());
                answer.data = data;
                answer.usage_cost_usd_micros =
                    generation.usage_cost.and_then(|c| i64::try_from(c).ok());
            }
            Err(reason) => {
                answer.status = GenerationState::Failed.to_string();
                answer.failure_reason = Some(reason);
            }
        }
    }
    let answer = serde_json::to_value(answer).expect("a generated answer is JSON");
    json(200, answer)
}

/// 429 with `Retry-After` when this poll is one too many for the window.
fn over_limit(op: &Operation, state: &State) -> Option<Response> {
    let (calls, window) = state.config().generation_polls.or(op.rate_limit)?;
    let now = Instant::now();
    let mut polls = state.polls.lock().expect("polls");
    while polls
        .front()
        .is_some_and(|at| now.duration_since(*at) >= window)
    {
        polls.pop_front();
    }
    if polls.len() < calls as usize {
        polls.push_back(now);
        return None;
    }
    state
        .rejected
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let oldest = *polls.front().expect("a full window");
    let wait = (oldest + window).saturating_duration_since(now);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut answer = error(
        429,
        format!("more than {calls} polls in {} s", window.as_secs()),
    );
    answer
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    Some(answer)
}
