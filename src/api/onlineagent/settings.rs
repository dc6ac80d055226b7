//! The agent's session settings and what it reads about itself: idle or
//! wrap-up after calls, answering, talk right, custom state, skill queues,
//! status, the reason-code catalog.

use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::auth::SignedIn;
use crate::api::envelope::{success, AgentStatus, CommandResponse, Envelope, Reserved};
use crate::api::error::{ApiError, ApiResult};
use crate::api::params::{AgentPath, GuidHeader};
use crate::domain::audit::Origin;
use crate::domain::directory::Skill;
use crate::domain::ids::WorkNo;
use crate::domain::reasons::ReasonCode;
use crate::domain::Gateway;
use crate::retcode::Retcode;

/// Path of `autoenteridle`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FlagPath {
    /// Work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// `true`: idle after a call; any other 1–5 characters: wrap-up.
    #[param(min_length = 1, max_length = 5)]
    pub flag: String,
}

/// Choose idle or wrap-up after calls
#[utoipa::path(operation_id = "setAgentAutoEnterIdle", tag = "onlineagent", params(FlagPath, GuidHeader),
    responses((status = 200, description = "Set; 000-002 for an empty or long flag", body = Envelope<Reserved>)))]
#[post("/autoenteridle/{flag:[^/]*}")]
pub(super) async fn set_auto_enter_idle(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    path: web::Path<FlagPath>,
) -> ApiResult {
    gateway.set_auto_enter_idle(&agent.0, &origin, &path.flag).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Path of `autoanswer`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AutoAnswerPath {
    /// Work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// `true`: answer calls automatically; any other 1–5 characters: manually.
    #[param(min_length = 1, max_length = 5)]
    pub isautoanswer: String,
}

/// Choose automatic or manual answering
///
/// `true` answers calls automatically, any other value (1–5 characters)
/// manually; empty or longer gets 000-002. Stored for the session; there is
/// no telephony, so nothing rings. No event.
#[utoipa::path(operation_id = "setAgentAutoAnswer", tag = "onlineagent", params(AutoAnswerPath, GuidHeader),
    responses((status = 200, description = "Set; 000-002 for an empty or long value", body = Envelope<Reserved>)))]
#[post("/autoanswer/{isautoanswer:[^/]*}")]
pub(super) async fn set_agent_auto_answer(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    path: web::Path<AutoAnswerPath>,
) -> ApiResult {
    gateway.set_auto_answer(&agent.0, &origin, &path.isautoanswer).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Query of `settalkright`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TalkRightQuery {
    /// 1: take inbound calls; 0: refuse them.
    #[param(value_type = u8, minimum = 0, maximum = 1, required = true)]
    pub flag: Option<String>,
}

/// Take or refuse inbound calls
///
/// `flag=1` (the default at sign-in) lets the agent take inbound calls;
/// `flag=0` refuses them, and the agent is then left out of the skill-queue
/// queries (`agentbyskill`, `allonlineagents`) and may not make them.
/// Anything else (missing included) gets 000-002. No event.
#[utoipa::path(operation_id = "setTalkRight", tag = "onlineagent", params(AgentPath, TalkRightQuery, GuidHeader),
    responses((status = 200, description = "Set; 000-002 for a flag other than 1 or 0", body = Envelope<Reserved>)))]
#[post("/settalkright")]
pub(super) async fn set_talk_right(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    query: web::Query<TalkRightQuery>,
) -> ApiResult {
    gateway.set_talk_right(&agent.0, &origin, query.flag.as_deref()).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Query of `setcustomstate`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomStateQuery {
    /// The custom state, an integer 0–65534; its meaning is the business's.
    #[param(value_type = u16, minimum = 0, maximum = 65534, required = true)]
    pub customstate: Option<String>,
}

/// Set a custom state
///
/// Records a business-defined state, 0–65534, for the session (0 until
/// set); `querycustomstate` reads it back. Anything else (missing included)
/// gets 000-002. It does not change the agent state. No event.
#[utoipa::path(operation_id = "setCustomState", tag = "onlineagent", params(AgentPath, CustomStateQuery, GuidHeader),
    responses((status = 200, description = "Set; 000-002 for a value outside 0-65534", body = Envelope<Reserved>)))]
#[post("/setcustomstate")]
pub(super) async fn set_custom_state(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    query: web::Query<CustomStateQuery>,
) -> ApiResult {
    gateway.set_custom_state(&agent.0, &origin, query.customstate.as_deref()).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// `querycustomstate` result.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomStateResult {
    /// The custom state, 0–65534 (0 until one is set).
    pub custom_state: u16,
}

/// Query the custom state
///
/// The session's custom state (0 until `setcustomstate`). It comes back in
/// `message`, as decimal text, where the reference puts it, and as the
/// number `result.customState`.
#[utoipa::path(operation_id = "queryCustomState", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "The custom state", body = Envelope<CustomStateResult>)))]
#[get("/querycustomstate")]
pub(super) async fn query_custom_state(gateway: web::Data<Gateway>, agent: SignedIn) -> ApiResult {
    let custom_state = gateway.custom_state(&agent.0).await?;
    let result = CustomStateResult { custom_state };
    let body = Envelope { message: custom_state.to_string(), retcode: Retcode::Success, result };
    Ok(success(&body, None))
}

