//! When a queued job is polled: the schedule [`Job::wait`](crate::Job::wait)
//! follows.

use std::time::Duration;

use crate::completion::CompletionEstimate;

/// When [`Job::wait`](crate::Job::wait) polls, and when it gives up with
/// [`Error::JobTimeout`](crate::Error::JobTimeout) (the job keeps running and
/// can be resumed).
///
/// The default is **learned**: polls are sparse while a job is unlikely to be
/// done and dense around when it likely finishes, planned on the model's
/// [`CompletionEstimate`] (the spec's typical time, sharpened by each job the
/// client sees finish). For a trade of noticing late against status calls,
/// the best poll density is proportional to the square root of the
/// completion hazard (the rate at which a job still running finishes), so
/// that is the density used, scaled to spend about one status call per
/// second of expected run time (the official SDK's fixed 1 s poll spends
/// one per second of actual run time).
///
/// [`fixed`](Self::fixed) and [`backoff`](Self::backoff) ignore the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct PollSchedule {
    kind: Kind,
    max_interval: Duration,
    pub(crate) deadline: Duration,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Learned { budget: Duration },
    Backoff { first: Duration, factor: f64 },
}

/// The shortest wait a learned schedule plans between polls.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// Where a learned plan ends: a job still running this late is past what the
/// estimate knows, and is polled with backoff instead.
const PLANNED_UNTIL_SURVIVAL: f64 = 1e-3;
/// Cells of the numeric integration over the planned span...
const GRID: usize = 600;
/// ...the first of which (after one from 0) starts here, in seconds.
const GRID_START: f64 = 0.05;

impl Default for PollSchedule {
    /// Learned, about one status call per second of expected run time, at
    /// most 10 s between polls, for up to 10 minutes.
    fn default() -> Self {
        Self {
            kind: Kind::Learned {
                budget: Duration::from_secs(1),
            },
            max_interval: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
        }
    }
}

impl PollSchedule {
    /// A fixed interval (the official Python SDK polls every 1 s).
    pub fn fixed(interval: Duration) -> Self {
        Self {
            kind: Kind::Backoff {
                first: interval,
                factor: 1.0,
            },
            max_interval: interval,
            ..Self::default()
        }
    }

    /// Blind backoff: 250 ms, growing by half each poll to at most 2 s.
    pub fn backoff() -> Self {
        Self {
            kind: Kind::Backoff {
                first: Duration::from_millis(250),
                factor: 1.5,
            },
            max_interval: Duration::from_secs(2),
            ..Self::default()
        }
    }

    /// Makes this a backoff schedule whose first wait is `wait`.
    pub fn first(mut self, wait: Duration) -> Self {
        let factor = match self.kind {
            Kind::Backoff { factor, .. } => factor,
            Kind::Learned { .. } => 1.5,
        };
        self.kind = Kind::Backoff {
            first: wait,
            factor,
        };
        self
    }

    /// Makes this a backoff schedule whose waits grow by `factor` (1.0 for a
    /// fixed interval; values below 1, and NaN, count as 1; waits saturate
    /// at [`max_interval`](Self::max_interval)).
    pub fn factor(mut self, factor: f64) -> Self {
        let first = match self.kind {
            Kind::Backoff { first, .. } => first,
            Kind::Learned { .. } => Duration::from_millis(250),
        };
        let factor = if factor.is_nan() {
            1.0
        } else {
            factor.max(1.0)
        };
        self.kind = Kind::Backoff { first, factor };
        self
    }

