//! Metrics: the one place that knows metric names, labels and buckets, and
//! renders them in the Prometheus text format (0.0.4).
//!
//! Each [`Telemetry`] owns its own recorder instead of installing the
//! `metrics` facade's global one: every `Application` (and so every
//! integration test's gateway) counts on its own, and nothing leaks from one
//! gateway into another in the same process. Counters and histograms are
//! recorded as things happen; the gauges that describe what the store holds
//! are read from a [`Snapshot`] at scrape time.

use std::sync::Arc;

use metrics::{Counter, Gauge, Key, KeyName, Label, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// `Content-Type` of [`Telemetry::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const REQUESTS: &str = "agentgateway_requests_total";
const REQUEST_SECONDS: &str = "agentgateway_request_duration_seconds";
const REQUESTS_IN_FLIGHT: &str = "agentgateway_requests_in_flight";
const AGENTS: &str = "agentgateway_agents_signed_in";
const POLLS_WAITING: &str = "agentgateway_polls_waiting";
const EVENTS_QUEUED: &str = "agentgateway_events_queued";
const ENDED_SESSIONS: &str = "agentgateway_ended_sessions";
const EVENTS_DROPPED: &str = "agentgateway_events_dropped_total";
const SIGN_OUTS: &str = "agentgateway_sign_outs_total";
const GUID_REJECTIONS: &str = "agentgateway_guid_rejections_total";
const PASSWORD_FAILURES: &str = "agentgateway_password_failures_total";
const AUDIT_RECORDS: &str = "agentgateway_audit_records_total";
const AUDIT_HANDOFFS: &str = "agentgateway_audit_handoffs_total";
const AUDIT_WRITES: &str = "agentgateway_audit_writes_total";
const AUDIT_SYNCS: &str = "agentgateway_audit_syncs_total";
const AUDIT_FALLBACK: &str = "agentgateway_audit_fallback_records_total";
const AUDIT_REFUSALS: &str = "agentgateway_audit_refusals_total";
const AUDIT_WRITABLE: &str = "agentgateway_audit_writable";
const AUDIT_HEAD_SEQ: &str = "agentgateway_audit_head_seq";
const AUDIT_HEAD_HASH: &str = "agentgateway_audit_head_hash_prefix";
const UNAUTHENTICATED: &str = "agentgateway_unauthenticated_refusals_total";

/// Latency buckets in seconds: sub-millisecond commands up to the longest
/// poll wait anyone should configure.
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0];

/// Signed-in agent states, as `state` label values, by `agentState` code.
pub const STATES: [(u8, &str); 4] = [(3, "busy"), (4, "idle"), (5, "wrapup"), (8, "rest")];

/// Why a presented Guid was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidRejection {
    /// No `Guid` header, or an empty or over-long one (000-003).
    Missing,
    /// The agent is signed in but the Guid is not one of its own (000-003).
    Wrong,
    /// The Guid belongs to a session that has ended (100-006).
    Ended,
    /// The agent is not signed in at all (100-006).
    NotSignedIn,
}

impl GuidRejection {
    const ALL: [GuidRejection; 4] =
        [GuidRejection::Missing, GuidRejection::Wrong, GuidRejection::Ended, GuidRejection::NotSignedIn];

    fn label(self) -> &'static str {
        match self {
            GuidRejection::Missing => "missing",
            GuidRejection::Wrong => "wrong",
            GuidRejection::Ended => "ended",
            GuidRejection::NotSignedIn => "not_signed_in",
        }
    }
}

/// What the store holds right now, for the gauges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Live sessions by `agentState` code.
    pub agents_by_state: Vec<(u8, u64)>,
    /// Events waiting in queues, live and ended sessions together.
    pub events_queued: u64,
    /// Ended sessions kept for their final poll.
    pub ended_sessions: u64,
    /// Audit records written, the hand-overs that brought them to the
    /// writer, the writes that stored them and the syncs that forced them
    /// to disk.
    pub audit_records: u64,
    pub audit_handoffs: u64,
    pub audit_writes: u64,
    pub audit_syncs: u64,
    /// Records kept in the fallback while the trail could not be written.
    pub audit_fallback: u64,
    /// The trail's head: last record number, first 52 bits of its hash.
    pub audit_head_seq: u64,
    pub audit_head_hash_prefix: u64,
    pub audit_writable: bool,
}

