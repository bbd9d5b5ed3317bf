//! What a person watching the terminal sees: a batch progress bar with
//! done, failed, in flight and ETA, and a spinner for a queue job (both
//! indicatif, on stderr). When stderr is not a terminal, or with `--json`,
//! nothing is drawn: a batch prints one plain line per event instead.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to draw: stderr is a terminal and no machine reads it.
fn live(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A batch's counts, redrawn as they change.
pub(crate) struct Progress {
    bar: ProgressBar,
    done: usize,
    failed: usize,
    in_flight: usize,
}

impl Progress {
    pub(crate) fn new(total: usize, quiet: bool) -> Self {
        let bar = if live(quiet) {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("[{bar:24}] {pos}/{len} {msg}, ETA {eta}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            bar,
            done: 0,
            failed: 0,
            in_flight: 0,
        }
    }

    pub(crate) fn start(&mut self) {
        self.in_flight += 1;
        self.draw();
    }

    /// One item ended; `line` is printed above the bar (or alone when not live).
    pub(crate) fn finish(&mut self, ok: bool, line: &str) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if ok {
            self.done += 1;
        } else {
            self.failed += 1;
        }
        if self.bar.is_hidden() {
            if !line.is_empty() {
                crate::output::tell(line);
            }
        } else {
            self.bar.println(line);
        }
        self.draw();
    }

    /// An item stopped by an interruption: neither done nor failed.
    pub(crate) fn interrupted(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.draw();
    }

    /// Items already complete from an earlier run (the ETA counts only
    /// what this run does).
    pub(crate) fn skip(&mut self, count: usize) {
        self.done += count;
        self.bar.set_position((self.done + self.failed) as u64);
        self.bar.reset_eta();
    }

    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.done, self.failed)
    }

    fn draw(&self) {
        self.bar.set_position((self.done + self.failed) as u64);
        self.bar.set_message(format!(
            "done, {} failed, {} in flight",
            self.failed, self.in_flight
        ));
    }

    /// Leaves the final counts on screen.
    pub(crate) fn close(&self) {
        self.bar.abandon();
    }
}

/// A spinner line for one queue job: its state and the time waited.
pub(crate) struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    pub(crate) fn new(quiet: bool) -> Self {
        let bar = if live(quiet) {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    pub(crate) fn update(&mut self, id: &str, state: &str) {
        self.bar.set_message(format!("{id} {state}"));
    }

    pub(crate) fn close(&self) {
        self.bar.finish_and_clear();
    }
}
