//! The writer thread: it chains and writes whatever batches are waiting
//! with one write (group commit), and keeps the trail truthful when the
//! file misbehaves.
//!
//! - Before each write it checks that the path still names its file, at
//!   the length it wrote. A removed file is restored from the open one (and
//!   the restoration recorded); a replaced or shortened one fails the trail.
//! - A failed write is cut back off the file, so no half record stays and
//!   no number is used twice; the trail then fails closed: its records are
//!   refused, but for those that go ahead unrecorded, which go to the
//!   [`Fallback`]. Once a second it tries again; when the file can be
//!   written, the kept records are chained into it and it opens again.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::batch::{Handoff, Message};
use super::fallback::Fallback;
use super::files::{beside, head_text, identity, Head};
use super::lock::TrailLock;
use super::record::{seal, trail_fields};
use super::sync::{SyncMode, Syncer};
use crate::clock::now_ms;
use crate::domain::audit::AuditError;

/// What the writer shares with the log's users.
pub struct Shared {
    pub path: PathBuf,
    pub writable: AtomicBool,
    /// Set by the sync thread: the file's state on disk is unknown.
    pub sync_failed: AtomicBool,
    /// Bytes of whole batches in the file: a query reads no further.
    pub written: AtomicU64,
    /// The trail, for queries (read by position; replaced on a restore).
    pub reader: Mutex<Arc<File>>,
    pub records: AtomicU64,
    pub handoffs: AtomicU64,
    pub writes: AtomicU64,
    pub syncs: AtomicU64,
    pub fallback: AtomicU64,
    pub head: Mutex<Head>,
}

pub struct Writer {
    pub shared: Arc<Shared>,
    pub file: File,
    /// Which file (device, inode) the path should name.
    pub identity: (u64, u64),
    /// The `.head` sidecar, kept open and overwritten in place.
    pub head: File,
    pub gather: Duration,
    pub sync: SyncMode,
    /// In [`SyncMode::Interval`], told of each write.
    pub syncer: Option<Arc<Syncer>>,
    pub seq: u64,
    pub hash: [u8; 64],
    /// Time of the last record: later ones are never earlier.
    pub time_ms: u64,
    /// The file's length as written.
    pub len: u64,
    /// The lines of a batch, reused from batch to batch.
    pub out: Vec<u8>,
    /// Records about the trail itself, written before the next batch.
    pub notes: Vec<Vec<u8>>,
    /// Why the trail cannot be written, while it cannot.
    pub failure: Option<String>,
    pub fallback: Fallback,
    pub retry_every: Duration,
    /// A sender for the retry ticker; weak, so the log's end ends the writer.
    pub retries: mpsc::WeakSender<Message>,
    pub ticking: Arc<AtomicBool>,
    pub _lock: TrailLock,
}