/// The gateway's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Telemetry(Arc<Inner>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    polls_waiting: Gauge,
    in_flight: Gauge,
    /// `agentgateway_sign_outs_total` by reason code, registered on first use
    /// (a registration builds a label and hashes the key).
    sign_outs: Box<[std::sync::OnceLock<Counter>]>,
    security: crate::security::SecurityLog,
}

/// Sign-out reasons are 1–255 (given) and a few system codes above.
const SIGN_OUT_CODES: usize = 512;

/// The facade wants a call site for every registration; ours is always this module.
static METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}

impl Telemetry {
    pub fn new() -> Telemetry {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .build_recorder();
        describe(&recorder);
        let handle = recorder.handle();
        let polls_waiting = recorder.register_gauge(&Key::from_static_name(POLLS_WAITING), &METADATA);
        let in_flight = recorder.register_gauge(&Key::from_static_name(REQUESTS_IN_FLIGHT), &METADATA);
        let sign_outs = (0..SIGN_OUT_CODES).map(|_| std::sync::OnceLock::new()).collect();
        let security = crate::security::SecurityLog::default();
        let telemetry = Telemetry(Arc::new(Inner { recorder, handle, polls_waiting, in_flight, sign_outs, security }));
        // Series that exist from the start, so a rate() over them works
        // before the first event and alerts can tell "zero" from "absent".
        telemetry.counter(EVENTS_DROPPED, vec![]).increment(0);
        telemetry.counter(PASSWORD_FAILURES, vec![]).increment(0);
        telemetry.counter(AUDIT_REFUSALS, vec![]).increment(0);
        for kind in GuidRejection::ALL {
            telemetry.counter(GUID_REJECTIONS, vec![Label::from_static_parts("kind", kind.label())]).increment(0);
        }
        telemetry
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.0.recorder.register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.0.recorder.register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    /// One answered request: its operation id, retcode and duration.
    pub fn request(&self, operation: &'static str, retcode: &'static str, seconds: f64) {
        let labels =
            vec![Label::from_static_parts("operation", operation), Label::from_static_parts("retcode", retcode)];
        self.counter(REQUESTS, labels).increment(1);
        let key = Key::from_parts(REQUEST_SECONDS, vec![Label::from_static_parts("operation", operation)]);
        self.0.recorder.register_histogram(&key, &METADATA).record(seconds);
    }

    /// Counts a request as in flight until the guard is dropped.
    pub fn request_started(&self) -> Tracked {
        Tracked::new(self.0.in_flight.clone())
    }

    /// Counts a poll as waiting until the guard is dropped (answered or
    /// abandoned by its client).
    pub fn poll_waiting(&self) -> Tracked {
        Tracked::new(self.0.polls_waiting.clone())
    }

    /// A session ended with this CTI reason.
    pub fn signed_out(&self, reason: u16) {
        let register = || self.counter(SIGN_OUTS, vec![Label::new("reason", reason.to_string())]);
        match self.0.sign_outs.get(usize::from(reason)) {
            Some(counter) => counter.get_or_init(register).increment(1),
            None => register().increment(1),
        }
    }

    /// Queue overflow discarded `count` events.
    pub fn events_dropped(&self, count: u64) {
        self.counter(EVENTS_DROPPED, vec![]).increment(count);
    }

    /// A sign-in presented a wrong password (or an unknown work number).
    pub fn password_failed(&self) {
        self.counter(PASSWORD_FAILURES, vec![]).increment(1);
    }

    /// A presented Guid was refused.
    pub fn guid_rejected(&self, kind: GuidRejection) {
        self.counter(GUID_REJECTIONS, vec![Label::from_static_parts("kind", kind.label())]).increment(1);
    }

    /// A command was refused because its audit record could not be written.
    pub fn audit_refused(&self) {
        self.counter(AUDIT_REFUSALS, vec![]).increment(1);
    }

    /// A request that no principal stands behind was refused (a Guid, a
    /// sign-in, an unknown interface): counted, and summed up in the
    /// security log, instead of an audit record each.
    pub fn refused_unauthenticated(&self, retcode: &'static str, ip: Option<std::net::IpAddr>) {
        self.counter(UNAUTHENTICATED, vec![Label::from_static_parts("retcode", retcode)]).increment(1);
        self.0.security.refused(retcode, ip);
    }

    /// Writes the security log's line for the last `period`, if anything
    /// was refused in it.
    pub fn flush_security_log(&self, period: std::time::Duration) {
        if let Some(line) = self.0.security.take_line(period) {
            log::warn!("{line}");
        }
    }

    /// Everything, in the Prometheus text format, with the gauges set from
    /// `snapshot`.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        for (code, state) in STATES {
            let count = snapshot.agents_by_state.iter().find(|(c, _)| *c == code).map_or(0, |(_, n)| *n);
            self.gauge(AGENTS, vec![Label::from_static_parts("state", state)]).set(count as f64);
        }
        self.gauge(EVENTS_QUEUED, vec![]).set(snapshot.events_queued as f64);
        self.gauge(ENDED_SESSIONS, vec![]).set(snapshot.ended_sessions as f64);
        self.counter(AUDIT_RECORDS, vec![]).absolute(snapshot.audit_records);
        self.counter(AUDIT_HANDOFFS, vec![]).absolute(snapshot.audit_handoffs);
        self.counter(AUDIT_WRITES, vec![]).absolute(snapshot.audit_writes);
        self.counter(AUDIT_SYNCS, vec![]).absolute(snapshot.audit_syncs);
        self.counter(AUDIT_FALLBACK, vec![]).absolute(snapshot.audit_fallback);
        self.gauge(AUDIT_HEAD_SEQ, vec![]).set(snapshot.audit_head_seq as f64);
        self.gauge(AUDIT_HEAD_HASH, vec![]).set(snapshot.audit_head_hash_prefix as f64);
        self.gauge(AUDIT_WRITABLE, vec![]).set(f64::from(u8::from(snapshot.audit_writable)));
        self.0.handle.render()
    }

    /// Folds recorded latencies into their histograms. Rendering does this
    /// too; this keeps memory bounded when nobody scrapes.
    pub fn upkeep(&self) {
        self.0.handle.run_upkeep();
    }
}

