//! `agentgroup`: status queries for inspectors, filtered to their scope,
//! and the skill-queue lists open to any agent with the talk right.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;

use super::auth::SignedIn;
use super::body::JsonBody;
use super::envelope::{success, Envelope};
use super::error::{ApiError, ApiResult};
use super::params::{AgentPath, GuidHeader};
use crate::domain::ids::{parse_decimal, WorkNo};
use crate::domain::{
    agent_list, AgentInfo, Gateway, GroupAgentInfo, GroupInfo, SkillAgents, SkillQueryFilter, SkillStats,
};

/// Registers this resource's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        scope("/agentgroup/{agentid:[^/]*}")
            .service(query_agent_info_by_skill_id)
            .service(query_all_online_agents)
            .service(query_all_agent_status)
            .service(query_agent_info_by_work_no)
            .service(query_agent_info_without_skills)
            .service(query_all_logined_agent_info_on_vdn)
            .service(query_group_info_by_work_no)
            .service(query_all_agent_info_on_my_group_ex)
            .service(query_group_info_on_vdn)
            .service(query_all_agent_was_name_on_vdn)
            .service(query_skill_statistics),
    );
}

fn list(agents: Vec<AgentInfo>) -> ApiResult {
    Ok(success(&Envelope::ok("success", agents), None))
}

/// Path of `agentbyskill`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SkillPath {
    /// The inspector's work number.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// Skill queue id.
    #[param(value_type = u32)]
    pub skillid: String,
}

/// The optional body of `agentbyskill` (a GET with a body, as Huawei's is).
#[derive(ToSchema)]
#[schema(example = json!({"agentLimit": 10, "agentStatus": [4]}))]
#[allow(non_snake_case, dead_code)]
pub struct SkillFilterBody {
    /// At most this many agents, 1–500.
    #[schema(minimum = 1, maximum = 500)]
    agentLimit: Option<u16>,
    /// Only agents in one of these states (reference §6.1, e.g. 4 idle, 3 busy).
    agentStatus: Option<Vec<u8>>,
}

/// Agents signed in to a skill queue
///
/// The signed-in agents of the skill queue that have the talk right, for
/// any signed-in caller that has it too (else 300-001): an inspector sees
/// the agents in its scope, an agent those of its VDN; never itself. The
/// optional body `{agentLimit: 1-500, agentStatus: [state codes]}` limits
/// the list, and takes effect only when both are sent (each is checked
/// when sent: 000-006).
#[utoipa::path(operation_id = "queryAgentInfoBySkillId", tag = "agentgroup", params(SkillPath, GuidHeader),
    request_body(content = Option<SkillFilterBody>, description = "Optional; `agentLimit` and `agentStatus` work together"),
    responses((status = 200, description = "Agents signed in to the queue", body = Envelope<Vec<AgentInfo>>)))]
#[get("/agentbyskill/{skillid:[^/]*}")]
async fn query_agent_info_by_skill_id(
    gateway: web::Data<Gateway>,
    caller: SignedIn,
    path: web::Path<SkillPath>,
    body: JsonBody,
) -> ApiResult {
    let skill =
        parse_decimal(&path.skillid, 9).ok_or_else(|| ApiError::parameter("skillid must be a skill queue id"))?;
    let filter = SkillQueryFilter::from_json(&body.0)?;
    list(gateway.agents_on_skill(&caller.0, skill as u32, filter).await?)
}

/// Signed-in agents of every skill queue (not recommended)
///
/// For every skill queue configured for an agent the caller sees, its
/// signed-in agents with the talk right, as `[{skillMediaType, skillId,
/// agent: [...]}]`. Same rules as `agentbyskill`: the caller needs the talk
/// right (else 300-001); an inspector sees its scope, an agent its VDN.
#[utoipa::path(operation_id = "queryAllOnlineAgents", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Agents per skill queue", body = Envelope<Vec<SkillAgents>>)))]
#[get("/allonlineagents")]
async fn query_all_online_agents(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    let result = gateway.all_online_agents(&caller.0).await?;
    Ok(success(&Envelope::ok("success", result), None))
}

