//! The gateway service: every agent operation, atomically per agent.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Semaphore;

use super::directory::{Directory, Role, Skill};
use super::events::{names, Content, Event};
use super::ids::{Guid, SessionId, WorkNo};
use super::params::SignOutReason;
use super::session::{AgentSlot, GuidMatch, GuidPolicy, Session, SessionOptions};
use super::signin::SignInRequest;
use super::state::{apply, AgentState, Command, Refusal};
use super::{now_ms, Failure};
use crate::retcode::Retcode;
use crate::store::AgentStore;

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
    pub initiator: String,
}

impl Ending {
    /// The agent signing itself out.
    pub fn own(reason: SignOutReason) -> Ending {
        Ending { reason: reason.code(), initiator: "self".into() }
    }
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
    pub fn new(config: GatewayConfig, directory: Directory, store: Arc<dyn AgentStore>) -> Gateway {
        let hashing = Semaphore::new(config.hash_concurrency.max(1));
        Gateway(Arc::new(Inner {
            config,
            directory,
            store,
            next_session: AtomicU64::new(1),
            claims: Mutex::new(HashSet::new()),
            hashing,
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

    /// Runs `f` on one agent's slot and returns what it produced.
    async fn with_slot<R: Send>(
        &self,
        work_no: WorkNo,
        mut f: impl FnMut(&mut AgentSlot) -> R + Send,
    ) -> Result<R, Failure> {
        let mut out = None;
        self.0.store.update(work_no, &mut |slot| out = Some(f(slot))).await?;
        Ok(out.expect("store ran the update"))
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
    /// where `allow_ended` (the final poll).
    pub async fn authenticate(&self, work_no: WorkNo, guid: &str, allow_ended: bool) -> Result<Caller, Failure> {
        if guid.is_empty() || guid.len() > Guid::MAX_LEN {
            return Err(Failure::new(Retcode::NoPermission, "the Guid header is missing or malformed"));
        }
        let role = self.directory().get(work_no).map_or(Role::Agent, |r| r.role);
        let now = now_ms();
        self.with_slot(work_no, |slot| {
            let signed_in = slot.live.is_some();
            match slot.by_guid(guid, now) {
                Some((s, m)) if s.ended.is_none() || (allow_ended && !s.is_delivered()) => {
                    Ok(Caller { work_no, session: s.id, role, guid: m })
                }
                Some(_) => Err(Failure::new(Retcode::NotSignedIn, "this session has been signed out")),
                None if signed_in => {
                    Err(Failure::new(Retcode::NoPermission, "the Guid is expired or not this agent's"))
                }
                None => Err(not_signed_in()),
            }
        })
        .await?
    }

    // ----- sign-in ----------------------------------------------------------

    fn claim(&self, work_no: WorkNo) -> Result<Claim<'_>, Failure> {
        if self.0.claims.lock().insert(work_no) {
            Ok(Claim(self, work_no))
        } else {
            Err(Failure::new(Retcode::RepeatedCall, "a sign-in for this agent is still in progress"))
        }
    }

    async fn check_password(&self, work_no: WorkNo, password: String) -> Result<bool, Failure> {
        let _permit = self.0.hashing.acquire().await.map_err(|_| Failure::of(Retcode::Internal))?;
        let gateway = self.clone();
        tokio::task::spawn_blocking(move || gateway.directory().verify_password(work_no, &password))
            .await
            .map_err(|_| Failure::of(Retcode::Internal))
    }

    /// Signs an agent in. With `force`, an existing session is displaced
    /// (reason 264) instead of refused with 100-002.
    pub async fn sign_in(&self, work_no: WorkNo, request: SignInRequest, force: bool) -> Result<SignedIn, Failure> {
        let _claim = self.claim(work_no)?;
        if !self.check_password(work_no, request.password.clone()).await? {
            return Err(Failure::new(Retcode::WrongPassword, "wrong work number or password"));
        }
        let record = self.directory().get(work_no).ok_or_else(|| Failure::of(Retcode::WrongPassword))?;
        match (&request.phone, record.role) {
            (None, Role::Agent) => return Err(Failure::new(Retcode::SignInParameter, "phonenum is required")),
            (Some(phone), _) if !record.phones.contains(phone) => {
                return Err(Failure::new(Retcode::PhoneNotAllowed, "this phone number is not configured for the agent"))
            }
            _ => {}
        }
        let id = SessionId(self.0.next_session.fetch_add(1, Ordering::Relaxed));
        let session = self.new_session(id, work_no, &request, record.skills.clone());
        let signed_in = SignedIn {
            guid: session.guids.current().clone(),
            login_time: session.login_time,
            vdn: record.vdn,
            media_type: request.media_type(),
        };
        let linger = self.config().heartbeat_timeout_ms;
        let displaced = self
            .with_slot(work_no, |slot| {
                let displaced = slot.live.as_ref().map(|s| s.id);
                if displaced.is_some() && !force {
                    return Err(Failure::new(Retcode::AlreadySignedIn, "agent already signed in; use forcelogin"));
                }
                if displaced.is_some() {
                    let ending =
                        Ending { reason: SignOutReason::DISPLACED.code(), initiator: "system:forcelogin".into() };
                    end_live(slot, &ending, now_ms(), linger);
                }
                slot.live = Some(Box::new(session.clone()));
                Ok(displaced)
            })
            .await??;
        if let Some(old) = displaced {
            self.0.store.wake(old);
        }
        Ok(signed_in)
    }

    fn new_session(&self, id: SessionId, work_no: WorkNo, request: &SignInRequest, skills: Vec<u32>) -> Session {
        let now = now_ms();
        let (state, events) = request.status.enter();
        let mut session = Session {
            id,
            work_no,
            guids: super::session::GuidSet::new(self.config().guid.node, now),
            login_time: now,
            state,
            state_since: now,
            options: SessionOptions {
                phone: request.phone.clone(),
                auto_answer: request.auto_answer,
                auto_enter_idle: request.auto_enter_idle,
                release_phone: request.release_phone.unwrap_or(true),
                agent_type: request.agent_type,
                listen_status: request.listen_status,
                client_ip: request.ip.clone(),
                media_type: request.media_type(),
            },
            skills,
            last_heartbeat: now,
            poll_until: now,
            poll_generation: 0,
            acking: false,
            rest_epoch: 0,
            queue: super::events::EventQueue::new(self.config().queue_capacity),
            ended: None,
        };
        for (kind, content) in events {
            session.push(kind, content, now);
        }
        session
    }

    // ----- sign-out ---------------------------------------------------------

    /// Signs the caller's session out, queueing `AgentOther_ShutdownService`.
    pub async fn sign_out(&self, caller: &Caller, ending: Ending) -> Result<(), Failure> {
        let linger = self.config().heartbeat_timeout_ms;
        let evicted = self
            .with_slot(caller.work_no, |slot| match slot.live_if(caller.session) {
                Some(_) => Ok(end_live(slot, &ending, now_ms(), linger)),
                None => Err(not_signed_in()),
            })
            .await??;
        self.0.store.wake(caller.session);
        self.forget_evicted(evicted);
        Ok(())
    }

    fn forget_evicted(&self, evicted: Option<SessionId>) {
        if let Some(id) = evicted {
            self.0.store.forget(id);
        }
    }

    // ----- state commands ---------------------------------------------------

    /// Applies a state command (busy, idle, rest, wrap-up and their cancels).
    pub async fn command(&self, caller: &Caller, command: Command) -> Result<(), Failure> {
        let rest = self
            .with_live(caller, |session, now| {
                let transition = apply(session.state, command).map_err(|refusal| match refusal {
                    Refusal::NotAllowed => Failure::new(
                        Retcode::StateNotAllowed,
                        format!("not allowed in the current state ({})", session.state.code()),
                    ),
                    Refusal::ProlongRequired => {
                        Failure::new(Retcode::BadParameter, "already in this state: send prolong=true to change it")
                    }
                })?;
                session.state = transition.next;
                session.state_since = now;
                for (kind, content) in transition.events {
                    session.push(kind, content, now);
                }
                let rest = match (transition.rest_started, transition.next) {
                    (true, AgentState::Rest { seconds, .. }) => {
                        session.rest_epoch += 1;
                        Some((session.rest_epoch, seconds.get()))
                    }
                    _ => None,
                };
                Ok(rest)
            })
            .await?;
        self.0.store.wake(caller.session);
        if let Some((epoch, seconds)) = rest {
            self.arm_rest_reminder(*caller, epoch, seconds);
        }
        Ok(())
    }

    fn arm_rest_reminder(&self, caller: Caller, epoch: u64, seconds: u32) {
        let gateway = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
            let reminded = gateway
                .with_live(&caller, |session, now| {
                    let due = session.rest_epoch == epoch && matches!(session.state, AgentState::Rest { .. });
                    if due {
                        session.push(names::REST_TIMEOUT, Content::Null, now);
                    }
                    Ok(due)
                })
                .await;
            if matches!(reminded, Ok(true)) {
                gateway.0.store.wake(caller.session);
            }
        });
    }

    /// `autoenteridle/{flag}`: `true` goes idle after a call, anything else
    /// (1–5 characters) to wrap-up.
    pub async fn set_auto_enter_idle(&self, caller: &Caller, flag: &str) -> Result<(), Failure> {
        if flag.is_empty() || flag.chars().count() > 5 {
            return Err(Failure::new(Retcode::BadParameter, "flag must be 1-5 characters"));
        }
        let on = flag == "true";
        self.with_live(caller, |session, _| {
            session.options.auto_enter_idle = on;
            Ok(())
        })
        .await
    }

    /// `resetskill`: signs the agent in to all configured queues (`auto`)
    /// or to the configured ones among `requested`. Returns the result.
    pub async fn reset_skills(&self, caller: &Caller, auto: bool, requested: Vec<u32>) -> Result<Vec<Skill>, Failure> {
        let configured = self.directory().get(caller.work_no).map(|r| r.skills.clone()).unwrap_or_default();
        let chosen: Vec<u32> = configured.into_iter().filter(|id| auto || requested.contains(id)).collect();
        let skills = chosen.iter().filter_map(|id| self.directory().skill(*id).cloned()).collect();
        self.with_live(caller, |session, _| {
            session.skills = chosen.clone();
            Ok(())
        })
        .await?;
        Ok(skills)
    }

    /// The skill queues configured for the caller.
    pub async fn configured_skills(&self, caller: &Caller) -> Result<Vec<Skill>, Failure> {
        self.with_live(caller, |_, _| Ok(())).await?;
        let ids = self.directory().get(caller.work_no).map(|r| r.skills.clone()).unwrap_or_default();
        Ok(ids.iter().filter_map(|id| self.directory().skill(*id).cloned()).collect())
    }

    /// The caller's own state.
    pub async fn status(&self, caller: &Caller) -> Result<StatusView, Failure> {
        self.with_live(caller, |session, _| Ok(StatusView { state: session.state.code(), is_working: false })).await
    }

    /// Heartbeat: keeps the session alive and, in dynamic mode, hands out a
    /// rotated Guid.
    pub async fn handshake(&self, caller: &Caller) -> Result<Option<Guid>, Failure> {
        let policy = self.config().guid;
        self.with_live(caller, |session, now| {
            session.last_heartbeat = now;
            Ok(rotation(session, caller.guid, &policy, now))
        })
        .await
    }

    // ----- events -----------------------------------------------------------

    /// Long poll: the oldest queued event at once, or the first to arrive
    /// within the poll wait, or nothing. A newer poll ends this one empty.
    pub async fn poll(&self, caller: &Caller, ack: Option<u64>) -> Result<PollAnswer, Failure> {
        let generation = self.begin_poll(caller, ack).await?;
        self.0.store.wake(caller.session);
        let waker = self.0.store.waker(caller.session);
        let deadline = tokio::time::Instant::now() + Duration::from_millis(self.config().poll_wait_ms);
        loop {
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.take_event(caller, generation, false).await? {
                Step::Answer(answer) => return Ok(answer),
                Step::Gone => return Err(not_signed_in()),
                Step::Wait => {}
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return match self.take_event(caller, generation, true).await? {
                        Step::Answer(answer) => Ok(answer),
                        Step::Gone => Err(not_signed_in()),
                        Step::Wait => Ok(PollAnswer::default()),
                    };
                }
            }
        }
    }

    async fn begin_poll(&self, caller: &Caller, ack: Option<u64>) -> Result<u64, Failure> {
        let wait = self.config().poll_wait_ms;
        let now = now_ms();
        self.with_slot(caller.work_no, |slot| {
            let session = slot.by_id(caller.session).ok_or_else(not_signed_in)?;
            if let Some(seq) = ack {
                session.queue.ack(seq).map_err(|ahead| {
                    Failure::new(
                        Retcode::BadParameter,
                        format!("ack {seq} is ahead of the last event issued ({})", ahead.last_issued),
                    )
                })?;
                session.acking = true;
            }
            session.poll_generation += 1;
            session.last_heartbeat = now;
            session.poll_until = now + wait;
            Ok(session.poll_generation)
        })
        .await?
    }

    /// Takes the next event for a poll of `generation`; at the deadline
    /// (`final_check`) also finishes the poll when nothing is queued.
    async fn take_event(&self, caller: &Caller, generation: u64, final_check: bool) -> Result<Step, Failure> {
        let policy = self.config().guid;
        let now = now_ms();
        let (step, finished) = self
            .with_slot(caller.work_no, |slot| {
                let Some(session) = slot.by_id(caller.session) else {
                    return (Step::Gone, false);
                };
                if session.poll_generation != generation {
                    return (Step::Answer(PollAnswer::default()), false);
                }
                if session.is_delivered() {
                    return (Step::Gone, false);
                }
                let event = session.queue.next(session.acking);
                if let Some(ending) = session.ended.as_mut() {
                    // Without ack the final event is delivered once sent; an
                    // acking client is done once it acknowledged everything.
                    // The session stays as a tombstone so its Guids get 100-006.
                    let finished = event.is_none() || (session.queue.is_empty() && !session.acking);
                    ending.delivered = finished;
                    let step = match event {
                        Some(event) => Step::Answer(PollAnswer { event: Some(event), set_guid: None }),
                        None => Step::Gone,
                    };
                    return (step, finished);
                }
                if event.is_none() && !final_check {
                    return (Step::Wait, false);
                }
                session.poll_until = now;
                session.last_heartbeat = now;
                let set_guid = rotation(session, caller.guid, &policy, now);
                (Step::Answer(PollAnswer { event, set_guid }), false)
            })
            .await?;
        if finished {
            self.0.store.forget(caller.session);
        }
        Ok(step)
    }

    // ----- housekeeping -----------------------------------------------------

    /// Signs out silent agents (reason 263) and frees ended sessions whose
    /// final events were never fetched. Returns how many were signed out.
    pub async fn sweep(&self) -> Result<usize, Failure> {
        let timeout = self.config().heartbeat_timeout_ms;
        let mut timed_out = Vec::new();
        let mut expired = Vec::new();
        // One pass over every slot (for the memory store: one lock per shard),
        // not one store update per agent: the sweep runs every second.
        self.0
            .store
            .update_all(&mut |work_no, slot| {
                let now = now_ms();
                if !slot.ended.is_empty() {
                    let before: Vec<SessionId> = slot.ended.iter().map(|s| s.id).collect();
                    slot.drop_expired(now);
                    expired.extend(before.into_iter().filter(|id| !slot.ended.iter().any(|s| s.id == *id)));
                }
                let silent = slot.live.as_ref().filter(|s| s.is_silent(now, timeout)).map(|s| s.id);
                if let Some(id) = silent {
                    let ending = Ending {
                        reason: SignOutReason::HEARTBEAT_TIMEOUT.code(),
                        initiator: "system:heartbeat-timeout".into(),
                    };
                    end_live(slot, &ending, now, timeout);
                    timed_out.push((work_no, id));
                }
            })
            .await?;
        for (work_no, id) in &timed_out {
            log::info!("heartbeatTimeout agent={work_no} retcode=0 reason=263");
            self.0.store.wake(*id);
        }
        for id in expired {
            self.0.store.forget(id);
        }
        Ok(timed_out.len())
    }
}

enum Step {
    Answer(PollAnswer),
    Wait,
    Gone,
}

/// Rotates the Guid when due; returns the Guid the client must switch to.
/// A client that presents the previous Guid missed a rotation: it is sent
/// the current one again instead of a further rotation, so a lost answer
/// can never cost it the session.
fn rotation(session: &mut Session, presented: GuidMatch, policy: &GuidPolicy, now: u64) -> Option<Guid> {
    let rotated = presented == GuidMatch::Current && session.guids.rotate_if_due(policy, now);
    (rotated || presented == GuidMatch::Previous).then(|| session.guids.current().clone())
}

/// Ends the live session: final event, then it moves to the ended list.
/// Returns an ended session evicted to make room (its waker must go).
fn end_live(slot: &mut AgentSlot, ending: &Ending, now: u64, linger_ms: u64) -> Option<SessionId> {
    if let Some(session) = slot.live.as_mut() {
        let content = Content::fields([
            ("loginTime", session.login_time.to_string()),
            ("reason", ending.reason.to_string()),
            ("initiator", ending.initiator.clone()),
        ]);
        session.push(names::SHUTDOWN_SERVICE, content, now);
        session.end(ending.reason, now, linger_ms);
    }
    slot.retire_live()
}
