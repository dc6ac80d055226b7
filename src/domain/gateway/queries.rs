//! The `agentgroup` queries Huawei's sample clients make besides the
//! status queries: the skill-queue lists (`agentbyskill`,
//! `allonlineagents`), open to any signed-in agent with the talk right, and
//! the group, VDN and name lookups, for inspectors within their scope.
use super::AgentInfo;
use super::Caller;
use super::Gateway;
use crate::domain::directory::Role;
use crate::domain::directory::Skill;
use crate::domain::ids::WorkNo;
use crate::domain::Failure;
use crate::retcode::Retcode;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::supervisor::cti_status;
use crate::domain::ids::parse_decimal;

/// Most agents one `agentbyskill` may be limited to (`agentLimit`).
pub const MAX_AGENT_LIMIT: u64 = 500;
/// Most work numbers one `agentinfonoskills` may ask about.
pub const MAX_AGENT_LIST: usize = 1000;

/// `agentbyskill`'s optional body: at most `limit` agents whose state is
/// one of `states`. Reference §2.5: the two take effect only together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillQueryFilter {
    pub limit: usize,
    /// CC-Gateway state codes (reference §6.1), e.g. 4 idle.
    pub states: Vec<u8>,
}

fn message_error(detail: impl Into<std::borrow::Cow<'static, str>>) -> Failure {
    Failure::new(Retcode::MessageError, detail)
}

/// A number sent as a JSON number or as a string of digits.
fn number(value: &Value, max_digits: usize) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_decimal(s, max_digits),
        _ => None,
    }
}

impl SkillQueryFilter {
    /// Reads the body: none (`null`) or an object whose `agentLimit` (1–500)
    /// and `agentStatus` (a list of state codes 0–9) are each checked when
    /// present (000-006 otherwise) and used only when both are.
    pub fn from_json(body: &Value) -> Result<Option<SkillQueryFilter>, Failure> {
        let fields = match body {
            Value::Null => return Ok(None),
            Value::Object(fields) => fields,
            _ => return Err(message_error("the body must be a JSON object")),
        };
        let limit = match fields.get("agentLimit") {
            None | Some(Value::Null) => None,
            Some(limit) => Some(
                number(limit, 3)
                    .filter(|n| (1..=MAX_AGENT_LIMIT).contains(n))
                    .ok_or_else(|| message_error("agentLimit must be an integer from 1 to 500"))?,
            ),
        };
        let states = match fields.get("agentStatus") {
            None | Some(Value::Null) => None,
            Some(Value::Array(states)) => Some(
                states
                    .iter()
                    .map(|s| number(s, 1).filter(|n| *n <= 9).map(|n| n as u8))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| message_error("agentStatus must list agent state codes 0-9"))?,
            ),
            Some(_) => return Err(message_error("agentStatus must list agent state codes 0-9")),
        };
        Ok(limit.zip(states).map(|(limit, states)| SkillQueryFilter { limit: limit as usize, states }))
    }
}

/// Reads `agentinfonoskills`' body `{agentlist: [work numbers]}` (numbers
/// or strings, 1–1000 of them).
pub fn agent_list(body: &Value) -> Result<Vec<WorkNo>, Failure> {
    let refused = || message_error("agentlist must list 1 to 1000 work numbers from 101 to 999999");
    let list = match body.get("agentlist") {
        Some(Value::Array(list)) if (1..=MAX_AGENT_LIST).contains(&list.len()) => list,
        _ => return Err(refused()),
    };
    list.iter().map(|w| number(w, 6).and_then(|n| WorkNo::new(u32::try_from(n).ok()?)).ok_or_else(refused)).collect()
}

/// One skill queue and its signed-in agents (`allonlineagents`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkillAgents {
    /// The queue's media type (reference §6.7; 5 = voice).
    pub skill_media_type: u32,
    pub skill_id: u32,
    /// The queue's name (additive).
    pub skill_name: String,
    /// Its signed-in agents with the talk right that the caller may see.
    pub agent: Vec<AgentInfo>,
}

