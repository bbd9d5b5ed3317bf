//! Calls' deadlines, watched by one thread for the whole process rather
//! than a runtime timer each.
//!
//! A tokio timer for every attempt (registered in the runtime's wheel,
//! removed again, its time converted both ways) was about 0.7k
//! instructions of a call, 1k on the multi-threaded runtime. Here a call
//! takes a slot (its deadline, the waker of its task) and gives it back;
//! the watcher thread sleeps until the earliest deadline and wakes the
//! calls past theirs. It needs no runtime, so a client serves calls from
//! any number of them, and sleeps without end while no call is waiting.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

/// Every call waiting on a deadline, and the watcher's next wake.
struct State {
    slots: Vec<Slot>,
    /// Slots free for the next call.
    free: Vec<usize>,
    /// When the watcher wakes next (`None`: when a call asks it to).
    next_wake: Option<Instant>,
    /// Whether the watcher thread runs.
    watching: bool,
}

#[derive(Default)]
struct Slot {
    deadline: Option<Instant>,
    waker: Option<Waker>,
    expired: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    slots: Vec::new(),
    free: Vec::new(),
    next_wake: None,
    watching: false,
});

/// Tells the watcher a deadline earlier than its next wake came.
static EARLIER: Condvar = Condvar::new();

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A call's deadline, watched until this is dropped.
pub(crate) struct Deadline {
    slot: usize,
}

impl Deadline {
    /// A deadline `after` from now.
    pub(crate) fn after(after: Duration) -> Self {
        let deadline = Instant::now().checked_add(after);
        let mut state = state();
        let slot = match state.free.pop() {
            Some(slot) => slot,
            None => {
                state.slots.push(Slot::default());
                state.slots.len() - 1
            }
        };
        state.slots[slot] = Slot {
            deadline,
            waker: None,
            expired: false,
        };
        if !state.watching {
            // Without the watcher no call would ever time out: a thread
            // that cannot start is a failure of the process, as for std's
            // own `thread::spawn`.
            std::thread::Builder::new()
                .name("ideogram-deadlines".into())
                .spawn(watch)
                .expect("the deadline watcher thread starts");
            state.watching = true;
        }
        // The watcher sleeps until its next wake: told only of an earlier
        // deadline (most come later than the one it waits for).
        if let Some(deadline) = deadline
            && state.next_wake.is_none_or(|wake| deadline < wake)
        {
            state.next_wake = Some(deadline);
            EARLIER.notify_one();
        }
        Self { slot }
    }

    /// Whether the deadline has passed; if not, `cx`'s task is woken when
    /// it does.
    pub(crate) fn passed(&self, cx: &Context<'_>) -> bool {
        let mut state = state();
        let slot = &mut state.slots[self.slot];
        if slot.expired {
            return true;
        }
        match &slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        false
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let mut state = state();
        let waker = std::mem::take(&mut state.slots[self.slot]).waker;
        state.free.push(self.slot);
        drop(state);
        drop(waker);
    }
}

/// The watcher: wakes every call past its deadline, then sleeps until the
/// next one (or until told of an earlier one). A waker that panics does
/// not stop it; were it to end anyway, the next call starts another.
fn watch() {
    struct Ended;
    impl Drop for Ended {
        fn drop(&mut self) {
            state().watching = false;
        }
    }
    let _ended = Ended;
    let mut state = state();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        let mut next: Option<Instant> = None;
        for slot in state.slots.iter_mut().filter(|s| !s.expired) {
            let Some(deadline) = slot.deadline else {
                continue;
            };
            if deadline <= now {
                slot.expired = true;
                due.extend(slot.waker.take());
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        state.next_wake = next;
        if !due.is_empty() {
            drop(state);
            for waker in due {
                let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
                drop(woken);
            }
            state = self::state();
            continue;
        }
        state = match next {
            None => EARLIER.wait(state).unwrap_or_else(|e| e.into_inner()),
            Some(next) => {
                let wait = EARLIER.wait_timeout(state, next.saturating_duration_since(now));
                wait.unwrap_or_else(|e| e.into_inner()).0
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use std::task::Poll;

    async fn until_passed(deadline: &Deadline) {
        poll_fn(|cx| match deadline.passed(cx) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        })
        .await
    }

    #[tokio::test]
    async fn a_deadline_wakes_its_task_when_it_passes_and_not_before() {
        let started = Instant::now();
        let deadline = Deadline::after(Duration::from_millis(50));
        until_passed(&deadline).await;
        assert!(started.elapsed() >= Duration::from_millis(50));
    }

    /// A waker that panics when woken (a foreign executor's) leaves the
    /// watcher running for every later deadline.
    #[tokio::test]
    async fn a_panicking_waker_does_not_stop_later_deadlines() {
        struct Panics;
        impl std::task::Wake for Panics {
            fn wake(self: std::sync::Arc<Self>) {
                panic!("a waker that panics");
            }
        }
        let waker = Waker::from(std::sync::Arc::new(Panics));
        let first = Deadline::after(Duration::from_millis(10));
        assert!(!first.passed(&Context::from_waker(&waker)));
        let second = Deadline::after(Duration::from_millis(50));
        until_passed(&second).await;
        // The first passed too, its waker's panic caught.
        assert!(first.passed(&Context::from_waker(Waker::noop())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_earlier_deadline_is_not_kept_waiting_by_a_later_one() {
        // The watcher sleeps toward the long one; the short one, added
        // after, must still pass first.
        let long = Deadline::after(Duration::from_secs(3600));
        let started = Instant::now();
        let short = Deadline::after(Duration::from_millis(30));
        until_passed(&short).await;
        assert!(started.elapsed() < Duration::from_secs(60));
        assert!(!poll_fn(|cx| Poll::Ready(long.passed(cx))).await);
    }
}
