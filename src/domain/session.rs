//! Sign-in sessions: their Guids, state, heartbeat and event queue.

use super::events::{Content, EventQueue};
use super::ids::{Guid, SessionId, WorkNo};
use super::state::AgentState;

/// Static (AUTHMODE 1) or dynamic (AUTHMODE 2) Guids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Static,
    Dynamic,
}

impl std::str::FromStr for AuthMode {
    type Err = String;

    fn from_str(text: &str) -> Result<AuthMode, String> {
        match text {
            "static" => Ok(AuthMode::Static),
            "dynamic" => Ok(AuthMode::Dynamic),
            _ => Err(format!("expected static or dynamic, not {text:?}")),
        }
    }
}

/// Guid lifetimes (dynamic mode).
#[derive(Debug, Clone, Copy)]
pub struct GuidPolicy {
    pub mode: AuthMode,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub node: u16,
}

/// How a presented Guid matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidMatch {
    Current,
    Previous,
}

/// A rotation happened; `retired` no longer works at all.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub retired: Option<Guid>,
}

/// The session's current Guid and, after a rotation, the one before it.
#[derive(Debug, Clone)]
pub struct GuidSet {
    current: Guid,
    issued_at: u64,
    previous: Option<(Guid, u64)>,
}

impl GuidSet {
    pub fn new(node: u16, now: u64) -> Self {
        GuidSet { current: Guid::generate(node), issued_at: now, previous: None }
    }

    pub fn current(&self) -> &Guid {
        &self.current
    }

    /// The current Guid is valid while it is current; a rotated-out Guid
    /// until its own lifetime (`timeout_ms` from issue) ends.
    pub fn check(&self, presented: &str, now: u64) -> Option<GuidMatch> {
        if self.current.matches(presented) {
            return Some(GuidMatch::Current);
        }
        match &self.previous {
            Some((guid, expires)) if now < *expires && guid.matches(presented) => Some(GuidMatch::Previous),
            _ => None,
        }
    }

    /// Issues a new Guid once the interval has passed (dynamic mode only).
    /// Returns the Guid that stopped working to make room, if any.
    pub fn rotate_if_due(&mut self, policy: &GuidPolicy, now: u64) -> Option<Rotated> {
        if policy.mode == AuthMode::Static || now < self.issued_at + policy.interval_ms {
            return None;
        }
        let old = std::mem::replace(&mut self.current, Guid::generate(policy.node));
        let retired = self.previous.replace((old, self.issued_at + policy.timeout_ms)).map(|(g, _)| g);
        self.issued_at = now;
        Some(Rotated { retired })
    }

    /// Every Guid of the set.
    pub fn all(&self) -> Vec<Guid> {
        std::iter::once(self.current.clone()).chain(self.previous.iter().map(|(g, _)| g.clone())).collect()
    }

    /// After sign-out only the final poll may use the Guids; they die with
    /// the ended session, so expiry no longer matters.
    fn freeze(&mut self) {
        if let Some((_, expires)) = &mut self.previous {
            *expires = u64::MAX;
        }
    }
}

/// Options chosen at sign-in that later commands may change.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub phone: Option<String>,
    pub auto_answer: bool,
    pub auto_enter_idle: bool,
    pub release_phone: bool,
    pub agent_type: u8,
    pub listen_status: bool,
    /// May take inbound calls (`settalkright`, default true); agents without
    /// it are left out of the skill-queue queries.
    pub talk_right: bool,
    /// The business-defined custom state, 0–65534 (`setcustomstate`, default 0).
    pub custom_state: u16,
}

/// Why and how a session ended.
#[derive(Debug, Clone)]
pub struct Ending {
    pub reason: crate::domain::params::SignOutReason,
    pub at: u64,
    /// Freed after this time even if the final events were never fetched.
    pub linger_until: u64,
    /// The final events were delivered: the Guids now get 100-006
    /// everywhere, until the session is freed.
    pub delivered: bool,
}

/// One sign-in of one agent.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub work_no: WorkNo,
    pub guids: GuidSet,
    pub login_time: u64,
    pub state: AgentState,
    pub state_since: u64,
    pub options: SessionOptions,
    pub skills: Vec<u32>,
    pub last_heartbeat: u64,
    /// A poll holds the session alive until this time.
    pub poll_until: u64,
    /// Bumped by every poll: a poll that sees a newer one ends empty.
    pub poll_generation: u64,
    /// Set once a poll carried `ack`: events are kept until acknowledged.
    pub acking: bool,
    /// Bumped at each rest grant so stale reminders are ignored.
    pub rest_epoch: u64,
    pub queue: EventQueue,
    pub ended: Option<Ending>,
}

impl Session {
    pub fn push(&mut self, kind: &'static str, content: Content, now: u64) -> u64 {
        self.queue.push(kind, self.work_no, content, now)
    }

