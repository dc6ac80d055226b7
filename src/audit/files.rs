//! The trail's files and how they are read: the trail itself, its `.head`
//! sidecar, and reading lines from the end.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::record::parse_hash;

/// `<trail><suffix>`, beside the trail.
pub fn beside(trail: &Path, suffix: &str) -> PathBuf {
    let mut name = trail.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The `.head` sidecar: the last record's number and hash, overwritten in
/// place after every write, so that records cut from the end are found.
pub fn head_path(trail: &Path) -> PathBuf {
    beside(trail, ".head")
}

/// The chain's end as the head file holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: [u8; 64],
}

/// Reads the head file: `None` when it is missing or empty (nothing has
/// been written yet), an error when it is not a head.
pub fn read_head(trail: &Path) -> Result<Option<Head>, String> {
    let path = head_path(trail);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a head: {e}", path.display()))?;
    let seq = value["seq"].as_u64();
    let hash = value["hash"].as_str().and_then(parse_hash);
    match (seq, hash) {
        (Some(seq), Some(hash)) => Ok(Some(Head { seq, hash })),
        _ => Err(format!("{} is not a head: {text:?}", path.display())),
    }
}

/// The fixed-width text of a head, so that each write covers the one before.
pub fn head_text(seq: u64, hash: &[u8; 64]) -> String {
    format!("{{\"seq\":{seq:>20},\"hash\":\"{}\"}}\n", std::str::from_utf8(hash).unwrap_or_default())
}

/// Which file a path names: device and inode.
pub fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// Calls `each` with the start offset and text of the lines of `file`
/// that lie between `start` and `end`, last line first, until it returns
/// false. `end` must be a line's end; a line that begins before `start`
/// is not shown.
pub fn lines_backward(
    file: &File,
    start: u64,
    end: u64,
    mut each: impl FnMut(u64, &[u8]) -> bool,
) -> std::io::Result<()> {
    const CHUNK: u64 = 64 * 1024;
    let mut pos = end;
    // The text after this chunk up to the first line end seen: the end of a
    // line that begins in this chunk or earlier.
    let mut rest = Vec::new();
    while pos > start {
        let from = pos.saturating_sub(CHUNK).max(start);
        let mut data = vec![0; (pos - from) as usize];
        file.read_exact_at(&mut data, from)?;
        data.extend_from_slice(&rest);
        // Lines that begin in this chunk (the first may have begun before).
        let first = if from == start { 0 } else { data.iter().position(|b| *b == b'\n').map_or(data.len(), |i| i + 1) };
        let mut line_end = data.len();
        while line_end > first {
            let body_end = if data[line_end - 1] == b'\n' { line_end - 1 } else { line_end };
            let line_start = data[first..body_end].iter().rposition(|b| *b == b'\n').map_or(first, |i| first + i + 1);
            if line_start < body_end && !each(from + line_start as u64, &data[line_start..body_end]) {
                return Ok(());
            }
            line_end = line_start;
        }
        data.truncate(first);
        rest = data;
        pos = from;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, start: u64) -> Vec<(u64, String)> {
        let path = std::env::temp_dir().join(format!("agw-lines-unit-{}-{}", std::process::id(), text.len()));
        std::fs::write(&path, text).unwrap();
        let file = File::open(&path).unwrap();
        let mut seen = Vec::new();
        lines_backward(&file, start, text.len() as u64, |at, line| {
            seen.push((at, String::from_utf8(line.to_vec()).unwrap()));
            true
        })
        .unwrap();
        seen
    }

    #[test]
    fn lines_come_last_first_with_their_offsets_across_chunk_ends() {
        let lines: Vec<String> = (0..3000).map(|n| format!("line {n:04} {}", "x".repeat(n % 97))).collect();
        let text = lines.join("\n") + "\n";
        assert!(text.len() > 128 * 1024, "more than two chunks");
        let seen = lines_of(&text, 0);
        assert_eq!(seen.len(), 3000);
        for (at, line) in &seen {
            assert_eq!(&text[*at as usize..*at as usize + line.len()], line);
        }
        let expected: Vec<&String> = lines.iter().rev().collect();
        assert_eq!(seen.iter().map(|(_, l)| l).collect::<Vec<_>>(), expected);
        // From a line start in the middle: only the lines from there on.
        let middle = seen[1000].0;
        assert_eq!(lines_of(&text, middle).len(), 1001);
    }
}
