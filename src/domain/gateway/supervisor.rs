//! Inspectors acting on agents in their scope: forced sign-out and state
//! changes, status queries, bulk actions, and sign-in/out notifications.
use super::not_signed_in;
use super::Caller;
use super::Gateway;
use super::Initiator;
use super::SignOutCause;
use crate::clock::now_ms;
use crate::domain::audit::Action;
use crate::domain::audit::Origin;
use crate::domain::directory::Role;
use crate::domain::events::names;
use crate::domain::events::Content;
use crate::domain::ids::SessionId;
use crate::domain::ids::WorkNo;
use crate::domain::params::SignOutReason;
use crate::domain::reasons::Category;
use crate::domain::session::GuidMatch;
use crate::domain::state::AgentState;
use crate::domain::Failure;
use crate::retcode::Retcode;

use serde::Serialize;
use utoipa::ToSchema;

use super::audited::Audited;
use crate::domain::audit::Record;
use crate::domain::params::BusyReason;
use crate::domain::state::Forced;

/// The agents a bulk action covers.
#[derive(Debug, Clone, Copy)]
pub enum Selector {
    Group(u32),
    Skill(u32),
}

/// What a bulk action does to each agent.
#[derive(Debug, Clone, Copy)]
pub enum BulkAction {
    SignOut { reason: SignOutReason },
    Busy,
}

/// One agent's outcome of an action on several agents (a bulk action, a note).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    /// Work number.
    pub work_no: String,
    /// This agent's outcome: `"0"`, or why not (e.g. 100-006 not signed in).
    pub retcode: Retcode,
    pub message: String,
}

/// One agent as a supervisor sees it: first the fields Huawei's sample
/// clients read (`workno`, `name`, `status`, `ctiStatus`, `groupName`),
/// then the gateway's own.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// Work number.
    pub workno: String,
    pub name: String,
    /// CC-Gateway state code as text (reference §6.1): `"2"` signed out,
    /// `"3"` busy, `"4"` idle, `"5"` wrap-up, `"8"` rest; the same value as `agentState`.
    #[schema(example = "4")]
    pub status: String,
    /// CTI platform state code as text (reference §6.2): `"0"` not signed
    /// in, `"1"` idle, `"6"` wrap-up, `"7"` busy, `"8"` rest.
    #[schema(example = "1")]
    pub cti_status: String,
    /// Name of the agent's group (`[[groups]]` of the directory; `""` when undeclared).
    pub group_name: String,
    pub group_id: u32,
    pub vdn_id: u32,
    /// CC-Gateway state (reference §6.1): 2 signed out, 3 busy, 4 idle, 5 wrap-up, 8 rest.
    pub agent_state: u8,
    /// Busy reason or rest cause of the current state.
    pub reason: Option<u16>,
    /// The reason's catalog name.
    pub reason_name: Option<String>,
    /// Epoch ms since which the agent is in this state.
    pub state_since: Option<u64>,
    /// Epoch ms of sign-in.
    pub login_time: Option<u64>,
    /// Phone number signed in with.
    pub phone_number: Option<String>,
    /// Skill queues signed in to (configured ones when signed out).
    pub skills: Vec<u32>,
    /// May take inbound calls (`settalkright`); false when signed out.
    pub talk_right: bool,
}

/// The CTI platform state code (reference §6.2) of a CC-Gateway one (§6.1).
pub(super) fn cti_status(agent_state: u8) -> u8 {
    match agent_state {
        3 => 7,
        4 => 1,
        5 => 6,
        8 => 8,
        _ => 0,
    }
}

/// Agent counts of one skill queue.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkillStats {
    pub skill_id: u32,
    pub name: String,
    pub signed_in: u32,
    pub idle: u32,
    pub busy: u32,
    pub resting: u32,
    pub wrap_up: u32,
}

impl Gateway {
    /// May `inspector` act on `target`? Inspector role (else `no_right`),
    /// not itself (000-005), a known agent (else `missing`), in scope and VDN.
    pub(super) fn check_scope(
        &self,
        inspector: &Caller,
        target: WorkNo,
        no_right: Retcode,
        missing: Retcode,
    ) -> Result<(), Failure> {
        self.require_inspector(inspector, no_right)?;
        if target == inspector.work_no {
            return Err(Failure::of(Retcode::SelfInspection));
        }
        if self.directory().get(target).is_none() {
            return Err(Failure::of(missing));
        }
        if !self.directory().covers(inspector.work_no, target) {
            return Err(Failure::of(no_right));
        }
        Ok(())
    }

