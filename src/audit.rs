//! The audit trail: an append-only JSON Lines file in which every record
//! carries the SHA-256 of the record before it, so that an edited, removed
//! or reordered record is found by [`verify`].
//!
//! Records are written by one writer thread that batches whatever is
//! waiting into one write and one `fdatasync` (group commit): a command is
//! answered only after its record is on disk, yet many commands share the
//! cost of one sync. A sidecar `<file>.head` holds the last record's number
//! and hash, so truncating the file's tail is found too.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::domain::{now_ms, rfc3339};

/// Hash of the (absent) record before the first.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// Work number, or `system`.
    pub work_no: String,
    /// `agent`, `inspector`, `system`, or `unauthenticated` (a sign-in).
    pub role: String,
    /// Client IP address (empty for the system).
    pub ip: String,
}

/// A reason attached to an action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AuditReason {
    pub code: u16,
    pub category: String,
    pub name: String,
}

/// What to record; the log adds the number, time and chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub actor: Actor,
    /// Work number acted on.
    pub target: String,
    /// The Huawei method name (e.g. `forceLogoutWithReason`) or a system action.
    pub action: String,
    pub reason: Option<AuditReason>,
    /// Outcome retcode (`"0"` = success).
    pub retcode: String,
    pub request_id: String,
}

/// One record as stored: an entry plus its place in the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// 1, 2, 3… with no gaps.
    pub seq: u64,
    /// UTC time, RFC 3339 with milliseconds.
    pub time: String,
    /// Epoch milliseconds of `time`.
    pub time_ms: u64,
    #[serde(flatten)]
    pub entry: Entry,
    /// SHA-256 (hex) of the previous record's line.
    pub prev: String,
    /// SHA-256 (hex) of this record's line without `hash`.
    pub hash: String,
}

/// The audit log could not record.
#[derive(Debug, Clone, thiserror::Error)]
#[error("audit trail unavailable: {0}")]
pub struct AuditError(pub String);

struct Pending {
    entry: Entry,
    done: oneshot::Sender<Result<(), AuditError>>,
}

/// How the audit log writes.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// `fdatasync` each batch before answering.
    pub sync: bool,
    /// Recent records kept in memory for queries.
    pub keep: usize,
    /// How long a woken writer lets a batch gather.
    pub gather: Duration,
}

/// The running audit log.
pub struct AuditLog {
    sender: mpsc::Sender<Pending>,
    recent: Recent,
    healthy: Arc<AtomicBool>,
    path: PathBuf,
}

/// The newest records' lines, for queries. Lines, not parsed records: a
/// line is one allocation, a `Record` a dozen.
type Recent = Arc<Mutex<VecDeque<Arc<str>>>>;

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    text
}

/// A record as it is written, borrowing its entry (no copy).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sealing<'a> {
    seq: u64,
    time: &'a str,
    time_ms: u64,
    #[serde(flatten)]
    entry: &'a Entry,
    prev: &'a str,
}

/// Seals one record: its hash and its stored line (without the newline).
fn seal(seq: u64, time: &str, time_ms: u64, entry: &Entry, prev: &str) -> (String, String) {
    let mut line = serde_json::to_string(&Sealing { seq, time, time_ms, entry, prev }).expect("records serialise");
    let hash = hex(&Sha256::digest(line.as_bytes()));
    line.pop();
    line.push_str(",\"hash\":\"");
    line.push_str(&hash);
    line.push_str("\"}");
    (hash, line)
}

/// Recomputes a stored line's hash; `None` if the line is not a record.
fn line_hash(line: &str) -> Option<String> {
    let cut = line.rfind(",\"hash\":\"")?;
    Some(hex(&Sha256::digest(format!("{}}}", &line[..cut]).as_bytes())))
}

struct Tail {
    seq: u64,
    hash: String,
    recent: VecDeque<Arc<str>>,
}

