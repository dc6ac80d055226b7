//! The gateway service: every agent operation, atomically per agent.
//! Split by concern: the audited-operation rule, sign-in and sign-out,
//! state commands, polling, housekeeping, and supervisors.

mod audited;
mod commands;
mod housekeeping;
mod lockout;
mod messages;
mod poll;
mod queries;
mod signin;
mod supervisor;

pub use lockout::LockoutPolicy;
pub use queries::{agent_list, GroupAgentInfo, GroupInfo, SkillAgents, SkillQueryFilter};
pub use supervisor::{AgentInfo, BulkAction, BulkResult, Selector, SkillStats};

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{watch, Semaphore};

use crate::clock::now_ms;
use crate::domain::audit::{Action, Actor, AuditTrail, Origin};
use crate::domain::directory::{Directory, Role, Skill};
use crate::domain::events::{names, Content, Event};
use crate::domain::ids::{Guid, SessionId, WorkNo};
use crate::domain::params::SignOutReason;
use crate::domain::reasons::Category;
use crate::domain::requests::SignInRequest;
use crate::domain::session::{AgentSlot, GuidMatch, GuidPolicy, Session, SessionOptions};
use crate::domain::state::{apply, AgentState, Command, Refusal};
use crate::domain::store::AgentStore;
use crate::domain::Failure;
use crate::retcode::Retcode;
use crate::telemetry::{GuidRejection, Snapshot, Telemetry};

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

/// What a Guid is presented for: which sessions it may belong to, and what
/// the Guid of an ended session gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Any interface but the poll and sign-out: live sessions only (100-006 for an ended one).
    Command,
    /// The poll: an ended session's Guid too, for its final events.
    Poll,
    /// Signing out: live sessions only, and 100-008 "already signed out"
    /// for the Guid of a session that has ended.
    SignOut,
}

/// An authenticated caller: the agent and the session its Guid belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub work_no: WorkNo,
    pub session: SessionId,
    pub role: Role,
    pub guid: GuidMatch,
}

/// What a successful sign-in returns.
#[derive(Debug, Clone)]
pub struct SignedIn {
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

/// Who ended a session, recorded in `AgentOther_ShutdownService`.
#[derive(Debug, Clone)]
pub struct Ending {
    pub reason: u16,
    /// `self`, `inspector:<workNo>` or `system:<cause>`.
    pub initiator: String,
}

impl Ending {
    /// The agent signing itself out.
    pub fn own(reason: SignOutReason) -> Ending {
        Ending { reason: reason.code(), initiator: "self".into() }
    }

    /// The system ending a session.
    pub fn system(reason: SignOutReason, cause: &str) -> Ending {
        Ending { reason: reason.code(), initiator: format!("system:{cause}") }
    }
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

    // ----- authentication -------------------------------------------------

    /// Finds the session a Guid belongs to. Ended sessions are accepted only
    /// for the final poll.
    pub async fn authenticate(&self, work_no: WorkNo, guid: &str, purpose: Purpose) -> Result<Caller, Failure> {
        let allow_ended = purpose == Purpose::Poll;
        let found = if guid.is_empty() || guid.len() > Guid::MAX_LEN {
            Err(GuidRejection::Missing)
        } else {
            let role = self.directory().get(work_no).map_or(Role::Agent, |r| r.role);
            let now = now_ms();
            self.with_slot(work_no, |slot| {
                let signed_in = slot.live.is_some();
                match slot.by_guid(guid, now) {
                    Some((s, m)) if s.ended.is_none() || (allow_ended && !s.is_delivered()) => {
                        Ok(Caller { work_no, session: s.id, role, guid: m })
                    }
                    Some(_) => Err(GuidRejection::Ended),
                    None if signed_in => Err(GuidRejection::Wrong),
                    None => Err(GuidRejection::NotSignedIn),
                }
            })
            .await?
        };
        found.map_err(|rejection| {
            self.0.telemetry.guid_rejected(rejection);
            match rejection {
                GuidRejection::Missing => {
                    Failure::new(Retcode::NoPermission, "the Guid header is missing or malformed")
                }
                GuidRejection::Wrong => Failure::new(Retcode::NoPermission, "the Guid is expired or not this agent's"),
                GuidRejection::Ended if purpose == Purpose::SignOut => {
                    Failure::new(Retcode::AlreadySignedOut, "this session has already been signed out")
                }
                GuidRejection::Ended => Failure::new(Retcode::NotSignedIn, "this session has been signed out"),
                GuidRejection::NotSignedIn => not_signed_in(),
            }
        })
    }

