//! The audit trail: an append-only JSON Lines file in which every record
//! carries the SHA-256 of the record before it, so that an edited, removed
//! or reordered record is found by [`verify`]. It implements the domain's
//! [`AuditTrail`] port.
//!
//! - [`batch`]: records are serialised on the thread that served their
//!   commands, into one batch per turn of its event loop;
//! - [`writer`]: one thread chains and writes the waiting batches with one
//!   write (group commit), restores a removed file, fails closed on a
//!   write error and keeps sign-outs in the [`fallback`] meanwhile;
//! - [`sync`]: when the file is forced to disk;
//! - [`lock`]: one gateway per trail;
//! - [`tail`]: the start-up check of the chain's end, and torn records;
//! - [`query`]: finding records by time; [`verify`]: the whole-file check.
//!
//! A `<file>.head` sidecar holds the last record's number and hash, so
//! records cut from the end are found too.

mod batch;
mod fallback;
mod files;
mod lock;
mod query;
mod record;
mod sync;
mod tail;
mod verify;
mod writer;

use std::fs::{File, OpenOptions};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

pub use sync::SyncMode;
pub use verify::{verify, Anchor, Finding};

use crate::domain::audit::{ActionRecord, AuditError, AuditTrail, Record, Recording, TrailStats};
use batch::Message;
use fallback::Fallback;
use files::{beside, head_path, identity, Head};
use record::{hash_prefix, trail_fields};
use writer::{Shared, Writer};

/// What start-up does with a trail whose end is broken (edited, cut short,
/// its head not matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenTail {
    /// Refuse to start, naming the problem.
    Refuse,
    /// Rename the trail and its head to `<file>.broken-<epoch ms>` and
    /// begin a new chain whose first record says so.
    SetAside,
}

impl std::str::FromStr for BrokenTail {
    type Err = String;

    fn from_str(text: &str) -> Result<BrokenTail, String> {
        match text {
            "refuse" => Ok(BrokenTail::Refuse),
            "set-aside" => Ok(BrokenTail::SetAside),
            _ => Err(format!("expected refuse or set-aside, not {text:?}")),
        }
    }
}

impl serde::Serialize for BrokenTail {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match self {
            BrokenTail::Refuse => "refuse",
            BrokenTail::SetAside => "set-aside",
        })
    }
}

impl<'de> serde::Deserialize<'de> for BrokenTail {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<BrokenTail, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

/// How the audit log writes.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    pub sync: SyncMode,
    /// In [`SyncMode::Interval`], the longest a written record waits for
    /// its sync.
    pub sync_every: Duration,
    /// How long a woken writer lets a batch gather.
    pub gather: Duration,
    /// How often a trail that cannot be written is tried again.
    pub retry_every: Duration,
    pub broken_tail: BrokenTail,
}

/// The running audit log.
pub struct AuditLog {
    id: u64,
    sender: mpsc::Sender<Message>,
    shared: Arc<Shared>,
    /// One query reads the file at a time.
    scans: Mutex<()>,
}

