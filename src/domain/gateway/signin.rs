//! Sign-in (with its per-agent claim) and sign-out.
use super::end_live;
use super::not_signed_in;
use super::Caller;
use super::Claim;
use super::Gateway;
use super::Initiator;
use super::NewSession;
use super::Retired;
use super::SignOutCause;
use crate::clock::now_ms;
use crate::domain::audit::Action;
use crate::domain::audit::Actor;
use crate::domain::audit::Origin;
use crate::domain::directory::Role;
use crate::domain::ids::SessionId;
use crate::domain::ids::WorkNo;
use crate::domain::params::SignOutReason;
use crate::domain::reasons::Category;
use crate::domain::requests::SignInRequest;
use crate::domain::session::Session;
use crate::domain::session::SessionOptions;
use crate::domain::Failure;
use crate::retcode::Retcode;
use std::sync::atomic::Ordering;

use crate::domain::requests::SignInKind;

impl Gateway {
    /// Holds the agent's sign-in claim until dropped; an overlapping
    /// sign-in of the same agent gets 100-021.
    pub(super) fn claim(&self, work_no: WorkNo) -> Result<Claim<'_>, Failure> {
        if self.0.claims.lock().insert(work_no) {
            Ok(Claim(self, work_no))
        } else {
            Err(Failure::of(Retcode::SignInInProgress))
        }
    }

    async fn check_password(&self, work_no: WorkNo, password: String) -> Result<bool, Failure> {
        let _permit = self.0.hashing.acquire().await.map_err(|_| Failure::of(Retcode::Internal))?;
        let gateway = self.clone();
        tokio::task::spawn_blocking(move || gateway.directory().verify_password(work_no, &password))
            .await
            .map_err(|_| Failure::of(Retcode::Internal))
    }

    /// Signs an agent in. `forcelogin` displaces an existing session
    /// (reason 264) instead of refusing it with 100-002. A work number
    /// locked by repeated wrong passwords gets 110-016, even with the right
    /// one. `loginex` with an empty password needs a directory record that
    /// allows it (`loginex_without_password`); otherwise the empty password
    /// is checked, and refused, like any wrong one. Every attempt that
    /// reaches the password check (or skips it by the directory's leave) is
    /// audited: a wrong password as the claimed work number's, the rest as
    /// the agent's.
    pub async fn sign_in(
        &self,
        work_no: WorkNo,
        request: SignInRequest,
        origin: &Origin,
    ) -> Result<NewSession, Failure> {
        let action = Action::SignIn(request.kind);
        let _claim = self.claim(work_no)?;
        self.check_lock(work_no)?;
        // Before the password check: no hashing for a record that cannot be kept.
        self.refuse_unrecordable(action)?;
        let passwordless = request.kind == SignInKind::LoginEx
            && request.password.is_empty()
            && self.directory().get(work_no).is_some_and(|r| r.loginex_without_password);
        if !passwordless {
            if !self.check_password(work_no, request.password.clone()).await? {
                return Err(self.password_failed(work_no, action, origin).await);
            }
            self.password_succeeded(work_no);
        }
        let record = self.directory().get(work_no).ok_or_else(|| Failure::of(Retcode::WrongPassword))?;
        let actor = Actor::Caller { work_no, role: record.role };
        let audit = self.audited(actor, work_no, action, Some(origin)).await?;
        let force = request.kind == SignInKind::ForceLogin;
        let decided = match (&request.phone, record.role) {
            (None, Role::Agent) if request.kind != SignInKind::LoginEx => {
                Err(Failure::new(Retcode::SignInParameter, "phonenum is required"))
            }
            (Some(phone), _) if !record.phones.contains(phone) => {
                Err(Failure::new(Retcode::PhoneNotAllowed, "this phone number is not configured for the agent"))
            }
            _ => match self.with_slot(work_no, |slot| slot.live.is_some()).await? {
                true if !force => {
                    Err(Failure::new(Retcode::AlreadySignedIn, "agent already signed in; use forcelogin"))
                }
                displacing => Ok(displacing),
            },
        };
        let first = matches!(decided, Ok(true)).then_some(Action::Displaced);
        audit.record_with(first, decided).await?;
        let id = SessionId(self.0.next_session.fetch_add(1, Ordering::Relaxed));
        let session = self.new_session(id, work_no, &request, record.skills.clone());
        let signed_in = NewSession {
            guid: session.guids.current().clone(),
            session: id,
            login_time: session.login_time,
            vdn: record.vdn,
            media_type: request.media_type(),
        };
        let retired = self.install(work_no, session, request.kind == SignInKind::ForceLogin).await?;
        self.0.store.index_guid(signed_in.guid.as_str(), work_no);
        drop(audit);
        if retired.session.is_some() {
            self.0.telemetry.signed_out(SignOutReason::DISPLACED.code());
            self.clean_up(retired);
            self.notify_inspectors(work_no, false).await;
        }
        self.notify_inspectors(work_no, true).await;
        Ok(signed_in)
    }

    /// Makes `session` the live one, displacing a live session if `force`.
    async fn install(&self, work_no: WorkNo, session: Session, force: bool) -> Result<Retired, Failure> {
        let linger = self.config().heartbeat_timeout_ms;
        let cause = SignOutCause { reason: SignOutReason::DISPLACED, initiator: Initiator::System("forcelogin") };
        let name = self.directory().catalog().name_or_empty(Category::System, cause.reason.code());
        self.with_slot(work_no, |slot| {
            let mut retired = Retired::default();
            if slot.live.is_some() {
                if !force {
                    return Err(Failure::new(Retcode::AlreadySignedIn, "agent already signed in; use forcelogin"));
                }
                retired = end_live(slot, &cause, name.clone(), now_ms(), linger);
            }
            slot.live = Some(Box::new(session.clone()));
            Ok(retired)
        })
        .await?
    }

    fn new_session(&self, id: SessionId, work_no: WorkNo, request: &SignInRequest, skills: Vec<u32>) -> Session {
        let now = now_ms();
        let (state, events) = request.status.enter();
        let mut session = Session {
            id,
            work_no,
            guids: crate::domain::session::GuidSet::new(self.config().guid.node, now),
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
                talk_right: true,
                custom_state: 0,
            },
            skills,
            last_heartbeat: now,
            poll_until: now,
            poll_generation: 0,
            acking: false,
            rest_epoch: 0,
            queue: crate::domain::events::EventQueue::new(self.config().queue_capacity),
            ended: None,
        };
        for (kind, content) in events {
            session.push(kind, content, now);
        }
        session
    }

    // ----- sign-out ---------------------------------------------------------

    /// The caller signs its own session out: `logout`, `forceLogout` or
    /// `forceLogoutWithReason`, which queue `AgentOther_ShutdownService`.
    /// While a sign-in of the same agent is in progress (a `forcelogin`
    /// that will displace this session) the sign-out is a call repeated too
    /// early: 000-007, and nothing changes (reference §1.5). A session that
    /// is no longer live (another sign-out got there first, since the
    /// caller was authenticated) gets 100-008.
    pub async fn sign_out(&self, caller: &Caller, origin: &Origin, action: Action) -> Result<(), Failure> {
        let reason = action.sign_out_reason().unwrap_or(SignOutReason::NORMAL);
        let cause = SignOutCause { reason, initiator: Initiator::Own };
        let audit = self.audited(caller.actor(), caller.work_no, action, Some(origin)).await?;
        let decided =
            if self.0.claims.lock().contains(&caller.work_no) {
                Err(Failure::new(Retcode::RepeatedCall, "a sign-in of this agent is in progress; sign out after it"))
            } else {
                match self.check_reason(action) {
                    Ok(()) => self.live_session(caller.work_no, Some(caller.session)).await.map_err(|refusal| {
                        match refusal.code {
                            Retcode::NotSignedIn => {
                                Failure::new(Retcode::AlreadySignedOut, "this session has already been signed out")
                            }
                            _ => refusal,
                        }
                    }),
                    Err(refusal) => Err(refusal),
                }
            };
        let session = audit.record(decided).await?;
        self.end_session(caller.work_no, session, &cause).await
    }

    /// The live session of `work_no` (only if it is `session`, when given).
    pub(super) async fn live_session(&self, work_no: WorkNo, session: Option<SessionId>) -> Result<SessionId, Failure> {
        self.with_slot(work_no, |slot| match slot.live.as_ref().map(|s| s.id) {
            Some(id) if session.is_none_or(|wanted| wanted == id) => Ok(id),
            _ => Err(not_signed_in()),
        })
        .await?
    }

    /// Ends `work_no`'s live session `session` and tells listening
    /// inspectors. Audited operations call it once their record is in.
    pub(super) async fn end_session(
        &self,
        work_no: WorkNo,
        session: SessionId,
        cause: &SignOutCause,
    ) -> Result<(), Failure> {
        let linger = self.config().heartbeat_timeout_ms;
        let name = self.directory().catalog().name_or_empty(Category::Signout, cause.reason.code());
        let retired = self
            .with_slot(work_no, |slot| match slot.live.as_ref().map(|s| s.id) {
                Some(id) if id == session => Ok(end_live(slot, cause, name.clone(), now_ms(), linger)),
                _ => Err(not_signed_in()),
            })
            .await??;
        self.0.telemetry.signed_out(cause.reason.code());
        self.clean_up(retired);
        self.notify_inspectors(work_no, false).await;
        Ok(())
    }
}
