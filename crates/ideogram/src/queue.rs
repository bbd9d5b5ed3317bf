//! Queued generations: Segmind's v2 queue and Ideogram's v2 generations
//! (a call made with `async`, or one that always runs so). A job is known
//! by its id alone, so it can be checked on, waited for, or resumed by
//! another process.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ideogram_raw::QueueStatus;
use ideogram_raw::ideogram::types::{GenerationStatusV2, ImageObjectV2};
use ideogram_raw::operation::Operation;
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};

use crate::connection::Connection;
use crate::error::Error;
use crate::generation::Generation;
use crate::model::{DEFAULT_MODEL, Model};
use crate::poll::PollSchedule;
use crate::provider::Provider;
use crate::retry::{self, Billing};

/// What a status poll reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobStatus {
    /// The state.
    pub status: QueueStatus,
    /// Server compute seconds, when reported.
    pub inference_time: Option<f64>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// A queued generation: on Segmind's queue, or one of Ideogram's v2
/// generations (its `generation_id`), as the client's provider says.
#[derive(Debug, Clone)]
pub struct Job {
    conn: Arc<Connection>,
    id: String,
    /// The default model and no prompt for a job resumed by id.
    model: Model,
    prompt: String,
    /// For a job this client submitted: the queue operation and when.
    submitted: Option<(&'static Operation, Instant)>,
}

impl Job {
    pub(crate) fn new(conn: Arc<Connection>, id: String) -> Self {
        Self {
            conn,
            id,
            model: DEFAULT_MODEL,
            prompt: String::new(),
            submitted: None,
        }
    }

    /// A job this client just queued through `operation`.
    pub(crate) fn submitted(
        conn: Arc<Connection>,
        id: String,
        model: Model,
        prompt: String,
        operation: &'static Operation,
    ) -> Self {
        Self {
            model,
            prompt,
            submitted: Some((operation, Instant::now())),
            ..Self::new(conn, id)
        }
    }

    /// The request id: keep it to resume the job ([`Client::job`](crate::Client::job)).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Polls the status once (retried on transient failures). A FAILED job is
    /// reported here, not as an error; a failed check is [`Error::Polling`]
    /// (the job runs on), an unknown or expired id [`Error::Expired`].
    pub async fn status(&self) -> Result<JobStatus, Error> {
        if self.conn.provider == Provider::Ideogram {
            return self.generation().await.map(|(status, _)| status);
        }
        let api = self.conn.segmind_api()?;
        let get = || api.get_request_status().request_id(self.id.as_str()).send();
        let (status, inference_time, error) = match self.get(None, get).await {
            Ok(ok) => (ok.status, ok.metrics.and_then(|m| m.inference_time), None),
            Err(Error::JobFailed { detail, .. }) => (QueueStatus::Failed, None, Some(detail)),
            Err(other) => return Err(self.polling(other)),
        };
        Ok(JobStatus {
            status,
            inference_time,
            error,
        })
    }

    /// Fetches the result now: every `http(s)` URL in a COMPLETED Segmind
    /// job's output is an image; a completed Ideogram generation's `data`.
    pub async fn result(&self) -> Result<Generation, Error> {
        if self.conn.provider == Provider::Ideogram {
            let (status, answer) = self.generation().await?;
            return match status.status {
                QueueStatus::Completed => {
                    let cost = answer
                        .usage_cost_usd_micros
                        .and_then(|c| u64::try_from(c).ok());
                    let mut generation = self.conn.v2_generation(self.model, answer.data)?;
                    generation.usage_cost_usd_micros = cost;
                    // The generation's id, as Segmind's queue answers its own.
                    generation.request_id = Some(self.id.clone());
                    Ok(generation)
                }
                QueueStatus::Failed => Err(self.failed(status.error.unwrap_or_default())),
                other => Err(self.polling(self.conn.invalid(format!(
                    "generation {} is {other}, not completed: wait for it",
                    self.id
                )))),
            };
        }
        let api = self.conn.segmind_api()?;
        let get = || api.get_request_result().request_id(self.id.as_str()).send();
        let mut answer = self.get(None, get).await.map_err(|e| self.polling(e))?;
        answer.request_id = Some(self.id.clone());
        self.conn
            .segmind_queue_generation(self.model, &self.prompt, answer)
    }

    /// Ideogram's v2 generation now (one poll, kept within the operation's
    /// rate limit however many jobs this process waits on): its state, and
    /// the answer holding its results.
    async fn generation(&self) -> Result<(JobStatus, GenerationStatusV2), Error> {
        let api = self.conn.ideogram_api()?;
        let op = ideogram_raw::ideogram::operations::ALL
            .iter()
            .find(|op| op.id == "get_generation_v2")
            .expect("the spec polls v2 generations");
        let get = || {
            api.get_generation_v2()
                .generation_id(self.id.as_str())
                .send()
        };
        let answer = self.get(Some(op), get).await.map_err(|e| self.polling(e))?;
        let status = answer.status.to_ascii_uppercase().parse();
        let status = JobStatus {
            status: status.unwrap_or_else(|never: std::convert::Infallible| match never {}),
            inference_time: None,
            error: answer
                .failure_reason
                .as_deref()
                .map(|r| self.conn.redact(r)),
        };
        Ok((status, answer))
    }

    /// A free GET on this job (retried on transient failures; each attempt
    /// within the rate window of `paced`), its error mapped.
    async fn get<T, Fut>(
        &self,
        paced: Option<&'static Operation>,
        call: impl FnMut() -> Fut,
    ) -> Result<T, Error>
    where
        Fut: Future<Output = Result<ResponseValue<T>, RawError<ByteStream>>>,
    {
        let (retry, timeout) = (&self.conn.retry, self.conn.timeout);
        match retry::run(retry, Billing::Free, timeout, paced, call).await {
            Ok(answer) => Ok(answer.into_inner()),
            Err(e) => Err(self.conn.map_error(e, Some(&self.id))),
        }
    }

