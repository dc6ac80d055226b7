//! The audit trail: an append-only JSON Lines file in which every record
//! carries the SHA-256 of the record before it, so that an edited, removed
//! or reordered record is found by [`verify`].
//!
//! A command's record is serialised on the thread that served it, into a
//! batch shared by every command that thread finishes in the same turn of
//! its event loop; the batch goes to the writer thread as one message and
//! comes back as one wake-up. The writer chains and writes whatever batches
//! are waiting with one write and one `fdatasync` (group commit): a command
//! is answered only after its record is on disk, yet many commands share
//! the cost of one sync and one hand-off. A sidecar `<file>.head` holds the
//! last record's number and hash, so truncating the file's tail is found too.
//! Queries read the file itself, newest record first.

use std::cell::RefCell;
use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::domain::{now_ms, rfc3339};

/// Hash of the (absent) record before the first.
const GENESIS: [u8; 64] = [b'0'; 64];

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

/// What a record says, as read back; the log adds the number, time and chain.
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

/// Text written as a JSON string straight from its `Display`: a work
/// number or an address needs no `String` of its own.
#[derive(Clone, Copy)]
pub struct Shown<'a>(pub &'a (dyn Display + Sync));

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// [`Actor`] as it is written, borrowing its parts.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorRef<'a> {
    pub work_no: Shown<'a>,
    pub role: &'a str,
    pub ip: Shown<'a>,
}

/// [`AuditReason`] as it is written.
#[derive(Clone, Copy, Serialize)]
pub struct ReasonRef<'a> {
    pub code: u16,
    pub category: &'a str,
    pub name: &'a str,
}

/// What to record, borrowing everything from the request it describes; it
/// serialises to the same fields as [`Entry`], which reads it back.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryRef<'a> {
    pub actor: ActorRef<'a>,
    pub target: Shown<'a>,
    pub action: &'a str,
    pub reason: Option<ReasonRef<'a>>,
    pub retcode: &'a str,
    pub request_id: &'a str,
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

fn stopped() -> AuditError {
    AuditError("writer stopped".into())
}

/// When the trail is forced to disk (`fdatasync`). Every mode writes a
/// command's record to the file before the command answers, so a crash of
/// the gateway's process loses no record; the modes differ in what a crash
/// of the whole machine can lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Each batch is synced before its commands answer: nothing is lost.
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

/// How the audit log writes.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    pub sync: SyncMode,
    /// In [`SyncMode::Interval`], the longest a written record waits for
    /// its sync.
    pub sync_every: Duration,
    /// How many of the newest records a query searches.
    pub window: usize,
    /// How long a woken writer lets a batch gather.
    pub gather: Duration,
}

/// Entries serialised by one thread, waiting for the writer: their fields
/// without the enclosing braces, back to back in one buffer.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    fields: Vec<Range<usize>>,
}

impl Batch {
    fn push(&mut self, entry: &EntryRef) {
        let start = self.text.len();
        serde_json::to_writer(&mut self.text, entry).expect("entries serialise");
        self.fields.push(start + 1..self.text.len() - 1);
    }

    fn records(&self) -> impl Iterator<Item = &[u8]> {
        self.fields.iter().map(|r| &self.text[r.clone()])
    }
}

/// What the log has done since it opened (for metrics): how many records,
/// in how many hand-offs to the writer, writes and `fdatasync`s.
#[derive(Debug, Default)]
pub struct AuditStats {
    pub records: AtomicU64,
    pub handoffs: AtomicU64,
    pub writes: AtomicU64,
    pub syncs: AtomicU64,
}

/// The batch a thread is filling for one log, and its outcome once written.
struct Gathering {
    log: u64,
    /// `None` once handed to the writer: later records start a new one.
    batch: Mutex<Option<Batch>>,
    outcome: OnceLock<Result<(), AuditError>>,
    written: Notify,
}

impl Gathering {
    async fn outcome(&self) -> Result<(), AuditError> {
        loop {
            // Registered before the check, so the notice cannot slip between.
            let written = self.written.notified();
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            written.await;
        }
    }
}

thread_local! {
    /// Per log, the gathering this thread is filling (or filled last).
    static GATHERING: RefCell<Vec<Arc<Gathering>>> = const { RefCell::new(Vec::new()) };
}