    /// Alive when it polled (or is polling) within the heartbeat timeout.
    pub fn is_silent(&self, now: u64, heartbeat_timeout_ms: u64) -> bool {
        now >= self.last_heartbeat.max(self.poll_until) + heartbeat_timeout_ms
    }

    /// True once an ended session has handed out its final events.
    pub fn is_delivered(&self) -> bool {
        self.ended.as_ref().is_some_and(|e| e.delivered)
    }

    /// Ends the session: the Guids stop working everywhere but the final poll.
    pub fn end(&mut self, reason: crate::domain::params::SignOutReason, now: u64, linger_ms: u64) {
        self.guids.freeze();
        self.ended = Some(Ending { reason, at: now, linger_until: now + linger_ms, delivered: false });
    }
}

/// Everything the gateway holds for one work number.
#[derive(Debug, Clone, Default)]
pub struct AgentSlot {
    /// The signed-in session, if any. Boxed, so that the store's tables hold
    /// small entries and only signed-in agents pay for a whole session.
    pub live: Option<Box<Session>>,
    /// Sessions that ended but still hold final events for their last poll.
    pub ended: Vec<Session>,
}

/// Ended sessions kept per agent; older ones are freed first.
pub const MAX_ENDED_SESSIONS: usize = 4;

impl AgentSlot {
    pub fn is_empty(&self) -> bool {
        self.live.is_none() && self.ended.is_empty()
    }

    /// The session (live or ended) that `guid` belongs to.
    pub fn by_guid(&mut self, guid: &str, now: u64) -> Option<(&mut Session, GuidMatch)> {
        if let Some(found) = self.live.as_deref_mut().and_then(|s| s.guids.check(guid, now).map(|m| (s, m))) {
            return Some(found);
        }
        self.ended.iter_mut().find_map(|s| s.guids.check(guid, now).map(|m| (s, m)))
    }

    pub fn by_id(&mut self, id: SessionId) -> Option<&mut Session> {
        self.live.as_deref_mut().into_iter().chain(self.ended.iter_mut()).find(|s| s.id == id)
    }

    /// The live session, if it is `id`.
    pub fn live_if(&mut self, id: SessionId) -> Option<&mut Session> {
        self.live.as_deref_mut().filter(|s| s.id == id)
    }

    /// Moves the live session to the ended list; returns the id of an
    /// ended session evicted to make room.
    pub fn retire_live(&mut self) -> Option<SessionId> {
        let session = self.live.take()?;
        let evicted = (self.ended.len() >= MAX_ENDED_SESSIONS).then(|| self.ended.remove(0).id);
        self.ended.push(*session);
        evicted
    }

    pub fn drop_expired(&mut self, now: u64) {
        self.ended.retain(|s| s.ended.as_ref().is_some_and(|e| now < e.linger_until));
    }
}

/// A plain session for unit tests elsewhere in the crate.
#[cfg(test)]
pub mod tests_support {
    use super::*;

    pub fn session(work_no: WorkNo) -> Session {
        Session {
            id: SessionId(u64::from(work_no.get())),
            work_no,
            guids: GuidSet::new(0, 0),
            login_time: 0,
            state: AgentState::Idle,
            state_since: 0,
            options: SessionOptions {
                phone: None,
                auto_answer: true,
                auto_enter_idle: true,
                release_phone: true,
                agent_type: 4,
                listen_status: false,
                talk_right: true,
                custom_state: 0,
            },
            skills: Vec::new(),
            last_heartbeat: 0,
            poll_until: 0,
            poll_generation: 0,
            acking: false,
            rest_epoch: 0,
            queue: EventQueue::new(10),
            ended: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: AuthMode) -> GuidPolicy {
        GuidPolicy { mode, interval_ms: 100, timeout_ms: 250, node: 1 }
    }

    #[test]
    fn dynamic_guids_rotate_and_the_previous_expires_with_its_lifetime() {
        let mut set = GuidSet::new(1, 0);
        let first = set.current().clone();
        assert!(set.rotate_if_due(&policy(AuthMode::Dynamic), 99).is_none());
        assert!(set.rotate_if_due(&policy(AuthMode::Dynamic), 100).is_some());
        assert_ne!(set.current(), &first);
        assert_eq!(set.check(first.as_str(), 249), Some(GuidMatch::Previous));
        assert_eq!(set.check(first.as_str(), 250), None);
        assert_eq!(set.check(set.current().clone().as_str(), 10_000), Some(GuidMatch::Current));
    }

    #[test]
    fn static_guids_never_rotate() {
        let mut set = GuidSet::new(0, 0);
        assert!(set.rotate_if_due(&policy(AuthMode::Static), 1_000_000).is_none());
    }
}
