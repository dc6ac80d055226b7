//! `agentgateway audit verify`: the whole trail checked against itself,
//! its head, and any anchors an outside collector kept.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::files::read_head;
use super::record::{line_hash, GENESIS};
use crate::domain::audit::Record;

/// The first problem [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Every record is intact and in order; `head` says whether a head
    /// file was there to check the end against.
    Intact { records: u64, head: bool },
    /// Every complete record is intact, and after them comes a torn
    /// record: a write cut short by a crash or a full disk, not an edit.
    /// The gateway cuts it off (and records the cut) when it next starts.
    Torn { records: u64, bytes: usize },
    /// The record at `line` is not what was written.
    Edited { line: usize, seq: Option<u64> },
    /// Records are missing before `line`.
    Removed { line: usize, expected_seq: u64, found_seq: u64 },
    /// The record at `line` is out of order.
    Reordered { line: usize, expected_seq: u64, found_seq: u64 },
    /// Records after the file's last one were removed (the head says more).
    TailRemoved { last_seq: u64, head_seq: u64 },
    /// An anchor kept outside does not match: the record it names is not
    /// the one that was written then (`found` is `None` when it is gone).
    AnchorMismatch { seq: u64, found: Option<String> },
}

impl Finding {
    /// True when nothing was edited or removed.
    pub fn is_intact(&self) -> bool {
        matches!(self, Finding::Intact { .. } | Finding::Torn { .. })
    }
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
            Finding::Torn { records, bytes } => write!(
                f,
                "intact: {records} records, chain and head agree; then a torn record ({bytes} bytes without a line \
                 end: a write cut short by a crash or a full disk), which the gateway cuts off and records at its \
                 next start"
            ),
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
            Finding::AnchorMismatch { seq, found: Some(hash) } => {
                write!(f, "record {seq} does not match its anchor: its hash is {hash}")
            }
            Finding::AnchorMismatch { seq, found: None } => {
                write!(f, "record {seq}, which an anchor names, is not in the trail (a new chain?)")
            }
        }
    }
}

/// An anchor: a record's number and its hash (or a prefix of at least 12
/// hex digits of it), as the gateway published them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    /// `SEQ:HASH`.
    fn from_str(text: &str) -> Result<Anchor, String> {
        let (seq, hash) = text.split_once(':').ok_or("expected SEQ:HASH")?;
        let seq = seq.parse().map_err(|_| format!("{seq:?} is not a record number"))?;
        let hash = hash.to_ascii_lowercase();
        if !(12..=64).contains(&hash.len()) || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the hash must be 12 to 64 hex digits".into());
        }
        Ok(Anchor { seq, hash })
    }
}

/// Checks a whole audit file, its head, and `anchors`.
pub fn verify(path: &Path, anchors: &[Anchor]) -> Result<Finding, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Text after the last line end is a torn record, not a line.
    let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let torn = text.len() - complete;
    let lines: Vec<&[u8]> = text[..complete].split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let records: Vec<Option<Record>> = lines.iter().map(|l| serde_json::from_slice::<Record>(l).ok()).collect();
    // Every number present, to tell a record that moved from one removed.
    let present: HashSet<u64> = records.iter().flatten().map(|r| r.seq).collect();
    let wanted: HashSet<u64> = anchors.iter().map(|a| a.seq).collect();
    let mut kept: HashMap<u64, String> = HashMap::new();
    let (mut seq, mut hash) = (0u64, GENESIS);
    for (n, (line, record)) in lines.iter().zip(&records).enumerate() {
        let at = n + 1;
        let Some(record) = record else {
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
        if wanted.contains(&record.seq) {
            kept.insert(record.seq, record.hash.clone());
        }
        (seq, hash) = (record.seq, record.hash.as_bytes().try_into().unwrap_or(GENESIS));
    }
    for anchor in anchors {
        match kept.get(&anchor.seq) {
            Some(found) if found.starts_with(&anchor.hash) => {}
            found => return Ok(Finding::AnchorMismatch { seq: anchor.seq, found: found.cloned() }),
        }
    }
    let head = match read_head(path) {
        Ok(head) => head,
        Err(_) if !head_exists(path) => return Ok(intact(seq, false, torn)),
        Err(e) => return Err(e),
    };
    match head {
        Some(head) if head.seq > seq => Ok(Finding::TailRemoved { last_seq: seq, head_seq: head.seq }),
        Some(head) if head.seq == seq && head.hash != hash => Ok(Finding::Edited { line: lines.len(), seq: Some(seq) }),
        // The head lags by the last batch after a crash between the two
        // writes: it must still name a record as written.
        Some(head) if head.seq < seq && hash_of(&records, head.seq) != head.hash => {
            Ok(Finding::Edited { line: head.seq as usize, seq: Some(head.seq) })
        }
        _ => Ok(intact(seq, head_exists(path), torn)),
    }
}