/// An agent as the group queries answer it, in the shape Huawei's C#
/// sample reads (its `AGWAgentInfo`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupAgentInfo {
    pub workno: String,
    pub name: String,
    /// CC-Gateway state code as text (reference §6.1), `"2"` when signed out.
    pub status: String,
    /// CTI platform state code as text (reference §6.2), `"0"` when signed out.
    #[serde(rename = "ctiStatus")]
    pub cti_status: String,
    /// The agent's group number, as text.
    pub groupid: String,
    /// The group's name (`""` when undeclared).
    pub groupname: String,
    /// Skill queues signed in to (configured ones when signed out); left out
    /// by `agentinfonoskills`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skilllist: Option<Vec<Skill>>,
    pub vdnid: u32,
    /// Phone number signed in with (`""` when none or signed out).
    pub phonenumber: String,
    /// Epoch ms since which the agent is in its state (0 when signed out).
    pub currentstatetime: u64,
    /// Epoch ms of sign-in (0 when signed out).
    pub logindate: u64,
}

/// A group (team), as `groupbyagent` and `grouponvdn` answer it (the C#
/// sample's `AgwWorkGroupDetail`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupInfo {
    pub id: u32,
    /// Its name (`""` when the directory does not declare the group).
    pub name: String,
    /// Work number of its monitor (team leader); 0 when none.
    pub monitorno: u32,
    /// The monitor's name; `""` when none.
    pub monitorname: String,
}

impl Gateway {
    /// Who `caller` may see in a skill-queue list: not itself; an
    /// inspector the agents in its scope, an agent those of its VDN.
    fn sees(&self, caller: &Caller, target: WorkNo) -> bool {
        let directory = self.directory();
        target != caller.work_no
            && match caller.role {
                Role::Inspector => directory.covers(caller.work_no, target),
                Role::Agent => directory.get(caller.work_no).map(|r| r.vdn) == directory.get(target).map(|r| r.vdn),
            }
    }

    /// The skill-queue lists need the caller's talk right (§2.5).
    async fn require_talk_right(&self, caller: &Caller) -> Result<(), Failure> {
        match self.with_live(caller, |session, _| Ok(session.options.talk_right)).await? {
            true => Ok(()),
            false => Err(Failure::new(
                Retcode::NoQueryRight,
                "without the talk right (settalkright?flag=0) there is no skill-queue query",
            )),
        }
    }

    /// The agents `caller` sees that are signed in, with the talk right.
    async fn online_with_talk_right(&self, caller: &Caller) -> Result<Vec<AgentInfo>, Failure> {
        let mut agents = Vec::new();
        for (work_no, _) in self.directory().agents() {
            if self.sees(caller, work_no) {
                let info = self.agent_info(work_no).await?;
                if info.agent_state != 2 && info.talk_right {
                    agents.push(info);
                }
            }
        }
        Ok(agents)
    }

    /// `agentbyskill`: the signed-in agents of the queue, with the talk
    /// right, that the caller sees; filtered when both filters were sent.
    pub async fn agents_on_skill(
        &self,
        caller: &Caller,
        skill: u32,
        filter: Option<SkillQueryFilter>,
    ) -> Result<Vec<AgentInfo>, Failure> {
        self.require_talk_right(caller).await?;
        let mut agents = self.online_with_talk_right(caller).await?;
        agents.retain(|a| a.skills.contains(&skill));
        if let Some(filter) = filter {
            agents.retain(|a| filter.states.contains(&a.agent_state));
            agents.truncate(filter.limit);
        }
        Ok(agents)
    }

