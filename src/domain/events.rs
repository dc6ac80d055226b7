//! Agent events and the bounded per-session event queue.
//!
//! Every event gets a sequence number, unique and increasing within its
//! session (each sign-in starts at 1). A plain Huawei poll takes the oldest
//! event off the queue (at most once). A poll that carries `ack` switches the
//! session to at-least-once: events stay queued, and are re-sent, until a
//! later poll acknowledges them.

use std::collections::VecDeque;

use serde::Serialize;

use super::ids::WorkNo;

/// Event names of reference §5.
pub mod names {
    pub const IN_SERVICE: &str = "AgentOther_InService";
    pub const SHUTDOWN_SERVICE: &str = "AgentOther_ShutdownService";
    pub const READY: &str = "AgentState_Ready";
    pub const WORK: &str = "AgentState_Work";
    pub const SET_NOT_READY_SUCCESS: &str = "AgentState_SetNotReady_Success";
    pub const CANCEL_NOT_READY_SUCCESS: &str = "AgentState_CancelNotReady_Success";
    pub const SET_REST_SUCCESS: &str = "AgentState_SetRest_Success";
    pub const CANCEL_REST_SUCCESS: &str = "AgentState_CancelRest_Success";
    pub const REST_TIMEOUT: &str = "AgentState_Rest_Timeout";
    pub const SET_WORK_SUCCESS: &str = "AgentState_SetWork_Success";
    pub const CANCEL_WORK_SUCCESS: &str = "AgentState_CancelWork_Success";
    pub const FORCE_SET_NOT_READY: &str = "AgentState_Force_SetNotReady";
    pub const FORCE_READY: &str = "AgentState_Force_Ready";
    pub const QC_AGENT_STATE_NOTIFY: &str = "QC_AgentState_Notify";
    pub const NOTE: &str = "AgentOther_Note";
    pub const BULLETIN: &str = "AgentOther_Bulletin";
}

/// An event's `content`: null, an object, or a bare string (reference §4.4).
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Null,
    /// String fields under fixed names, written as a JSON object in this
    /// order. One allocation for the fields, where a JSON map would take a
    /// tree node of eleven slots.
    Fields(Box<[(&'static str, String)]>),
    /// As `Fields`, followed by `"jsonKey"`: the list of the field names, in
    /// order (the form of reference §5.6's `QC_AgentState_Notify` example).
    Keyed(Box<[(&'static str, String)]>),
    Text(String),
}

impl Content {
    /// An object of string values, the form Huawei uses for its payloads.
    pub fn fields<const N: usize>(pairs: [(&'static str, String); N]) -> Content {
        Content::Fields(Box::new(pairs))
    }

    /// String fields followed by their `jsonKey` list.
    pub fn keyed<const N: usize>(pairs: [(&'static str, String); N]) -> Content {
        Content::Keyed(Box::new(pairs))
    }
}

impl Serialize for Content {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Content::Null => s.serialize_unit(),
            Content::Text(text) => s.serialize_str(text),
            Content::Fields(fields) | Content::Keyed(fields) => {
                let keyed = matches!(self, Content::Keyed(_));
                let mut map = s.serialize_map(Some(fields.len() + usize::from(keyed)))?;
                for (name, value) in fields.iter() {
                    map.serialize_entry(name, value)?;
                }
                if keyed {
                    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
                    map.serialize_entry("jsonKey", &names)?;
                }
                map.end()
            }
        }
    }
}

/// The documented schema of `content`: null, [`EventFields`], or a string.
/// Each variant has its own JSON type, so a generated client can tell them
/// apart without guessing.
impl utoipa::PartialSchema for Content {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Ref, Type};
        use utoipa::ToSchema;
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Null).description(Some("No data")))
            .item(Ref::from_schema_name(EventFields::name()))
            .item(ObjectBuilder::new().schema_type(Type::String).description(Some("A bare value, e.g. a call id")))
            .description(Some("Polymorphic event data: null, an object of string fields, or a string (reference §4.4)"))
            .into()
    }
}

impl utoipa::ToSchema for Content {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((EventFields::name().into_owned(), EventFields::schema()));
    }
}

/// The object form of an event's `content`, for the OpenAPI document.
pub struct EventFields;

impl utoipa::PartialSchema for EventFields {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "jsonKey",
                ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("Only on `QC_AgentState_Notify`: the names of the fields before it, in order")),
            )
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new().schema_type(Type::String).into(),
            )))
            .description(Some(
                "Event data as named fields; every value is a string, e.g. `{\"reason\": \"57\"}`, but for the \
                 `jsonKey` list of `QC_AgentState_Notify`",
            ))
            .examples([serde_json::json!({"loginTime": "1471585949806", "reason": "57", "initiator": "self"})])
            .into()
    }
}

