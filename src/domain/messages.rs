//! Notes (`sendnoteletex`) and bulletins (`notifybulletin`): their bodies,
//! validated field by field. Every problem with a body is a message
//! parameter error (000-006). Numbers may be JSON numbers or strings, as
//! Huawei's sample clients send them both ways.

use serde_json::Value;

use super::ids::{parse_decimal, WorkNo};
use super::Failure;
use crate::retcode::Retcode;

/// Most receivers of one note (reference §2.1 row 24).
pub const MAX_NOTE_RECEIVERS: usize = 100;
/// Longest note, in UTF-8 bytes.
pub const MAX_NOTE_BYTES: usize = 1023;
/// Longest bulletin target name, in characters.
pub const MAX_TARGET_NAME: usize = 100;
/// Longest bulletin, in characters.
pub const MAX_BULLETIN: usize = 900;

/// A validated `sendnoteletex` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRequest {
    /// Receiving work numbers, each once, in the order given.
    pub receivers: Vec<WorkNo>,
    /// The note's text, 0–1023 bytes of UTF-8.
    pub content: String,
}

/// Whom a bulletin is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulletinTarget {
    /// `targettype` 0: an agent group (team).
    Team,
    /// `targettype` 1: a skill queue.
    SkillQueue,
}

/// A validated `notifybulletin` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulletinRequest {
    pub target: BulletinTarget,
    /// The team's or skill queue's name (or its number), 1–100 characters.
    pub name: String,
    /// The bulletin, 0–900 characters.
    pub data: String,
}

fn refuse(detail: impl Into<String>) -> Failure {
    Failure::new(Retcode::MessageError, detail.into())
}

/// A number sent as a JSON number or as a string of digits.
fn number(value: &Value, max_digits: usize) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_decimal(s, max_digits),
        _ => None,
    }
}

fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, Failure> {
    body.as_object().ok_or_else(|| refuse("the body must be a JSON object"))
}

fn string<'a>(fields: &'a serde_json::Map<String, Value>, key: &str) -> Result<&'a str, Failure> {
    match fields.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(refuse(format!("{key} must be a string"))),
        None => Err(refuse(format!("{key} is required"))),
    }
}

impl NoteRequest {
    pub fn from_json(body: &Value) -> Result<NoteRequest, Failure> {
        let fields = object(body)?;
        let ids = match fields.get("agentIds") {
            Some(Value::Array(ids)) if (1..=MAX_NOTE_RECEIVERS).contains(&ids.len()) => ids,
            _ => return Err(refuse(format!("agentIds must list 1 to {MAX_NOTE_RECEIVERS} work numbers"))),
        };
        let mut receivers = Vec::with_capacity(ids.len());
        for id in ids {
            let work_no = number(id, 6)
                .and_then(|n| WorkNo::new(u32::try_from(n).ok()?))
                .ok_or_else(|| refuse("agentIds must hold work numbers from 101 to 999999"))?;
            if !receivers.contains(&work_no) {
                receivers.push(work_no);
            }
        }
        let content = string(fields, "content")?;
        if content.len() > MAX_NOTE_BYTES {
            return Err(refuse(format!("content is longer than {MAX_NOTE_BYTES} bytes")));
        }
        Ok(NoteRequest { receivers, content: content.to_owned() })
    }
}

impl BulletinRequest {
    pub fn from_json(body: &Value) -> Result<BulletinRequest, Failure> {
        let fields = object(body)?;
        let target = match fields.get("targettype").and_then(|t| number(t, 1)) {
            Some(0) => BulletinTarget::Team,
            Some(1) => BulletinTarget::SkillQueue,
            _ => return Err(refuse("targettype must be 0 (team) or 1 (skill queue)")),
        };
        let name = string(fields, "targetname")?;
        if name.is_empty() || name.chars().count() > MAX_TARGET_NAME {
            return Err(refuse(format!("targetname must be 1 to {MAX_TARGET_NAME} characters")));
        }
        let data = string(fields, "bulletindata")?;
        if data.chars().count() > MAX_BULLETIN {
            return Err(refuse(format!("bulletindata is longer than {MAX_BULLETIN} characters")));
        }
        Ok(BulletinRequest { target, name: name.to_owned(), data: data.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn note_receivers_may_be_numbers_or_strings_and_are_kept_once() {
        let note = NoteRequest::from_json(&json!({"agentIds": [102, "103", "102"], "content": "你好"})).unwrap();
        let ids: Vec<u32> = note.receivers.iter().map(|w| w.get()).collect();
        assert_eq!((ids, note.content.as_str()), (vec![102, 103], "你好"));
        let empty_text = NoteRequest::from_json(&json!({"agentIds": [102], "content": ""})).unwrap();
        assert_eq!(empty_text.content, "");
    }

    #[test]
    fn bad_notes_are_message_errors() {
        let too_many: Vec<u32> = (101..=201).collect();
        for body in [
            json!({"content": "x"}),
            json!({"agentIds": [], "content": "x"}),
            json!({"agentIds": too_many, "content": "x"}),
            json!({"agentIds": [100], "content": "x"}),
            json!({"agentIds": ["1e3"], "content": "x"}),
            json!({"agentIds": [102]}),
            json!({"agentIds": [102], "content": 5}),
            json!({"agentIds": [102], "content": "é".repeat(512)}),
            json!("agentIds"),
        ] {
            assert_eq!(NoteRequest::from_json(&body).unwrap_err().code, Retcode::MessageError, "{body}");
        }
        assert!(NoteRequest::from_json(&json!({"agentIds": [102], "content": "a".repeat(1023)})).is_ok());
    }

    #[test]
    fn bulletins_name_a_team_or_a_queue() {
        let b = BulletinRequest::from_json(&json!({"targettype": "1", "targetname": "Sales", "bulletindata": "hi"}));
        assert_eq!(b.unwrap().target, BulletinTarget::SkillQueue);
        for body in [
            json!({"targettype": 2, "targetname": "Sales", "bulletindata": "hi"}),
            json!({"targetname": "Sales", "bulletindata": "hi"}),
            json!({"targettype": 0, "targetname": "", "bulletindata": "hi"}),
            json!({"targettype": 0, "targetname": "x".repeat(101), "bulletindata": "hi"}),
            json!({"targettype": 0, "targetname": "Team 1", "bulletindata": "x".repeat(901)}),
            json!({"targettype": 0, "targetname": "Team 1"}),
        ] {
            assert_eq!(BulletinRequest::from_json(&body).unwrap_err().code, Retcode::MessageError, "{body}");
        }
    }
}
