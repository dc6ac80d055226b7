//! The start-up check of the chain a gateway continues: the end of the
//! trail, not the whole file.
//!
//! The records from the one the head names to the last complete line must
//! each hash to what they say, follow in number and link to the one before;
//! the head's record must carry the head's hash. The head may lag the file
//! by the last batch (a crash between writing a batch and its head), never
//! lead it. Text after the last line end is a torn record, the mark of a
//! write that was cut short (a crash, a full disk): it is reported as such
//! and cut off on start-up. Anything else is a broken tail, which the
//! gateway refuses to continue unless told to set the trail aside.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::files::{lines_backward, read_head, Head};
use super::record::{hex, line_hash, parse_hash, GENESIS};

/// How far back from the end the check reads to reach the head's record:
/// the head lags by at most one batch (4,096 records), far less than this.
const READ_BACK_BYTES: u64 = 16 << 20;

/// Where the chain continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    pub seq: u64,
    pub hash: [u8; 64],
    /// Time of the last record: later records are never earlier.
    pub time_ms: u64,
    /// Bytes of complete records.
    pub len: u64,
    /// A torn record after them, to cut off.
    pub torn: Option<Torn>,
}

impl Continuation {
    pub fn fresh() -> Continuation {
        Continuation { seq: 0, hash: GENESIS, time_ms: 0, len: 0, torn: None }
    }
}

/// Text after the last complete record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torn {
    pub bytes: u64,
    /// SHA-256 of the torn text, so the record of the cut names what it cut.
    pub sha256: String,
}

/// The fields a record must have for the check.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    seq: u64,
    time_ms: u64,
    prev: String,
    hash: String,
}

/// Checks the end of the trail at `path` against its head.
pub fn check(path: &Path) -> Result<Continuation, String> {
    let head = read_head(path)?;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match head {
                Some(head) if head.seq > 0 => {
                    Err(format!("the trail file is missing, but its head says it held {} records", head.seq))
                }
                _ => Ok(Continuation::fresh()),
            };
        }
        Err(e) => return Err(e.to_string()),
    };
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let (len, torn) = complete_part(&file, size).map_err(|e| e.to_string())?;
    let mut continuation = Continuation { torn, ..Continuation::fresh() };
    continuation.len = len;
    let wanted = head.unwrap_or(Head { seq: 0, hash: GENESIS });
    let mut newer: Option<Link> = None;
    let mut outcome: Option<Result<(), String>> = None;
    let read_from = len.saturating_sub(READ_BACK_BYTES);
    let reading = lines_backward(&file, 0, len, |at, line| {
        let verdict = step(&wanted, at, line, newer.as_ref(), read_from);
        if newer.is_none() {
            if let Ok((record, _)) = &verdict {
                (continuation.seq, continuation.time_ms) = (record.seq, record.time_ms);
                continuation.hash = parse_hash(&record.hash).unwrap_or(GENESIS);
            }
        }
        match verdict {
            Ok((record, None)) => {
                newer = Some(record);
                true
            }
            Ok((_, Some(done))) => {
                outcome = Some(done);
                false
            }
            Err(problem) => {
                outcome = Some(Err(problem));
                false
            }
        }
    });
    reading.map_err(|e| e.to_string())?;
    match outcome {
        Some(Err(problem)) => Err(problem),
        Some(Ok(())) => Ok(continuation),
        // No complete record at all: only a fresh head fits.
        None if wanted.seq == 0 => Ok(continuation),
        None => Err(format!("the trail holds no complete record, but its head says it held {}", wanted.seq)),
    }
}

/// One record of the walk back (at byte `at`): the record, and the verdict
/// once the walk may stop.
#[allow(clippy::type_complexity)]
fn step(
    head: &Head,
    at: u64,
    line: &[u8],
    newer: Option<&Link>,
    read_from: u64,
) -> Result<(Link, Option<Result<(), String>>), String> {
    let record = link(line, newer)?;
    if newer.is_none() && record.seq < head.seq {
        return Err(format!(
            "records {}..{} were removed from the end (the head says {})",
            record.seq + 1,
            head.seq,
            head.seq
        ));
    }
    if head.seq > 0 && record.seq == head.seq {
        let verdict = match record.hash.as_bytes() == head.hash {
            true => Ok(()),
            false => Err(format!("record {} does not carry the hash its head names", record.seq)),
        };
        return Ok((record, Some(verdict)));
    }
    if at == 0 {
        // The file's first record: the chain must begin here.
        let verdict = match record.seq == 1 && record.prev.as_bytes() == GENESIS {
            true => Ok(()),
            false => Err(format!("the trail begins with record {}, not with the first record", record.seq)),
        };
        return Ok((record, Some(verdict)));
    }
    if at <= read_from {
        let wanted = match head.seq {
            0 => "the trail's first record (there is no head)".to_owned(),
            seq => format!("the head's record {seq}"),
        };
        return Err(format!("{wanted} is not within the last {} MiB of the file", READ_BACK_BYTES >> 20));
    }
    Ok((record, None))
}

