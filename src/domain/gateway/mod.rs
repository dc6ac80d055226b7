//! The gateway service: every agent operation, atomically per agent.
//! Split by concern: the audited-operation rule, sign-in and sign-out,
//! state commands, polling, housekeeping, and supervisors.

mod audited;
mod commands;
mod guids;
mod housekeeping;
mod lockout;
mod messages;
mod poll;
mod queries;
mod signin;
mod supervisor;

pub use guids::{Caller, Purpose};
pub use lockout::LockoutPolicy;
pub use queries::{agent_list, GroupAgentInfo, GroupInfo, SkillAgents, SkillQueryFilter};
pub use supervisor::{AgentInfo, BulkAction, BulkResult, Selector, SkillStats};

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{watch, Semaphore};

use crate::clock::now_ms;
use crate::domain::audit::{Action, AuditTrail};
use crate::domain::directory::Directory;
use crate::domain::events::{names, Content, Event};
use crate::domain::ids::{Guid, SessionId, WorkNo};
use crate::domain::params::SignOutReason;
use crate::domain::session::{AgentSlot, GuidPolicy, Session};
use crate::domain::state::Command;
use crate::domain::store::AgentStore;
use crate::domain::Failure;
use crate::retcode::Retcode;
use crate::telemetry::Telemetry;

/// Timings and limits of the domain.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub guid: GuidPolicy,
    pub poll_wait_ms: u64,
    pub heartbeat_timeout_ms: u64,
    pub queue_capacity: usize,
    pub server_name: String,
    /// Password checks running at once (each Argon2id check holds 19 MiB).
    pub hash_concurrency: usize,
    /// Refuse reason codes the catalog does not name.
    pub strict_reasons: bool,
    pub lockout: LockoutPolicy,
}

/// What a successful sign-in returns: the new session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub guid: Guid,
    pub session: SessionId,
    pub login_time: u64,
    pub vdn: u32,
    pub media_type: String,
}

/// What a poll answers.
#[derive(Debug, Clone, Default)]
pub struct PollAnswer {
    pub event: Option<Event>,
    /// A Guid the client must switch to (dynamic mode).
    pub set_guid: Option<Guid>,
}

/// What a heartbeat answers.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    /// A Guid the client must switch to (dynamic mode).
    pub set_guid: Option<Guid>,
    /// The session's sign-in time, epoch ms.
    pub login_time: u64,
}

/// An agent's own status.
#[derive(Debug, Clone, Copy)]
pub struct StatusView {
    pub state: u8,
    pub is_working: bool,
}

/// Who ended a session, as `AgentOther_ShutdownService` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// The agent itself (`self`).
    Own,
    /// An inspector (`inspector:<workNo>`).
    Inspector(WorkNo),
    /// The gateway (`system:<cause>`).
    System(&'static str),
}

impl std::fmt::Display for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Initiator::Own => f.write_str("self"),
            Initiator::Inspector(work_no) => write!(f, "inspector:{work_no}"),
            Initiator::System(cause) => write!(f, "system:{cause}"),
        }
    }
}

/// Why a session ends, and who ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOutCause {
    pub reason: SignOutReason,
    pub initiator: Initiator,
}

/// What ending a live session left to clean up outside the slot.
#[derive(Debug, Default)]
struct Retired {
    session: Option<SessionId>,
    /// An older ended session evicted to make room.
    evicted: Option<SessionId>,
    /// The ended session's Guids, to drop from the owner index.
    guids: Vec<Guid>,
}

/// The gateway. Cheap to clone.
#[derive(Clone)]
pub struct Gateway(Arc<Inner>);

struct Inner {
    config: GatewayConfig,
    directory: Directory,
    store: Arc<dyn AgentStore>,
    next_session: AtomicU64,
    /// Sign-ins in flight, so one agent's sign-ins never overlap.
    claims: Mutex<HashSet<WorkNo>>,
    hashing: Semaphore,
    audit: Arc<dyn AuditTrail>,
    telemetry: Telemetry,
    /// Flips to true once when the node begins to shut down.
    stopping: watch::Sender<bool>,
    lockouts: Mutex<std::collections::HashMap<WorkNo, lockout::LockState>>,
}

/// Releases an agent's sign-in claim however the sign-in ends.
struct Claim<'a>(&'a Gateway, WorkNo);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0 .0.claims.lock().remove(&self.1);
    }
}