impl AuditLog {
    /// Takes the trail at `path` (creating it, or checking the end of the
    /// chain it continues) and starts its writer.
    pub fn open(path: &Path, options: AuditOptions) -> Result<AuditLog, String> {
        static LOGS: AtomicU64 = AtomicU64::new(0);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("audit directory {}: {e}", dir.display()))?;
        }
        let named = |e: std::io::Error| format!("audit file {}: {e}", path.display());
        let lock = lock::lock(path)?;
        let mut notes = Vec::new();
        let end = match tail::check(path) {
            Ok(end) => end,
            Err(problem) if options.broken_tail == BrokenTail::SetAside => {
                notes.push(trail_fields("trailSetAside", &set_aside(path, &problem)?));
                tail::Continuation::fresh()
            }
            Err(problem) => {
                return Err(format!(
                    "audit trail {}: its end is broken: {problem}. Check it with `agentgateway audit verify {}`; \
                     to keep it as evidence and begin a new trail, start with --audit-broken-tail set-aside",
                    path.display(),
                    path.display()
                ))
            }
        };
        if let Some(torn) = &end.torn {
            let file = OpenOptions::new().write(true).open(path).map_err(named)?;
            file.set_len(end.len).and_then(|()| file.sync_all()).map_err(named)?;
            let note = format!(
                "a torn record was cut off the end at start-up: {} bytes (SHA-256 {}) after record {}",
                torn.bytes, torn.sha256, end.seq
            );
            log::warn!("audit trail {}: {note}", path.display());
            notes.push(trail_fields("tornRecordCut", &note));
        }
        let leftover = Fallback::leftover(path)?;
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(named)?;
        let reader = File::open(path).map_err(named)?;
        let meta = file.metadata().map_err(named)?;
        if identity(&reader.metadata().map_err(named)?) != identity(&meta) {
            return Err(format!("audit file {} was replaced while opening it", path.display()));
        }
        let head = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(head_path(path))
            .map_err(|e| format!("audit head {}: {e}", head_path(path).display()))?;
        let shared = Arc::new(Shared {
            path: path.to_owned(),
            writable: AtomicBool::new(true),
            sync_failed: AtomicBool::new(false),
            written: AtomicU64::new(end.len),
            reader: Mutex::new(Arc::new(reader)),
            records: AtomicU64::new(0),
            handoffs: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            fallback: AtomicU64::new(0),
            head: Mutex::new(Head { seq: end.seq, hash: end.hash }),
        });
        let syncer = match options.sync {
            SyncMode::Interval => Some(Arc::new(sync::Syncer::new(file.try_clone().map_err(named)?))),
            SyncMode::Batch | SyncMode::Off => None,
        };
        let (sender, receiver) = mpsc::channel(65_536);
        let mut writer = Writer {
            shared: shared.clone(),
            file,
            identity: identity(&meta),
            head,
            gather: options.gather,
            sync: options.sync,
            syncer: syncer.clone(),
            seq: end.seq,
            hash: end.hash,
            time_ms: end.time_ms,
            len: end.len,
            out: Vec::new(),
            notes,
            failure: None,
            fallback: Fallback::new(path),
            retry_every: options.retry_every,
            retries: sender.downgrade(),
            ticking: Arc::new(AtomicBool::new(false)),
            _lock: lock,
        };
        // What start-up found, and what an earlier run kept while its trail
        // could not be written, go first.
        let kept: Vec<&[u8]> = leftover.iter().map(Vec::as_slice).collect();
        writer.write(&kept).map_err(|e| format!("audit trail {}: {e}", path.display()))?;
        if !leftover.is_empty() {
            log::warn!(
                "audit trail {}: {} records an earlier run kept in {} are in the trail now",
                path.display(),
                leftover.len(),
                fallback::pending_path(path).display()
            );
            let _ = std::fs::remove_file(fallback::pending_path(path));
        }
        if let Some(syncer) = syncer {
            let (shared, every) = (shared.clone(), options.sync_every);
            std::thread::Builder::new()
                .name("audit-sync".into())
                .spawn(move || syncer.run(every, &shared.sync_failed, &shared.syncs))
                .map_err(|e| e.to_string())?;
        }
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| e.to_string())?;
        let id = LOGS.fetch_add(1, Ordering::Relaxed);
        Ok(AuditLog { id, sender, shared, scans: Mutex::new(()) })
    }

    /// Writes what is waiting and releases the trail (its lock too); later
    /// records are refused. Resolves once the writer has stopped.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.sender.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The chain's head as a log line: an outside collector that keeps
    /// these can later prove the trail was not rewritten or restarted
    /// (`agentgateway audit verify FILE --anchor SEQ:HASH`).
    pub fn anchor(&self) -> String {
        let head = *self.shared.head.lock();
        format!(
            "audit head: seq={} hash={} file={}",
            head.seq,
            String::from_utf8_lossy(&head.hash),
            self.shared.path.display()
        )
    }
}

