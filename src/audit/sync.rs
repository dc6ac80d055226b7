//! When the trail is forced to disk, and the thread that does it in the
//! default mode.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use serde::Deserialize;

/// When the trail is forced to disk (`fdatasync`). Every mode writes a
/// command's record to the file before the command takes effect, so a
/// crash of the gateway's process loses no record; the modes differ in
/// what a crash of the whole machine can lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Each batch is synced before its commands go ahead: nothing is lost.
    /// Costs a sync per batch (about 100 µs of CPU on a virtual machine).
    Batch,
    /// Synced by a thread of its own at most every `sync_every` while
    /// there is something unsynced: the last interval's records can be lost.
    Interval,
    /// Never synced by the gateway; the system writes the file back in its
    /// own time (on Linux within about 30 s).
    Off,
}

impl std::str::FromStr for SyncMode {
    type Err = String;

    /// `batch`, `interval` or `off`; `true` and `false` as earlier
    /// versions spelled `batch` and `off`.
    fn from_str(text: &str) -> Result<SyncMode, String> {
        match text {
            "batch" | "true" => Ok(SyncMode::Batch),
            "interval" => Ok(SyncMode::Interval),
            "off" | "false" => Ok(SyncMode::Off),
            _ => Err(format!("expected batch, interval or off, not {text:?}")),
        }
    }
}

impl SyncMode {
    /// The name a setting spells it with.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Batch => "batch",
            SyncMode::Interval => "interval",
            SyncMode::Off => "off",
        }
    }
}

impl serde::Serialize for SyncMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SyncMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SyncMode, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Spelled {
            Flag(bool),
            Name(String),
        }
        match Spelled::deserialize(deserializer)? {
            Spelled::Flag(true) => Ok(SyncMode::Batch),
            Spelled::Flag(false) => Ok(SyncMode::Off),
            Spelled::Name(name) => name.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The sync thread of [`SyncMode::Interval`], and what it waits for.
pub struct Syncer {
    state: Mutex<SyncState>,
    wake: Condvar,
    /// The file to sync: replaced when the trail is restored to a new file.
    file: Mutex<Arc<File>>,
}

#[derive(Default)]
struct SyncState {
    /// Something was written since the last sync began.
    unsynced: bool,
    /// The writer stopped: sync what is left, then end.
    stopped: bool,
}

impl Syncer {
    pub fn new(file: File) -> Syncer {
        Syncer { state: Mutex::default(), wake: Condvar::new(), file: Mutex::new(Arc::new(file)) }
    }

    pub fn written(&self) {
        self.state.lock().unsynced = true;
        self.wake.notify_one();
    }

    pub fn stop(&self) {
        self.state.lock().stopped = true;
        self.wake.notify_one();
    }

    /// Syncs `file` from now on.
    pub fn switch_to(&self, file: File) {
        *self.file.lock() = Arc::new(file);
    }

    /// Syncs whatever was written, at most once every `every`, until the
    /// writer stops. A failed sync leaves the file's state on disk unknown
    /// (Linux reports it once and drops the pages): the trail fails closed
    /// until a restart checks the file again.
    pub fn run(&self, every: Duration, failed: &AtomicBool, syncs: &AtomicU64) {
        let mut last: Option<Instant> = None;
        loop {
            let stopped = {
                let mut state = self.state.lock();
                while !state.unsynced && !state.stopped {
                    self.wake.wait(&mut state);
                }
                if !state.unsynced {
                    return;
                }
                state.stopped
            };
            if let (Some(at), false) = (last, stopped) {
                std::thread::sleep((at + every).saturating_duration_since(Instant::now()));
            }
            // Cleared before the sync starts: what is written from now on
            // asks for the next one.
            self.state.lock().unsynced = false;
            last = Some(Instant::now());
            let file = self.file.lock().clone();
            match file.sync_data() {
                Ok(()) => drop(syncs.fetch_add(1, Ordering::Relaxed)),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    log::error!("audit trail unavailable: sync failed ({e}); commands are refused until restart");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_modes_are_spelled_as_names_or_as_the_earlier_flag() {
        let parse = |text: &str| text.parse::<SyncMode>();
        assert_eq!(parse("batch"), Ok(SyncMode::Batch));
        assert_eq!(parse("true"), Ok(SyncMode::Batch));
        assert_eq!(parse("interval"), Ok(SyncMode::Interval));
        assert_eq!(parse("off"), Ok(SyncMode::Off));
        assert_eq!(parse("false"), Ok(SyncMode::Off));
        assert!(parse("sometimes").is_err());
        let toml = |text: &str| toml::from_str::<std::collections::HashMap<String, SyncMode>>(text).map(|m| m["s"]);
        assert_eq!(toml("s = true").unwrap(), SyncMode::Batch);
        assert_eq!(toml("s = \"interval\"").unwrap(), SyncMode::Interval);
        assert!(toml("s = \"never\"").is_err());
    }
}