fn not_signed_in() -> Failure {
    Failure::new(Retcode::NotSignedIn, "agent not signed in")
}

impl Gateway {
    pub fn new(
        config: GatewayConfig,
        directory: Directory,
        store: Arc<dyn AgentStore>,
        audit: Arc<dyn AuditTrail>,
        telemetry: Telemetry,
    ) -> Gateway {
        let hashing = Semaphore::new(config.hash_concurrency.max(1));
        Gateway(Arc::new(Inner {
            config,
            directory,
            store,
            next_session: AtomicU64::new(1),
            claims: Mutex::new(HashSet::new()),
            hashing,
            audit,
            telemetry,
            stopping: watch::Sender::new(false),
            lockouts: Mutex::new(std::collections::HashMap::new()),
        }))
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.0.config
    }

    pub fn directory(&self) -> &Directory {
        &self.0.directory
    }

    pub fn store(&self) -> &Arc<dyn AgentStore> {
        &self.0.store
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.0.telemetry
    }

    /// In strict mode, refuses a reason the client chose that the catalog
    /// does not name: 100-005 for a sign-out reason, 000-002 otherwise.
    fn check_reason(&self, action: Action) -> Result<(), Failure> {
        let refusal = match action {
            Action::ForceLogoutWithReason(_) | Action::BulkForceLogout(_) => Retcode::SignOutParameter,
            Action::State(Command::SayBusy { .. } | Command::Rest { .. })
            | Action::Forced(crate::domain::state::Forced::Rest { .. }) => Retcode::BadParameter,
            _ => return Ok(()),
        };
        match action.reason() {
            Some((category, code))
                if self.config().strict_reasons && !self.directory().catalog().knows(category, code) =>
            {
                Err(Failure::new(refusal, format!("reason {code} is not in the reason-code catalog")))
            }
            _ => Ok(()),
        }
    }

    /// Drops retired Guids from the owner index and their wakers.
    fn clean_up(&self, retired: Retired) {
        for guid in &retired.guids {
            self.0.store.unindex_guid(guid.as_str());
        }
        if let Some(id) = retired.evicted {
            self.0.store.forget(id);
        }
        if let Some(id) = retired.session {
            self.0.store.wake(id);
        }
    }

    /// Runs `f` on one agent's slot and returns what it produced.
    async fn with_slot<R: Send>(
        &self,
        work_no: WorkNo,
        mut f: impl FnMut(&mut AgentSlot) -> R + Send,
    ) -> Result<R, Failure> {
        let mut out = None;
        self.0
            .store
            .update(work_no, &mut |slot| {
                let result = f(slot);
                // Counted from what the last run of the update left, so a
                // store that retries an update never counts a drop twice.
                let dropped: u64 = slot
                    .live
                    .as_deref_mut()
                    .into_iter()
                    .chain(slot.ended.iter_mut())
                    .map(|s| s.queue.take_new_drops())
                    .sum();
                out = Some((result, dropped));
            })
            .await?;
        let (result, dropped) = out.expect("store ran the update");
        if dropped > 0 {
            self.0.telemetry.events_dropped(dropped);
        }
        Ok(result)
    }

    /// Runs `f` on the caller's live session.
    async fn with_live<R: Send>(
        &self,
        caller: &Caller,
        mut f: impl FnMut(&mut Session, u64) -> Result<R, Failure> + Send,
    ) -> Result<R, Failure> {
        let now = now_ms();
        self.with_slot(caller.work_no, |slot| match slot.live_if(caller.session) {
            Some(session) => f(session, now),
            None => Err(not_signed_in()),
        })
        .await?
    }
}

/// Ends the live session: final event (with the reason's name), then it
/// moves to the ended list.
fn end_live(slot: &mut AgentSlot, cause: &SignOutCause, reason_name: String, now: u64, linger_ms: u64) -> Retired {
    let Some(session) = slot.live.as_mut() else { return Retired::default() };
    let content = Content::fields([
        ("loginTime", session.login_time.to_string()),
        ("reason", cause.reason.code().to_string()),
        ("reasonName", reason_name),
        ("initiator", cause.initiator.to_string()),
    ]);
    session.push(names::SHUTDOWN_SERVICE, content, now);
    session.end(cause.reason, now, linger_ms);
    let (id, guids) = (session.id, session.guids.all());
    Retired { session: Some(id), evicted: slot.retire_live(), guids }
}

#[cfg(test)]
mod tests;