fn read_tail(path: &Path, keep: usize) -> Result<Tail, String> {
    let mut tail = Tail { seq: 0, hash: GENESIS.into(), recent: VecDeque::new() };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tail),
        Err(e) => return Err(format!("audit file {}: {e}", path.display())),
    };
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("audit file {}: {e}", path.display()))?;
        let record: Record = serde_json::from_str(&line).map_err(|e| {
            format!(
                "audit file {} line {}: not a record ({e}); check it with `agentgateway audit verify`",
                path.display(),
                n + 1
            )
        })?;
        tail.seq = record.seq;
        tail.hash = record.hash.clone();
        if tail.recent.len() == keep {
            tail.recent.pop_front();
        }
        tail.recent.push_back(Arc::from(line));
    }
    Ok(tail)
}

fn file_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

fn head_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

impl AuditLog {
    /// Opens (or creates) the log at `path` and continues its chain.
    /// `keep` recent records stay in memory for queries.
    pub fn open(path: &Path, options: AuditOptions) -> Result<AuditLog, String> {
        let AuditOptions { sync, keep, gather } = options;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("audit directory {}: {e}", dir.display()))?;
        }
        let tail = read_tail(path, keep)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("audit file {}: {e}", path.display()))?;
        let (sender, receiver) = mpsc::channel(65_536);
        let recent = Arc::new(Mutex::new(tail.recent));
        let healthy = Arc::new(AtomicBool::new(true));
        let identity = file_identity(&file.metadata().map_err(|e| format!("audit file {}: {e}", path.display()))?);
        let writer = Writer {
            file,
            path: path.to_owned(),
            identity,
            head: OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(head_path(path))
                .map_err(|e| format!("audit head {}: {e}", head_path(path).display()))?,
            gather,
            sync,
            seq: tail.seq,
            hash: tail.hash,
            recent: recent.clone(),
            keep,
            healthy: healthy.clone(),
        };
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| e.to_string())?;
        Ok(AuditLog { sender, recent, healthy, path: path.to_owned() })
    }

    /// Appends a record; resolves once it is written (and synced).
    pub async fn append(&self, entry: Entry) -> Result<(), AuditError> {
        let (done, written) = oneshot::channel();
        self.sender.send(Pending { entry, done }).await.map_err(|_| AuditError("writer stopped".into()))?;
        written.await.map_err(|_| AuditError("writer stopped".into()))?
    }

    /// False after a write failed: audited commands are then refused.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Recent records, newest first, that pass `keep`, and how many did.
    pub fn newest_first(
        &self,
        mut keep: impl FnMut(&Record) -> bool,
        skip: usize,
        take: usize,
    ) -> (Vec<Record>, usize) {
        // Reference counts only: the writer is held up for a copy of pointers.
        let lines: Vec<Arc<str>> = self.recent.lock().iter().rev().cloned().collect();
        let mut total = 0;
        let mut page = Vec::new();
        for record in lines.iter().filter_map(|line| serde_json::from_str::<Record>(line).ok()) {
            if keep(&record) {
                if total >= skip && page.len() < take {
                    page.push(record);
                }
                total += 1;
            }
        }
        (page, total)
    }
}

