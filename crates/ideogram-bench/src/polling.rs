//! Section 2, queue polling: jobs finishing after a spread of durations; the delay
//! between a job finishing and the client noticing, and status calls per
//! job, for a poll schedule.

use std::time::{Duration, Instant};

use ideogram::{Client, GenerateRequest, PollSchedule, Provider};
use ideogram_mock::{DURATION_TRIGGER, MockConfig, MockServer};

pub(crate) struct Run {
    pub label: &'static str,
    pub mean_delay: Duration,
    pub p95_delay: Duration,
    pub calls_per_job: f64,
}

/// `durations` jobs, all submitted at once, each waited for with `schedule`.
pub(crate) async fn run(
    label: &'static str,
    schedule: PollSchedule,
    durations: &[Duration],
) -> Run {
    let mock = MockServer::start(MockConfig {
        queued_for: Duration::ZERO,
        ..MockConfig::default()
    })
    .await
    .expect("mock");
    let client = Client::builder(Provider::Segmind)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .poll_schedule(schedule)
        .build()
        .expect("client");
    let jobs = durations.iter().enumerate().map(|(i, d)| {
        let client = client.clone();
        async move {
            let prompt = format!("poll {i} {DURATION_TRIGGER}{}", d.as_millis());
            let job = client
                .submit(&GenerateRequest::new(prompt))
                .await
                .expect("submit");
            job.wait().await.expect("wait");
            (job.id().to_owned(), Instant::now())
        }
    });
    let noticed = futures::future::join_all(jobs).await;
    let mut delays = Vec::new();
    let mut calls = 0u32;
    for (id, at) in &noticed {
        let report = mock.job_report(id).expect("job");
        delays.push(at.duration_since(report.completed_at.expect("completed")));
        calls += report.status_polls;
    }
    delays.sort();
    let mean = delays.iter().sum::<Duration>() / delays.len() as u32;
    let p95 = delays[(delays.len() * 95).div_ceil(100).saturating_sub(1)];
    Run {
        label,
        mean_delay: mean,
        p95_delay: p95,
        calls_per_job: f64::from(calls) / noticed.len() as f64,
    }
}