    /// Refuses callers that are not inspectors with `no_right`.
    pub fn require_inspector(&self, caller: &Caller, no_right: Retcode) -> Result<(), Failure> {
        match caller.role {
            Role::Inspector => Ok(()),
            Role::Agent => Err(Failure::new(no_right, "only inspectors may query or act on other agents")),
        }
    }

    /// Checks a quality-control action (900-002 outside scope).
    pub fn authorize(&self, inspector: &Caller, target: WorkNo) -> Result<(), Failure> {
        self.check_scope(inspector, target, Retcode::NoRight, Retcode::MonitoredAgentNotFound)
    }

    /// An inspector signs `target` out, from any state: `action` is
    /// `forceLogOutAgent` (reason 257), `forceLogoutWithReason` or one
    /// agent of `bulkForceLogout`.
    pub async fn force_sign_out(
        &self,
        inspector: &Caller,
        origin: &Origin,
        target: WorkNo,
        action: Action,
    ) -> Result<(), Failure> {
        let reason = action.sign_out_reason().unwrap_or(SignOutReason::BY_INSPECTOR);
        let (_audit, session) = self.begin_inspection(inspector, origin, target, action).await?;
        let initiator = Initiator::Inspector(inspector.work_no);
        self.end_session(target, session, &SignOutCause { reason, initiator }).await
    }

    /// An inspector forces `target` busy (reason 3), idle, or to rest:
    /// `action` is `forceBusy`, `forceIdle`, `forceRest`, or one agent of
    /// `bulkForceBusy`.
    pub async fn force_state(
        &self,
        inspector: &Caller,
        origin: &Origin,
        target: WorkNo,
        forced: Forced,
        action: Action,
    ) -> Result<(), Failure> {
        let (audit, session) = self.begin_inspection(inspector, origin, target, action).await?;
        let catalog = self.directory().catalog();
        let who = Initiator::Inspector(inspector.work_no).to_string();
        let (next, kind, content) = match forced {
            Forced::Busy => {
                let code = BusyReason::BY_INSPECTOR.code();
                let name = catalog.name_or_empty(Category::Busy, code);
                let content = Content::fields([("reason", code.to_string()), ("reasonName", name), ("initiator", who)]);
                (AgentState::Busy { reason: BusyReason::BY_INSPECTOR }, names::FORCE_SET_NOT_READY, content)
            }
            Forced::Idle => (AgentState::Idle, names::FORCE_READY, Content::fields([("initiator", who)])),
            Forced::Rest { seconds, cause } => {
                let name = catalog.name_or_empty(Category::Rest, u16::from(cause.code()));
                let content = Content::fields([
                    ("reason", cause.code().to_string()),
                    ("time", seconds.get().to_string()),
                    ("reasonName", name),
                    ("initiator", who),
                ]);
                (AgentState::Rest { seconds, cause }, names::SET_REST_SUCCESS, content)
            }
        };
        let now = now_ms();
        let epoch = self
            .with_slot(target, |slot| {
                let session = slot.live_if(session)?;
                session.state = next;
                session.state_since = now;
                session.push(kind, content.clone(), now);
                session.rest_epoch += u64::from(matches!(next, AgentState::Rest { .. }));
                Some(session.rest_epoch)
            })
            .await?
            .ok_or_else(not_signed_in)?;
        drop(audit);
        self.0.store.wake(session);
        if let Forced::Rest { seconds, .. } = forced {
            let agent = Caller { work_no: target, session, role: Role::Agent, guid: GuidMatch::Current };
            self.arm_rest_reminder(agent, epoch, seconds.get());
        }
        Ok(())
    }