/// A submitted record: [`Written::wait`] resolves once it is written.
pub struct Written(Arc<Gathering>);

impl Written {
    pub async fn wait(self) -> Result<(), AuditError> {
        self.0.outcome().await
    }
}

/// A batch on its way to the writer, and where its outcome goes.
struct Handoff {
    batch: Batch,
    done: oneshot::Sender<Result<(), AuditError>>,
}

/// Hands a gathering to the writer once the tasks now ready on this thread
/// have added their records, and tells them all how it went. A task of its
/// own, so a request that is dropped meanwhile cannot strand the others.
async fn hand_over(gathering: Arc<Gathering>, writer: mpsc::Sender<Handoff>) {
    tokio::task::yield_now().await;
    let batch = gathering.batch.lock().take().unwrap_or_default();
    let (done, written) = oneshot::channel();
    let outcome = match writer.send(Handoff { batch, done }).await {
        Ok(()) => written.await.unwrap_or_else(|_| Err(stopped())),
        Err(_) => Err(stopped()),
    };
    let _ = gathering.outcome.set(outcome);
    gathering.written.notify_waiters();
}

/// The running audit log.
pub struct AuditLog {
    id: u64,
    sender: mpsc::Sender<Handoff>,
    healthy: Arc<AtomicBool>,
    path: PathBuf,
    /// The trail, for queries (read by position; the writer appends).
    reader: File,
    /// Bytes of whole batches in the file: a query reads no further.
    written: Arc<AtomicU64>,
    window: usize,
    stats: Arc<AuditStats>,
}

fn hex(bytes: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 64];
    for (i, b) in bytes.iter().take(32).enumerate() {
        text[2 * i] = DIGITS[usize::from(b >> 4)];
        text[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    text
}

/// Appends one sealed record to `out`: the record's own fields around the
/// entry's, its hash over the line without `hash`, and a newline. Returns
/// the hash. The same bytes as serialising a [`Record`] field by field.
fn seal(out: &mut Vec<u8>, seq: u64, time: &str, time_ms: u64, fields: &[u8], prev: &[u8; 64]) -> [u8; 64] {
    let start = out.len();
    write!(out, "{{\"seq\":{seq},\"time\":\"{time}\",\"timeMs\":{time_ms},").expect("writes to memory");
    out.extend_from_slice(fields);
    out.extend_from_slice(b",\"prev\":\"");
    out.extend_from_slice(prev);
    out.extend_from_slice(b"\"}");
    let hash = hex(&Sha256::digest(&out[start..]));
    out.pop();
    out.extend_from_slice(b",\"hash\":\"");
    out.extend_from_slice(&hash);
    out.extend_from_slice(b"\"}\n");
    hash
}

/// Recomputes a stored line's hash; `None` if the line is not a record.
fn line_hash(line: &str) -> Option<[u8; 64]> {
    let cut = line.rfind(",\"hash\":\"")?;
    let mut hasher = Sha256::new();
    hasher.update(&line.as_bytes()[..cut]);
    hasher.update(b"}");
    Some(hex(&hasher.finalize()))
}

/// The chain's end as the file holds it.
struct Tail {
    seq: u64,
    hash: [u8; 64],
}

fn read_tail(path: &Path) -> Result<Tail, String> {
    let mut tail = Tail { seq: 0, hash: GENESIS };
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
        let hash = record.hash.as_bytes().try_into().map_err(|_| {
            format!(
                "audit file {} line {}: not a SHA-256 hash; check it with `agentgateway audit verify`",
                path.display(),
                n + 1
            )
        })?;
        tail = Tail { seq: record.seq, hash };
    }
    Ok(tail)
}