    /// The caller of a sign-out whose `{agentid}` may be another agent's:
    /// the agent itself, or an inspector whose Guid this is. An agent's
    /// Guid is never accepted for a different agent id.
    pub async fn authenticate_operator(&self, path_agent: WorkNo, guid: &str) -> Result<Caller, Failure> {
        // An inspector's Guid is tried as the inspector's first: trying it
        // as the path agent's would count a Guid refusal for every
        // legitimate forced sign-out.
        let owner = self.0.store.guid_owner(guid).filter(|owner| {
            *owner != path_agent && self.directory().get(*owner).is_some_and(|r| r.role == Role::Inspector)
        });
        if let Some(inspector) = owner {
            if let Ok(caller) = self.authenticate(inspector, guid, Purpose::Command).await {
                return Ok(caller);
            }
        }
        self.authenticate(path_agent, guid, Purpose::SignOut).await
    }
}

/// A Guid change to apply to the client and the owner index.
#[derive(Debug, Default)]
struct GuidChange {
    /// The Guid the client must switch to.
    set_guid: Option<Guid>,
    /// A new Guid to index.
    issued: Option<Guid>,
    /// A Guid that stopped working.
    retired: Option<Guid>,
}

/// Rotates the Guid when due. A client that presents the previous Guid
/// missed a rotation: it is sent the current one again instead of a further
/// rotation, so a lost answer can never cost it the session.
fn rotation(session: &mut Session, presented: GuidMatch, policy: &GuidPolicy, now: u64) -> GuidChange {
    let rotated = if presented == GuidMatch::Current { session.guids.rotate_if_due(policy, now) } else { None };
    let current = session.guids.current().clone();
    match rotated {
        Some(r) => GuidChange { set_guid: Some(current.clone()), issued: Some(current), retired: r.retired },
        None if presented == GuidMatch::Previous => GuidChange { set_guid: Some(current), ..GuidChange::default() },
        None => GuidChange::default(),
    }
}

impl Gateway {
    /// Applies a Guid change to the owner index; returns what the client gets.
    fn apply_guid_change(&self, work_no: WorkNo, change: GuidChange) -> Option<Guid> {
        if let Some(guid) = &change.issued {
            self.0.store.index_guid(guid.as_str(), work_no);
        }
        if let Some(guid) = &change.retired {
            self.0.store.unindex_guid(guid.as_str());
        }
        change.set_guid
    }
}

/// Ends the live session: final event (with the reason's name), then it
/// moves to the ended list.
fn end_live(slot: &mut AgentSlot, ending: &Ending, reason_name: String, now: u64, linger_ms: u64) -> Retired {
    let Some(session) = slot.live.as_mut() else { return Retired::default() };
    let content = Content::fields([
        ("loginTime", session.login_time.to_string()),
        ("reason", ending.reason.to_string()),
        ("reasonName", reason_name),
        ("initiator", ending.initiator.clone()),
    ]);
    session.push(names::SHUTDOWN_SERVICE, content, now);
    session.end(ending.reason, now, linger_ms);
    let (id, guids) = (session.id, session.guids.all());
    Retired { session: Some(id), evicted: slot.retire_live(), guids }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{ActionRecord, AuditError, Record, Recording, RequestId, TrailStats};
    use crate::domain::directory::DEMO_DIRECTORY;
    use crate::domain::requests::SignInKind;
    use crate::domain::session::AuthMode;
    use crate::store::MemoryStore;

    /// A trail that keeps each record's action and retcode, and can be
    /// made to refuse what it is given.
    #[derive(Default)]
    struct Trail {
        kept: Mutex<Vec<(String, &'static str)>>,
        fallback: Mutex<Vec<String>>,
        failing: std::sync::atomic::AtomicBool,
    }

    impl AuditTrail for Trail {
        fn record(&self, records: &[ActionRecord<'_>]) -> Recording {
            let failing = self.failing.load(Ordering::Relaxed);
            for record in records {
                let line = (record.action.name().to_owned(), record.retcode.code());
                match failing {
                    false => self.kept.lock().push(line),
                    true if record.action.goes_ahead_unrecorded() => self.fallback.lock().push(line.0),
                    true => {}
                }
            }
            let outcome = if failing { Err(AuditError("disk full".into())) } else { Ok(()) };
            Box::pin(std::future::ready(outcome))
        }

        fn is_writable(&self) -> bool {
            !self.failing.load(Ordering::Relaxed)
        }

        fn search(
            &self,
            _: std::ops::Range<u64>,
            _: &mut dyn FnMut(&Record) -> bool,
            _: usize,
            _: usize,
        ) -> Result<(Vec<Record>, usize), AuditError> {
            Ok((Vec::new(), 0))
        }

        fn stats(&self) -> TrailStats {
            TrailStats::default()
        }
    }

    fn gateway(poll_wait_ms: u64, trail: Arc<Trail>) -> Gateway {
        gateway_with(poll_wait_ms, 120_000, trail)
    }

    fn gateway_with(poll_wait_ms: u64, heartbeat_timeout_ms: u64, trail: Arc<Trail>) -> Gateway {
        let config = GatewayConfig {
            guid: GuidPolicy { mode: AuthMode::Static, interval_ms: 60_000, timeout_ms: 120_000, node: 0 },
            poll_wait_ms,
            heartbeat_timeout_ms,
            queue_capacity: 10,
            server_name: "AgentGateway".into(),
            hash_concurrency: 1,
            strict_reasons: false,
            lockout: LockoutPolicy { attempts: 5, base_ms: 60_000, max_ms: 900_000 },
        };
        let directory = Directory::parse(DEMO_DIRECTORY).unwrap();
        Gateway::new(config, directory, Arc::new(MemoryStore::default()), trail, Telemetry::new())
    }

    fn origin() -> Origin {
        Origin { request_id: RequestId::new(), ip: None }
    }

    /// The demo directory's sign-in of `agent` through `kind`.
    fn request(agent: u32, kind: SignInKind) -> SignInRequest {
        let inspector = agent >= 900;
        SignInRequest {
            kind,
            password: if inspector { "Super@123" } else { "Agent@123" }.into(),
            phone: (!inspector).then(|| (7000 + agent).to_string()),
            auto_answer: true,
            auto_enter_idle: true,
            release_phone: None,
            agent_type: 4,
            status: crate::domain::state::InitialState::Idle,
            ip: "127.0.0.1".into(),
            check_in_webm: true,
            check_in_mailm: false,
            listen_status: false,
        }
    }

    async fn sign_in(gateway: &Gateway, agent: u32) -> Caller {
        let work_no = WorkNo::new(agent).unwrap();
        let signed_in = gateway.sign_in(work_no, request(agent, SignInKind::Login), &origin()).await.unwrap();
        gateway.authenticate(work_no, signed_in.guid.as_str(), Purpose::Command).await.unwrap()
    }

    #[tokio::test]
    async fn a_sign_in_in_progress_refuses_another_sign_in_and_a_sign_out_of_the_agent() {
        let gateway = gateway(60_000, Arc::default());
        let caller = sign_in(&gateway, 101).await;
        let work_no = caller.work_no;
        // A forcelogin of the agent is in progress while the claim is held.
        let claim = gateway.claim(work_no).unwrap();
        let again = gateway.sign_in(work_no, request(101, SignInKind::ForceLogin), &origin()).await;
        assert_eq!(again.unwrap_err().code, Retcode::SignInInProgress);
        let out = gateway.sign_out(&caller, &origin(), Action::Logout).await;
        assert_eq!(out.unwrap_err().code, Retcode::RepeatedCall);
        drop(claim);
        // Nothing changed: the session is still live, and signs out now.
        gateway.sign_out(&caller, &origin(), Action::Logout).await.unwrap();
        let twice = gateway.sign_out(&caller, &origin(), Action::Logout).await;
        assert_eq!(twice.unwrap_err().code, Retcode::AlreadySignedOut);
    }

    #[tokio::test]
    async fn a_stopping_gateway_is_not_ready_and_its_polls_do_not_wait() {
        let gateway = gateway(60_000, Arc::default());
        assert_eq!(gateway.readiness().await, Ok(()));
        let caller = sign_in(&gateway, 101).await;
        for _ in 0..2 {
            assert!(gateway.poll(&caller, None).await.unwrap().event.is_some());
        }
        gateway.shut_down();
        assert_eq!(gateway.readiness().await.unwrap_err().detail, "shutting down");
        // The poll wait is a minute: only the shutdown can answer this in time.
        let answer = tokio::time::timeout(Duration::from_secs(10), gateway.poll(&caller, None)).await;
        assert!(answer.expect("answered without waiting").unwrap().event.is_none());
    }

    #[tokio::test]
    async fn a_command_whose_record_is_refused_changes_nothing_but_sign_outs_go_ahead() {
        let trail = Arc::new(Trail::default());
        let gateway = gateway(10, trail.clone());
        let agent = sign_in(&gateway, 101).await;
        let inspector = sign_in(&gateway, 999).await;
        gateway.command(&agent, &origin(), Command::SayFree).await.expect_err("already idle: 100-009");
        trail.failing.store(true, Ordering::Relaxed);
        let busy = Command::SayBusy { reason: crate::domain::params::BusyReason::NONE, prolong: None };
        let refused = gateway.command(&agent, &origin(), busy).await.unwrap_err();
        assert_eq!(refused.code, Retcode::Internal);
        assert_eq!(gateway.status(&agent).await.unwrap().state, 4, "still idle");
        // A supervisor's sign-out goes ahead; its record waits in the fallback.
        let target = agent.work_no;
        gateway.force_sign_out(&inspector, &origin(), target, Action::ForceLogOutAgent).await.unwrap();
        assert_eq!(gateway.status(&agent).await.unwrap_err().code, Retcode::NotSignedIn);
        assert_eq!(*trail.fallback.lock(), ["forceLogOutAgent"]);
        let kept: Vec<(String, &str)> = trail.kept.lock().clone();
        let expected = [("login", "0"), ("login", "0"), ("sayFree", "100-009")];
        assert_eq!(kept, expected.map(|(a, r)| (a.to_owned(), r)), "the refused command left no record");
    }

    #[tokio::test]
    async fn the_heartbeat_timeout_goes_ahead_while_the_trail_cannot_be_written() {
        let trail = Arc::new(Trail::default());
        let gateway = gateway_with(1, 20, trail.clone());
        let agent = sign_in(&gateway, 101).await;
        trail.failing.store(true, Ordering::Relaxed);
        // Silence is what only time brings: sweep until the agent is out.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while gateway.sweep().await.unwrap() == 0 {
            assert!(std::time::Instant::now() < deadline, "not signed out within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(gateway.status(&agent).await.unwrap_err().code, Retcode::NotSignedIn);
        assert_eq!(*trail.fallback.lock(), ["heartbeatTimeout"]);
    }
}
