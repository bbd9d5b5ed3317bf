//! When a queued job is polled: the schedule [`Job::wait`](crate::Job::wait)
//! follows.

use std::time::Duration;

/// When [`Job::wait`](crate::Job::wait) polls: quickly at first, then backing off to a cap, and
/// giving up at a deadline with [`Error::JobTimeout`](crate::Error::JobTimeout) (the job keeps running
/// and can be resumed).
#[derive(Debug, Clone, PartialEq)]
pub struct PollSchedule {
    first: Duration,
    factor: f64,
    max_interval: Duration,
    pub(crate) deadline: Duration,
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

    /// How much each wait grows (1.0 for a fixed interval; values below 1,
    /// and NaN, count as 1; waits saturate at [`max_interval`](Self::max_interval)).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_nan() {
            1.0
        } else {
            factor.max(1.0)
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

    /// The waits between polls, in order (endless: the deadline stops them).
    /// Any values saturate rather than overflow.
    pub fn intervals(&self) -> impl Iterator<Item = Duration> + '_ {
        std::iter::successors(Some(self.first.min(self.max_interval)), |wait| {
            let grown = Duration::try_from_secs_f64(wait.as_secs_f64() * self.factor)
                .unwrap_or(Duration::MAX);
            Some(grown.min(self.max_interval))
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

    #[test]
    fn extreme_schedules_saturate_instead_of_panicking() {
        for factor in [f64::INFINITY, f64::NAN, f64::MAX, -1.0, 0.0] {
            let schedule = PollSchedule::default()
                .first(Duration::MAX)
                .factor(factor)
                .max_interval(Duration::MAX)
                .deadline(Duration::MAX);
            let waits: Vec<_> = schedule.intervals().take(4).collect();
            assert!(
                waits.iter().all(|w| *w == Duration::MAX),
                "{factor}: {waits:?}"
            );
        }
        let tiny = PollSchedule::default()
            .first(Duration::ZERO)
            .factor(f64::MAX);
        assert!(
            tiny.intervals()
                .take(100)
                .all(|w| w <= Duration::from_secs(2))
        );
    }
}
