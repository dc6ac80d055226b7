//! CPU and memory of a process, from /proc: the figures that hold on a
//! noisy shared machine.

use std::time::Duration;

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// utime + stime of one process (all its threads), in clock ticks.
fn ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of stat(5); utime is 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Children of `pid` (all threads' children files).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(text.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    out
}

/// CPU seconds (user + system) used so far by `pid` and the descendants
/// it still has.
pub fn tree_cpu_seconds(pid: u32) -> f64 {
    let mut total = 0;
    let mut stack = vec![pid];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        total += ticks(p).unwrap_or(0);
        stack.extend(children(p));
    }
    total as f64 / clock_ticks_per_second()
}

/// CPU seconds used so far by this process (the load generator).
pub fn self_cpu_seconds() -> f64 {
    ticks(std::process::id()).map_or(0.0, |t| t as f64 / clock_ticks_per_second())
}

/// Resident set size in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until `pid` uses less than 5% of a core over half a second, or
/// `within` passes. Returns whether it went quiet.
pub async fn wait_quiet(pid: u32, within: Duration) -> bool {
    let started = std::time::Instant::now();
    let window = Duration::from_millis(500);
    let mut before = tree_cpu_seconds(pid);
    loop {
        tokio::time::sleep(window).await;
        let now = tree_cpu_seconds(pid);
        if now - before < 0.05 * window.as_secs_f64() {
            return true;
        }
        if started.elapsed() > within {
            return false;
        }
        before = now;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(super::rss_kib(me).unwrap() > 0);
        assert!(super::tree_cpu_seconds(me) >= 0.0);
    }
}
