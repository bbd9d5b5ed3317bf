//! Keeps this process under an operation's rate limit (`x-rate-limit`,
//! counted per organisation by the service): every client and every job of
//! the process shares one window per operation, so however many jobs wait
//! at once, their polls together never pass it.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};

use ideogram_raw::operation::Operation;
use tokio::time::Instant;

/// When each operation's recent calls were made, oldest first.
static CALLS: LazyLock<Mutex<HashMap<&'static str, VecDeque<Instant>>>> =
    LazyLock::new(Mutex::default);

/// Waits until one more call of `op` stays within its limit, and counts
/// it; at once for an operation without one.
pub(crate) async fn pace(op: &'static Operation) {
    let Some((calls, window)) = op.rate_limit else {
        return;
    };
    loop {
        let wait = {
            let mut all = CALLS.lock().expect("the pace table");
            let made = all.entry(op.id).or_default();
            let now = Instant::now();
            while made
                .front()
                .is_some_and(|at| now.duration_since(*at) >= window)
            {
                made.pop_front();
            }
            if made.len() < calls as usize {
                made.push_back(now);
                return;
            }
            let oldest = *made.front().expect("a full window has calls");
            oldest + window - now
        };
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn calls_past_the_limit_wait_for_the_window_to_move() {
        static LIMITED: Operation = Operation {
            id: "pace_test_limited",
            method: "GET",
            path: "/limited",
            content_type: None,
            body: None,
            typical: None,
            accept: None,
            route: None,
            rate_limit: Some((3, Duration::from_secs(10))),
            deprecation: None,
            result_ttl: None,
            price: None,
            dry_run: None,
        };
        let start = Instant::now();
        let mut made = Vec::new();
        // Many waiters at once, as a batch's jobs poll: the limit holds for all.
        let waiters = (0..7).map(|_| async {
            pace(&LIMITED).await;
            Instant::now() - start
        });
        made.extend(futures::future::join_all(waiters).await);
        made.sort();
        let seconds: Vec<u64> = made.iter().map(|d| d.as_secs()).collect();
        assert_eq!(seconds, [0, 0, 0, 10, 10, 10, 20]);
        // No 10 s window holds more than 3 calls.
        for (i, at) in made.iter().enumerate() {
            let within = made[i..]
                .iter()
                .filter(|t| **t - *at < Duration::from_secs(10));
            assert!(within.count() <= 3, "{made:?}");
        }
    }
}
