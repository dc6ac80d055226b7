//! `agentgroup`: status queries for inspectors, filtered to their scope.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;

use super::auth::SignedIn;
use super::envelope::success;
use super::error::{ApiError, ApiResult};
use super::params::{AgentPath, GuidHeader};
use crate::domain::ids::{parse_decimal, WorkNo};
use crate::domain::{AgentInfo, Gateway, SkillStats};
use crate::retcode::Retcode;

/// Registers this resource's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        scope("/agentgroup/{agentid:[^/]*}")
            .service(query_agent_info_by_skill_id)
            .service(query_all_agent_status)
            .service(query_agent_info_by_work_no)
            .service(query_skill_statistics),
    );
}

/// A list of agents.
#[derive(Serialize, ToSchema)]
pub struct AgentListResponse {
    pub message: String,
    #[schema(value_type = String, example = "0")]
    pub retcode: Retcode,
    pub result: Vec<AgentInfo>,
}

/// One agent.
#[derive(Serialize, ToSchema)]
pub struct AgentInfoResponse {
    pub message: String,
    #[schema(value_type = String, example = "0")]
    pub retcode: Retcode,
    pub result: AgentInfo,
}

/// Counters per skill queue.
#[derive(Serialize, ToSchema)]
pub struct SkillStatsResponse {
    pub message: String,
    #[schema(value_type = String, example = "0")]
    pub retcode: Retcode,
    pub result: Vec<SkillStats>,
}

fn list(agents: Vec<AgentInfo>) -> ApiResult {
    Ok(success(&AgentListResponse { message: "success".into(), retcode: Retcode::Success, result: agents }, None))
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

/// Agents signed in to a skill queue
///
/// Signed-in agents of the skill queue that are inside the caller's scope.
/// Agents (not inspectors) get 300-001.
#[utoipa::path(operation_id = "queryAgentInfoBySkillId", tag = "agentgroup", params(SkillPath, GuidHeader),
    responses((status = 200, description = "Agents in scope signed in to the queue", body = AgentListResponse)))]
#[get("/agentbyskill/{skillid:[^/]*}")]
async fn query_agent_info_by_skill_id(
    gateway: web::Data<Gateway>,
    caller: SignedIn,
    path: web::Path<SkillPath>,
) -> ApiResult {
    let skill =
        parse_decimal(&path.skillid, 9).ok_or_else(|| ApiError::parameter("skillid must be a skill queue id"))?;
    list(gateway.agents_in_scope(&caller.0, Some(skill as u32)).await?)
}

/// Status of every agent in scope
///
/// Every agent in the caller's scope, signed in or not: state, reason,
/// since-time, skill queues and the phone signed in with.
#[utoipa::path(operation_id = "queryAllAgentStatus", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Every agent in scope", body = AgentListResponse)))]
#[get("/allagentstatus")]
async fn query_all_agent_status(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    list(gateway.agents_in_scope(&caller.0, None).await?)
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
    responses((status = 200, description = "The agent", body = AgentInfoResponse)))]
#[get("/agentbyworkno/{workNo:[^/]*}")]
async fn query_agent_info_by_work_no(
    gateway: web::Data<Gateway>,
    caller: SignedIn,
    path: web::Path<WorkNoPath>,
) -> ApiResult {
    let target =
        WorkNo::parse(&path.work_no).ok_or_else(|| ApiError::parameter("workNo must be from 101 to 999999"))?;
    let result = gateway.query_agent(&caller.0, target).await?;
    Ok(success(&AgentInfoResponse { message: "success".into(), retcode: Retcode::Success, result }, None))
}

/// Counters per skill queue in scope (extension)
///
/// For each skill queue of the agents in the caller's scope: agents signed
/// in to it, and how many of them are idle, busy, resting or in wrap-up.
#[utoipa::path(operation_id = "querySkillStatistics", tag = "agentgroup", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Counters per skill queue", body = SkillStatsResponse)))]
#[get("/skillstatistics")]
async fn query_skill_statistics(gateway: web::Data<Gateway>, caller: SignedIn) -> ApiResult {
    let result = gateway.skill_stats(&caller.0).await?;
    Ok(success(&SkillStatsResponse { message: "success".into(), retcode: Retcode::Success, result }, None))
}
