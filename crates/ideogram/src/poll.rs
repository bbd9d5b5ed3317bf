//! When [`Job::wait`](crate::Job::wait) polls a queued job.

use std::sync::Arc;
use std::time::Duration;

use crate::completion::{CompletionEstimate, CompletionTimes};

/// When [`Job::wait`](crate::Job::wait) polls, and when it gives up with
/// [`Error::JobTimeout`](crate::Error::JobTimeout) (the job runs on).
///
/// The default is **learned**, against the official SDK's poll (at once,
/// then every second: the *budget*): polls on a half-budget grid, at most
/// two budgets apart, sparse where the model's [`CompletionEstimate`] says a
/// job is unlikely to finish and dense where it likely does; one budget
/// apart past the plan. Its `n`-th poll is never before the SDK's `n`-th:
/// **no job costs more status calls than the SDK's poll**, however wrong the
/// estimate. [`fixed`](Self::fixed) and [`backoff`](Self::backoff) ignore it.
#[derive(Debug, Clone, PartialEq)]
pub struct PollSchedule {
    /// Learned with this budget, or (`None`) backoff: a poll at once if `at_once`,
    /// then `first` after the submit, each wait `factor` times longer.
    budget: Option<Duration>,
    first: Duration,
    factor: f64,
    at_once: bool,
    max_interval: Duration,
    pub(crate) deadline: Duration,
}

const MIN_BUDGET: Duration = Duration::from_millis(100);
/// A plan ends where this few jobs run on, or after `MAX_STEPS` half budgets (5 min by default).
const PLANNED_UNTIL_SURVIVAL: f64 = 1e-3;
const MAX_STEPS: usize = 600;
/// The most saved polls a plan carries, in half-budget steps.
const MAX_CREDIT: usize = 8;
/// What one status call weighs in a plan, in budgets of delay.
const CALL_WEIGHT: f64 = 0.005;

impl Default for PollSchedule {
    /// Learned, never more status calls than a poll every second, at most 2 s
    /// apart, for up to 10 minutes.
    fn default() -> Self {
        Self {
            budget: Some(Duration::from_secs(1)),
            first: Duration::from_millis(250),
            factor: 1.5,
            at_once: false,
            max_interval: Duration::from_secs(2),
            deadline: Duration::from_secs(600),
        }
    }
}

impl PollSchedule {
    /// A poll at once, then every `interval`, as the official Python SDK polls (every 1 s).
    pub fn fixed(interval: Duration) -> Self {
        let mut fixed = Self::default().first(interval).factor(1.0);
        (fixed.at_once, fixed.max_interval) = (true, interval);
        fixed
    }

    /// Blind backoff: 250 ms, growing by half each poll to at most 2 s.
    pub fn backoff() -> Self {
        Self::default().factor(1.5)
    }

    /// Makes this a backoff schedule, its first poll `wait` after the submit.
    pub fn first(mut self, wait: Duration) -> Self {
        (self.budget, self.at_once, self.first) = (None, false, wait);
        self
    }

    /// Makes this a backoff schedule whose waits grow by `factor` (below 1,
    /// or NaN: 1, a fixed interval) up to [`max_interval`](Self::max_interval).
    pub fn factor(mut self, factor: f64) -> Self {
        (self.budget, self.factor) = (None, factor.max(1.0));
        self
    }

    setters! {
        /// Makes this a learned schedule that never spends more status calls
        /// than a poll at once and then every `budget` (at least 100 ms).
        budget(budget: Duration) => budget = Some(budget.max(MIN_BUDGET));
        /// The longest wait between polls (and a learned schedule's largest budget).
        max_interval(wait: Duration) => max_interval = wait;
        /// How long to wait in all.
        deadline(deadline: Duration) => deadline = deadline;
    }

    /// When to poll a job of `estimate`: times since the submit, in order,
    /// endless (the deadline stops them), saturating rather than overflowing.
    pub fn poll_times(&self, estimate: &CompletionEstimate) -> PollTimes {
        self.times(|budget, longest| plan(estimate, budget, longest))
    }

    /// [`poll_times`](Self::poll_times) of a `model` job (typical time `typical`) on
    /// what `learned` knows, its plan shared, as [`Job::wait`](crate::Job::wait) polls.
    pub fn poll_times_for(
        &self,
        learned: &CompletionTimes,
        model: &str,
        typical: Option<Duration>,
    ) -> PollTimes {
        self.times(|b, l| learned.plan(model, typical, [b, l], |e| plan(e, b, l)))
    }