    /// Begins an inspector's `action` on `target`: the checks that need no
    /// look at the target's slot (the strict catalog, then the scope; a
    /// refusal is recorded without taking the target's command lock, as it
    /// changes nothing), then the audited rule up to the record: the
    /// target's lock, which is held while the returned value lives, and
    /// its live session.
    async fn begin_inspection<'g>(
        &'g self,
        inspector: &Caller,
        origin: &'g Origin,
        target: WorkNo,
        action: Action,
    ) -> Result<(Audited<'g>, SessionId), Failure> {
        self.refuse_unrecordable(action)?;
        if let Err(refusal) = self.check_reason(action).and_then(|()| self.authorize(inspector, target)) {
            return Err(self.refused(inspector.actor(), target, action, origin, refusal).await);
        }
        let audit = self.audited(inspector.actor(), target, action, Some(origin)).await?;
        let session = audit.record(self.live_session(target, None).await).await?;
        Ok((audit, session))
    }

    /// Every agent of `selector` inside the inspector's scope, acted on one
    /// by one; each gets its own outcome and its own audit record. A bulk
    /// action refused as a whole is recorded once, on the caller.
    pub async fn bulk(
        &self,
        inspector: &Caller,
        origin: &Origin,
        selector: Selector,
        action: BulkAction,
    ) -> Result<Vec<BulkResult>, Failure> {
        let each = match action {
            BulkAction::SignOut { reason } => Action::BulkForceLogout(reason),
            BulkAction::Busy => Action::BulkForceBusy,
        };
        let refuse = |refusal| self.refused(inspector.actor(), inspector.work_no, each, origin, refusal);
        self.refuse_unrecordable(each)?;
        if let Err(refusal) = self.check_reason(each).and_then(|()| self.require_inspector(inspector, Retcode::NoRight))
        {
            return Err(refuse(refusal).await);
        }
        // Bulk actions reach agents only, never other inspectors.
        let members: Vec<WorkNo> = self
            .directory()
            .agents()
            .filter(|(w, r)| {
                *w != inspector.work_no
                    && r.role == Role::Agent
                    && match selector {
                        Selector::Group(g) => r.group == g,
                        Selector::Skill(s) => r.skills.contains(&s),
                    }
            })
            .map(|(w, _)| w)
            .collect();
        let targets: Vec<WorkNo> =
            members.iter().copied().filter(|w| self.directory().covers(inspector.work_no, *w)).collect();
        if targets.is_empty() {
            let refusal = match members.is_empty() {
                true => Failure::new(Retcode::BadParameter, "no agent belongs to that group or skill queue"),
                false => Failure::of(Retcode::NoRight),
            };
            return Err(refuse(refusal).await);
        }
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let outcome = match action {
                BulkAction::SignOut { .. } => self.force_sign_out(inspector, origin, target, each).await,
                BulkAction::Busy => self.force_state(inspector, origin, target, Forced::Busy, each).await,
            };
            let (retcode, message) = match outcome {
                Ok(()) => (Retcode::Success, "success".to_owned()),
                Err(f) => (f.code, f.detail.into_owned()),
            };
            results.push(BulkResult { work_no: target.to_string(), retcode, message });
        }
        Ok(results)
    }

    /// One agent's status, for an inspector whose scope covers it.
    pub async fn query_agent(&self, inspector: &Caller, target: WorkNo) -> Result<AgentInfo, Failure> {
        self.check_scope(inspector, target, Retcode::NoQueryRight, Retcode::NoAgentInfo)?;
        self.agent_info(target).await
    }

    /// Every agent in the inspector's scope, signed in or not.
    pub async fn agents_in_scope(&self, inspector: &Caller) -> Result<Vec<AgentInfo>, Failure> {
        self.require_inspector(inspector, Retcode::NoQueryRight)?;
        let mut agents = Vec::new();
        for (work_no, _) in self.directory().agents() {
            if work_no != inspector.work_no && self.directory().covers(inspector.work_no, work_no) {
                agents.push(self.agent_info(work_no).await?);
            }
        }
        Ok(agents)
    }

    /// Counters per skill queue over the agents in the inspector's scope.
    pub async fn skill_stats(&self, inspector: &Caller) -> Result<Vec<SkillStats>, Failure> {
        let agents = self.agents_in_scope(inspector).await?;
        let mut stats: std::collections::BTreeMap<u32, SkillStats> = std::collections::BTreeMap::new();
        for (work_no, record) in self.directory().agents() {
            if self.directory().covers(inspector.work_no, work_no) && work_no != inspector.work_no {
                for skill in &record.skills {
                    let name = self.directory().skill(*skill).map(|s| s.name.clone()).unwrap_or_default();
                    stats.entry(*skill).or_insert_with(|| SkillStats {
                        skill_id: *skill,
                        name,
                        ..SkillStats::default()
                    });
                }
            }
        }
        for agent in agents.iter().filter(|a| a.agent_state != 2) {
            for skill in &agent.skills {
                if let Some(s) = stats.get_mut(skill) {
                    s.signed_in += 1;
                    match agent.agent_state {
                        3 => s.busy += 1,
                        4 => s.idle += 1,
                        5 => s.wrap_up += 1,
                        8 => s.resting += 1,
                        _ => {}
                    }
                }
            }
        }
        Ok(stats.into_values().collect())
    }

    pub(super) async fn agent_info(&self, target: WorkNo) -> Result<AgentInfo, Failure> {
        let record = self.directory().get(target).ok_or_else(|| Failure::of(Retcode::NoAgentInfo))?;
        let live = self
            .with_slot(target, |slot| {
                slot.live.as_ref().map(|s| {
                    let talk_right = s.options.talk_right;
                    (s.state, s.state_since, s.login_time, s.options.phone.clone(), s.skills.clone(), talk_right)
                })
            })
            .await?;
        let catalog = self.directory().catalog();
        let mut info = AgentInfo {
            workno: target.to_string(),
            name: record.name.clone(),
            status: "2".into(),
            cti_status: "0".into(),
            group_name: self.directory().group_name(record.group).to_owned(),
            group_id: record.group,
            vdn_id: record.vdn,
            agent_state: 2,
            reason: None,
            reason_name: None,
            state_since: None,
            login_time: None,
            phone_number: None,
            skills: record.skills.clone(),
            talk_right: false,
        };
        if let Some((state, since, login, phone, skills, talk_right)) = live {
            let reason = match state {
                AgentState::Busy { reason } => Some((Category::Busy, reason.code())),
                AgentState::Rest { cause, .. } => Some((Category::Rest, u16::from(cause.code()))),
                _ => None,
            };
            info.agent_state = state.code();
            info.status = state.code().to_string();
            info.cti_status = cti_status(state.code()).to_string();
            info.talk_right = talk_right;
            info.reason = reason.map(|(_, code)| code);
            info.reason_name = reason.and_then(|(c, code)| catalog.name(c, code).map(str::to_owned));
            (info.state_since, info.login_time, info.phone_number, info.skills) =
                (Some(since), Some(login), phone, skills);
        }
        Ok(info)
    }

    /// Audit records written in `time` about agents in the inspector's
    /// scope (or by it), newest first. They are read from the trail's
    /// file, on the blocking pool.
    pub async fn audit_records(
        &self,
        inspector: &Caller,
        time: std::ops::Range<u64>,
        mut keep: impl FnMut(&Record) -> bool + Send + 'static,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Record>, usize), Failure> {
        self.require_inspector(inspector, Retcode::NoRight)?;
        let (gateway, caller) = (self.clone(), inspector.work_no);
        let read = move || {
            let directory = gateway.directory();
            let in_scope = |r: &Record| {
                let target = WorkNo::parse(&r.entry.target);
                // Records about the trail itself (no target) concern every inspector.
                r.entry.target.is_empty() || target.is_some_and(|t| t == caller || directory.covers(caller, t))
            };
            gateway.0.audit.search(time, &mut |r| in_scope(r) && keep(r), skip, take)
        };
        let found = tokio::task::spawn_blocking(read).await.map_err(|_| Failure::of(Retcode::Internal))?;
        found.map_err(|e| {
            log::error!("{e}");
            Failure::of(Retcode::Internal)
        })
    }

    /// Queues `QC_AgentState_Notify` for listening inspectors whose scope
    /// covers `target`.
    pub(super) async fn notify_inspectors(&self, target: WorkNo, signed_in: bool) {
        let Some(record) = self.directory().get(target) else { return };
        let directory = self.directory();
        // Built only once an inspector covers the agent: most floors have
        // few inspectors, and a sign-in or sign-out should not pay for them.
        let mut content = None;
        for inspector in directory.inspectors().filter(|&i| i != target && directory.covers(i, target)) {
            let content = content.get_or_insert_with(|| {
                let subtype = if signed_in { "QC_AgentState_Login" } else { "QC_AgentState_Logout" };
                Content::keyed([
                    ("subtype", subtype.to_owned()),
                    ("monitoredagent", target.to_string()),
                    ("agentname", record.name.clone()),
                    ("mediaserver", "CtiServer".to_owned()),
                ])
            });
            let now = now_ms();
            let listening = self
                .with_slot(inspector, |slot| {
                    let session = slot.live.as_mut().filter(|s| s.options.listen_status)?;
                    session.push(names::QC_AGENT_STATE_NOTIFY, content.clone(), now);
                    Some(session.id)
                })
                .await;
            if let Ok(Some(session)) = listening {
                self.0.store.wake(session);
            }
        }
    }
}