/// Keeps a gauge raised by one while alive.
pub struct Tracked(Gauge);

impl Tracked {
    fn new(gauge: Gauge) -> Tracked {
        gauge.increment(1.0);
        Tracked(gauge)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn describe(recorder: &PrometheusRecorder) {
    let text = |name: &'static str, help: &'static str| (KeyName::from_const_str(name), SharedString::const_str(help));
    for (name, help) in [
        text(REQUESTS, "Answered requests by operation id (Huawei log name, `unknown` for no route) and retcode."),
        text(EVENTS_DROPPED, "Events discarded because a session's queue was full (oldest first)."),
        text(
            SIGN_OUTS,
            "Ended sessions by CTI reason (258 sign-out, 263 heartbeat timeout, 264 forcelogin, 1-255 own).",
        ),
        text(GUID_REJECTIONS, "Refused Guids: missing, wrong (000-003), ended or not_signed_in (100-006)."),
        text(PASSWORD_FAILURES, "Sign-ins refused for a wrong password or unknown work number (100-004)."),
        text(AUDIT_RECORDS, "Audit records written to the trail (each before its command answered)."),
        text(AUDIT_HANDOFFS, "Batches of audit records handed to the writer (one per worker per event-loop turn)."),
        text(AUDIT_WRITES, "Writes of the audit trail, one per batch of records."),
        text(AUDIT_SYNCS, "fdatasync calls on the audit trail (per batch, per interval or none: --audit-sync)."),
        text(AUDIT_FALLBACK, "Sign-out and lock records kept in <trail>.pending while the trail could not be written."),
        text(AUDIT_REFUSALS, "Commands refused (100-007) because their audit record could not be written."),
        text(UNAUTHENTICATED, "Refused requests without an authenticated caller, by retcode (not audit records)."),
    ] {
        recorder.describe_counter(name, None, help);
    }
    for (name, help) in [
        text(AGENTS, "Signed-in agents by state."),
        text(POLLS_WAITING, "Polls (agentevent) waiting for an event on this node."),
        text(REQUESTS_IN_FLIGHT, "Requests being handled on this node."),
        text(EVENTS_QUEUED, "Events waiting in session queues, including ended sessions' final events."),
        text(ENDED_SESSIONS, "Ended sessions kept for their final poll."),
        text(AUDIT_WRITABLE, "1 while the audit trail can be written, 0 while commands are refused for it."),
        text(AUDIT_HEAD_SEQ, "Number of the audit trail's last record (an anchor: keep it with the hash prefix)."),
        text(AUDIT_HEAD_HASH, "First 13 hex digits (52 bits) of the last audit record's hash, as a number."),
    ] {
        recorder.describe_gauge(name, None, help);
    }
    let (name, help) = text(REQUEST_SECONDS, "Time from request to answer by operation id; polls include their wait.");
    recorder.describe_histogram(name, None, help);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn counters_gauges_and_histograms_render_in_the_text_format() {
        let t = Telemetry::new();
        t.request("login", "0", 0.003);
        t.request("login", "0", 0.2);
        t.signed_out(57);
        t.guid_rejected(GuidRejection::Wrong);
        let waiting = t.poll_waiting();
        let text = t.render(&Snapshot {
            agents_by_state: vec![(3, 2)],
            events_queued: 5,
            ended_sessions: 1,
            ..Snapshot::default()
        });
        assert_eq!(
            line(&text, "agentgateway_requests_total{"),
            Some(r#"agentgateway_requests_total{operation="login",retcode="0"} 2"#)
        );
        assert!(
            text.contains(r#"agentgateway_request_duration_seconds_bucket{operation="login",le="0.005"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"agentgateway_request_duration_seconds_count{operation="login"} 2"#), "{text}");
        assert!(text.contains(r#"agentgateway_sign_outs_total{reason="57"} 1"#), "{text}");
        assert!(text.contains(r#"agentgateway_guid_rejections_total{kind="wrong"} 1"#), "{text}");
        assert!(text.contains(r#"agentgateway_guid_rejections_total{kind="missing"} 0"#), "{text}");
        assert!(text.contains(r#"agentgateway_agents_signed_in{state="busy"} 2"#), "{text}");
        assert!(text.contains(r#"agentgateway_agents_signed_in{state="idle"} 0"#), "{text}");
        assert!(text.contains("agentgateway_polls_waiting 1"), "{text}");
        assert!(text.contains("agentgateway_events_queued 5"), "{text}");
        assert!(text.contains("# TYPE agentgateway_requests_total counter"), "{text}");
        assert!(text.contains("# HELP agentgateway_polls_waiting "), "{text}");
        drop(waiting);
        assert!(t.render(&Snapshot::default()).contains("agentgateway_polls_waiting 0"));
    }

    #[test]
    fn each_telemetry_counts_on_its_own() {
        let (a, b) = (Telemetry::new(), Telemetry::new());
        a.password_failed();
        assert!(a.render(&Snapshot::default()).contains("agentgateway_password_failures_total 1"));
        assert!(b.render(&Snapshot::default()).contains("agentgateway_password_failures_total 0"));
    }
}
