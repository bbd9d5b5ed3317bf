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

use axum::Router;
use axum::extract::{OriginalUri, State as Shared};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use ideogram_raw::ideogram::types::{
    GenerationState, GenerationStatusV2, ImageObjectV2, WebhookDelivery,
};
use ideogram_raw::operation::Operation;

use crate::serve::{error, json};
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
                      headers: HeaderMap| async move {
                    status(op, &state, uri.path(), &headers)
                },
            ),
        );
    }
    api.clone().nest("/ideogram", api)
}

/// One poll: auth, the rate limit, then the generation's state.
fn status(op: &Operation, state: &State, path: &str, headers: &HeaderMap) -> Response {
    if !state.authorized(headers) {
        return error(401, "Unauthorized");
    }
    if let Some(answer) = over_limit(op, state) {
        return answer;
    }
    let Some(id) = path.rsplit('/').next().filter(|id| !id.is_empty()) else {
        return error(400, "a generation id");
    };
    let Some(generation) = state
        .generations
        .lock()
        .expect("generations")
        .get(id)
        .cloned()
    else {
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
