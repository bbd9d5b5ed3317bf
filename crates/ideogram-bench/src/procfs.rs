//! CPU time and memory of this process (and its waited-for children), read
//! from /proc: Linux only, like the machines this runs on.

/// Seconds of CPU (user + system) used by this process, and by its children
/// that have been waited for.
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
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