impl utoipa::ToSchema for EventFields {}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// An event name from [`names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind(pub &'static str);

/// One queued event, as a poll answer carries it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Event name, e.g. `AgentOther_ShutdownService`.
    #[schema(value_type = String, example = "AgentState_SetNotReady_Success")]
    pub event_type: EventKind,
    /// Work number the event belongs to.
    #[schema(value_type = String, example = "101")]
    #[serde(serialize_with = "as_text")]
    pub work_no: WorkNo,
    /// Event data.
    pub content: Content,
    /// Generation time, epoch milliseconds.
    pub event_gen_time: u64,
    /// Extension: sequence number within the session.
    pub seq: u64,
    /// Only on `QC_AgentState_Notify` (reference §4.4, §5.6): the names of
    /// the fields before it, in order.
    #[serde(rename = "jsonKey", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>, example = json!(["eventType", "workNo", "content", "eventGenTime", "seq"]))]
    pub json_key: Option<EventKeys>,
    /// Extension: how many older events the queue bound discarded right
    /// before this one (omitted when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

/// The `jsonKey` list of an event: its fields before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKeys;

impl Serialize for EventKeys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ["eventType", "workNo", "content", "eventGenTime", "seq"].serialize(s)
    }
}

fn as_text<S: serde::Serializer>(work_no: &WorkNo, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(work_no)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Why an acknowledgement was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckAhead {
    pub last_issued: u64,
}

/// A session's bounded FIFO of events.
#[derive(Debug, Clone)]
pub struct EventQueue {
    events: VecDeque<Event>,
    next_seq: u64,
    capacity: usize,
    dropped_total: u64,
    /// Drops not yet handed to [`EventQueue::take_new_drops`].
    new_drops: u64,
}

impl EventQueue {
    pub fn new(capacity: usize) -> Self {
        EventQueue { events: VecDeque::new(), next_seq: 1, capacity: capacity.max(1), dropped_total: 0, new_drops: 0 }
    }

    /// Appends an event. When the queue is full the oldest event is dropped
    /// and the gap is recorded on the event that is then oldest.
    pub fn push(&mut self, kind: &'static str, work_no: WorkNo, content: Content, now_ms: u64) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut carried = 0;
        if self.events.len() >= self.capacity {
            if let Some(oldest) = self.events.pop_front() {
                carried = oldest.dropped + 1;
                self.dropped_total += 1;
                self.new_drops += 1;
            }
        }
        let json_key = (kind == names::QC_AGENT_STATE_NOTIFY).then_some(EventKeys);
        let event =
            Event { event_type: EventKind(kind), work_no, content, event_gen_time: now_ms, seq, json_key, dropped: 0 };
        self.events.push_back(event);
        if carried > 0 {
            if let Some(front) = self.events.front_mut() {
                front.dropped += carried;
            }
        }
        seq
    }

    /// Forgets every event up to and including `seq`. Acknowledging what
    /// was never issued is refused; acknowledging old events again is a no-op.
    pub fn ack(&mut self, seq: u64) -> Result<(), AckAhead> {
        let last_issued = self.next_seq - 1;
        if seq > last_issued {
            return Err(AckAhead { last_issued });
        }
        while self.events.front().is_some_and(|e| e.seq <= seq) {
            self.events.pop_front();
        }
        self.release_if_empty();
        Ok(())
    }

    /// The oldest event: removed (`keep == false`) or left for re-sending.
    pub fn next(&mut self, keep: bool) -> Option<Event> {
        if keep {
            self.events.front().cloned()
        } else {
            let event = self.events.pop_front();
            self.release_if_empty();
            event
        }
    }

    /// An empty queue gives its storage back: most sessions wait with an
    /// empty queue, and a kept `VecDeque` would hold a few hundred bytes each.
    fn release_if_empty(&mut self) {
        if self.events.is_empty() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// Drops since the last call, for counting them exactly once.
    pub fn take_new_drops(&mut self) -> u64 {
        std::mem::take(&mut self.new_drops)
    }

    pub fn last_issued(&self) -> u64 {
        self.next_seq - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_written_as_null_a_string_or_an_object_in_field_order() {
        let json = |content: &Content| serde_json::to_string(content).unwrap();
        assert_eq!(json(&Content::Null), "null");
        assert_eq!(json(&Content::Text("call-1".into())), r#""call-1""#);
        let fields = Content::fields([("reason", "57".into()), ("initiator", "inspector:900 \"x\"".into())]);
        assert_eq!(json(&fields), r#"{"reason":"57","initiator":"inspector:900 \"x\""}"#);
    }

    fn agent() -> WorkNo {
        WorkNo::new(101).unwrap()
    }

    #[test]
    fn overflow_drops_the_oldest_and_marks_the_gap() {
        let mut q = EventQueue::new(2);
        for _ in 0..5 {
            q.push(names::READY, agent(), Content::Null, 0);
        }
        let first = q.next(false).unwrap();
        assert_eq!((first.seq, first.dropped), (4, 3));
        assert_eq!(q.next(false).map(|e| (e.seq, e.dropped)), Some((5, 0)));
        assert_eq!(q.dropped_total(), 3);
        assert_eq!((q.take_new_drops(), q.take_new_drops()), (3, 0));
    }

    #[test]
    fn a_drained_queue_gives_its_storage_back() {
        let mut q = EventQueue::new(10);
        q.push(names::READY, agent(), Content::Null, 0);
        q.push(names::READY, agent(), Content::Null, 0);
        assert!(q.events.capacity() > 0);
        q.next(false);
        assert!(q.events.capacity() > 0, "not yet empty");
        q.next(false);
        assert_eq!(q.events.capacity(), 0);
        q.push(names::READY, agent(), Content::Null, 0);
        q.ack(3).unwrap();
        assert_eq!((q.len(), q.events.capacity()), (0, 0));
        assert_eq!(q.push(names::READY, agent(), Content::Null, 0), 4, "seq goes on");
    }

    #[test]
    fn acked_events_are_forgotten_and_unacked_ones_resent() {
        let mut q = EventQueue::new(10);
        for _ in 0..3 {
            q.push(names::READY, agent(), Content::Null, 0);
        }
        assert_eq!(q.next(true).map(|e| e.seq), Some(1));
        assert_eq!(q.next(true).map(|e| e.seq), Some(1), "unacknowledged event is re-sent");
        q.ack(1).unwrap();
        assert_eq!(q.next(true).map(|e| e.seq), Some(2));
        assert_eq!(q.ack(9), Err(AckAhead { last_issued: 3 }));
        q.ack(0).unwrap();
        assert_eq!(q.len(), 2, "a stale ack changes nothing");
    }

    #[test]
    fn qc_notifications_carry_json_key_lists_on_the_event_and_its_content() {
        let mut q = EventQueue::new(10);
        let content = Content::keyed([("subtype", "QC_AgentState_Login".into()), ("monitoredagent", "101".into())]);
        q.push(names::QC_AGENT_STATE_NOTIFY, agent(), content, 7);
        q.push(names::READY, agent(), Content::Null, 8);
        let qc = serde_json::to_string(&q.next(false).unwrap()).unwrap();
        assert_eq!(
            qc,
            r#"{"eventType":"QC_AgentState_Notify","workNo":"101","content":{"subtype":"QC_AgentState_Login","monitoredagent":"101","jsonKey":["subtype","monitoredagent"]},"eventGenTime":7,"seq":1,"jsonKey":["eventType","workNo","content","eventGenTime","seq"]}"#
        );
        let ready = serde_json::to_value(q.next(false).unwrap()).unwrap();
        assert!(ready.get("jsonKey").is_none());
    }

    #[test]
    fn content_serialises_as_null_object_or_string() {
        let s = |c: &Content| serde_json::to_string(c).unwrap();
        assert_eq!(s(&Content::Null), "null");
        assert_eq!(s(&Content::Text("1-2".into())), "\"1-2\"");
        assert_eq!(s(&Content::fields([("reason", "200".into())])), r#"{"reason":"200"}"#);
    }
}