struct Writer {
    file: File,
    /// Where the file should be, and which file (device, inode) it is.
    path: PathBuf,
    identity: (u64, u64),
    /// The `.head` sidecar, kept open and overwritten in place.
    head: File,
    gather: Duration,
    sync: bool,
    seq: u64,
    hash: String,
    recent: Recent,
    keep: usize,
    healthy: Arc<AtomicBool>,
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<Pending>) {
        while let Some(first) = receiver.blocking_recv() {
            // Let a batch gather for a moment: one wake-up, one write and
            // one sync then serve many commands instead of one each.
            if !self.gather.is_zero() {
                std::thread::sleep(self.gather);
            }
            let mut batch = vec![first];
            while let Ok(more) = receiver.try_recv() {
                batch.push(more);
                if batch.len() >= 4096 {
                    break;
                }
            }
            // After a failure the file's state is unknown (a batch may be
            // half written): write nothing more, so no number is ever used
            // twice. A restart re-reads the file and continues its chain.
            let outcome = if self.healthy.load(Ordering::Relaxed) {
                self.write(&mut batch)
            } else {
                Err(AuditError("stopped after an earlier write failure; restart the gateway".into()))
            };
            if let Err(e) = &outcome {
                self.healthy.store(false, Ordering::Relaxed);
                for pending in &batch {
                    // The record is not in the trail: keep it in the log.
                    log::error!("{e}; unrecorded: {}", serde_json::to_string(&pending.entry).unwrap_or_default());
                }
            }
            for pending in batch {
                let _ = pending.done.send(outcome.clone());
            }
        }
    }

    fn write(&mut self, batch: &mut [Pending]) -> Result<(), AuditError> {
        // Records written to a file that was removed or replaced would be
        // lost from the trail everyone reads: fail instead.
        match std::fs::metadata(&self.path) {
            Ok(meta) if file_identity(&meta) == self.identity => {}
            _ => return Err(AuditError(format!("{} was removed or replaced", self.path.display()))),
        }
        let now = now_ms();
        let time = rfc3339(now);
        let (mut seq, mut hash) = (self.seq, self.hash.clone());
        let mut text = String::new();
        let mut lines = Vec::with_capacity(batch.len());
        for pending in batch.iter() {
            seq += 1;
            let (sealed, line) = seal(seq, &time, now, &pending.entry, &hash);
            hash = sealed;
            text.push_str(&line);
            text.push('\n');
            lines.push(Arc::from(line));
        }
        let io = |e: std::io::Error| AuditError(e.to_string());
        self.file.write_all(text.as_bytes()).map_err(io)?;
        if self.sync {
            self.file.sync_data().map_err(io)?;
        }
        // Fixed width, so each write covers the one before: one syscall.
        let head = format!("{{\"seq\":{seq:>20},\"hash\":\"{hash}\"}}\n");
        std::os::unix::fs::FileExt::write_all_at(&self.head, head.as_bytes(), 0).map_err(io)?;
        (self.seq, self.hash) = (seq, hash);
        let mut recent = self.recent.lock();
        for line in lines {
            if recent.len() == self.keep {
                recent.pop_front();
            }
            recent.push_back(line);
        }
        Ok(())
    }
}

/// The first problem [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Every record is intact and in order; `head` says whether a head
    /// file was there to check the end against.
    Intact { records: u64, head: bool },
    /// The record at `line` is not what was written.
    Edited { line: usize, seq: Option<u64> },
    /// Records are missing before `line`.
    Removed { line: usize, expected_seq: u64, found_seq: u64 },
    /// The record at `line` is out of order.
    Reordered { line: usize, expected_seq: u64, found_seq: u64 },
    /// Records after the file's last one were removed (the head says more).
    TailRemoved { last_seq: u64, head_seq: u64 },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Intact { records, head: true } => write!(f, "intact: {records} records, chain and head agree"),
            Finding::Intact { records, head: false } => {
                write!(
                    f,
                    "intact: {records} records in a sound chain; no head file, so removal from the end is not checked"
                )
            }
            Finding::Edited { line, seq: Some(seq) } => write!(f, "record {seq} (line {line}) was edited"),
            Finding::Edited { line, seq: None } => write!(f, "line {line} is not an audit record (edited)"),
            Finding::Removed { line, expected_seq, found_seq } => {
                write!(f, "records {expected_seq}..{} were removed before line {line}", found_seq - 1)
            }
            Finding::Reordered { line, expected_seq, found_seq } => {
                write!(f, "record {found_seq} (line {line}) is out of order: record {expected_seq} was expected")
            }
            Finding::TailRemoved { last_seq, head_seq } => {
                write!(f, "records {}..{head_seq} were removed from the end", last_seq + 1)
            }
        }
    }
}