/// Calls `each` on the lines of `file` up to byte `end`, last line first,
/// until it returns false.
fn lines_backward(file: &File, end: u64, mut each: impl FnMut(&[u8]) -> bool) -> std::io::Result<()> {
    const CHUNK: u64 = 64 * 1024;
    let mut pos = end;
    // The start of the chunk after this one, up to its first newline: the
    // end of a line that begins in this chunk or earlier.
    let mut rest = Vec::new();
    while pos > 0 {
        let start = pos.saturating_sub(CHUNK);
        let mut data = vec![0; (pos - start) as usize];
        file.read_exact_at(&mut data, start)?;
        data.extend_from_slice(&rest);
        let split = if start == 0 { 0 } else { data.iter().position(|b| *b == b'\n').map_or(data.len(), |i| i + 1) };
        for line in data[split..].rsplit(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if !each(line) {
                return Ok(());
            }
        }
        data.truncate(split.saturating_sub(1).min(data.len()));
        rest = data;
        pos = start;
    }
    Ok(())
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
    pub fn open(path: &Path, options: AuditOptions) -> Result<AuditLog, String> {
        static LOGS: AtomicU64 = AtomicU64::new(0);
        let AuditOptions { sync, sync_every, window, gather } = options;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("audit directory {}: {e}", dir.display()))?;
        }
        let tail = read_tail(path)?;
        let opening = |e: std::io::Error| format!("audit file {}: {e}", path.display());
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(opening)?;
        let reader = File::open(path).map_err(opening)?;
        let meta = file.metadata().map_err(opening)?;
        if file_identity(&reader.metadata().map_err(opening)?) != file_identity(&meta) {
            return Err(format!("audit file {} was replaced while opening it", path.display()));
        }
        let (sender, receiver) = mpsc::channel(65_536);
        let healthy = Arc::new(AtomicBool::new(true));
        let written = Arc::new(AtomicU64::new(meta.len()));
        let stats = Arc::new(AuditStats::default());
        let syncer = match sync {
            SyncMode::Interval => {
                let syncer = Arc::new(Syncer::default());
                let (file, syncer2, healthy, stats) =
                    (file.try_clone().map_err(opening)?, syncer.clone(), healthy.clone(), stats.clone());
                std::thread::Builder::new()
                    .name("audit-sync".into())
                    .spawn(move || syncer2.run(&file, sync_every, &healthy, &stats))
                    .map_err(|e| e.to_string())?;
                Some(syncer)
            }
            SyncMode::Batch | SyncMode::Off => None,
        };
        let writer = Writer {
            file,
            path: path.to_owned(),
            identity: file_identity(&meta),
            head: OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(head_path(path))
                .map_err(|e| format!("audit head {}: {e}", head_path(path).display()))?,
            gather,
            sync,
            syncer,
            seq: tail.seq,
            hash: tail.hash,
            len: meta.len(),
            written: written.clone(),
            healthy: healthy.clone(),
            out: Vec::new(),
            stats: stats.clone(),
        };
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| e.to_string())?;
        let id = LOGS.fetch_add(1, Ordering::Relaxed);
        Ok(AuditLog { id, sender, healthy, path: path.to_owned(), reader, written, window, stats })
    }

    /// Appends a record; resolves once it is written (and synced).
    pub async fn append(&self, entry: &EntryRef<'_>) -> Result<(), AuditError> {
        self.submit(entry).wait().await
    }

    /// Adds a record to the batch this thread is filling and returns at
    /// once: the entry is serialised now, so it may borrow from anything.
    pub fn submit(&self, entry: &EntryRef<'_>) -> Written {
        Written(self.join(entry))
    }

    /// Adds the entry to this thread's open gathering, or opens one.
    fn join(&self, entry: &EntryRef) -> Arc<Gathering> {
        GATHERING.with(|open| {
            let mut open = open.borrow_mut();
            if let Some(gathering) = open.iter().find(|g| g.log == self.id) {
                if let Some(batch) = gathering.batch.lock().as_mut() {
                    batch.push(entry);
                    return gathering.clone();
                }
            }
            let mut batch = Batch::default();
            batch.push(entry);
            let gathering = Arc::new(Gathering {
                log: self.id,
                batch: Mutex::new(Some(batch)),
                outcome: OnceLock::new(),
                written: Notify::new(),
            });
            open.retain(|g| g.log != self.id);
            open.push(gathering.clone());
            tokio::spawn(hand_over(gathering.clone(), self.sender.clone()));
            gathering
        })
    }

    /// False after a write failed: audited commands are then refused.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stats(&self) -> &AuditStats {
        &self.stats
    }

    /// Among the newest records of the file (at most the window), those
    /// that pass `keep`, newest first: a page of them and how many did.
    /// Reads the file: call it where blocking is allowed.
    pub fn newest_first(
        &self,
        mut keep: impl FnMut(&Record) -> bool,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Record>, usize), AuditError> {
        let (mut seen, mut total, mut page) = (0, 0, Vec::new());
        let end = self.written.load(Ordering::Acquire);
        lines_backward(&self.reader, end, |line| {
            seen += 1;
            if let Some(record) = serde_json::from_slice::<Record>(line).ok().filter(|r| keep(r)) {
                if total >= skip && page.len() < take {
                    page.push(record);
                }
                total += 1;
            }
            seen < self.window
        })
        .map_err(|e| AuditError(format!("reading {}: {e}", self.path.display())))?;
        Ok((page, total))
    }
}

