//! Where the records of sign-outs and locks go while the trail cannot be
//! written: into memory, into `<trail>.pending` (synced, so a crash keeps
//! them), and in full into the error log. Once the trail can be written
//! again they are chained into it, in the order they happened, each with
//! `happenedMs`; a gateway that starts with a `.pending` file left by an
//! earlier run chains its records first.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::files::beside;

/// Records kept in memory at most; beyond this, the `.pending` file and
/// the error log still hold them.
const KEEP_AT_MOST: usize = 100_000;

pub struct Fallback {
    path: PathBuf,
    file: Option<File>,
    /// Each record's fields with `happenedMs`, in order.
    kept: Vec<Vec<u8>>,
    /// Records beyond [`KEEP_AT_MOST`].
    overflow: u64,
}

pub fn pending_path(trail: &Path) -> PathBuf {
    beside(trail, ".pending")
}

impl Fallback {
    pub fn new(trail: &Path) -> Fallback {
        Fallback { path: pending_path(trail), file: None, kept: Vec::new(), overflow: 0 }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps a record the trail could not take, which happened at
    /// `happened_ms`: `fields` are its entry's fields.
    pub fn keep(&mut self, fields: &[u8], happened_ms: u64, why: &str) {
        let mut kept = Vec::with_capacity(fields.len() + 32);
        kept.extend_from_slice(fields);
        kept.extend_from_slice(format!(",\"happenedMs\":{happened_ms}").as_bytes());
        let line = [b"{".as_slice(), &kept, b"}\n"].concat();
        let spooled = self.spool(&line);
        let text = String::from_utf8_lossy(&line[..line.len() - 1]);
        match spooled {
            Ok(()) => log::error!("audit trail unavailable ({why}); kept in {}: {text}", self.path.display()),
            Err(e) => log::error!(
                "audit trail unavailable ({why}); {} cannot be written either ({e}); this line is the record: {text}",
                self.path.display()
            ),
        }
        if self.kept.len() < KEEP_AT_MOST {
            self.kept.push(kept);
        } else {
            self.overflow += 1;
        }
    }

    fn spool(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(OpenOptions::new().create(true).append(true).open(&self.path)?);
        }
        let file = self.file.as_mut().expect("opened above");
        file.write_all(line)?;
        file.sync_data()
    }

    /// The kept records, oldest first.
    pub fn kept(&self) -> &[Vec<u8>] {
        &self.kept
    }

    /// The kept records are in the trail now. Records beyond the memory
    /// bound are only in the `.pending` file: it is then kept, renamed, for
    /// the operator.
    pub fn written(&mut self) {
        self.file = None;
        self.kept.clear();
        if self.overflow > 0 {
            let aside = beside(&self.path, &format!(".{}", crate::clock::now_ms()));
            log::error!(
                "{} records kept while the audit trail could not be written did not fit in memory; all are in {}",
                self.overflow,
                aside.display()
            );
            let _ = std::fs::rename(&self.path, aside);
            self.overflow = 0;
        } else if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                log::warn!("{}: {e}; its records are in the audit trail now", self.path.display());
            }
        }
    }

    /// Records an earlier run left in `<trail>.pending`, to chain first. A
    /// torn last line (a crash while it was written) is left out; the error
    /// log has it.
    pub fn leftover(trail: &Path) -> Result<Vec<Vec<u8>>, String> {
        let path = pending_path(trail);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let mut records = Vec::new();
        for (n, line) in text.split_inclusive(|b| *b == b'\n').enumerate() {
            let Some(line) = line.strip_suffix(b"\n") else {
                log::warn!("{}: its last line is torn and left out (the error log has the record)", path.display());
                break;
            };
            let object = serde_json::from_slice::<serde_json::Value>(line).ok().filter(|v| v.is_object());
            match (object, line.first(), line.last()) {
                (Some(_), Some(b'{'), Some(b'}')) => records.push(line[1..line.len() - 1].to_vec()),
                _ => return Err(format!("{} line {}: not a kept record", path.display(), n + 1)),
            }
        }
        Ok(records)
    }
}