    fn times(&self, plan: impl FnOnce(Duration, Duration) -> Arc<[Duration]>) -> PollTimes {
        let at_once = &[Duration::ZERO][..usize::from(self.at_once)];
        let (planned, step, wait, factor) = match self.budget {
            Some(budget) => {
                let budget = budget.min(self.max_interval).max(MIN_BUDGET);
                let planned = plan(budget, self.max_interval.max(budget));
                (planned, budget, budget, 1.0)
            }
            None => (at_once.into(), Duration::ZERO, self.first, self.factor),
        };
        PollTimes {
            planned,
            next: 0,
            last: None,
            made: 0,
            step,
            tail: (wait.min(self.max_interval), factor, self.max_interval),
        }
    }
}

/// The poll times of one job ([`PollSchedule::poll_times`]).
#[derive(Debug, Clone)]
pub struct PollTimes {
    planned: Arc<[Duration]>,
    next: usize,
    last: Option<Duration>,
    /// Times given so far: the `n`-th (from 0) is never before `n * step`.
    made: u32,
    step: Duration,
    /// Past the plan: the next wait, the factor it grows by, its cap.
    tail: (Duration, f64, Duration),
}

impl PollTimes {
    /// Goes on with `newer`'s plan after the last time given, still never
    /// more polls by any time than one per budget.
    pub fn follow(&mut self, newer: PollTimes) {
        (self.planned, self.next) = (newer.planned, 0);
    }
}

impl Iterator for PollTimes {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let mut at = None;
        while let (None, Some(t)) = (at, self.planned.get(self.next)) {
            self.next += 1;
            at = Some(*t).filter(|t| self.last.is_none_or(|last| *t > last));
        }
        let at = at.unwrap_or_else(|| {
            let (wait, factor, max_interval) = self.tail;
            let grown = Duration::try_from_secs_f64(wait.as_secs_f64() * factor);
            self.tail.0 = grown.unwrap_or(Duration::MAX).min(max_interval);
            self.last.unwrap_or_default().saturating_add(wait)
        });
        let at = at.max(self.step.saturating_mul(self.made));
        (self.made, self.last) = (self.made.saturating_add(1), Some(at));
        Some(at)
    }
}