/// Status of every agent in scope
///
/// Every agent in the caller's scope, signed in or not: first what
/// Huawei's sample clients read (`workno`, `name`, `status` and `ctiStatus`
/// as state codes in text, `groupName`), then state, reason, since-time,
/// skill queues and the phone signed in with.
#[utoipa::path(operation_id = "queryAllAgentStatus", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Every agent in scope", body = Envelope<Vec<AgentInfo>>)))]
#[get("/allagentstatus")]
async fn query_all_agent_status(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    list(gateway.agents_in_scope(&caller.0).await?)
}

/// Path of `agentbyworkno`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkNoPath {
    /// The inspector's work number.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// The agent queried (same VDN, in scope).
    #[param(rename = "workNo", value_type = u32, minimum = 101, maximum = 999999)]
    #[serde(rename = "workNo")]
    pub work_no: String,
}

/// One agent's details
///
/// Outside the caller's scope: 300-001; unknown work number: 300-002.
#[utoipa::path(operation_id = "queryAgentInfoByWorkNo", tag = "agentgroup", params(WorkNoPath, GuidHeader),
    responses((status = 200, description = "The agent", body = Envelope<AgentInfo>)))]
#[get("/agentbyworkno/{workNo:[^/]*}")]
async fn query_agent_info_by_work_no(
    gateway: web::Data<Gateway>,
    caller: SignedIn,
    path: web::Path<WorkNoPath>,
) -> ApiResult {
    let target =
        WorkNo::parse(&path.work_no).ok_or_else(|| ApiError::parameter("workNo must be from 101 to 999999"))?;
    let result = gateway.query_agent(&caller.0, target).await?;
    Ok(success(&Envelope::ok("success", result), None))
}

fn group_agents(agents: Vec<GroupAgentInfo>) -> ApiResult {
    Ok(success(&Envelope::ok("success", agents), None))
}

/// The body of `agentinfonoskills`.
#[derive(ToSchema)]
#[schema(example = json!({"agentlist": ["101", "102"]}))]
#[allow(dead_code)]
pub struct AgentListBody {
    /// Work numbers, 1–1000, as strings or numbers.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 1000)]
    agentlist: Vec<String>,
}

/// Several agents' details, without skill queues
///
/// The agents of `agentlist` that are in the inspector's scope (others are
/// left out), without `skilllist`. A body that is not `{agentlist: [1-1000
/// work numbers]}` gets 000-006; agents (not inspectors) 300-001.
#[utoipa::path(operation_id = "queryAgentInfoWithoutSkills", tag = "agentgroup", params(AgentPath, GuidHeader),
    request_body = AgentListBody,
    responses((status = 200, description = "The listed agents in scope", body = Envelope<Vec<GroupAgentInfo>>)))]
#[post("/agentinfonoskills")]
async fn query_agent_info_without_skills(gateway: web::Data<Gateway>, caller: SignedIn, body: JsonBody) -> ApiResult {
    let listed = agent_list(&body.0)?;
    group_agents(gateway.agent_info_no_skills(&caller.0, listed).await?)
}

/// Signed-in agents in scope
///
/// Every signed-in agent in the inspector's scope, in the shape of
/// Huawei's group queries. Agents (not inspectors) get 300-001.
#[utoipa::path(operation_id = "queryAllLoginedAgentInfoOnVdn", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Signed-in agents in scope", body = Envelope<Vec<GroupAgentInfo>>)))]
#[get("/onlineagentonvdn")]
async fn query_all_logined_agent_info_on_vdn(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    group_agents(gateway.online_agents_on_vdn(&caller.0).await?)
}

/// Path of `groupbyagent`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupByAgentPath {
    /// The caller's work number.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// The agent whose group is asked for: the caller itself, or (for an
    /// inspector) an agent in its scope.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub workno: String,
}

