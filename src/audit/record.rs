//! A record's bytes: how an [`ActionRecord`] is written as JSON fields,
//! how a line is sealed into the chain, and how its hash is checked.
//!
//! A line is `{"seq":…,"time":"…","timeMs":…,<entry fields>,"prev":"…","hash":"…"}`;
//! `hash` is the SHA-256 of the line up to `prev`'s closing quote plus `}`,
//! so each record covers the one before it.

use std::fmt::Display;
use std::io::Write;
use std::net::IpAddr;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::domain::audit::{ActionRecord, Actor};

/// Hash of the (absent) record before the first.
pub const GENESIS: [u8; 64] = [b'0'; 64];

/// Text written as a JSON string straight from its `Display`: a work
/// number or an address needs no `String` of its own.
#[derive(Clone, Copy)]
struct Shown<'a>(&'a (dyn Display + Sync));

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// An actor's work number, or `system`.
struct ActorName(Actor);

impl Display for ActorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.work_no() {
            Some(work_no) => work_no.fmt(f),
            None => f.write_str("system"),
        }
    }
}

/// The client's address, or nothing.
struct Address(Option<IpAddr>);

impl Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.map_or(Ok(()), |ip| ip.fmt(f))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActorRef<'a> {
    work_no: Shown<'a>,
    role: &'a str,
    ip: Shown<'a>,
}

#[derive(Serialize)]
struct ReasonRef<'a> {
    code: u16,
    category: &'a str,
    name: &'a str,
}

/// The entry's fields as written, borrowing everything; they read back as
/// [`crate::domain::audit::Entry`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryRef<'a> {
    actor: ActorRef<'a>,
    target: Shown<'a>,
    action: &'a str,
    reason: Option<ReasonRef<'a>>,
    retcode: &'a str,
    request_id: Shown<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// Appends the record's fields (without the enclosing braces) to `out`.
pub fn write_fields(out: &mut Vec<u8>, record: &ActionRecord) {
    let name = ActorName(record.actor);
    let ip = Address(record.origin.and_then(|o| o.ip));
    let request_id: &(dyn Display + Sync) = match record.origin {
        Some(origin) => &origin.request_id,
        None => &"",
    };
    let entry = EntryRef {
        actor: ActorRef { work_no: Shown(&name), role: record.actor.role(), ip: Shown(&ip) },
        target: Shown(&record.target),
        action: record.action.name(),
        reason: record.reason.map(|r| ReasonRef { code: r.code, category: r.category.as_str(), name: r.name }),
        retcode: record.retcode.code(),
        request_id: Shown(request_id),
        note: None,
    };
    serialise_fields(out, &entry);
}

/// The fields of a record about the trail itself: by the system, about no
/// agent, saying what was done in `note`.
pub fn trail_fields(action: &str, note: &str) -> Vec<u8> {
    let entry = EntryRef {
        actor: ActorRef { work_no: Shown(&"system"), role: "system", ip: Shown(&"") },
        target: Shown(&""),
        action,
        reason: None,
        retcode: "0",
        request_id: Shown(&""),
        note: Some(note),
    };
    let mut out = Vec::new();
    serialise_fields(&mut out, &entry);
    out
}

fn serialise_fields(out: &mut Vec<u8>, entry: &EntryRef) {
    let start = out.len();
    serde_json::to_writer(&mut *out, entry).expect("entries serialise");
    // Drop the braces: the writer puts the record's own fields around these.
    out.pop();
    out.remove(start);
}

/// Lower-case hex of a SHA-256.
pub fn hex(bytes: &[u8]) -> [u8; 64] {
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
/// the hash. The same bytes as serialising a record field by field.
pub fn seal(out: &mut Vec<u8>, seq: u64, time_ms: u64, fields: &[u8], prev: &[u8; 64]) -> [u8; 64] {
    let start = out.len();
    let time = crate::clock::rfc3339(time_ms);
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
pub fn line_hash(line: &[u8]) -> Option<[u8; 64]> {
    let marker = b",\"hash\":\"";
    let cut = line.windows(marker.len()).rposition(|w| w == marker)?;
    let mut hasher = Sha256::new();
    hasher.update(&line[..cut]);
    hasher.update(b"}");
    Some(hex(&hasher.finalize()))
}

/// The first 52 bits of a hex hash as a number: exact in an `f64`, so a
/// metric can carry it.
pub fn hash_prefix(hash: &[u8; 64]) -> u64 {
    std::str::from_utf8(&hash[..13]).ok().and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0)
}

/// A SHA-256 hash in hex.
pub fn parse_hash(text: &str) -> Option<[u8; 64]> {
    let bytes: [u8; 64] = text.as_bytes().try_into().ok()?;
    bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{Action, Origin, Reason, Record, RequestId};
    use crate::domain::directory::Role;
    use crate::domain::ids::WorkNo;
    use crate::domain::params::SignOutReason;
    use crate::domain::reasons::Category;
    use crate::retcode::Retcode;

    #[test]
    fn a_sealed_record_reads_back_with_its_text_escaped_and_its_hash_checks() {
        let origin = Origin { request_id: RequestId::new(), ip: Some("127.0.0.1".parse().unwrap()) };
        let name = "\"quoted\" \\ tab\t, newline\n and ünïcode";
        let record = ActionRecord {
            actor: Actor::Caller { work_no: WorkNo::new(900).unwrap(), role: Role::Inspector },
            target: WorkNo::new(101).unwrap(),
            action: Action::ForceLogoutWithReason(SignOutReason::parse_client("57").unwrap()),
            reason: Some(Reason { code: 57, category: Category::Signout, name }),
            retcode: Retcode::Success,
            origin: Some(&origin),
        };
        let mut fields = Vec::new();
        write_fields(&mut fields, &record);
        let mut line = Vec::new();
        let hash = seal(&mut line, 7, 1_764_626_399_999, &fields, &GENESIS);
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let read: Record = serde_json::from_slice(&line).unwrap();
        assert_eq!((read.seq, read.time.as_str()), (7, "2025-12-01T21:59:59.999Z"));
        assert_eq!((read.entry.actor.work_no.as_str(), read.entry.actor.role.as_str()), ("900", "inspector"));
        assert_eq!(read.entry.reason.unwrap().name, name);
        assert_eq!(read.entry.request_id, origin.request_id.to_string());
        assert_eq!((read.entry.note, read.entry.happened_ms), (None, None));
        assert_eq!(read.hash.as_bytes(), hash);
        assert_eq!(line_hash(&line[..line.len() - 1]), Some(hash));
        assert_eq!(hash_prefix(&hash), u64::from_str_radix(std::str::from_utf8(&hash[..13]).unwrap(), 16).unwrap());
    }
}