/// The hash of record `seq` of a checked chain (the genesis for 0).
fn hash_of(records: &[Option<Record>], seq: u64) -> [u8; 64] {
    let record = seq.checked_sub(1).and_then(|at| records.get(at as usize)).and_then(Option::as_ref);
    record.and_then(|r| r.hash.as_bytes().try_into().ok()).unwrap_or(GENESIS)
}

fn head_exists(path: &Path) -> bool {
    super::files::head_path(path).exists()
}

fn intact(records: u64, head: bool, torn: usize) -> Finding {
    match torn {
        0 => Finding::Intact { records, head },
        bytes => Finding::Torn { records, bytes },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::files::{head_path, head_text};
    use crate::audit::record::{seal, trail_fields};

    /// A trail of `n` records with its head; returns the path and lines.
    fn trail(name: &str, n: u64) -> (std::path::PathBuf, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("agw-verify-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let (mut out, mut hash, mut lines) = (Vec::new(), GENESIS, Vec::new());
        for seq in 1..=n {
            let start = out.len();
            hash = seal(&mut out, seq, 1000 + seq, &trail_fields("test", &format!("record {seq}")), &hash);
            lines.push(String::from_utf8(out[start..out.len() - 1].to_vec()).unwrap());
        }
        std::fs::write(&path, &out).unwrap();
        std::fs::write(head_path(&path), if n == 0 { String::new() } else { head_text(n, &hash) }).unwrap();
        (path, lines)
    }

    fn rewrite(path: &Path, lines: &[String], change: impl FnOnce(&mut Vec<String>)) {
        let mut lines = lines.to_vec();
        change(&mut lines);
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_found() {
        let (path, lines) = trail("tamper", 4);
        rewrite(&path, &lines, |l| l[1] = l[1].replace("record 2", "record 9"));
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Edited { line: 2, seq: Some(2) });
        rewrite(&path, &lines, |l| drop(l.remove(1)));
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Removed { line: 2, expected_seq: 2, found_seq: 3 });
        rewrite(&path, &lines, |l| l.swap(1, 2));
        assert_eq!(verify(&path, &[]).unwrap(), Finding::Reordered { line: 2, expected_seq: 2, found_seq: 3 });
        rewrite(&path, &lines, |l| drop(l.pop()));
        assert_eq!(verify(&path, &[]).unwrap(), Finding::TailRemoved { last_seq: 3, head_seq: 4 });
        rewrite(&path, &lines, |l| l[3].push_str("garbage"));
        assert!(!verify(&path, &[]).unwrap().is_intact(), "a bad last line with its line end is an edit");
    }

    #[test]
    fn a_torn_last_record_is_not_an_edit_and_an_empty_trail_is_intact() {
        let (path, lines) = trail("torn", 3);
        let torn = "{\"seq\":4,\"time\":\"2026";
        std::fs::write(&path, lines.join("\n") + "\n" + torn).unwrap();
        let finding = verify(&path, &[]).unwrap();
        assert_eq!(finding, Finding::Torn { records: 3, bytes: torn.len() });
        assert!(finding.is_intact());
        let (empty, _) = trail("empty", 0);
        assert_eq!(verify(&empty, &[]).unwrap(), Finding::Intact { records: 0, head: true });
    }

    #[test]
    fn anchors_kept_outside_must_still_match() {
        let (path, lines) = trail("anchors", 5);
        let record: Record = serde_json::from_str(&lines[2]).unwrap();
        let good: Anchor = format!("3:{}", &record.hash[..12]).parse().unwrap();
        assert!(verify(&path, std::slice::from_ref(&good)).unwrap().is_intact());
        let wrong: Anchor = format!("3:{}", "0".repeat(16)).parse().unwrap();
        assert_eq!(
            verify(&path, &[wrong]).unwrap(),
            Finding::AnchorMismatch { seq: 3, found: Some(record.hash.clone()) }
        );
        // A new chain in place of the old one: the anchor's record is gone.
        let beyond: Anchor = format!("9:{}", &record.hash[..12]).parse().unwrap();
        assert_eq!(verify(&path, &[beyond]).unwrap(), Finding::AnchorMismatch { seq: 9, found: None });
        assert!("3:abc".parse::<Anchor>().is_err() && "x:abcdefabcdef".parse::<Anchor>().is_err());
    }
}
