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

/// `durations` jobs, all submitted at once, each waited for with `schedule`;
/// with `learn_first`, after the same jobs ran once to teach the client.
pub(crate) async fn run(
    label: &'static str,
    schedule: PollSchedule,
    durations: &[Duration],
    learn_first: bool,
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
    let client = &client;
    let jobs = |wave: usize| {
        durations.iter().enumerate().map(move |(i, d)| {
            let client = client.clone();
            async move {
                let prompt = format!("poll {wave}.{i} {DURATION_TRIGGER}{}", d.as_millis());
                let job = client
                    .submit(&GenerateRequest::new(prompt))
                    .await
                    .expect("submit");
                job.wait().await.expect("wait");
                (job.id().to_owned(), Instant::now())
            }
        })
    };
    if learn_first {
        futures::future::join_all(jobs(0)).await;
    }
    let noticed = futures::future::join_all(jobs(1)).await;
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

/// A distribution of completion times, in seconds.
#[derive(Clone, Copy)]
pub(crate) enum Times {
    LogNormal { median: f64, sigma: f64 },
    Uniform { low: f64, high: f64 },
}

impl Times {
    fn draw(self, rng: &mut impl rand::Rng) -> f64 {
        match self {
            Self::LogNormal { median, sigma } => {
                // Box-Muller.
                let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                median * (sigma * z).exp()
            }
            Self::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
        }
    }
}

/// One schedule's score over simulated jobs.
pub(crate) struct Score {
    pub mean_delay: f64,
    pub p95_delay: f64,
    pub calls_per_job: f64,
}

/// `learn` jobs of `times` teach a fresh store, then `score` more are
/// scored (and keep teaching), each polled as [`ideogram::Job::wait`] polls a
/// job it submitted: the learned default schedule on the model at `key`
/// (typical time `typical`), and the official SDK's fixed 1 s poll on the
/// same completion times. Virtual time: thousands of jobs in a second.
pub(crate) fn simulate(
    times: Times,
    key: &str,
    typical: Option<Duration>,
    learn: usize,
    score: usize,
) -> (Score, Score) {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let store = ideogram::CompletionTimes::default();
    let learned = PollSchedule::default();
    let fixed = PollSchedule::fixed(Duration::from_secs(1));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for job in 0..learn + score {
        let t = times.draw(&mut rng);
        let estimate = store.estimate(key, typical);
        let (noticed, calls, previous) = first_poll_after(&learned, &estimate, t);
        // What the client learns: the middle of the last gap.
        store.record(key, Duration::from_secs_f64((previous + noticed) / 2.0));
        if job >= learn {
            ours.push((noticed - t, calls));
            let (noticed, calls, _) = first_poll_after(&fixed, &estimate, t);
            theirs.push((noticed - t, calls));
        }
    }
    (summary(ours), summary(theirs))
}

/// The first poll at or after `t`: (its time, polls made, the poll before).
fn first_poll_after(
    schedule: &PollSchedule,
    estimate: &ideogram::CompletionEstimate,
    t: f64,
) -> (f64, u32, f64) {
    let (mut previous, mut calls) = (0.0, 0);
    for at in schedule.poll_times(estimate) {
        calls += 1;
        let at = at.as_secs_f64();
        if at >= t {
            return (at, calls, previous);
        }
        previous = at;
    }
    unreachable!("poll times are endless")
}

fn summary(mut runs: Vec<(f64, u32)>) -> Score {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = runs.len() as f64;
    Score {
        mean_delay: runs.iter().map(|r| r.0).sum::<f64>() / n,
        p95_delay: runs[(runs.len() * 95).div_ceil(100).saturating_sub(1)].0,
        calls_per_job: runs.iter().map(|r| f64::from(r.1)).sum::<f64>() / n,
    }
}