/// An agent's group
///
/// The group of `workno` as `{id, name, monitorno, monitorname}`. Any
/// signed-in caller may ask about itself; about another agent only an
/// inspector whose scope covers it (300-001; 300-002 for a work number
/// not in the directory).
#[utoipa::path(operation_id = "queryGroupInfoByWorkNo", tag = "agentgroup", params(GroupByAgentPath, GuidHeader),
    responses((status = 200, description = "The group", body = Envelope<GroupInfo>)))]
#[get("/groupbyagent/{workno:[^/]*}")]
async fn query_group_info_by_work_no(
    gateway: web::Data<Gateway>,
    caller: SignedIn,
    path: web::Path<GroupByAgentPath>,
) -> ApiResult {
    let target = WorkNo::parse(&path.workno).ok_or_else(|| ApiError::parameter("workno must be from 101 to 999999"))?;
    let result = gateway.group_of(&caller.0, target).await?;
    Ok(success(&Envelope::ok("success", result), None))
}

/// Query of `agentongroupex`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// The group (team) number.
    #[param(value_type = u32, required = true)]
    pub groupid: Option<String>,
}

/// The agents of a group
///
/// Every agent of the group in the inspector's scope, signed in or not.
/// `groupid` missing or not a number: 000-002; no such group in the VDN:
/// 300-004; none of its agents in scope, or an agent asking: 300-001.
#[utoipa::path(operation_id = "queryAllAgentInfoOnMyGroupEx", tag = "agentgroup", params(AgentPath, GroupQuery, GuidHeader),
    responses((status = 200, description = "The group's agents in scope", body = Envelope<Vec<GroupAgentInfo>>)))]
#[get("/agentongroupex")]
async fn query_all_agent_info_on_my_group_ex(
    gateway: web::Data<Gateway>,
    caller: SignedIn,
    query: web::Query<GroupQuery>,
) -> ApiResult {
    let group = query
        .groupid
        .as_deref()
        .and_then(|g| parse_decimal(g, 9))
        .ok_or_else(|| ApiError::parameter("groupid must be a group number"))?;
    group_agents(gateway.agents_of_group(&caller.0, group as u32).await?)
}

/// The groups in scope
///
/// The groups of the agents in the inspector's scope, as `[{id, name,
/// monitorno, monitorname}]`. Agents (not inspectors) get 300-001.
#[utoipa::path(operation_id = "queryGroupInfoOnVdn", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Groups in scope", body = Envelope<Vec<GroupInfo>>)))]
#[get("/grouponvdn")]
async fn query_group_info_on_vdn(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    let result = gateway.groups_on_vdn(&caller.0).await?;
    Ok(success(&Envelope::ok("success", result), None))
}

/// Work number → configured name.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"101": "Agent 101", "102": "Agent 102"}))]
pub struct Names(pub std::collections::BTreeMap<String, String>);

/// Names of the agents in scope
///
/// An object from work number to configured name, for every agent in the
/// inspector's scope (Huawei's "WAS names"). Agents (not inspectors) get 300-001.
#[utoipa::path(operation_id = "queryAllAgentWasNameOnVdn", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Work number to name", body = Envelope<Names>)))]
#[get("/agentwasnameonvdn")]
async fn query_all_agent_was_name_on_vdn(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    let result = Names(gateway.names_on_vdn(&caller.0).await?);
    Ok(success(&Envelope::ok("success", result), None))
}

/// Counters per skill queue in scope (extension)
///
/// For each skill queue of the agents in the caller's scope: agents signed
/// in to it, and how many of them are idle, busy, resting or in wrap-up.
#[utoipa::path(operation_id = "querySkillStatistics", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Counters per skill queue", body = Envelope<Vec<SkillStats>>)))]
#[get("/skillstatistics")]
async fn query_skill_statistics(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    let result = gateway.skill_stats(&caller.0).await?;
    Ok(success(&Envelope::ok("success", result), None))
}