    /// `allonlineagents`: for every skill queue configured for an agent the
    /// caller sees, the signed-in ones with the talk right.
    pub async fn all_online_agents(&self, caller: &Caller) -> Result<Vec<SkillAgents>, Failure> {
        self.require_talk_right(caller).await?;
        let online = self.online_with_talk_right(caller).await?;
        let queues: BTreeSet<u32> = (self.directory().agents())
            .filter(|(w, _)| self.sees(caller, *w))
            .flat_map(|(_, r)| r.skills.iter().copied())
            .collect();
        Ok(queues
            .into_iter()
            .filter_map(|id| self.directory().skill(id))
            .map(|skill| SkillAgents {
                skill_media_type: skill.media_type,
                skill_id: skill.id,
                skill_name: skill.name.clone(),
                agent: online.iter().filter(|a| a.skills.contains(&skill.id)).cloned().collect(),
            })
            .collect())
    }

    fn in_scope(&self, inspector: &Caller) -> impl Iterator<Item = (WorkNo, &crate::domain::directory::AgentRecord)> {
        let directory = self.directory();
        let me = inspector.work_no;
        directory.agents().filter(move |(w, _)| *w != me && directory.covers(me, *w))
    }

    async fn group_agent(&self, target: WorkNo, with_skills: bool) -> Result<GroupAgentInfo, Failure> {
        let info = self.agent_info(target).await?;
        let skilllist =
            with_skills.then(|| info.skills.iter().filter_map(|id| self.directory().skill(*id).cloned()).collect());
        Ok(GroupAgentInfo {
            cti_status: cti_status(info.agent_state).to_string(),
            status: info.agent_state.to_string(),
            groupid: info.group_id.to_string(),
            groupname: info.group_name,
            skilllist,
            vdnid: info.vdn_id,
            phonenumber: info.phone_number.unwrap_or_default(),
            currentstatetime: info.state_since.unwrap_or(0),
            logindate: info.login_time.unwrap_or(0),
            workno: info.workno,
            name: info.name,
        })
    }

    /// `onlineagentonvdn`: the signed-in agents in the inspector's scope.
    pub async fn online_agents_on_vdn(&self, inspector: &Caller) -> Result<Vec<GroupAgentInfo>, Failure> {
        self.require_inspector(inspector, Retcode::NoQueryRight)?;
        let mut agents = Vec::new();
        for (work_no, _) in self.in_scope(inspector).collect::<Vec<_>>() {
            let agent = self.group_agent(work_no, true).await?;
            if agent.status != "2" {
                agents.push(agent);
            }
        }
        Ok(agents)
    }

    /// `agentongroupex?groupid=`: the agents of the group in the
    /// inspector's scope, signed in or not. A group without members in the
    /// inspector's VDN gets 300-004; one whose members are all outside the
    /// scope 300-001.
    pub async fn agents_of_group(&self, inspector: &Caller, group: u32) -> Result<Vec<GroupAgentInfo>, Failure> {
        self.require_inspector(inspector, Retcode::NoQueryRight)?;
        let vdn = self.directory().get(inspector.work_no).map(|r| r.vdn);
        if !self.directory().agents().any(|(_, r)| r.group == group && Some(r.vdn) == vdn) {
            return Err(Failure::new(Retcode::NoSuchGroup, format!("no agent group {group} in your VDN")));
        }
        let members: Vec<WorkNo> = self.in_scope(inspector).filter(|(_, r)| r.group == group).map(|(w, _)| w).collect();
        if members.is_empty() {
            return Err(Failure::of(Retcode::NoQueryRight));
        }
        let mut agents = Vec::with_capacity(members.len());
        for work_no in members {
            agents.push(self.group_agent(work_no, true).await?);
        }
        Ok(agents)
    }

    /// `agentinfonoskills`: the listed agents in the inspector's scope,
    /// without their skill queues; others are left out.
    pub async fn agent_info_no_skills(
        &self,
        inspector: &Caller,
        list: Vec<WorkNo>,
    ) -> Result<Vec<GroupAgentInfo>, Failure> {
        self.require_inspector(inspector, Retcode::NoQueryRight)?;
        let mut agents = Vec::new();
        let mut seen = BTreeSet::new();
        for work_no in list {
            if work_no != inspector.work_no
                && self.directory().covers(inspector.work_no, work_no)
                && seen.insert(work_no)
            {
                agents.push(self.group_agent(work_no, false).await?);
            }
        }
        Ok(agents)
    }