/// The sync thread of [`SyncMode::Interval`], and what it waits for.
#[derive(Default)]
struct Syncer {
    state: Mutex<SyncState>,
    wake: parking_lot::Condvar,
}

#[derive(Default)]
struct SyncState {
    /// Something was written since the last sync began.
    unsynced: bool,
    /// The writer stopped: sync what is left, then end.
    stopped: bool,
}

impl Syncer {
    fn written(&self) {
        self.state.lock().unsynced = true;
        self.wake.notify_one();
    }

    fn stop(&self) {
        self.state.lock().stopped = true;
        self.wake.notify_one();
    }

    /// Syncs whatever was written, at most once every `every`, until the
    /// writer stops. A failed sync fails the trail closed, as a failed
    /// write does.
    fn run(&self, file: &File, every: Duration, healthy: &AtomicBool, stats: &AuditStats) {
        let mut last: Option<std::time::Instant> = None;
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
                std::thread::sleep((at + every).saturating_duration_since(std::time::Instant::now()));
            }
            // Cleared before the sync starts: what is written from now on
            // asks for the next one.
            self.state.lock().unsynced = false;
            last = Some(std::time::Instant::now());
            match file.sync_data() {
                Ok(()) => drop(stats.syncs.fetch_add(1, Ordering::Relaxed)),
                Err(e) => {
                    healthy.store(false, Ordering::Relaxed);
                    log::error!("audit trail unavailable: sync failed ({e}); commands are refused until restart");
                }
            }
        }
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
    sync: SyncMode,
    /// In [`SyncMode::Interval`], told of each write.
    syncer: Option<Arc<Syncer>>,
    seq: u64,
    hash: [u8; 64],
    /// The file's length, and where queries learn it.
    len: u64,
    written: Arc<AtomicU64>,
    healthy: Arc<AtomicBool>,
    /// The lines of a batch, reused from batch to batch.
    out: Vec<u8>,
    stats: Arc<AuditStats>,
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<Handoff>) {
        while let Some(first) = receiver.blocking_recv() {
            // Optionally let more batches gather: one wake-up, one write and
            // one sync then serve more commands.
            if !self.gather.is_zero() {
                std::thread::sleep(self.gather);
            }
            let mut records = first.batch.fields.len();
            let mut handoffs = vec![first];
            while records < 4096 {
                let Ok(more) = receiver.try_recv() else { break };
                records += more.batch.fields.len();
                handoffs.push(more);
            }
            // After a failure the file's state is unknown (a batch may be
            // half written): write nothing more, so no number is ever used
            // twice. A restart re-reads the file and continues its chain.
            let outcome = if self.healthy.load(Ordering::Relaxed) {
                self.write(&handoffs)
            } else {
                Err(AuditError("stopped after an earlier write failure; restart the gateway".into()))
            };
            if let Err(e) = &outcome {
                self.healthy.store(false, Ordering::Relaxed);
                for record in handoffs.iter().flat_map(|h| h.batch.records()) {
                    // The record is not in the trail: keep it in the log.
                    log::error!("{e}; unrecorded: {{{}}}", String::from_utf8_lossy(record));
                }
            }
            for handoff in handoffs {
                let _ = handoff.done.send(outcome.clone());
            }
        }
        if let Some(syncer) = &self.syncer {
            syncer.stop();
        }
    }

    fn write(&mut self, handoffs: &[Handoff]) -> Result<(), AuditError> {
        // Records written to a file that was removed or replaced would be
        // lost from the trail everyone reads: fail instead.
        match std::fs::metadata(&self.path) {
            Ok(meta) if file_identity(&meta) == self.identity => {}
            _ => return Err(AuditError(format!("{} was removed or replaced", self.path.display()))),
        }
        let now = now_ms();
        let time = rfc3339(now);
        let (mut seq, mut hash) = (self.seq, self.hash);
        self.out.clear();
        for fields in handoffs.iter().flat_map(|h| h.batch.records()) {
            seq += 1;
            hash = seal(&mut self.out, seq, &time, now, fields, &hash);
        }
        let io = |e: std::io::Error| AuditError(e.to_string());
        self.file.write_all(&self.out).map_err(io)?;
        if self.sync == SyncMode::Batch {
            self.file.sync_data().map_err(io)?;
            self.stats.syncs.fetch_add(1, Ordering::Relaxed);
        }
        // Fixed width, so each write covers the one before: one syscall.
        let head = format!("{{\"seq\":{seq:>20},\"hash\":\"{}\"}}\n", std::str::from_utf8(&hash).unwrap_or_default());
        self.head.write_all_at(head.as_bytes(), 0).map_err(io)?;
        self.stats.records.fetch_add(seq - self.seq, Ordering::Relaxed);
        self.stats.handoffs.fetch_add(handoffs.len() as u64, Ordering::Relaxed);
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        (self.seq, self.hash) = (seq, hash);
        self.len += self.out.len() as u64;
        self.written.store(self.len, Ordering::Release);
        if let Some(syncer) = &self.syncer {
            syncer.written();
        }
        // A batch of thousands should not keep its buffer for ever.
        if self.out.capacity() > 1 << 20 {
            self.out = Vec::new();
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
    let (mut seq, mut hash) = (0u64, GENESIS);
    for (n, line) in text.lines().enumerate() {
        let at = n + 1;
        let Ok(record) = serde_json::from_str::<Record>(line) else {
            return Ok(Finding::Edited { line: at, seq: None });
        };
        if line_hash(line).as_ref().map(|h| &h[..]) != Some(record.hash.as_bytes()) {
            return Ok(Finding::Edited { line: at, seq: Some(record.seq) });
        }
        let expected = seq + 1;
        if record.seq > expected && !present.contains(&expected) {
            return Ok(Finding::Removed { line: at, expected_seq: expected, found_seq: record.seq });
        }
        if record.seq != expected {
            return Ok(Finding::Reordered { line: at, expected_seq: expected, found_seq: record.seq });
        }
        if record.prev.as_bytes() != hash {
            // In sequence and self-consistent, but not chained to the record
            // before it: that one was edited (and re-hashed).
            return Ok(Finding::Edited { line: at - 1, seq: Some(seq) });
        }
        (seq, hash) = (record.seq, record.hash.as_bytes().try_into().unwrap_or(GENESIS));
    }
    let Ok(text) = std::fs::read_to_string(head_path(path)) else {
        return Ok(Finding::Intact { records: seq, head: false });
    };
    let head: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("head file: {e}"))?;
    let head_seq = head["seq"].as_u64().unwrap_or(0);
    if head_seq > seq {
        return Ok(Finding::TailRemoved { last_seq: seq, head_seq });
    }
    if head_seq == seq && head["hash"].as_str().map(str::as_bytes) != Some(&hash[..]) {
        return Ok(Finding::Edited { line: seq as usize, seq: Some(seq) });
    }
    Ok(Finding::Intact { records: seq, head: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(action: &'a str, name: &'a str) -> EntryRef<'a> {
        EntryRef {
            actor: ActorRef { work_no: Shown(&900), role: "inspector", ip: Shown(&"127.0.0.1") },
            target: Shown(&101),
            action,
            reason: Some(ReasonRef { code: 57, category: "signout", name }),
            retcode: "0",
            request_id: "r1",
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("agw-audit-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("audit.jsonl")
    }

    fn open(path: &Path, window: usize) -> AuditLog {
        open_with(path, window, SyncMode::Off)
    }

    fn open_with(path: &Path, window: usize, sync: SyncMode) -> AuditLog {
        let sync_every = Duration::from_millis(5);
        AuditLog::open(path, AuditOptions { sync, sync_every, window, gather: Duration::ZERO }).unwrap()
    }

    async fn write(path: &Path, actions: &[&str]) {
        let log = open(path, 100);
        for action in actions {
            log.append(&entry(action, "policy violation")).await.unwrap();
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
        let (newest, total) = open(&path, 2).newest_first(|_| true, 0, 10).unwrap();
        let seqs: Vec<u64> = newest.iter().map(|r| r.seq).collect();
        assert_eq!((newest[0].entry.action.as_str(), seqs, total), ("logout", vec![3, 2], 2));
    }

    #[tokio::test]
    async fn a_record_reads_back_as_written_with_its_text_escaped() {
        let path = temp("escape");
        let log = open(&path, 10);
        let name = "\"quoted\" \\ tab\t, newline\n and ünïcode";
        log.append(&entry("forceLogoutWithReason", name)).await.unwrap();
        let (records, _) = log.newest_first(|_| true, 0, 1).unwrap();
        let expected = Entry {
            actor: Actor { work_no: "900".into(), role: "inspector".into(), ip: "127.0.0.1".into() },
            target: "101".into(),
            action: "forceLogoutWithReason".into(),
            reason: Some(AuditReason { code: 57, category: "signout".into(), name: name.into() }),
            retcode: "0".into(),
            request_id: "r1".into(),
        };
        assert_eq!(records[0].entry, expected);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert_eq!(verify(&path).unwrap(), Finding::Intact { records: 1, head: true });
    }

    #[tokio::test]
    async fn commands_finished_together_share_a_batch_and_keep_their_order() {
        let path = temp("together");
        let log = Arc::new(open(&path, 250));
        let local = tokio::task::LocalSet::new();
        let actions: Vec<String> = (0..300).map(|n| format!("command-{n:03}")).collect();
        local
            .run_until(async {
                let tasks: Vec<_> = actions
                    .iter()
                    .cloned()
                    .map(|action| {
                        let log = log.clone();
                        tokio::task::spawn_local(async move { log.append(&entry(&action, "x")).await })
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
            text.lines().map(|l| serde_json::from_str::<Record>(l).unwrap().entry.action).collect();
        assert_eq!(written, actions);
        assert!(text.len() > 64 * 1024, "the query below must read more than one chunk");
        // The query sees the newest 250, newest first, across chunk ends.
        let (page, total) = log.newest_first(|r| r.entry.action.ends_with('7'), 2, 3).unwrap();
        let seqs: Vec<u64> = page.iter().map(|r| r.seq).collect();
        assert_eq!((seqs, total), (vec![278, 268, 258], 25));
        let stats = log.stats();
        let (records, handoffs) = (stats.records.load(Ordering::Relaxed), stats.handoffs.load(Ordering::Relaxed));
        assert_eq!(records, 300);
        assert!(handoffs < records / 2, "{handoffs} hand-offs for {records} records: not batched");
        assert_eq!(verify(&path).unwrap(), Finding::Intact { records: 300, head: true });
    }

    #[tokio::test]
    async fn batch_mode_syncs_every_write_before_answering_and_interval_mode_syncs_after() {
        let count = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let batch = open_with(&temp("batch"), 10, SyncMode::Batch);
        for action in ["a", "b", "c"] {
            batch.append(&entry(action, "x")).await.unwrap();
            assert_eq!(count(&batch.stats().syncs), count(&batch.stats().writes));
        }
        let interval = open_with(&temp("interval"), 10, SyncMode::Interval);
        interval.append(&entry("a", "x")).await.unwrap();
        // Answered before its sync; the sync follows within the interval.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while count(&interval.stats().syncs) == 0 {
            assert!(std::time::Instant::now() < deadline, "no sync within 10 s");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let off = open_with(&temp("off"), 10, SyncMode::Off);
        off.append(&entry("a", "x")).await.unwrap();
        assert_eq!((count(&off.stats().writes), count(&off.stats().syncs)), (1, 0));
    }

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
