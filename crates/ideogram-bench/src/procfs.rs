//! CPU time and memory of this process and of its children: the process CPU
//! clock (nanoseconds) for this process, /proc for children (Linux only,
//! like the machines this runs on).

use std::process::Child;
use std::time::{Duration, Instant};

/// CPU (user + system, every thread) this process has used so far, from the
/// process CPU clock: precise to the nanosecond, where /proc's counts move
/// in 10 ms ticks.
pub(crate) fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Seconds of CPU (user + system) used by this process, and by its children
/// that have been waited for (10 ms ticks).
pub(crate) fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat") + 2..]
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields[i].parse::<f64>().expect("tick count");
    let hz = 100.0; // USER_HZ on Linux
    ((ticks(11) + ticks(12)) / hz, (ticks(13) + ticks(14)) / hz)
}

/// Current and peak resident memory, in KiB.
pub(crate) fn rss_kib() -> (u64, u64) {
    status_kib("self").unwrap_or((0, 0))
}

/// (VmRSS, VmHWM) of process `pid` in KiB, while it runs.
fn status_kib(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// How a child process ran: its wall time, whether it succeeded, and its
/// peak resident memory.
pub(crate) struct ChildRun {
    pub wall: Duration,
    pub success: bool,
    pub peak_kib: u64,
}

/// Waits for `child`, reading its peak resident memory (VmHWM, a high-water
/// mark kept by the kernel) every 5 ms while it runs; the last reading
/// before it exits is its peak but for what it allocates in its last 5 ms.
pub(crate) fn watch(mut child: Child, started: Instant) -> ChildRun {
    let pid = child.id().to_string();
    let mut peak = 0;
    loop {
        if let Some((_, hwm)) = status_kib(&pid) {
            peak = peak.max(hwm);
        }
        match child.try_wait().expect("wait for the child") {
            Some(status) => {
                return ChildRun {
                    wall: started.elapsed(),
                    success: status.success(),
                    peak_kib: peak,
                };
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}
