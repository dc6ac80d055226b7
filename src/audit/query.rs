//! Finding records by time without a window: records are written in time
//! order (a record's time is never earlier than the one before it), so the
//! lines of a time range are found by binary search on the file, and only
//! that range is read, newest first. A burst of records elsewhere in the
//! file costs a query nothing, and hides nothing.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use super::files::lines_backward;
use crate::domain::audit::Record;

/// A range this small is read line by line instead of halved again.
const SCAN: u64 = 64 * 1024;

/// The records of `file` up to byte `end` whose time lies in `time`, that
/// pass `keep`, newest first: `take` of them after skipping `skip`, and how
/// many passed in all.
pub fn search(
    file: &File,
    end: u64,
    time: Range<u64>,
    keep: &mut dyn FnMut(&Record) -> bool,
    skip: usize,
    take: usize,
) -> std::io::Result<(Vec<Record>, usize)> {
    if time.start >= time.end {
        return Ok((Vec::new(), 0));
    }
    let from = first_at_or_after(file, end, time.start)?;
    let to = first_at_or_after(file, end, time.end)?;
    let (mut total, mut page) = (0, Vec::new());
    lines_backward(file, from, to, |_, line| {
        let record = serde_json::from_slice::<Record>(line).ok();
        // The search is exact for records in time order; the check keeps
        // an edited file's strays out too.
        if let Some(record) = record.filter(|r| time.contains(&r.time_ms) && keep(r)) {
            if total >= skip && page.len() < take {
                page.push(record);
            }
            total += 1;
        }
        true
    })?;
    Ok((page, total))
}

/// The offset of the first line (before `end`) written at or after `t`,
/// or `end` when there is none.
fn first_at_or_after(file: &File, end: u64, t: u64) -> std::io::Result<u64> {
    // `lo` is a line start before every line at or after `t`; `hi` is a
    // line start at or after `t`, or `end`.
    let (mut lo, mut hi) = (0u64, end);
    while hi - lo > SCAN {
        let mid = lo + (hi - lo) / 2;
        match line_at_or_after(file, mid, hi)? {
            Some((start, line)) => match time_of(&line) {
                Some(time) if time >= t => hi = start,
                // Earlier, or not a record: the answer lies after it.
                _ => lo = start,
            },
            // One line spans the rest: it is the last candidate.
            None => hi = mid,
        }
    }
    let mut length = (hi - lo) as usize;
    let mut data = vec![0; length];
    file.read_exact_at(&mut data, lo)?;
    // Complete the last line, which may run past `hi` when `hi` was moved
    // to the middle of a line.
    while data.last().is_some_and(|b| *b != b'\n') && lo + (length as u64) < end {
        let more = SCAN.min(end - lo - length as u64) as usize;
        data.resize(length + more, 0);
        file.read_exact_at(&mut data[length..], lo + length as u64)?;
        length += more;
    }
    let mut at = 0;
    for line in data.split_inclusive(|b| *b == b'\n') {
        if time_of(line).is_some_and(|time| time >= t) {
            return Ok(lo + at as u64);
        }
        at += line.len();
    }
    Ok((lo + at as u64).min(end))
}

/// The first whole line that starts at or after `pos` and before `before`.
fn line_at_or_after(file: &File, pos: u64, before: u64) -> std::io::Result<Option<(u64, Vec<u8>)>> {
    let mut start = pos;
    if pos > 0 {
        // A line starts after the first line end at or after pos - 1.
        let mut probe = vec![0; SCAN.min(before - pos + 1) as usize];
        file.read_exact_at(&mut probe, pos - 1)?;
        match probe.iter().position(|b| *b == b'\n') {
            Some(i) => start = pos - 1 + i as u64 + 1,
            None => return Ok(None),
        }
    }
    if start >= before {
        return Ok(None);
    }
    let mut line = vec![0; SCAN.min(before - start) as usize];
    file.read_exact_at(&mut line, start)?;
    if let Some(i) = line.iter().position(|b| *b == b'\n') {
        line.truncate(i);
    }
    Ok(Some((start, line)))
}

/// A line's `timeMs`, read from its start (`{"seq":…,"time":"…","timeMs":…`).
fn time_of(line: &[u8]) -> Option<u64> {
    let marker = b"\"timeMs\":";
    let at = line.windows(marker.len()).take(96).position(|w| w == marker)? + marker.len();
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at..at + digits]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::{seal, trail_fields, GENESIS};

    /// A trail whose record n (1-based) was written at `times[n - 1]`.
    fn trail(name: &str, times: &[u64]) -> (File, u64) {
        let path = std::env::temp_dir().join(format!("agw-query-unit-{}-{name}", std::process::id()));
        let (mut out, mut hash) = (Vec::new(), GENESIS);
        for (n, time) in times.iter().enumerate() {
            hash = seal(&mut out, n as u64 + 1, *time, &trail_fields("test", &"x".repeat(n % 300)), &hash);
        }
        std::fs::write(&path, &out).unwrap();
        (File::open(&path).unwrap(), out.len() as u64)
    }

    fn seqs(file: &File, end: u64, time: Range<u64>) -> Vec<u64> {
        let (page, total) = search(file, end, time, &mut |_| true, 0, usize::MAX).unwrap();
        assert_eq!(page.len(), total);
        page.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn a_time_range_finds_exactly_its_records_newest_first_in_a_large_file() {
        // 20,000 records, ten per millisecond: about 5 MiB, many chunks.
        let times: Vec<u64> = (0..20_000).map(|n| 1_000_000 + n / 10).collect();
        let (file, end) = trail("large", &times);
        assert!(end > 4 * SCAN * 16);
        let expected = |range: Range<u64>| -> Vec<u64> {
            let mut seqs: Vec<u64> = (1..=20_000u64).filter(|seq| range.contains(&times[*seq as usize - 1])).collect();
            seqs.reverse();
            seqs
        };
        for range in [1_000_000..1_000_001, 1_000_500..1_000_700, 1_001_999..1_002_000, 0..u64::MAX, 5..6] {
            assert_eq!(seqs(&file, end, range.clone()), expected(range.clone()), "{range:?}");
        }
        assert_eq!(seqs(&file, end, 2_000_000..3_000_000), Vec::<u64>::new());
    }

    #[test]
    fn paging_and_filters_count_every_match_of_the_range() {
        let times: Vec<u64> = (0..500).map(|n| 10_000 + n).collect();
        let (file, end) = trail("paging", &times);
        let mut odd = |r: &Record| r.seq % 2 == 1;
        let (page, total) = search(&file, end, 10_100..10_200, &mut odd, 5, 3).unwrap();
        assert_eq!(total, 50);
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [189, 187, 185]);
    }
}
