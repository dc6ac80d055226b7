//! One writer per trail: a gateway holds an exclusive lock on its trail
//! for as long as it runs, so a second gateway (or a test run) started on
//! the same file refuses to start instead of interleaving records.
//!
//! The lock is `flock` on `<trail>.lock`, which also holds the holder's pid
//! for the refusal message. The kernel drops the lock when the holder's
//! file is closed, however the process ends; a stale pid in the file means
//! nothing without the lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Held for the life of the trail's writer.
#[derive(Debug)]
pub struct TrailLock {
    _file: File,
}

pub fn lock_path(trail: &Path) -> PathBuf {
    let mut name = trail.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the trail's lock, or says who holds it.
pub fn lock(trail: &Path) -> Result<TrailLock, String> {
    let path = lock_path(trail);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("audit lock {}: {e}", path.display()))?;
    // SAFETY: flock(2) on a descriptor this function owns, with valid flags.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(format!("audit lock {}: {error}", path.display()));
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = match holder.trim() {
            "" => "another process".to_owned(),
            pid => format!("pid {pid}"),
        };
        return Err(format!(
            "audit trail {} is in use by another gateway ({holder}, lock {}): stop it, or give this gateway \
             its own --audit-file",
            trail.display(),
            path.display()
        ));
    }
    let mine = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(mine.as_bytes()))
        .map_err(|e| format!("audit lock {}: {e}", path.display()))?;
    Ok(TrailLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_trail_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("agw-lock-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let trail = dir.join("audit.jsonl");
        let first = lock(&trail).unwrap();
        let refused = lock(&trail).unwrap_err();
        assert!(refused.contains(&format!("pid {}", std::process::id())), "{refused}");
        assert!(refused.contains(&trail.display().to_string()), "{refused}");
        drop(first);
        lock(&trail).expect("free again once the holder is gone");
    }
}