impl AuditTrail for AuditLog {
    fn record(&self, records: &[ActionRecord<'_>]) -> Recording {
        Box::pin(batch::submit(self.id, &self.sender, records))
    }

    fn is_writable(&self) -> bool {
        self.shared.writable.load(Ordering::Relaxed) && !self.shared.sync_failed.load(Ordering::Relaxed)
    }

    fn search(
        &self,
        time: Range<u64>,
        keep: &mut dyn FnMut(&Record) -> bool,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Record>, usize), AuditError> {
        let _one_at_a_time = self.scans.lock();
        let reader = self.shared.reader.lock().clone();
        let end = self.shared.written.load(Ordering::Acquire);
        query::search(&reader, end, time, keep, skip, take)
            .map_err(|e| AuditError(format!("reading {}: {e}", self.shared.path.display())))
    }

    fn stats(&self) -> TrailStats {
        let count = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let head = *self.shared.head.lock();
        TrailStats {
            records: count(&self.shared.records),
            handoffs: count(&self.shared.handoffs),
            writes: count(&self.shared.writes),
            syncs: count(&self.shared.syncs),
            fallback: count(&self.shared.fallback),
            head_seq: head.seq,
            head_hash_prefix: hash_prefix(&head.hash),
            writable: self.is_writable(),
        }
    }
}

/// Renames a trail with a broken end, and its head, out of the way; says
/// so in the note the new chain begins with.
fn set_aside(path: &Path, problem: &str) -> Result<String, String> {
    let aside = beside(path, &format!(".broken-{}", crate::clock::now_ms()));
    let moved = |from: &Path, to: &PathBuf| match std::fs::rename(from, to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("setting {} aside: {e}", from.display())),
        _ => Ok(()),
    };
    moved(path, &aside)?;
    moved(&head_path(path), &head_path(&aside))?;
    let note = format!(
        "the trail's end was broken ({problem}); it was set aside as {} with its head, and a new chain begins here",
        aside.display()
    );
    log::warn!("audit trail {}: {note}", path.display());
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{Action, Actor, Origin, RequestId};
    use crate::domain::ids::WorkNo;
    use crate::domain::state::Command;
    use crate::retcode::Retcode;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("agw-audit-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("audit.jsonl")
    }

    fn open_with(path: &Path, sync: SyncMode) -> AuditLog {
        let options = AuditOptions {
            sync,
            sync_every: Duration::from_millis(5),
            gather: Duration::ZERO,
            retry_every: Duration::from_millis(5),
            broken_tail: BrokenTail::Refuse,
        };
        AuditLog::open(path, options).unwrap()
    }

    fn open(path: &Path) -> AuditLog {
        open_with(path, SyncMode::Off)
    }

