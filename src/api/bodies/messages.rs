//! The bodies of notes (`sendnoteletex`) and bulletins (`notifybulletin`),
//! validated field by field into the domain's requests. Every problem with a body is a message
//! parameter error (000-006). Numbers may be JSON numbers or strings, as
//! Huawei's sample clients send them both ways.

use serde_json::Value;

use crate::domain::ids::{parse_decimal, WorkNo};
use crate::domain::requests::{
    BulletinRequest, BulletinTarget, NoteRequest, MAX_BULLETIN, MAX_NOTE_BYTES, MAX_NOTE_RECEIVERS, MAX_TARGET_NAME,
};
use crate::domain::Failure;
use crate::retcode::Retcode;

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

/// Validates a `sendnoteletex` body.
pub fn note_request(body: &Value) -> Result<NoteRequest, Failure> {
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

/// Validates a `notifybulletin` body.
pub fn bulletin_request(body: &Value) -> Result<BulletinRequest, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn note_receivers_may_be_numbers_or_strings_and_are_kept_once() {
        let note = note_request(&json!({"agentIds": [102, "103", "102"], "content": "你好"})).unwrap();
        let ids: Vec<u32> = note.receivers.iter().map(|w| w.get()).collect();
        assert_eq!((ids, note.content.as_str()), (vec![102, 103], "你好"));
        let empty_text = note_request(&json!({"agentIds": [102], "content": ""})).unwrap();
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
            assert_eq!(note_request(&body).unwrap_err().code, Retcode::MessageError, "{body}");
        }
        assert!(note_request(&json!({"agentIds": [102], "content": "a".repeat(1023)})).is_ok());
    }

    #[test]
    fn bulletins_name_a_team_or_a_queue() {
        let b = bulletin_request(&json!({"targettype": "1", "targetname": "Sales", "bulletindata": "hi"}));
        assert_eq!(b.unwrap().target, BulletinTarget::SkillQueue);
        for body in [
            json!({"targettype": 2, "targetname": "Sales", "bulletindata": "hi"}),
            json!({"targetname": "Sales", "bulletindata": "hi"}),
            json!({"targettype": 0, "targetname": "", "bulletindata": "hi"}),
            json!({"targettype": 0, "targetname": "x".repeat(101), "bulletindata": "hi"}),
            json!({"targettype": 0, "targetname": "Team 1", "bulletindata": "x".repeat(901)}),
            json!({"targettype": 0, "targetname": "Team 1"}),
        ] {
            assert_eq!(bulletin_request(&body).unwrap_err().code, Retcode::MessageError, "{body}");
        }
    }
}