    fn group_info(&self, id: u32) -> GroupInfo {
        let group = self.directory().group(id);
        let monitor = group.and_then(|g| g.monitor).and_then(WorkNo::new);
        GroupInfo {
            id,
            name: group.map(|g| g.name.clone()).unwrap_or_default(),
            monitorno: monitor.map_or(0, WorkNo::get),
            monitorname: monitor.and_then(|m| self.directory().get(m)).map(|r| r.name.clone()).unwrap_or_default(),
        }
    }

    /// `groupbyagent/{workno}`: the group of `target`. Any signed-in caller
    /// may ask about itself (Huawei's C# sample does); about another agent
    /// only an inspector within its scope (300-001, 300-002).
    pub async fn group_of(&self, caller: &Caller, target: WorkNo) -> Result<GroupInfo, Failure> {
        if target != caller.work_no {
            self.check_scope(caller, target, Retcode::NoQueryRight, Retcode::NoAgentInfo)?;
        } else {
            self.with_live(caller, |_, _| Ok(())).await?;
        }
        let group = self.directory().get(target).map(|r| r.group).ok_or_else(|| Failure::of(Retcode::NoAgentInfo))?;
        Ok(self.group_info(group))
    }

    /// `grouponvdn`: the groups of the agents in the inspector's scope.
    pub async fn groups_on_vdn(&self, inspector: &Caller) -> Result<Vec<GroupInfo>, Failure> {
        self.require_inspector(inspector, Retcode::NoQueryRight)?;
        let groups: BTreeSet<u32> = self.in_scope(inspector).map(|(_, r)| r.group).collect();
        Ok(groups.into_iter().map(|id| self.group_info(id)).collect())
    }

    /// `agentwasnameonvdn`: work number → name of every agent in the
    /// inspector's scope.
    pub async fn names_on_vdn(&self, inspector: &Caller) -> Result<BTreeMap<String, String>, Failure> {
        self.require_inspector(inspector, Retcode::NoQueryRight)?;
        Ok(self.in_scope(inspector).map(|(w, r)| (w.to_string(), r.name.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_skill_filter_takes_effect_only_when_both_parts_are_sent() {
        let both = SkillQueryFilter::from_json(&json!({"agentLimit": "2", "agentStatus": [4, "3"]})).unwrap();
        assert_eq!(both, Some(SkillQueryFilter { limit: 2, states: vec![4, 3] }));
        assert_eq!(SkillQueryFilter::from_json(&json!({"agentLimit": 2})).unwrap(), None);
        assert_eq!(SkillQueryFilter::from_json(&json!({"agentStatus": [4]})).unwrap(), None);
        assert_eq!(SkillQueryFilter::from_json(&Value::Null).unwrap(), None);
        for bad in [
            json!({"agentLimit": 0}),
            json!({"agentLimit": 501}),
            json!({"agentStatus": 4}),
            json!({"agentStatus": ["idle"]}),
            json!({"agentStatus": [10]}),
            json!([1]),
        ] {
            assert_eq!(SkillQueryFilter::from_json(&bad).unwrap_err().code, Retcode::MessageError, "{bad}");
        }
    }

    #[test]
    fn agent_lists_hold_work_numbers() {
        assert_eq!(agent_list(&json!({"agentlist": ["101", 102]})).unwrap().len(), 2);
        for bad in [json!({}), json!({"agentlist": []}), json!({"agentlist": ["x"]}), json!({"agentlist": [100]})] {
            assert_eq!(agent_list(&bad).unwrap_err().code, Retcode::MessageError, "{bad}");
        }
    }
}
