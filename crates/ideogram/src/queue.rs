//! Segmind's v2 queue: a job is known by its id alone, so it can be checked
//! on, waited for, or resumed by another process.

use std::time::{Duration, Instant};

use ideogram_raw::QueueStatus;
use ideogram_raw::segmind::types as wire;
use progenitor_client::ResponseValue;

use crate::client::{Client, checked, segmind_answer};
use crate::error::{Error, ErrorAnswer};
use crate::generation::Generation;
use crate::model::{Model, Provider};
use crate::request::DEFAULT_MODEL;
use crate::retry::{self, Method};

/// When [`Job::wait`] polls: quickly at first, then backing off to a cap, and
/// giving up at a deadline with [`Error::JobTimeout`] (the job keeps running
/// and can be resumed).
#[derive(Debug, Clone, PartialEq)]
pub struct PollSchedule {
    first: Duration,
    factor: f64,
    max_interval: Duration,
    deadline: Duration,
}

impl Default for PollSchedule {
    /// 250 ms, growing by half each poll to at most 2 s, for up to 10 minutes.
    fn default() -> Self {
        Self {
            first: Duration::from_millis(250),
            factor: 1.5,
            max_interval: Duration::from_secs(2),
            deadline: Duration::from_secs(600),
        }
    }
}

impl PollSchedule {
    /// A fixed interval (the official Python SDK polls every 1 s).
    pub fn fixed(interval: Duration) -> Self {
        Self {
            first: interval,
            factor: 1.0,
            max_interval: interval,
            ..Self::default()
        }
    }

    /// The first wait.
    pub fn first(mut self, wait: Duration) -> Self {
        self.first = wait;
        self
    }

    /// How much each wait grows (1.0 for a fixed interval).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor.max(1.0);
        self
    }

    /// The longest wait between polls.
    pub fn max_interval(mut self, wait: Duration) -> Self {
        self.max_interval = wait;
        self
    }

    /// How long to wait in all.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The waits between polls, in order (endless: the deadline stops them).
    pub fn intervals(&self) -> impl Iterator<Item = Duration> + '_ {
        std::iter::successors(Some(self.first.min(self.max_interval)), |wait| {
            Some(wait.mul_f64(self.factor).min(self.max_interval))
        })
    }
}

/// What a status poll reports.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    /// The state.
    pub status: QueueStatus,
    /// Server compute seconds, when reported.
    pub inference_time: Option<f64>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// A generation on Segmind's queue.
#[derive(Debug, Clone)]
pub struct Job {
    client: Client,
    id: String,
    model: Option<Model>,
    prompt: Option<String>,
}

impl Job {
    pub(crate) fn new(
        client: Client,
        id: String,
        model: Option<Model>,
        prompt: Option<String>,
    ) -> Self {
        Self {
            client,
            id,
            model,
            prompt,
        }
    }

    /// The request id: keep it to resume the job ([`Client::job`]).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Polls the status once (GETs are retried on transient failures). A
    /// FAILED job is reported here, not as an error.
    pub async fn status(&self) -> Result<JobStatus, Error> {
        let api = self.client.segmind_api()?;
        let result = retry::run(self.client.retry_policy(), Method::Get, || {
            api.get_request_status().request_id(self.id.as_str()).send()
        })
        .await;
        match self.checked(result).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                Ok(JobStatus {
                    status: answer.status,
                    inference_time: answer.metrics.and_then(|m| m.inference_time),
                    error: None,
                })
            }
            Err(Error::JobFailed { detail, .. }) => Ok(JobStatus {
                status: QueueStatus::Failed,
                inference_time: None,
                error: Some(detail),
            }),
            Err(err) => Err(err),
        }
    }

    /// Fetches the result now: the image URL once COMPLETED.
    pub async fn result(&self) -> Result<Generation, Error> {
        let api = self.client.segmind_api()?;
        let result = retry::run(self.client.retry_policy(), Method::Get, || {
            api.get_request_result().request_id(self.id.as_str()).send()
        })
        .await;
        let answer = self.checked(result).await?.into_inner();
        let output = match (answer.status, answer.output) {
            (QueueStatus::Completed, Some(url)) if !url.is_empty() => url,
            (QueueStatus::Completed, _) => {
                return Err(Error::InvalidResponse {
                    provider: Provider::Segmind,
                    message: format!("job {} completed without an output URL", self.id),
                });
            }
            (status, _) => {
                return Err(Error::InvalidResponse {
                    provider: Provider::Segmind,
                    message: format!("job {} has no result yet (it is {status})", self.id),
                });
            }
        };
        Ok(Generation {
            provider: Provider::Segmind,
            model: self.model.unwrap_or(DEFAULT_MODEL),
            request_id: Some(self.id.clone()),
            credits_left: None,
            images: vec![
                self.client
                    .image_at(output, self.prompt.clone().unwrap_or_default()),
            ],
        })
    }

    /// Polls with the client's schedule until the job completes, then fetches
    /// the result.
    pub async fn wait(&self) -> Result<Generation, Error> {
        self.wait_with(&self.client.poll_schedule().clone(), |_| {})
            .await
    }

    /// Polls with `schedule`, calling `progress` with each status, until the
    /// job completes (its result), fails ([`Error::JobFailed`]) or the
    /// deadline passes ([`Error::JobTimeout`], the job may still finish).
    pub async fn wait_with(
        &self,
        schedule: &PollSchedule,
        mut progress: impl FnMut(&JobStatus),
    ) -> Result<Generation, Error> {
        let started = Instant::now();
        let mut waits = schedule.intervals();
        loop {
            let status = self.status().await?;
            progress(&status);
            match status.status {
                QueueStatus::Completed => return self.result().await,
                QueueStatus::Failed => {
                    return Err(Error::JobFailed {
                        id: self.id.clone(),
                        detail: status.error.unwrap_or_else(|| "no reason given".into()),
                    });
                }
                _ => {}
            }
            let wait = waits.next().expect("the schedule is endless");
            let elapsed = started.elapsed();
            if elapsed + wait > schedule.deadline {
                return Err(Error::JobTimeout {
                    id: self.id.clone(),
                    waited: elapsed,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Maps the queue's answers: 422 is a FAILED job, 404 an unknown or
    /// expired id.
    async fn checked<T>(
        &self,
        result: Result<ResponseValue<T>, progenitor_client::Error<wire::ErrorBody>>,
    ) -> Result<ResponseValue<T>, Error> {
        let id = self.id.clone();
        let err = match checked(Provider::Segmind, result, |answer| {
            let failed = answer.status().as_u16() == 422;
            let mut mapped: ErrorAnswer = segmind_answer(answer);
            if failed {
                mapped.reject_reason = Some("FAILED".into());
            }
            mapped
        })
        .await
        {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        Err(match err {
            Error::Rejected {
                status: 422,
                message,
            } => Error::JobFailed {
                id,
                detail: message,
            },
            Error::NotFound { .. } => Error::Expired { id },
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_starts_fast_and_backs_off_to_a_cap() {
        let waits: Vec<_> = PollSchedule::default()
            .intervals()
            .take(8)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(waits, [250, 375, 562, 843, 1265, 1898, 2000, 2000]);
        let fixed: Vec<_> = PollSchedule::fixed(Duration::from_secs(1))
            .intervals()
            .take(3)
            .collect();
        assert_eq!(fixed, [Duration::from_secs(1); 3]);
    }
}