/// Path of `resetskill`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AutoFlagPath {
    /// Work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// `true`: every configured skill queue; anything else: those in `skillid`.
    pub autoflag: String,
}

/// Query of `resetskill`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SkillQuery {
    /// Skill queue ids separated by `;` (at most 4000 characters).
    #[param(max_length = 4000, example = "1;2")]
    pub skillid: Option<String>,
    /// 1 = phone linkage on, 0 = off.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 1)]
    pub phonelinkage: Option<String>,
}

pub(super) fn parse_skill_ids(text: &str) -> Result<Vec<u32>, ApiError> {
    if text.len() > 4000 {
        return Err(ApiError::parameter("skillid is longer than 4000 characters"));
    }
    text.split(';')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| ApiError::parameter("skillid must be skill ids separated by ';'")))
        .collect()
}

/// Reset skill queues
///
/// Signs the agent in to all its configured skill queues (`autoflag=true`)
/// or to those of `skillid` that are configured for it. `result` lists the
/// queues now signed in to.
#[utoipa::path(operation_id = "resetSkill", tag = "onlineagent", params(AutoFlagPath, SkillQuery, GuidHeader),
    responses((status = 200, description = "Queues signed in to", body = Envelope<Vec<Skill>>)))]
#[post("/resetskill/{autoflag:[^/]*}")]
pub(super) async fn reset_skill(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    path: web::Path<AutoFlagPath>,
    query: web::Query<SkillQuery>,
) -> ApiResult {
    let requested = parse_skill_ids(query.skillid.as_deref().unwrap_or(""))?;
    if !matches!(query.phonelinkage.as_deref(), None | Some("0" | "1")) {
        return Err(ApiError::parameter("phonelinkage must be 0 or 1"));
    }
    let skills = gateway.reset_skills(&agent.0, &origin, path.autoflag == "true", requested).await?;
    Ok(success(&Envelope::ok("success", skills), None))
}

/// Query configured skill queues
#[utoipa::path(operation_id = "queryAgentSkills", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "The agent's configured skill queues", body = Envelope<Vec<Skill>>)))]
#[get("/agentskills")]
pub(super) async fn query_agent_skills(gateway: web::Data<Gateway>, agent: SignedIn) -> ApiResult {
    let skills = gateway.configured_skills(&agent.0).await?;
    Ok(success(&Envelope::ok("success", skills), None))
}

/// Path of `agentskillsbyworkno`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SkillsByWorkNoPath {
    /// Work number of the caller, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// The agent whose skill queues are listed, in the caller's VDN.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub workno: String,
}

/// Query another agent's configured skill queues
///
/// The skill queues configured for `workno`, an agent of the caller's VDN,
/// as `[{id, name, mediatype}]`, for any signed-in caller. A `workno` that
/// is not a work number gets 000-002; one that is not in the caller's VDN
/// (or not in the directory) 100-019.
#[utoipa::path(operation_id = "queryAgentSkillsByWorkNo", tag = "onlineagent", params(SkillsByWorkNoPath, GuidHeader),
    responses((status = 200, description = "The agent's configured skill queues", body = Envelope<Vec<Skill>>)))]
#[get("/agentskillsbyworkno/{workno:[^/]*}")]
pub(super) async fn query_agent_skills_by_work_no(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    path: web::Path<SkillsByWorkNoPath>,
) -> ApiResult {
    let target = WorkNo::parse(&path.workno)
        .ok_or_else(|| ApiError::parameter("workno must be a work number from 101 to 999999"))?;
    let skills = gateway.configured_skills_of(&agent.0, target).await?;
    Ok(success(&Envelope::ok("success", skills), None))
}

/// Get the agent's status
#[utoipa::path(operation_id = "getAgentStatus", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "State code and whether in a call", body = Envelope<AgentStatus>)))]
#[get("/agentstatus")]
pub(super) async fn get_agent_status(gateway: web::Data<Gateway>, agent: SignedIn) -> ApiResult {
    let view = gateway.status(&agent.0).await?;
    let result = AgentStatus { agent_state: view.state, is_working: view.is_working };
    Ok(success(&Envelope::ok("", result), None))
}

/// List reason codes (extension)
///
/// Every named sign-out reason (1–255), busy reason (200–250) and rest
/// cause (0–255), and the fixed system reasons (256–264), for any signed-in
/// caller.
#[utoipa::path(operation_id = "queryReasonCodes", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "The catalog", body = Envelope<Vec<ReasonCode>>)))]
#[get("/reasoncodes")]
pub(super) async fn query_reason_codes(gateway: web::Data<Gateway>, _agent: SignedIn) -> ApiResult {
    let result = gateway.directory().catalog().list();
    Ok(success(&Envelope::ok("success", result), None))
}
