//! What a person watching the terminal sees: a batch progress line with
//! done, failed, in flight and ETA, and a spinner for a queue job. Drawn on
//! stderr only when it is a terminal; otherwise one plain line per event.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// A batch's counts, redrawn as they change.
pub(crate) struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    in_flight: usize,
    started: Instant,
    live: bool,
}

impl Progress {
    pub(crate) fn new(total: usize, quiet: bool) -> Self {
        let live = !quiet && std::io::stderr().is_terminal();
        Self {
            total,
            done: 0,
            failed: 0,
            in_flight: 0,
            started: Instant::now(),
            live,
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
            self.done += 1
        } else {
            self.failed += 1
        }
        if self.live {
            let _ = write!(std::io::stderr(), "\r\x1b[2K{line}\n");
        } else if !line.is_empty() {
            crate::output::tell(line);
        }
        self.draw();
    }

    /// An item stopped by an interruption: neither done nor failed.
    pub(crate) fn interrupted(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.draw();
    }

    /// Items already complete from an earlier run.
    pub(crate) fn skip(&mut self, count: usize) {
        self.done += count;
    }

    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.done, self.failed)
    }

    /// Seconds left at the pace so far.
    fn eta(&self) -> Option<Duration> {
        let finished = self.done + self.failed;
        if finished == 0 {
            return None;
        }
        let left = self.total.saturating_sub(finished) as u32;
        Some(self.started.elapsed() / finished as u32 * left)
    }

    fn draw(&self) {
        if !self.live {
            return;
        }
        let width = 24;
        let filled = (self.done + self.failed) * width / self.total.max(1);
        let eta = self.eta().map_or("--:--".to_owned(), |d| {
            format!("{:02}:{:02}", d.as_secs() / 60, d.as_secs() % 60)
        });
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K[{}{}] {}/{} done, {} failed, {} in flight, ETA {eta}",
            "=".repeat(filled),
            " ".repeat(width - filled),
            self.done,
            self.total,
            self.failed,
            self.in_flight
        );
        let _ = std::io::stderr().flush();
    }

    pub(crate) fn close(&self) {
        if self.live {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// A spinner line for one queue job: its state and the time waited.
pub(crate) struct Spinner {
    frame: usize,
    started: Instant,
    live: bool,
}

impl Spinner {
    pub(crate) fn new(quiet: bool) -> Self {
        Self {
            frame: 0,
            started: Instant::now(),
            live: !quiet && std::io::stderr().is_terminal(),
        }
    }

    pub(crate) fn update(&mut self, id: &str, state: &str) {
        if !self.live {
            return;
        }
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        self.frame += 1;
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K{} {id} {state} {:.1}s",
            FRAMES[self.frame % 4],
            self.started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }

    pub(crate) fn close(&self) {
        if self.live {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
