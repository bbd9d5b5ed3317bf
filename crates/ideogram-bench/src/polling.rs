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
    LogNormal {
        median: f64,
        sigma: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
    /// `share` of jobs around `a` seconds, the rest around `b` (σ 0.1 each).
    Bimodal {
        a: f64,
        b: f64,
        share: f64,
    },
}

impl Times {
    fn draw(self, rng: &mut impl rand::Rng) -> f64 {
        fn normal(rng: &mut impl rand::Rng) -> f64 {
            // Box-Muller.
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
        match self {
            Self::LogNormal { median, sigma } => median * (sigma * normal(rng)).exp(),
            Self::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Self::Bimodal { a, b, share } => {
                let median = if rng.random::<f64>() < share { a } else { b };
                median * (0.1 * normal(rng)).exp()
            }
        }
    }
}

/// Jobs' scores: delay past completion (mean, worst) and status calls.
#[derive(Default)]
pub(crate) struct Score {
    delays: Vec<f64>,
    calls: u64,
}

impl Score {
    fn add(&mut self, delay: f64, calls: u32) {
        self.delays.push(delay);
        self.calls += u64::from(calls);
    }
    pub(crate) fn mean_delay(&self) -> f64 {
        self.delays.iter().sum::<f64>() / self.delays.len() as f64
    }
    pub(crate) fn worst_delay(&self) -> f64 {
        self.delays.iter().copied().fold(0.0, f64::max)
    }
    pub(crate) fn calls_per_job(&self) -> f64 {
        self.calls as f64 / self.delays.len() as f64
    }
}

/// One row of the simulated table: which jobs of a client were scored.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Row {
    /// The `n`-th job (from 1) of a fresh client, its jobs one at a time.
    Job(usize),
    /// After `learn` jobs, the jobs that follow (still learning).
    Steady { learn: usize },
    /// Ten jobs submitted together by a fresh client, all in flight at
    /// once: the first to finish teach the others.
    Batch,
}

/// `row` of a model at `key` (typical time `typical`) whose jobs take
/// `times`, scored over `n` jobs (or clients), polled as
/// [`ideogram::Job::wait`] polls: the default schedule, against the
/// official SDK's (at once, then every second) on the same completion times.
/// Virtual time, seeded: the same figures on every run.
pub(crate) fn simulate(
    times: Times,
    key: &str,
    typical: Option<Duration>,
    row: Row,
    n: usize,
) -> (Score, Score) {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let ours = PollSchedule::default();
    let anchor = PollSchedule::fixed(Duration::from_secs(1));
    let (mut score, mut theirs) = (Score::default(), Score::default());
    let mut scored = |t: f64, noticed: f64, calls: u32, score: &mut Score| {
        score.add(noticed - t, calls);
        let (at, calls, _) =
            first_poll_after(anchor.poll_times_for(&Default::default(), key, typical), t);
        theirs.add(at - t, calls);
    };
    match row {
        Row::Job(index) => {
            for _ in 0..n {
                let store = ideogram::CompletionTimes::default();
                for job in 1..=index {
                    let t = times.draw(&mut rng);
                    let (noticed, calls, previous) =
                        first_poll_after(ours.poll_times_for(&store, key, typical), t);
                    store.record(key, Duration::from_secs_f64((previous + noticed) / 2.0));
                    if job == index {
                        scored(t, noticed, calls, &mut score);
                    }
                }
            }
        }
        Row::Steady { learn } => {
            let store = ideogram::CompletionTimes::default();
            for job in 0..learn + n {
                let t = times.draw(&mut rng);
                let (noticed, calls, previous) =
                    first_poll_after(ours.poll_times_for(&store, key, typical), t);
                store.record(key, Duration::from_secs_f64((previous + noticed) / 2.0));
                if job >= learn {
                    scored(t, noticed, calls, &mut score);
                }
            }
        }
        Row::Batch => {
            for _ in 0..n.div_ceil(10) {
                let store = ideogram::CompletionTimes::default();
                for (t, noticed, calls) in batch(&ours, &store, key, typical, &mut rng, times) {
                    scored(t, noticed, calls, &mut score);
                }
            }
        }
    }
    (score, theirs)
}