    /// [`wait_with`](Self::wait_with) the client's schedule.
    pub async fn wait(&self) -> Result<Generation, Error> {
        self.wait_with(&self.conn.poll, |_| {}).await
    }

    /// Polls with `schedule`, calling `progress` with each status, until the
    /// job completes (its result), fails ([`Error::JobFailed`], or
    /// [`Error::InsufficientCredits`] for want of credits) or the deadline
    /// passes ([`Error::JobTimeout`]: the job runs on and bills). A job this
    /// client submitted is polled on, and teaches, its model's learned
    /// [completion times](crate::Client::completion_times); one resumed by id
    /// is polled at once, then as if just submitted.
    pub async fn wait_with(
        &self,
        schedule: &PollSchedule,
        progress: impl FnMut(&JobStatus),
    ) -> Result<Generation, Error> {
        self.wait_done(schedule, progress).await?;
        self.result().await
    }

    /// Waits with the client's schedule for an Ideogram v2 generation whose
    /// results are not images alone (a layerized image's base and text
    /// blocks): its `data` as answered, every field kept.
    pub(crate) async fn wait_results(&self) -> Result<Vec<ImageObjectV2>, Error> {
        self.wait_done(&self.conn.poll, |_| {}).await?;
        let (status, answer) = self.generation().await?;
        match status.status {
            QueueStatus::Completed => Ok(answer.data),
            QueueStatus::Failed => Err(self.failed(status.error.unwrap_or_default())),
            other => Err(self.polling(self.conn.invalid(format!(
                "generation {} is {other}, not completed: wait for it",
                self.id
            )))),
        }
    }

    /// Polls as [`wait_with`](Self::wait_with) says until the job completes.
    #[tracing::instrument(name = "job", skip_all, fields(id = %self.id))]
    async fn wait_done(
        &self,
        schedule: &PollSchedule,
        mut progress: impl FnMut(&JobStatus),
    ) -> Result<(), Error> {
        let started = Instant::now();
        let (key, typical) = self
            .submitted
            .map_or(("", None), |(op, _)| (op.path, op.typical));
        // Durations from the submit (now, if resumed): extreme schedules saturate, never overflow.
        let origin = self.submitted.map_or(started, |(_, at)| at);
        let begun = started.saturating_duration_since(origin);
        let deadline = begun.saturating_add(schedule.deadline);
        let learned = &self.conn.completion;
        let mut seen = learned.count(key);
        let mut times = schedule.poll_times_for(learned, key, typical);
        // A resumed job (in place of the schedule's poll at once) and one
        // whose first poll is due are polled at once; the first by the deadline.
        let first = times.clone().next().expect("the schedule is endless");
        if self.submitted.is_some() || first.is_zero() {
            times.next();
        }
        let mut next = match self.submitted {
            Some(_) => first.clamp(begun, deadline),
            None => begun,
        };
        let mut previous = Duration::ZERO;
        let mut polls = 0u32;
        loop {
            // A poll already due is made without a timer.
            let now = origin.elapsed();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
            let polled_at = origin.elapsed();
            let status = self.status().await?;
            polls += 1;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::debug!(poll = polls, status = ?status.status, elapsed_ms, "polled");
            progress(&status);
            match status.status {
                QueueStatus::Completed => {
                    if self.submitted.is_some() {
                        // It finished between the previous poll and this one.
                        learned.record(key, (previous + polled_at) / 2);
                    }
                    return Ok(());
                }
                QueueStatus::Failed => {
                    let detail = status.error.unwrap_or_else(|| "no reason given".into());
                    return Err(self.failed(detail));
                }
                _ => {}
            }
            // The last poll is at the deadline: a timeout says what was true when the wait ran out.
            if polled_at >= deadline {
                return Err(Error::JobTimeout {
                    id: self.id.clone(),
                    waited: started.elapsed(),
                });
            }
            previous = polled_at;
            // Jobs finished since (a batch's first) re-plan this one's wait.
            if learned.count(key) != seen {
                seen = learned.count(key);
                times.follow(schedule.poll_times_for(learned, key, typical));
            }
            let now = origin.elapsed();
            // Past times are skipped; a schedule that does not advance polls again at once.
            let mut last = next;
            let due = times.by_ref().find(|&at| {
                let stuck = at <= last;
                last = at;
                at > now || stuck
            });
            next = due.expect("the schedule is endless").max(now).min(deadline);
            let next_poll_ms = next.saturating_sub(now).as_millis() as u64;
            tracing::trace!(next_poll_ms, "waiting");
        }
    }

    /// A FAILED job's error (not billed); for want of credits, the credits error to act on.
    fn failed(&self, detail: String) -> Error {
        if detail.to_ascii_lowercase().contains("insufficient credit") {
            return Error::InsufficientCredits {
                message: format!("job {} failed: {detail}", self.id),
                reason: None,
            };
        }
        Error::JobFailed {
            id: self.id.clone(),
            detail,
        }
    }

    /// A failed check on the job, which runs on (or the job's own failure).
    fn polling(&self, err: Error) -> Error {
        match err {
            Error::JobFailed { detail, .. } => self.failed(detail),
            Error::Expired { .. } | Error::Validation(_) | Error::Config(_) => err,
            other => Error::Polling {
                id: self.id.clone(),
                source: Box::new(other),
            },
        }
    }
}
