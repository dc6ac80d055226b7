//! A private network namespace for the load: nothing the harness or its
//! children send can leave this machine's own loopback.

use std::process::Command;

/// Moves this process (and every child it starts later) into a new network
/// namespace with only `lo`, and brings `lo` up. Must run before any thread
/// is started: `unshare` changes only the calling thread.
/// Returns a description for the report; `Err` when the namespace could not
/// be made, in which case nothing changed and the host loopback is used.
pub fn enter_private() -> Result<String, String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !status.lines().any(|l| l.split_whitespace().eq(["Threads:", "1"])) {
        return Err("the harness already runs several threads; unshare would move only one".into());
    }
    // SAFETY: plain syscall; the process is still single-threaded here.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(format!("unshare(CLONE_NEWNET) failed: {}", std::io::Error::last_os_error()));
    }
    let up = Command::new("ip").args(["link", "set", "lo", "up"]).status();
    match up {
        Ok(status) if status.success() => {}
        // In a fresh namespace without lo up nothing can connect: stop here.
        Ok(status) => panic!("in a new network namespace, `ip link set lo up` failed ({status}); stopping"),
        Err(e) => panic!("in a new network namespace, `ip link set lo up` could not run ({e}); stopping"),
    }
    let links = Command::new("ip").args(["-o", "link"]).output().map(|o| o.stdout).unwrap_or_default();
    let count = String::from_utf8_lossy(&links).lines().count();
    Ok(format!("private network namespace (unshare -n, lo up; {count} link(s) visible)"))
}