/// One record of the walk back, checked against the newer one after it.
fn link(line: &[u8], newer: Option<&Link>) -> Result<Link, String> {
    let record: Link = serde_json::from_slice(line).map_err(|_| "a line near the end is not a record".to_owned())?;
    if line_hash(line).as_ref().map(|h| &h[..]) != Some(record.hash.as_bytes()) {
        return Err(format!("record {} was edited", record.seq));
    }
    if let Some(newer) = newer {
        if newer.seq != record.seq + 1 || newer.prev != record.hash {
            return Err(format!("record {} does not follow record {}", newer.seq, record.seq));
        }
    }
    Ok(record)
}

/// The length of the complete lines, and the torn text after them.
fn complete_part(file: &File, size: u64) -> std::io::Result<(u64, Option<Torn>)> {
    let mut end = size;
    let mut torn = Vec::new();
    // Read back to the last line end (a torn record is short; a record
    // without any line end before it is all torn).
    while end > 0 {
        let from = end.saturating_sub(64 * 1024);
        let mut chunk = vec![0; (end - from) as usize];
        file.read_exact_at(&mut chunk, from)?;
        match chunk.iter().rposition(|b| *b == b'\n') {
            Some(at) => {
                torn.splice(0..0, chunk[at + 1..].iter().copied());
                end = from + at as u64 + 1;
                break;
            }
            None => {
                torn.splice(0..0, chunk);
                end = from;
            }
        }
    }
    let torn = (!torn.is_empty()).then(|| Torn {
        bytes: torn.len() as u64,
        sha256: String::from_utf8_lossy(&hex(&Sha256::digest(&torn))).into(),
    });
    Ok((end, torn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::files::{head_path, head_text};
    use crate::audit::record::{seal, trail_fields};

    /// A trail of `n` records and its head (at `head`, or none).
    fn trail(name: &str, n: u64, head: Option<u64>) -> (std::path::PathBuf, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("agw-tail-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let (mut out, mut hash, mut lines, mut hashes) = (Vec::new(), GENESIS, Vec::new(), vec![GENESIS]);
        for seq in 1..=n {
            let start = out.len();
            hash = seal(&mut out, seq, 1000 + seq, &trail_fields("test", "x"), &hash);
            lines.push(String::from_utf8(out[start..].to_vec()).unwrap());
            hashes.push(hash);
        }
        std::fs::write(&path, &out).unwrap();
        if let Some(at) = head {
            std::fs::write(head_path(&path), head_text(at, &hashes[at as usize])).unwrap();
        }
        (path, lines)
    }

    #[test]
    fn a_sound_end_continues_even_when_the_head_lags_by_a_batch() {
        let (path, _) = trail("sound", 5, Some(5));
        let end = check(&path).unwrap();
        assert_eq!((end.seq, end.time_ms, end.torn), (5, 1005, None));
        let (path, _) = trail("lagging", 5, Some(3));
        assert_eq!(check(&path).unwrap().seq, 5);
        let (path, _) = trail("first-batch", 3, None);
        assert_eq!(check(&path).unwrap().seq, 3, "a crash before the first head write");
    }

    #[test]
    fn a_torn_last_record_is_reported_with_its_length_and_the_rest_continues() {
        let (path, _) = trail("torn", 4, Some(4));
        let mut text = std::fs::read(&path).unwrap();
        text.extend_from_slice(b"{\"seq\":5,\"ti");
        std::fs::write(&path, &text).unwrap();
        let end = check(&path).unwrap();
        assert_eq!((end.seq, end.len), (4, text.len() as u64 - 12));
        assert_eq!(end.torn.unwrap().bytes, 12);
    }

    #[test]
    fn removed_edited_or_missing_ends_are_broken() {
        let (path, lines) = trail("removed", 5, Some(5));
        std::fs::write(&path, lines[..4].concat()).unwrap();
        assert!(check(&path).unwrap_err().contains("records 5..5 were removed"));
        let (path, lines) = trail("edited", 5, Some(5));
        std::fs::write(&path, lines[..4].concat() + &lines[4].replace("\"x\"", "\"y\"")).unwrap();
        assert!(check(&path).unwrap_err().contains("record 5 was edited"));
        let (path, _) = trail("missing", 5, Some(5));
        std::fs::remove_file(&path).unwrap();
        assert!(check(&path).unwrap_err().contains("missing"));
        let (path, _) = trail("fresh", 0, None);
        assert_eq!(check(&path).unwrap(), Continuation::fresh());
        let (path, lines) = trail("replaced-head", 5, Some(5));
        std::fs::write(head_path(&path), head_text(5, &GENESIS)).unwrap();
        assert!(check(&path).unwrap_err().contains("record 5 does not carry"), "{lines:?}");
    }
}