impl Writer {
    pub fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
        let mut next = None;
        loop {
            let message = match next.take() {
                Some(message) => message,
                None => match receiver.blocking_recv() {
                    Some(message) => message,
                    None => break,
                },
            };
            match message {
                Message::Records(first) => {
                    // Optionally let more batches gather: one wake-up, one
                    // write and one sync then serve more commands.
                    if !self.gather.is_zero() {
                        std::thread::sleep(self.gather);
                    }
                    let mut records = first.batch.len();
                    let mut handoffs = vec![first];
                    while records < 4096 {
                        match receiver.try_recv() {
                            Ok(Message::Records(more)) => {
                                records += more.batch.len();
                                handoffs.push(more);
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.handle(handoffs);
                }
                Message::Retry => self.recover(),
                Message::Close(done) => {
                    self.finish();
                    // The lock goes with the writer: released before the answer.
                    drop(self);
                    let _ = done.send(());
                    return;
                }
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(syncer) = &self.syncer {
            syncer.stop();
        }
    }

    fn handle(&mut self, handoffs: Vec<Handoff>) {
        if self.failure.is_none() && self.shared.sync_failed.load(Ordering::Relaxed) {
            self.fail("an earlier sync of the file failed; restart the gateway".into());
        }
        if self.failure.is_none() {
            let fields: Vec<&[u8]> = handoffs.iter().flat_map(|h| h.batch.records()).map(|(f, _)| f).collect();
            match self.write(&fields) {
                Ok(()) => {
                    self.shared.handoffs.fetch_add(handoffs.len() as u64, Ordering::Relaxed);
                    for handoff in handoffs {
                        let _ = handoff.done.send(Ok(()));
                    }
                    return;
                }
                Err(e) => self.fail(e),
            }
        }
        let why = self.failure.clone().unwrap_or_default();
        let now = now_ms();
        for (fields, fallback) in handoffs.iter().flat_map(|h| h.batch.records()) {
            if fallback {
                self.fallback.keep(fields, now, &why);
                self.shared.fallback.fetch_add(1, Ordering::Relaxed);
            }
        }
        for handoff in handoffs {
            let _ = handoff.done.send(Err(AuditError(why.clone())));
        }
    }

    fn fail(&mut self, why: String) {
        log::error!(
            "audit trail {} cannot be written ({why}): commands are refused with 100-007 until it can; sign-outs \
             go ahead with their records kept in {}; retrying every {} ms",
            self.shared.path.display(),
            self.fallback.path().display(),
            self.retry_every.as_millis()
        );
        self.failure = Some(why);
        self.shared.writable.store(false, Ordering::Relaxed);
        if !self.ticking.swap(true, Ordering::Relaxed) {
            let (retries, every, ticking) = (self.retries.clone(), self.retry_every, self.ticking.clone());
            let shared = self.shared.clone();
            let ticker = move || {
                while !shared.writable.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    let Some(sender) = retries.upgrade() else { break };
                    if sender.blocking_send(Message::Retry).is_err() {
                        break;
                    }
                }
                ticking.store(false, Ordering::Relaxed);
            };
            if std::thread::Builder::new().name("audit-retry".into()).spawn(ticker).is_err() {
                self.ticking.store(false, Ordering::Relaxed);
            }
        }
    }

    /// After a failure: if the file can be written again, chains the kept
    /// records into it and opens the trail.
    fn recover(&mut self) {
        let Some(failure) = self.failure.clone() else { return };
        if self.shared.sync_failed.load(Ordering::Relaxed) {
            return;
        }
        let kept = self.fallback.kept().to_vec();
        let fields: Vec<&[u8]> = kept.iter().map(Vec::as_slice).collect();
        match self.write(&fields) {
            Ok(()) => {
                self.fallback.written();
                self.failure = None;
                self.shared.writable.store(true, Ordering::Relaxed);
                log::warn!(
                    "audit trail {} can be written again (it could not: {failure}); {} records kept meanwhile are \
                     in it now; commands are accepted again",
                    self.shared.path.display(),
                    kept.len()
                );
            }
            Err(e) if e != failure => {
                log::error!("audit trail {} still cannot be written: {e}", self.shared.path.display());
                self.failure = Some(e);
            }
            Err(_) => {}
        }
    }

    /// Chains and writes the notes and `fields` (each a record's entry
    /// fields) with one write, then the head.
    pub fn write(&mut self, fields: &[&[u8]]) -> Result<(), String> {
        self.check_file()?;
        let now = now_ms().max(self.time_ms);
        let (mut seq, mut hash) = (self.seq, self.hash);
        self.out.clear();
        let notes = std::mem::take(&mut self.notes);
        for fields in notes.iter().map(Vec::as_slice).chain(fields.iter().copied()) {
            seq += 1;
            hash = seal(&mut self.out, seq, now, fields, &hash);
        }
        if self.out.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.put(seq, &hash) {
            // Cut a half-written batch off, so that the numbers it used are
            // free again and no torn record stays; kept notes are retried.
            let _ = self.file.set_len(self.len);
            self.notes = notes;
            return Err(e.to_string());
        }
        self.shared.records.fetch_add(seq - self.seq, Ordering::Relaxed);
        self.shared.writes.fetch_add(1, Ordering::Relaxed);
        (self.seq, self.hash, self.time_ms) = (seq, hash, now);
        self.len += self.out.len() as u64;
        self.shared.written.store(self.len, Ordering::Release);
        *self.shared.head.lock() = Head { seq, hash };
        if let Some(syncer) = &self.syncer {
            syncer.written();
        }
        // A batch of thousands should not keep its buffer for ever.
        if self.out.capacity() > 1 << 20 {
            self.out = Vec::new();
        }
        Ok(())
    }

    fn put(&mut self, seq: u64, hash: &[u8; 64]) -> std::io::Result<()> {
        self.file.write_all(&self.out)?;
        if self.sync == SyncMode::Batch {
            self.file.sync_data()?;
            self.shared.syncs.fetch_add(1, Ordering::Relaxed);
        }
        // Fixed width, so each write covers the one before: one syscall.
        self.head.write_all_at(head_text(seq, hash).as_bytes(), 0)
    }

    /// The path must name the file as written: a removed file is restored
    /// from the open one; a replaced or shortened one cannot be continued.
    fn check_file(&mut self) -> Result<(), String> {
        let path = &self.shared.path;
        match std::fs::metadata(path) {
            Ok(meta) if identity(&meta) == self.identity => {
                if meta.len() < self.len {
                    return Err(format!(
                        "{} was cut short: {} bytes of {} written",
                        path.display(),
                        meta.len(),
                        self.len
                    ));
                }
                if meta.len() > self.len {
                    // A write that failed half-way and could not be cut then.
                    self.file.set_len(self.len).map_err(|e| format!("cutting a half-written batch: {e}"))?;
                }
                Ok(())
            }
            Ok(_) => Err(format!("{} was replaced by another file", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.restore(),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Puts a copy of the open (removed) file back at the path and
    /// continues there, recording that it did.
    fn restore(&mut self) -> Result<(), String> {
        let path = self.shared.path.clone();
        let copy = beside(&path, ".restoring");
        let failed = |e: std::io::Error| format!("{} was removed, and restoring it failed: {e}", path.display());
        let reader = self.shared.reader.lock().clone();
        let mut out = File::create(&copy).map_err(failed)?;
        let mut at = 0u64;
        let mut buffer = vec![0; 1 << 20];
        while at < self.len {
            let n = buffer.len().min((self.len - at) as usize);
            reader.read_exact_at(&mut buffer[..n], at).map_err(failed)?;
            out.write_all(&buffer[..n]).map_err(failed)?;
            at += n as u64;
        }
        out.sync_all().map_err(failed)?;
        std::fs::rename(&copy, &path).map_err(failed)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        let file = OpenOptions::new().append(true).open(&path).map_err(failed)?;
        let meta = file.metadata().map_err(failed)?;
        *self.shared.reader.lock() = Arc::new(File::open(&path).map_err(failed)?);
        if let Some(syncer) = &self.syncer {
            syncer.switch_to(file.try_clone().map_err(failed)?);
        }
        (self.file, self.identity) = (file, identity(&meta));
        let note = format!(
            "the trail file was removed while in use; restored from the open file with its {} records",
            self.seq
        );
        log::warn!("audit trail {}: {note}", path.display());
        self.notes.push(trail_fields("trailRestored", &note));
        Ok(())
    }
}
