//! State commands, skills, status and heartbeat.
use super::guids::rotation;
use super::Caller;
use super::Gateway;
use super::Heartbeat;
use super::StatusView;
use crate::domain::audit::Action;
use crate::domain::audit::Origin;
use crate::domain::directory::Skill;
use crate::domain::events::names;
use crate::domain::events::Content;
use crate::domain::ids::WorkNo;
use crate::domain::session::Session;
use crate::domain::state::apply;
use crate::domain::state::AgentState;
use crate::domain::state::Command;
use crate::domain::state::Refusal;
use crate::domain::Failure;
use crate::retcode::Retcode;
use std::time::Duration;

use crate::domain::params::{is_service_token, CustomState};

impl Gateway {
    /// Applies a state command of the caller's own (busy, idle, rest,
    /// wrap-up and their cancels), audited.
    pub async fn command(&self, caller: &Caller, origin: &Origin, command: Command) -> Result<(), Failure> {
        let action = Action::State(command);
        let audit = self.audited(caller.actor(), caller.work_no, action, Some(origin)).await?;
        let decided = match self.check_reason(action) {
            Ok(()) => self.with_live(caller, |session, _| transition(session, command)).await,
            Err(refusal) => Err(refusal),
        };
        // The plan decided is the change made: under the command lock the
        // state it was decided from cannot change (a store that runs the
        // update again decides again, to the same end).
        let mut plan = Some(audit.record(decided).await?);
        let rest = self
            .with_live(caller, |session, now| {
                let transition = match plan.take() {
                    Some(plan) => plan,
                    None => transition(session, command)?,
                };
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
        drop(audit);
        self.0.store.wake(caller.session);
        if let Some((epoch, seconds)) = rest {
            self.arm_rest_reminder(*caller, epoch, seconds);
        }
        Ok(())
    }

    pub(super) fn arm_rest_reminder(&self, caller: Caller, epoch: u64, seconds: u32) {
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
    pub async fn set_auto_enter_idle(&self, caller: &Caller, origin: &Origin, flag: &str) -> Result<(), Failure> {
        if flag.is_empty() || flag.chars().count() > 5 {
            return Err(Failure::new(Retcode::BadParameter, "flag must be 1-5 characters"));
        }
        let on = flag == "true";
        self.set_own(caller, origin, Action::AutoEnterIdle { on }, |session| session.options.auto_enter_idle = on).await
    }

    /// An audited change of the caller's own session: decided (the session
    /// is live), recorded, then made.
    async fn set_own(
        &self,
        caller: &Caller,
        origin: &Origin,
        action: Action,
        mut change: impl FnMut(&mut Session) + Send,
    ) -> Result<(), Failure> {
        let audit = self.audited(caller.actor(), caller.work_no, action, Some(origin)).await?;
        audit.record(self.with_live(caller, |_, _| Ok(())).await).await?;
        self.with_live(caller, |session, _| {
            change(session);
            Ok(())
        })
        .await
    }

    /// `autoanswer/{isautoanswer}`: `true` answers calls automatically, any
    /// other 1–5 characters manually.
    pub async fn set_auto_answer(&self, caller: &Caller, origin: &Origin, flag: &str) -> Result<(), Failure> {
        if flag.is_empty() || flag.chars().count() > 5 {
            return Err(Failure::new(Retcode::BadParameter, "isautoanswer must be 1-5 characters"));
        }
        let on = flag == "true";
        self.set_own(caller, origin, Action::AutoAnswer { on }, |session| session.options.auto_answer = on).await
    }

    /// `settalkright?flag=`: 1 takes inbound calls, 0 refuses them (and
    /// leaves the agent out of the skill-queue queries).
    pub async fn set_talk_right(&self, caller: &Caller, origin: &Origin, flag: Option<&str>) -> Result<(), Failure> {
        let on = match flag {
            Some("1") => true,
            Some("0") => false,
            _ => return Err(Failure::new(Retcode::BadParameter, "flag must be 1 or 0")),
        };
        self.set_own(caller, origin, Action::TalkRight { on }, |session| session.options.talk_right = on).await
    }

    /// `setcustomstate?customstate=`: a business-defined state, 0–65534.
    pub async fn set_custom_state(&self, caller: &Caller, origin: &Origin, state: Option<&str>) -> Result<(), Failure> {
        let state = state
            .and_then(CustomState::parse)
            .ok_or_else(|| Failure::new(Retcode::BadParameter, "customstate must be an integer from 0 to 65534"))?
            .get();
        self.set_own(caller, origin, Action::CustomState(state), |session| session.options.custom_state = state).await
    }

    /// The caller's custom state (0 until one is set).
    pub async fn custom_state(&self, caller: &Caller) -> Result<u16, Failure> {
        self.with_live(caller, |session, _| Ok(session.options.custom_state)).await
    }

    /// The skill queues configured for `target`, an agent of the caller's
    /// VDN; any other work number gets 100-019.
    pub async fn configured_skills_of(&self, caller: &Caller, target: WorkNo) -> Result<Vec<Skill>, Failure> {
        self.with_live(caller, |_, _| Ok(())).await?;
        let vdn = self.directory().get(caller.work_no).map(|r| r.vdn);
        let record = self
            .directory()
            .get(target)
            .filter(|r| Some(r.vdn) == vdn)
            .ok_or_else(|| Failure::new(Retcode::SkillParameter, "no agent with that work number in your VDN"))?;
        Ok(record.skills.iter().filter_map(|id| self.directory().skill(*id).cloned()).collect())
    }

    /// `resetskill`: signs the agent in to all configured queues (`auto`)
    /// or to the configured ones among `requested`. Returns the result.
    pub async fn reset_skills(
        &self,
        caller: &Caller,
        origin: &Origin,
        auto: bool,
        requested: Vec<u32>,
    ) -> Result<Vec<Skill>, Failure> {
        let configured = self.directory().get(caller.work_no).map(|r| r.skills.clone()).unwrap_or_default();
        let chosen: Vec<u32> = configured.into_iter().filter(|id| auto || requested.contains(id)).collect();
        let skills = chosen.iter().filter_map(|id| self.directory().skill(*id).cloned()).collect();
        self.set_own(caller, origin, Action::ResetSkill, |session| session.skills = chosen.clone()).await?;
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

    /// Heartbeat (`handshake`, and its older name `heartbeat`): keeps the
    /// session alive and, in dynamic mode, hands out a rotated Guid. A
    /// `service_token` that is not at most 50 letters, digits, `-` or `_`
    /// gets 100-001 and refreshes nothing.
    pub async fn handshake(&self, caller: &Caller, service_token: Option<&str>) -> Result<Heartbeat, Failure> {
        if service_token.is_some_and(|t| !is_service_token(t)) {
            return Err(Failure::new(
                Retcode::SignInParameter,
                "service_token must be at most 50 letters, digits, - or _",
            ));
        }
        let policy = self.config().guid;
        let (change, login_time) = self
            .with_live(caller, |session, now| {
                session.last_heartbeat = now;
                Ok((rotation(session, caller.guid, &policy, now), session.login_time))
            })
            .await?;
        Ok(Heartbeat { set_guid: self.apply_guid_change(caller.work_no, change), login_time })
    }

    // ----- events -----------------------------------------------------------
}

/// What `command` does from the session's state, or why it cannot.
fn transition(session: &Session, command: Command) -> Result<crate::domain::state::Transition, Failure> {
    apply(session.state, command).map_err(|refusal| match refusal {
        Refusal::NotAllowed => Failure::new(
            Retcode::StateNotAllowed,
            format!("not allowed in the current state ({})", session.state.code()),
        ),
        Refusal::ProlongRequired => {
            Failure::new(Retcode::BadParameter, "already in this state: send prolong=true to change it")
        }
    })
}