/// Checks a whole audit file and its head.
pub fn verify(path: &Path) -> Result<Finding, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Every number present, to tell a record that moved from one removed.
    let present: std::collections::HashSet<u64> =
        text.lines().filter_map(|l| serde_json::from_str::<Record>(l).ok()).map(|r| r.seq).collect();
    let (mut seq, mut hash) = (0u64, GENESIS.to_string());
    for (n, line) in text.lines().enumerate() {
        let at = n + 1;
        let Ok(record) = serde_json::from_str::<Record>(line) else {
            return Ok(Finding::Edited { line: at, seq: None });
        };
        if line_hash(line).as_deref() != Some(record.hash.as_str()) {
            return Ok(Finding::Edited { line: at, seq: Some(record.seq) });
        }
        let expected = seq + 1;
        if record.seq > expected && !present.contains(&expected) {
            return Ok(Finding::Removed { line: at, expected_seq: expected, found_seq: record.seq });
        }
        if record.seq != expected {
            return Ok(Finding::Reordered { line: at, expected_seq: expected, found_seq: record.seq });
        }
        if record.prev != hash {
            // In sequence and self-consistent, but not chained to the record
            // before it: that one was edited (and re-hashed).
            return Ok(Finding::Edited { line: at - 1, seq: Some(seq) });
        }
        (seq, hash) = (record.seq, record.hash);
    }
    let Ok(text) = std::fs::read_to_string(head_path(path)) else {
        return Ok(Finding::Intact { records: seq, head: false });
    };
    let head: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("head file: {e}"))?;
    let head_seq = head["seq"].as_u64().unwrap_or(0);
    if head_seq > seq {
        return Ok(Finding::TailRemoved { last_seq: seq, head_seq });
    }
    if head_seq == seq && head["hash"].as_str() != Some(hash.as_str()) {
        return Ok(Finding::Edited { line: seq as usize, seq: Some(seq) });
    }
    Ok(Finding::Intact { records: seq, head: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> Entry {
        Entry {
            actor: Actor { work_no: "900".into(), role: "inspector".into(), ip: "127.0.0.1".into() },
            target: "101".into(),
            action: action.into(),
            reason: Some(AuditReason { code: 57, category: "signout".into(), name: "policy violation".into() }),
            retcode: "0".into(),
            request_id: "r1".into(),
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("agw-audit-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("audit.jsonl")
    }

    async fn write(path: &Path, actions: &[&str]) {
        let log = AuditLog::open(path, AuditOptions { sync: false, keep: 100, gather: Duration::ZERO }).unwrap();
        for action in actions {
            log.append(entry(action)).await.unwrap();
        }
    }

    fn rewrite(path: &Path, change: impl FnOnce(&mut Vec<String>)) {
        let mut lines: Vec<String> = std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect();
        change(&mut lines);
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[tokio::test]
    async fn the_chain_continues_across_restarts_and_verifies() {
        let path = temp("restart");
        write(&path, &["login", "sayBusy"]).await;
        write(&path, &["logout"]).await;
        assert_eq!(verify(&path).unwrap(), Finding::Intact { records: 3, head: true });
        let reopened = AuditLog::open(&path, AuditOptions { sync: false, keep: 2, gather: Duration::ZERO }).unwrap();
        let (newest, total) = reopened.newest_first(|_| true, 0, 10);
        assert_eq!((newest[0].entry.action.as_str(), total), ("logout", 2));
    }

    #[tokio::test]
    async fn edits_removals_reorders_and_truncation_are_found() {
        let path = temp("tamper");
        write(&path, &["a", "b", "c", "d"]).await;
        let original = std::fs::read_to_string(&path).unwrap();
        rewrite(&path, |l| l[1] = l[1].replace("\"retcode\":\"0\"", "\"retcode\":\"1\""));
        assert_eq!(verify(&path).unwrap(), Finding::Edited { line: 2, seq: Some(2) });
        std::fs::write(&path, &original).unwrap();
        rewrite(&path, |l| drop(l.remove(1)));
        assert_eq!(verify(&path).unwrap(), Finding::Removed { line: 2, expected_seq: 2, found_seq: 3 });
        std::fs::write(&path, &original).unwrap();
        rewrite(&path, |l| l.swap(1, 2));
        assert_eq!(verify(&path).unwrap(), Finding::Reordered { line: 2, expected_seq: 2, found_seq: 3 });
        std::fs::write(&path, &original).unwrap();
        rewrite(&path, |l| l.swap(2, 3));
        assert_eq!(verify(&path).unwrap(), Finding::Reordered { line: 3, expected_seq: 3, found_seq: 4 });
        std::fs::write(&path, &original).unwrap();
        rewrite(&path, |l| drop(l.pop()));
        assert_eq!(verify(&path).unwrap(), Finding::TailRemoved { last_seq: 3, head_seq: 4 });
    }
}