    /// Makes this a learned schedule spending about one status call per
    /// `budget` of expected run time (a smaller budget notices sooner).
    pub fn budget(mut self, budget: Duration) -> Self {
        self.kind = Kind::Learned {
            budget: budget.max(MIN_INTERVAL),
        };
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

    /// When to poll a job of `estimate`, as times since it was submitted, in
    /// order (endless: the deadline stops them). Any values saturate rather
    /// than overflow.
    pub fn poll_times(&self, estimate: &CompletionEstimate) -> PollTimes {
        let (planned, tail_wait) = match self.kind {
            Kind::Backoff { first, .. } => (Vec::new(), first.min(self.max_interval)),
            Kind::Learned { budget } => {
                let planned = plan(estimate, budget, self.max_interval.max(MIN_INTERVAL));
                let last_wait = match planned.as_slice() {
                    [.., a, b] => b.saturating_sub(*a),
                    _ => budget,
                };
                (planned, last_wait.max(budget).min(self.max_interval))
            }
        };
        let factor = match self.kind {
            Kind::Backoff { factor, .. } => factor,
            // Past the plan, back off gently to the cap.
            Kind::Learned { .. } => 1.25,
        };
        PollTimes {
            planned: planned.into_iter(),
            last: Duration::ZERO,
            wait: tail_wait,
            factor,
            max_interval: self.max_interval,
        }
    }
}

/// The poll times of one job ([`PollSchedule::poll_times`]).
#[derive(Debug, Clone)]
pub struct PollTimes {
    planned: std::vec::IntoIter<Duration>,
    last: Duration,
    wait: Duration,
    factor: f64,
    max_interval: Duration,
}

impl Iterator for PollTimes {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if let Some(at) = self.planned.next() {
            self.last = at;
            return Some(at);
        }
        let at = self.last.saturating_add(self.wait);
        self.last = at;
        let grown = Duration::try_from_secs_f64(self.wait.as_secs_f64() * self.factor)
            .unwrap_or(Duration::MAX);
        self.wait = grown.min(self.max_interval);
        Some(at)
    }
}