    fn record(action: Action, origin: &Origin) -> ActionRecord<'_> {
        let actor = Actor::Caller { work_no: WorkNo::new(101).unwrap(), role: crate::domain::directory::Role::Agent };
        ActionRecord {
            actor,
            target: WorkNo::new(101).unwrap(),
            action,
            reason: None,
            retcode: Retcode::Success,
            origin: Some(origin),
        }
    }

    async fn write(path: &Path, actions: &[Action]) {
        let log = open(path);
        let origin = Origin { request_id: RequestId::new(), ip: None };
        for action in actions {
            log.record(&[record(*action, &origin)]).await.unwrap();
        }
        log.close().await;
    }

    fn actions(path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().map(|l| serde_json::from_str::<Record>(l).unwrap().entry.action).collect()
    }

    #[tokio::test]
    async fn the_chain_continues_across_restarts_and_verifies() {
        let path = temp("restart");
        write(&path, &[Action::SignIn(crate::domain::requests::SignInKind::Login), Action::State(Command::SayFree)])
            .await;
        write(&path, &[Action::Logout]).await;
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Intact { records: 3, head: true });
        let log = open(&path);
        let (newest, total) = log.search(0..u64::MAX, &mut |_| true, 0, 10).unwrap();
        let seqs: Vec<u64> = newest.iter().map(|r| r.seq).collect();
        assert_eq!((newest[0].entry.action.as_str(), seqs, total), ("logout", vec![3, 2, 1], 3));
    }

    #[tokio::test]
    async fn a_second_log_on_one_trail_is_refused_until_the_first_closes() {
        let path = temp("two");
        let first = open(&path);
        let refused = AuditLog::open(
            &path,
            AuditOptions {
                sync: SyncMode::Off,
                sync_every: Duration::ZERO,
                gather: Duration::ZERO,
                retry_every: Duration::ZERO,
                broken_tail: BrokenTail::Refuse,
            },
        );
        assert!(refused.err().unwrap().contains("in use by another gateway"));
        first.close().await;
        open(&path).close().await;
    }

    #[tokio::test]
    async fn commands_finished_together_share_a_batch_and_keep_their_order() {
        let path = temp("together");
        let log = Arc::new(open(&path));
        let local = tokio::task::LocalSet::new();
        let origins: Vec<Origin> = (0..300).map(|_| Origin { request_id: RequestId::new(), ip: None }).collect();
        local
            .run_until(async {
                let tasks: Vec<_> = origins
                    .iter()
                    .map(|origin| {
                        let (log, origin) = (log.clone(), *origin);
                        let action = Action::State(Command::SayFree);
                        tokio::task::spawn_local(async move { log.record(&[record(action, &origin)]).await })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap().unwrap();
                }
            })
            .await;
        // Each record's place in the file is the order its command finished.
        let text = std::fs::read_to_string(&path).unwrap();
        let written: Vec<String> =
            text.lines().map(|l| serde_json::from_str::<Record>(l).unwrap().entry.request_id).collect();
        assert_eq!(written, origins.iter().map(|o| o.request_id.to_string()).collect::<Vec<_>>());
        let stats = log.stats();
        assert_eq!(stats.records, 300);
        assert!(stats.handoffs < stats.records / 2, "{} hand-offs for 300 records: not batched", stats.handoffs);
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Intact { records: 300, head: true });
    }

    #[tokio::test]
    async fn batch_mode_syncs_every_write_before_answering_and_interval_mode_syncs_after() {
        let origin = Origin { request_id: RequestId::new(), ip: None };
        let batch = open_with(&temp("batch"), SyncMode::Batch);
        for _ in 0..3 {
            batch.record(&[record(Action::Logout, &origin)]).await.unwrap();
            assert_eq!(batch.stats().syncs, batch.stats().writes);
        }
        let interval = open_with(&temp("interval"), SyncMode::Interval);
        interval.record(&[record(Action::Logout, &origin)]).await.unwrap();
        // Answered before its sync; the sync follows within the interval.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while interval.stats().syncs == 0 {
            assert!(std::time::Instant::now() < deadline, "no sync within 10 s");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let off = open_with(&temp("off"), SyncMode::Off);
        off.record(&[record(Action::Logout, &origin)]).await.unwrap();
        assert_eq!((off.stats().writes, off.stats().syncs), (1, 0));
    }

    #[tokio::test]
    async fn a_removed_trail_is_restored_from_the_open_file_and_says_so() {
        let path = temp("restore");
        let log = open(&path);
        let origin = Origin { request_id: RequestId::new(), ip: None };
        log.record(&[record(Action::Logout, &origin)]).await.unwrap();
        std::fs::remove_file(&path).unwrap();
        log.record(&[record(Action::ForceLogout, &origin)]).await.unwrap();
        assert_eq!(actions(&path), ["logout", "trailRestored", "forceLogout"]);
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Intact { records: 3, head: true });
    }

    #[tokio::test]
    async fn while_the_file_cannot_be_written_only_fallback_records_are_kept_and_they_follow_later() {
        let path = temp("fallback");
        let log = open(&path);
        let origin = Origin { request_id: RequestId::new(), ip: None };
        log.record(&[record(Action::Logout, &origin)]).await.unwrap();
        // Another file at the path: the trail cannot be continued there.
        let aside = beside(&path, ".moved");
        std::fs::rename(&path, &aside).unwrap();
        std::fs::write(&path, b"").unwrap();
        let refused = log.record(&[record(Action::State(Command::SayFree), &origin)]).await;
        assert!(refused.unwrap_err().0.contains("replaced"));
        assert!(!log.is_writable());
        assert!(log.record(&[record(Action::ForceLogout, &origin)]).await.is_err(), "kept in the fallback");
        assert_eq!(log.stats().fallback, 1);
        assert_eq!(std::fs::read_to_string(fallback::pending_path(&path)).unwrap().lines().count(), 1);
        // The operator puts the trail back: the next retry writes the kept record.
        std::fs::rename(&aside, &path).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !log.is_writable() {
            assert!(std::time::Instant::now() < deadline, "not writable again within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(actions(&path), ["logout", "forceLogout"]);
        let kept: Record =
            serde_json::from_str(std::fs::read_to_string(&path).unwrap().lines().last().unwrap()).unwrap();
        assert!(kept.entry.happened_ms.is_some_and(|at| at <= kept.time_ms));
        assert!(!fallback::pending_path(&path).exists());
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Intact { records: 2, head: true });
    }
}