/// Poll times for `estimate` on a half-`budget` grid, at most `longest` apart, the `n`-th never
/// before `n` budgets: of least expected delay plus [`CALL_WEIGHT`] per call (backward induction).
fn plan(estimate: &CompletionEstimate, budget: Duration, longest: Duration) -> Arc<[Duration]> {
    let half = budget / 2;
    let widest = ((longest.as_secs_f64() / half.as_secs_f64()) as usize).clamp(2, 4);
    // Survival at each step until the job is surely done (at a whole budget).
    let mut survival = vec![1.0];
    loop {
        let j = survival.len() - 1;
        if j >= 2 && j % 2 == 0 && (survival[j] < PLANNED_UNTIL_SURVIVAL || j >= MAX_STEPS) {
            break;
        }
        survival.push(estimate.survival(half.saturating_mul(j as u32 + 1)));
    }
    let steps = survival.len() - 1;
    // value[a][c]: the least cost from a poll at step `a` with `c` steps of
    // credit (polls so far trail one per budget by that); a gap of `g` steps
    // costs its expected delay and changes the credit by `g - 2`.
    let width = MAX_CREDIT + 1;
    let mut value = vec![0.0; (steps + 1) * width];
    let mut choice = vec![0u8; (steps + 1) * width];
    for a in (0..steps).rev() {
        let (widest, mut costs) = (widest.min(steps - a), [0.0; 5]);
        for (g, cost) in costs.iter_mut().enumerate().take(widest + 1).skip(1) {
            let late = |j: usize| (survival[j - 1] - survival[j]) * ((a + g - j) as f64 + 0.5);
            *cost = (a + 1..=a + g).map(late).sum::<f64>() / 2.0 + CALL_WEIGHT * survival[a];
        }
        for c in 0..width {
            let (mut best, mut gap) = (f64::INFINITY, 0);
            for g in 2usize.saturating_sub(c).max(1)..=widest {
                let cost = costs[g] + value[(a + g) * width + (c + g - 2).min(MAX_CREDIT)];
                if cost < best {
                    (best, gap) = (cost, g);
                }
            }
            (value[a * width + c], choice[a * width + c]) = (best, gap as u8);
        }
    }
    // The submit is a free look at a running job, worth one poll of credit;
    // a poll at once spends it (on a job that finishes at once).
    let at_once = CALL_WEIGHT + value[0] < value[2];
    let mut times = Vec::from_iter(at_once.then_some(Duration::ZERO));
    let (mut a, mut c) = (0, if at_once { 0 } else { 2 });
    while a < steps {
        let g = usize::from(choice[a * width + c]);
        (a, c) = (a + g, (c + g - 2).min(MAX_CREDIT));
        times.push(half.saturating_mul(a as u32));
    }
    times.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> CompletionEstimate {
        CompletionEstimate::prior(None)
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn waits(schedule: &PollSchedule, estimate: &CompletionEstimate, n: usize) -> Vec<u128> {
        let times: Vec<Duration> = schedule.poll_times(estimate).take(n).collect();
        std::iter::once(Duration::ZERO)
            .chain(times.iter().copied())
            .zip(&times)
            .map(|(a, b)| b.saturating_sub(a).as_millis())
            .collect()
    }

    /// Estimates of every kind a plan is made on: priors with and without a
    /// documented time, and learned ones, fast, slow, tight, wide, bimodal.
    fn estimates() -> Vec<CompletionEstimate> {
        let typical = Some(secs(12.37));
        let learned = |times: &[f64]| {
            let times: Vec<Duration> = times.iter().map(|t| secs(*t)).collect();
            CompletionEstimate::learned(typical, &times)
        };
        vec![
            CompletionEstimate::prior(typical),
            none(),
            learned(&[0.25, 0.26, 0.24]),
            learned(&[4.0, 4.5, 3.5, 4.2, 3.9]),
            learned(&[
                36.0, 38.0, 35.5, 37.2, 41.0, 33.0, 36.6, 39.0, 37.7, 35.1, 36.3,
            ]),
            learned(&[8.0, 8.1, 30.0, 7.9, 8.2, 29.5, 8.0, 30.4, 8.1, 7.8, 8.0]),
            learned(&[3.0, 40.0, 12.0, 6.0, 25.0, 15.0, 9.0, 60.0, 11.0, 5.0]),
        ]
    }

    #[test]
    fn a_backoff_schedule_starts_fast_and_backs_off_to_a_cap() {
        assert_eq!(
            waits(&PollSchedule::backoff(), &none(), 8),
            [250, 375, 562, 843, 1265, 1898, 2000, 2000]
        );
    }

    #[test]
    fn a_fixed_schedule_polls_at_once_then_every_interval_as_the_sdk_does() {
        assert_eq!(
            waits(&PollSchedule::fixed(Duration::from_secs(1)), &none(), 4),
            [0, 1000, 1000, 1000]
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
        for budget in [Duration::ZERO, Duration::MAX] {
            let learned = PollSchedule::default().budget(budget).max_interval(budget);
            assert_eq!(learned.poll_times(&none()).take(3).count(), 3);
        }
    }

    #[test]
    fn no_gap_exceeds_two_seconds_and_past_the_plan_polls_come_every_second() {
        for estimate in estimates() {
            let times: Vec<f64> = PollSchedule::default()
                .poll_times(&estimate)
                .take_while(|t| *t < Duration::from_secs(400))
                .map(|t| t.as_secs_f64())
                .collect();
            let gaps: Vec<f64> = std::iter::once(0.0)
                .chain(times.iter().copied())
                .zip(&times)
                .map(|(a, b)| b - a)
                .collect();
            assert!(gaps.iter().all(|g| *g <= 2.0), "{estimate:?}: {times:?}");
            // Past where the estimate puts nearly every job: every second.
            let late = times.iter().position(|t| *t > 300.0).expect("polled");
            assert!(gaps[late..].iter().all(|g| *g == 1.0), "{times:?}");
        }
    }

    #[test]
    fn no_job_costs_more_status_calls_than_the_sdk_poll() {
        // The n-th poll (from 0) never comes before n seconds: by any time,
        // at most as many polls as the SDK's (at 0, 1, 2, ...), whatever
        // the job's completion time.
        let sdk_bound = |times: &[Duration]| {
            let ok = (times.iter().enumerate()).all(|(n, t)| t.as_secs_f64() >= n as f64);
            assert!(ok, "{times:?}");
        };
        for estimate in estimates() {
            let times: Vec<Duration> = PollSchedule::default()
                .poll_times(&estimate)
                .take(200)
                .collect();
            sdk_bound(&times);
            // Also when a job in flight re-plans on what others taught.
            for (switch, newer) in estimates().iter().enumerate() {
                let mut polls = PollSchedule::default().poll_times(&estimate);
                let mut times: Vec<Duration> = polls.by_ref().take(switch * 3).collect();
                polls.follow(PollSchedule::default().poll_times(newer));
                times.extend(polls.take(100));
                sdk_bound(&times);
                assert!(
                    times
                        .windows(2)
                        .all(|w| w[0] < w[1] && w[1] - w[0] <= secs(2.0))
                );
            }
        }
    }

    /// Mean delay past completion, worst delay and mean status calls of
    /// `times` polled on `estimate`, for jobs taking `median` seconds times
    /// log-normal noise of `sigma` (a fixed, spread sample).
    fn score(
        schedule: &PollSchedule,
        estimate: &CompletionEstimate,
        median: f64,
        sigma: f64,
    ) -> (f64, f64, f64) {
        let n = 400;
        let (mut delay, mut worst, mut calls) = (0.0, 0.0f64, 0.0);
        for i in 0..n {
            let u = (f64::from(i) * 0.618_034 + 0.3).fract();
            // The logistic approximation of the normal quantile.
            let t = median * (sigma * (u / (1.0 - u)).ln() / 1.702).exp();
            let (k, at) = (schedule.poll_times(estimate).enumerate())
                .find(|(_, at)| at.as_secs_f64() >= t)
                .expect("endless");
            delay += at.as_secs_f64() - t;
            worst = worst.max(at.as_secs_f64() - t);
            calls += (k + 1) as f64;
        }
        (delay / f64::from(n), worst, calls / f64::from(n))
    }

    #[test]
    fn a_fresh_clients_first_job_is_never_worse_than_the_sdk_on_both_axes() {
        // Among them the issue's: a model 3x slower than documented, whose
        // first job took 1.00 s of delay and 68 calls against 0.52 s and 40.
        let documented = 12.37;
        let prior = CompletionEstimate::prior(Some(secs(documented)));
        let sdk = PollSchedule::fixed(Duration::from_secs(1));
        for (median, sigma) in [(3.0, 0.3), (1.0, 0.3), (1.0 / 3.0, 0.3), (1.0, 0.8)] {
            let ours = score(&PollSchedule::default(), &prior, median * documented, sigma);
            let theirs = score(&sdk, &prior, median * documented, sigma);
            assert!(
                ours.0 <= theirs.0 || ours.2 <= theirs.2,
                "{median}x, sigma {sigma}: {ours:?} against {theirs:?}"
            );
            assert!(ours.2 <= theirs.2, "{ours:?} against {theirs:?}");
            assert!(ours.1 <= 2.0, "worst delay {ours:?}");
        }
    }

    #[test]
    fn a_learned_schedule_is_sparse_early_and_dense_around_the_typical_time() {
        let seen: Vec<Duration> = (0..12)
            .map(|i| secs(11.0 + f64::from(i % 5) * 0.5))
            .collect();
        let estimate = CompletionEstimate::learned(Some(secs(12.37)), &seen);
        let times: Vec<f64> = PollSchedule::default()
            .poll_times(&estimate)
            .take_while(|t| *t < Duration::from_secs(30))
            .map(|t| t.as_secs_f64())
            .collect();
        let gap_after = |t: f64| {
            let i = times.iter().position(|x| *x >= t).expect("polled");
            times[i + 1] - times[i]
        };
        assert_eq!(
            gap_after(2.0),
            2.0,
            "sparse while surely running: {times:?}"
        );
        assert_eq!(gap_after(11.5), 0.5, "dense around 12 s: {times:?}");
        // Fewer calls than the SDK's for these jobs, and sooner.
        let sdk = PollSchedule::fixed(Duration::from_secs(1));
        let (ours, theirs) = (
            score(&PollSchedule::default(), &estimate, 12.0, 0.05),
            score(&sdk, &estimate, 12.0, 0.05),
        );
        assert!(
            ours.0 < theirs.0 && ours.2 < theirs.2,
            "{ours:?} against {theirs:?}"
        );
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
    fn a_plan_is_made_once_per_count_of_observations_and_shared() {
        let store = CompletionTimes::default();
        let (schedule, key) = (PollSchedule::default(), "/v2/m");
        let plan = || {
            schedule
                .poll_times_for(&store, key, Some(secs(12.0)))
                .planned
        };
        let first = plan();
        assert!(Arc::ptr_eq(&first, &plan()));
        store.record(key, secs(30.0));
        let second = plan();
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(Arc::ptr_eq(&second, &plan()));
        // Another schedule's settings, another plan; none for a backoff.
        let other = PollSchedule::default().budget(secs(0.5));
        let third = other.poll_times_for(&store, key, Some(secs(12.0))).planned;
        assert!(!Arc::ptr_eq(&second, &third));
        assert!(
            PollSchedule::backoff()
                .poll_times_for(&store, "/v2/n", None)
                .planned
                .is_empty()
        );
    }
}