/// Ten jobs in flight together, polled in time order; after each poll of a
/// job still running, it re-plans if others finished since its plan (as
/// `Job::wait` does). Each job's (completion, noticed, calls).
fn batch(
    schedule: &PollSchedule,
    store: &ideogram::CompletionTimes,
    key: &str,
    typical: Option<Duration>,
    rng: &mut impl rand::Rng,
    times: Times,
) -> Vec<(f64, f64, u32)> {
    struct InFlight {
        t: f64,
        times: ideogram::PollTimes,
        next: f64,
        previous: f64,
        seen: u64,
        calls: u32,
        noticed: Option<f64>,
    }
    let mut jobs: Vec<InFlight> = (0..10)
        .map(|_| {
            let mut times_ = schedule.poll_times_for(store, key, typical);
            let next = times_.next().expect("endless").as_secs_f64();
            InFlight {
                t: times.draw(rng),
                times: times_,
                next,
                previous: 0.0,
                seen: 0,
                calls: 0,
                noticed: None,
            }
        })
        .collect();
    while let Some(job) = jobs
        .iter_mut()
        .filter(|j| j.noticed.is_none())
        .min_by(|a, b| a.next.total_cmp(&b.next))
    {
        job.calls += 1;
        if job.next >= job.t {
            job.noticed = Some(job.next);
            store.record(
                key,
                Duration::from_secs_f64((job.previous + job.next) / 2.0),
            );
            continue;
        }
        job.previous = job.next;
        if store.count(key) != job.seen {
            job.seen = store.count(key);
            job.times
                .follow(schedule.poll_times_for(store, key, typical));
        }
        job.next = job.times.next().expect("endless").as_secs_f64();
    }
    jobs.iter()
        .map(|j| (j.t, j.noticed.expect("all noticed"), j.calls))
        .collect()
}

/// The first poll at or after `t`: (its time, polls made, the poll before).
fn first_poll_after(times: ideogram::PollTimes, t: f64) -> (f64, u32, f64) {
    let (mut previous, mut calls) = (0.0, 0);
    for at in times {
        calls += 1;
        let at = at.as_secs_f64();
        if at >= t {
            return (at, calls, previous);
        }
        previous = at;
    }
    unreachable!("poll times are endless")
}

/// What is measured by [`plan_cost`]: a plan on the prior (a fresh store
/// each time), a plan after 32 observations (one more each time, so each
/// is made anew), or a job whose plan is cached.
pub(crate) const PLAN_COSTS: [&str; 3] = ["prior", "learned", "cached"];

/// `ideogram-bench plan-cost MODE N [cpu]`: asks for the poll times of `n`
/// jobs as `Job::wait` does, in `mode` ([`PLAN_COSTS`]); with `cpu`, prints
/// the CPU time per job (not under valgrind: rustix's vDSO clock crashes
/// there).
pub(crate) fn plan_cost(mode: &str, n: u32, cpu: bool) {
    let (key, typical) = (
        "/v2/ideogram-2a-txt-2-img",
        Some(Duration::from_secs_f64(12.37)),
    );
    let (schedule, store) = (
        PollSchedule::default(),
        ideogram::CompletionTimes::default(),
    );
    let observe = |i: u32| store.record(key, Duration::from_secs_f64(30.0 + f64::from(i % 7)));
    if mode != "prior" {
        (0..32).for_each(observe);
    }
    let clock = || cpu.then(crate::procfs::cpu_time).unwrap_or_default();
    let started = clock();
    let mut sum = Duration::ZERO;
    for i in 0..n {
        match mode {
            "prior" => {
                let fresh = ideogram::CompletionTimes::default();
                sum += schedule
                    .poll_times_for(&fresh, key, typical)
                    .nth(3)
                    .expect("endless");
            }
            "learned" => {
                observe(i);
                sum += schedule
                    .poll_times_for(&store, key, typical)
                    .nth(3)
                    .expect("endless");
            }
            _ => {
                sum += schedule
                    .poll_times_for(&store, key, typical)
                    .nth(3)
                    .expect("endless")
            }
        }
    }
    let cpu = clock() - started;
    println!("{} {sum:?}", cpu.as_nanos() / u128::from(n.max(1)));
}

/// Instructions (callgrind, when valgrind is installed) and CPU time per
/// [`plan_cost`] `mode`: the difference between 1 and 101 repetitions, so
/// that start-up cancels out. `None` without valgrind.
pub(crate) fn plan_instructions(mode: &str) -> Option<(f64, Duration)> {
    let exe = std::env::current_exe().ok()?;
    let run = |n: &str| crate::instructions::process(&exe, &["plan-cost", mode, n], &[]).ok();
    let instructions = run("101")?.saturating_sub(run("1")?) as f64 / 100.0;
    let out = std::process::Command::new(exe)
        .args(["plan-cost", mode, "1000", "cpu"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let nanos = text.split(' ').next()?.parse().ok()?;
    Some((instructions, Duration::from_nanos(nanos)))
}