/// The planned poll times (seconds since submit) for `estimate`: density
/// `k * sqrt(hazard)`, each wait between [`MIN_INTERVAL`] and `max_interval`,
/// with `k` chosen so that the expected number of status calls is about the
/// expected run time over `budget`.
fn plan(estimate: &CompletionEstimate, budget: Duration, max_interval: Duration) -> Vec<Duration> {
    let mut horizon = 1.0;
    while estimate.survival_at(horizon) > PLANNED_UNTIL_SURVIVAL && horizon < 86_400.0 {
        horizon *= 1.5;
    }
    // Cells even in log time from GRID_START (and one from 0), so that a
    // model finishing in a fraction of a second is resolved as finely as
    // one taking minutes.
    let ratio = (horizon / GRID_START).powf(1.0 / (GRID - 1) as f64);
    let edges: Vec<f64> = std::iter::once(0.0)
        .chain((0..GRID).map(|i| GRID_START * ratio.powi(i as i32)))
        .collect();
    // Each cell's start, width, and sqrt(hazard) and survival at its middle.
    let cells: Vec<(f64, f64, f64, f64)> = edges
        .windows(2)
        .map(|w| {
            let (survival, density) = estimate.survival_and_density_at((w[0] + w[1]) / 2.0);
            let root_hazard = (density / survival.max(1e-12)).sqrt();
            (w[0], w[1] - w[0], root_hazard, survival)
        })
        .collect();
    let (lo, hi) = (
        1.0 / max_interval.as_secs_f64(),
        1.0 / MIN_INTERVAL.as_secs_f64(),
    );
    // Poll times for density k * sqrt(hazard), and their expected calls:
    // the first poll always happens, each later one if the job still runs.
    let times_for = |k: f64| -> (Vec<f64>, f64) {
        let (mut cumulative, mut times, mut calls) = (0.0, Vec::new(), 1.0);
        for &(start, width, root_hazard, survival) in &cells {
            let rate = (k * root_hazard).clamp(lo, hi);
            let next = cumulative + rate * width;
            let mut crossed = cumulative.floor() as u64 + 1;
            while (crossed as f64) <= next {
                times.push(start + (crossed as f64 - cumulative) / rate);
                // The next poll happens if the job outlives this one.
                calls += survival;
                crossed += 1;
            }
            cumulative = next;
        }
        (times, calls)
    };
    let fit = |target: f64| {
        let (mut low, mut high) = (1e-3f64, 1e3f64);
        for _ in 0..30 {
            let mid = (low * high).sqrt();
            if times_for(mid).1 < target {
                low = mid;
            } else {
                high = mid;
            }
        }
        times_for(low).0
    };
    // A fixed poll spends about half a call past completion; a little less
    // is planned, for an estimate that is not yet the truth.
    let target = estimate.mean().as_secs_f64() / budget.as_secs_f64() + 0.2;
    // While nothing is learned, one early probe, paid for out of the same
    // budget, so that a job far faster than the prior (a gateway's cache, a
    // mock) is noticed at once and teaches the estimate.
    let probe = budget.as_secs_f64() / 2.0;
    let mut times = fit(target - 1.0);
    if estimate.is_prior() && times.first().is_some_and(|first| *first > 2.0 * probe) {
        times.insert(0, probe);
    } else {
        times = fit(target);
    }
    times
        .into_iter()
        .filter_map(|s| Duration::try_from_secs_f64(s).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> CompletionEstimate {
        CompletionEstimate::prior(None)
    }

    fn waits(schedule: &PollSchedule, estimate: &CompletionEstimate, n: usize) -> Vec<u128> {
        let times: Vec<Duration> = schedule.poll_times(estimate).take(n).collect();
        std::iter::once(Duration::ZERO)
            .chain(times.iter().copied())
            .zip(&times)
            .map(|(a, b)| b.saturating_sub(a).as_millis())
            .collect()
    }

    #[test]
    fn a_backoff_schedule_starts_fast_and_backs_off_to_a_cap() {
        assert_eq!(
            waits(&PollSchedule::backoff(), &none(), 8),
            [250, 375, 562, 843, 1265, 1898, 2000, 2000]
        );
        assert_eq!(
            waits(&PollSchedule::fixed(Duration::from_secs(1)), &none(), 3),
            [1000; 3]
        );
    }

    #[test]
    fn extreme_schedules_saturate_instead_of_panicking() {
        for factor in [f64::INFINITY, f64::NAN, f64::MAX, -1.0, 0.0] {
            let schedule = PollSchedule::default()
                .first(Duration::MAX)
                .factor(factor)
                .max_interval(Duration::MAX)
                .deadline(Duration::MAX);
            let times: Vec<_> = schedule.poll_times(&none()).take(4).collect();
            assert!(
                times.iter().all(|w| *w == Duration::MAX),
                "{factor}: {times:?}"
            );
        }
        let tiny = PollSchedule::default()
            .first(Duration::ZERO)
            .factor(f64::MAX);
        assert!(waits(&tiny, &none(), 100).iter().all(|w| *w <= 2000));
    }

    #[test]
    fn a_learned_schedule_is_sparse_early_and_dense_around_the_typical_time() {
        let estimate = CompletionEstimate::prior(Some(Duration::from_secs(12)));
        let times: Vec<f64> = PollSchedule::default()
            .poll_times(&estimate)
            .take_while(|t| *t < Duration::from_secs(30))
            .map(|t| t.as_secs_f64())
            .collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let gap_near = |t: f64| {
            let i = times.iter().position(|x| *x >= t).expect("polled");
            gaps[i.min(gaps.len() - 1)]
        };
        // One probe while nothing is learned, then nothing while it surely
        // runs.
        assert_eq!(times[0], 0.5);
        assert!(times[1] >= 3.0, "{times:?}");
        assert!(gap_near(12.0) < 0.8, "dense around 12 s: {times:?}");
        assert!(gap_near(4.0) > 2.0 * gap_near(12.0), "{times:?}");
        assert!(gaps.iter().all(|g| *g >= 0.099 && *g <= 10.001), "{gaps:?}");
        // About one call per second of expected run time.
        let calls = 1.0 + times.iter().map(|t| estimate.survival_at(*t)).sum::<f64>();
        let expected = estimate.mean().as_secs_f64() + 0.2;
        assert!((calls - expected).abs() < 0.5, "{calls} vs {expected}");
    }

    #[test]
    fn a_learned_schedule_follows_jobs_far_faster_than_the_prior() {
        let fast = [250, 260, 240, 255].map(Duration::from_millis);
        let estimate = CompletionEstimate::learned(Some(Duration::from_secs(12)), &fast);
        let first: Vec<Duration> = PollSchedule::default()
            .poll_times(&estimate)
            .take(2)
            .collect();
        assert!(first[0] <= Duration::from_millis(500), "{first:?}");
    }

    #[test]
    fn past_its_plan_a_learned_schedule_backs_off_to_the_cap() {
        let estimate = CompletionEstimate::prior(Some(Duration::from_secs(2)));
        let late: Vec<Duration> = PollSchedule::default()
            .poll_times(&estimate)
            .skip_while(|t| *t < Duration::from_secs(60))
            .take(3)
            .collect();
        assert_eq!(late[1] - late[0], Duration::from_secs(10));
        assert_eq!(late[2] - late[1], Duration::from_secs(10));
    }
}
