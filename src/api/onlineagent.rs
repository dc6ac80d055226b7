//! `onlineagent`: the agent acting on itself (reference §2.1).

use actix_web::{delete, get, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::scope;

use super::auth::{agent_id, mark_refused, origin, Operator, SignedIn, SigningOut};
use super::body::JsonBody;
use super::envelope::{
    signed_in, success, AgentStatus, AgentStatusResponse, CommandResponse, LoginResponse, LoginResult, Plain,
    SkillsResponse,
};
use super::error::{ApiError, ApiResult};
use super::params::{AgentPath, GuidHeader, ServiceTokenHeader};
use crate::domain::audit::{Action, Origin};
use crate::domain::ids::WorkNo;
use crate::domain::messages::{BulletinRequest, NoteRequest};
use crate::domain::params::{parse_flag, BusyReason, RestCause, RestSeconds, SignOutReason};
use crate::domain::reasons::ReasonCode;
use crate::domain::signin::{SignInKind, SignInRequest};
use crate::domain::state::Command;
use crate::domain::{BulkResult, Gateway};
use crate::retcode::Retcode;

/// Registers this resource's routes (actix and OpenAPI from one list).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    // One scope per agent path: its segment is matched once, and the tails
    // are mostly fixed strings, cheaper to compare than patterns. The order
    // here is also the order of the API document.
    cfg.service(
        scope("/onlineagent/{agentid:[^/]*}")
            .service(login)
            .service(force_login)
            .service(login_ex)
            .service(logout)
            .service(force_logout)
            .service(force_logout_with_reason)
            .service(say_free)
            .service(say_busy)
            .service(cancel_busy)
            .service(rest)
            .service(cancel_rest)
            .service(say_work)
            .service(cancel_work)
            .service(set_auto_enter_idle)
            .service(set_agent_auto_answer)
            .service(set_talk_right)
            .service(set_custom_state)
            .service(query_custom_state)
            .service(reset_skill)
            .service(query_agent_skills)
            .service(query_agent_skills_by_work_no)
            .service(get_agent_status)
            .service(hand_shake)
            .service(heart_beat)
            .service(send_notelet_ex)
            .service(notify_bulletin)
            .service(query_reason_codes),
    );
}

/// A sign-in: nobody is authenticated until it succeeds, so a refused
/// one is marked for the security log (those that reached the password
/// check are audit records too, written by the domain).
async fn sign_in(
    gateway: &Gateway,
    req: &actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
    kind: SignInKind,
) -> ApiResult {
    let attempt = async {
        let work_no = agent_id(req)?;
        let request = SignInRequest::from_json(&body?.0, kind)?;
        let done = gateway.sign_in(work_no, request, &origin(req)).await?;
        Ok::<_, ApiError>((work_no, done))
    };
    let (work_no, done) = attempt.await.inspect_err(|_| mark_refused(req))?;
    let result = LoginResult {
        vdn_id: done.vdn,
        work_no: work_no.to_string(),
        media_type: done.media_type,
        login_time: done.login_time.to_string(),
        is_force_change: "false".into(),
        server_name: gateway.config().server_name.clone(),
        time_remaining: String::new(),
    };
    let body = LoginResponse { message: String::new(), retcode: Retcode::Success, result };
    Ok(signed_in(&body, &done.guid))
}

/// Sign in
///
/// Signs the agent in with its password and phone number and answers the
/// session's Guid in `Set-GUID`. Queues `AgentOther_InService`,
/// `AgentState_Ready` and, for `status` 3 or 5, `AgentState_SetNotReady_Success`
/// or `AgentState_Work`. An agent already signed in gets 100-002.
#[utoipa::path(
    operation_id = "login", tag = "onlineagent", params(AgentPath), request_body = SignInBody,
    responses((status = 200, description = "Signed in, or a retcode saying why not", body = LoginResponse,
        headers(("Set-GUID" = String, description = "`JSESSIONID=<guid>`: send `<guid>` as the `Guid` header"),
            ("Guid" = String, description = "The same `<guid>`, without `JSESSIONID=`"))))
)]
#[put("")]
async fn login(
    gateway: web::Data<Gateway>,
    req: actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
) -> ApiResult {
    sign_in(&gateway, &req, body, SignInKind::Login).await
}

/// Sign in forcibly
///
/// As sign-in, but an existing session of the agent is displaced: it is
/// signed out with reason 264, its Guid stops working at once (but for the
/// final poll, which receives `AgentOther_ShutdownService`).
#[utoipa::path(
    operation_id = "forceLogin", tag = "onlineagent", params(AgentPath), request_body = SignInBody,
    responses((status = 200, description = "Signed in", body = LoginResponse,
        headers(("Set-GUID" = String, description = "`JSESSIONID=<guid>`"),
            ("Guid" = String, description = "The same `<guid>`, without `JSESSIONID=`"))))
)]
#[put("/forcelogin")]
async fn force_login(
    gateway: web::Data<Gateway>,
    req: actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
) -> ApiResult {
    sign_in(&gateway, &req, body, SignInKind::ForceLogin).await
}

/// Sign in to the platform (voice only)
///
/// Signs the agent in to CCS (voice) only, not to the media servers, so
/// `mediatype` is `TFF`; otherwise as sign-in (same body, same result, same
/// events, 100-002 when already signed in). `phonenum` is optional. The
/// password may be empty or left out only for work numbers whose directory
/// record allows it (`loginex_without_password`); for any other work number
/// an empty password is a wrong password (100-004).
#[utoipa::path(
    operation_id = "loginEx", tag = "onlineagent", params(AgentPath), request_body = SignInBody,
    responses((status = 200, description = "Signed in, or a retcode saying why not", body = LoginResponse,
        headers(("Set-GUID" = String, description = "`JSESSIONID=<guid>`: send `<guid>` as the `Guid` header"),
            ("Guid" = String, description = "The same `<guid>`, without `JSESSIONID=`"))))
)]
#[put("/loginex")]
async fn login_ex(
    gateway: web::Data<Gateway>,
    req: actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
) -> ApiResult {
    sign_in(&gateway, &req, body, SignInKind::LoginEx).await
}

/// Sign out
///
/// Signs the agent out (reason 258). The session's last poll receives
/// `AgentOther_ShutdownService`.
#[utoipa::path(operation_id = "logout", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Signed out", body = CommandResponse)))]
#[delete("/logout")]
async fn logout(gateway: web::Data<Gateway>, agent: SigningOut, origin: Origin) -> ApiResult {
    gateway.sign_out(&agent.0, &origin, Action::Logout).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Sign out forcibly
///
/// Signs the agent out from any state, releasing what it was doing (reason 258).
#[utoipa::path(operation_id = "forceLogout", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Signed out", body = Plain)))]
#[delete("/forcelogout")]
async fn force_logout(gateway: web::Data<Gateway>, agent: SigningOut, origin: Origin) -> ApiResult {
    gateway.sign_out(&agent.0, &origin, Action::ForceLogout).await?;
    Ok(success(&Plain::success(), None))
}

/// Path of `forcelogoutwithreason`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReasonPath {
    /// Work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// Sign-out reason code, an integer 1–255. Anything else gets 100-005.
    #[param(value_type = u16, minimum = 1, maximum = 255)]
    pub reason: String,
}

/// Sign out forcibly with a reason
///
/// Signs the agent out from any state and records `reason` (1–255). The
/// final poll receives `AgentOther_ShutdownService` with `content.loginTime`
/// and, additively, `reason`, `reasonName` and `initiator`. The caller is the
/// agent itself, or an inspector (with its own Guid) whose scope covers the
/// agent; an inspector outside its scope gets 900-002.
#[utoipa::path(operation_id = "forceLogoutWithReason", tag = "onlineagent", params(ReasonPath, GuidHeader),
    responses((status = 200, description = "Signed out, or 100-005 for a reason outside 1-255", body = Plain)))]
#[delete("/forcelogoutwithreason/{reason:[^/]*}")]
async fn force_logout_with_reason(
    gateway: web::Data<Gateway>,
    caller: Operator,
    origin: Origin,
    path: web::Path<ReasonPath>,
) -> ApiResult {
    let reason = SignOutReason::parse_client(&path.reason)
        .ok_or_else(|| ApiError::business(Retcode::SignOutParameter, "reason must be an integer from 1 to 255"))?;
    let action = Action::ForceLogoutWithReason(reason);
    let Operator(caller, target) = caller;
    if caller.work_no == target {
        gateway.sign_out(&caller, &origin, action).await?;
    } else {
        gateway.force_sign_out(&caller, &origin, target, action).await?;
    }
    Ok(success(&Plain::success(), None))
}

async fn run(gateway: &Gateway, agent: &SignedIn, origin: &Origin, command: Command) -> ApiResult {
    gateway.command(&agent.0, origin, command).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Set idle
///
/// From busy (`AgentState_CancelNotReady_Success`) or wrap-up
/// (`AgentState_CancelWork_Success`) to idle, then `AgentState_Ready`.
#[utoipa::path(operation_id = "sayFree", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Idle, or 100-009 from another state", body = CommandResponse)))]
#[post("/sayfree")]
async fn say_free(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::SayFree).await
}

/// Query of `saybusy`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BusyQuery {
    /// Busy reason: empty or 0 for none, otherwise 200–250.
    #[param(value_type = Option<u16>, maximum = 250)]
    pub reason: Option<String>,
    /// `true` to change the reason while already busy (then mandatory).
    #[param(value_type = Option<bool>)]
    pub prolong: Option<String>,
}

/// Set busy
///
/// Idle or wrap-up to busy with an optional reason; queues
/// `AgentState_SetNotReady_Success` with `content.reason`.
#[utoipa::path(operation_id = "sayBusy", tag = "onlineagent", params(AgentPath, BusyQuery, GuidHeader),
    responses((status = 200, description = "Busy; 000-002 for a bad reason", body = CommandResponse)))]
#[post("/saybusy")]
async fn say_busy(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    query: web::Query<BusyQuery>,
) -> ApiResult {
    let reason = BusyReason::parse_client(query.reason.as_deref().unwrap_or(""))
        .ok_or_else(|| ApiError::parameter("reason must be empty, 0, or from 200 to 250"))?;
    let prolong =
        parse_flag(query.prolong.as_deref()).map_err(|_| ApiError::parameter("prolong must be true or false"))?;
    run(&gateway, &agent, &origin, Command::SayBusy { reason, prolong }).await
}

/// Cancel busy
///
/// Busy to idle: `AgentState_CancelNotReady_Success`, `AgentState_Ready`.
#[utoipa::path(operation_id = "cancelBusy", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Idle, or 100-009 when not busy", body = CommandResponse)))]
#[post("/cancelbusy")]
async fn cancel_busy(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::CancelBusy).await
}

/// Path of `rest`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RestPath {
    /// Work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// Rest duration in seconds, 1–86399.
    #[param(value_type = u32, minimum = 1, maximum = 86399)]
    pub time: String,
    /// Rest cause, 0–255 (0 = none).
    #[param(value_type = u8, minimum = 0, maximum = 255)]
    pub restcause: String,
}

/// Query of `rest`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProlongQuery {
    /// `true` to re-apply while already resting (then mandatory).
    #[param(value_type = Option<bool>)]
    pub prolong: Option<String>,
}

/// Apply for rest
///
/// Rest for `time` seconds with a cause: `AgentState_SetRest_Success`, and
/// `AgentState_Rest_Timeout` as a reminder when the time runs out (the agent
/// stays resting until `cancelrest`).
#[utoipa::path(operation_id = "rest", tag = "onlineagent", params(RestPath, ProlongQuery, GuidHeader),
    responses((status = 200, description = "Resting; 000-002 for a bad time or cause", body = CommandResponse)))]
#[post("/rest/{time:[^/]*}/{restcause:[^/]*}")]
async fn rest(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    path: web::Path<RestPath>,
    query: web::Query<ProlongQuery>,
) -> ApiResult {
    let seconds =
        RestSeconds::parse(&path.time).ok_or_else(|| ApiError::parameter("time must be from 1 to 86399 seconds"))?;
    let cause =
        RestCause::parse(&path.restcause).ok_or_else(|| ApiError::parameter("restcause must be from 0 to 255"))?;
    let prolong =
        parse_flag(query.prolong.as_deref()).map_err(|_| ApiError::parameter("prolong must be true or false"))?;
    run(&gateway, &agent, &origin, Command::Rest { seconds, cause, prolong }).await
}

/// Cancel rest
///
/// Rest to idle: `AgentState_CancelRest_Success`, `AgentState_Ready`.
#[utoipa::path(operation_id = "cancelRest", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Idle, or 100-009 when not resting", body = CommandResponse)))]
#[post("/cancelrest")]
async fn cancel_rest(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::CancelRest).await
}

/// Enter wrap-up
///
/// Idle or busy to the work (wrap-up) state: `AgentState_SetWork_Success`.
#[utoipa::path(operation_id = "sayWork", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "In wrap-up, or 100-009", body = CommandResponse)))]
#[post("/work")]
async fn say_work(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::Work).await
}

/// Quit wrap-up
///
/// Wrap-up to idle: `AgentState_CancelWork_Success`, `AgentState_Ready`.
#[utoipa::path(operation_id = "cancelWork", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Idle, or 100-009 when not in wrap-up", body = CommandResponse)))]
#[post("/cancelwork")]
async fn cancel_work(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::CancelWork).await
}

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
    responses((status = 200, description = "Set; 000-002 for an empty or long flag", body = CommandResponse)))]
#[post("/autoenteridle/{flag:[^/]*}")]
async fn set_auto_enter_idle(
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
    responses((status = 200, description = "Set; 000-002 for an empty or long value", body = CommandResponse)))]
#[post("/autoanswer/{isautoanswer:[^/]*}")]
async fn set_agent_auto_answer(
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
    responses((status = 200, description = "Set; 000-002 for a flag other than 1 or 0", body = CommandResponse)))]
#[post("/settalkright")]
async fn set_talk_right(
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
    responses((status = 200, description = "Set; 000-002 for a value outside 0-65534", body = CommandResponse)))]
#[post("/setcustomstate")]
async fn set_custom_state(
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

/// `querycustomstate` answer: the state in `message`, as the reference
/// says, and in `result`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CustomStateResponse {
    /// The custom state as decimal text, e.g. `"7"` (the reference's place for it).
    #[schema(example = "7")]
    pub message: String,
    pub retcode: Retcode,
    /// Present when `retcode` is `"0"`.
    #[schema(required = false)]
    pub result: CustomStateResult,
}

/// Query the custom state
///
/// The session's custom state (0 until `setcustomstate`). It comes back in
/// `message`, as decimal text, where the reference puts it, and as the
/// number `result.customState`.
#[utoipa::path(operation_id = "queryCustomState", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "The custom state", body = CustomStateResponse)))]
#[get("/querycustomstate")]
async fn query_custom_state(gateway: web::Data<Gateway>, agent: SignedIn) -> ApiResult {
    let custom_state = gateway.custom_state(&agent.0).await?;
    let result = CustomStateResult { custom_state };
    let body = CustomStateResponse { message: custom_state.to_string(), retcode: Retcode::Success, result };
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

fn parse_skill_ids(text: &str) -> Result<Vec<u32>, ApiError> {
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
    responses((status = 200, description = "Queues signed in to", body = SkillsResponse)))]
#[post("/resetskill/{autoflag:[^/]*}")]
async fn reset_skill(
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
    Ok(success(&SkillsResponse { message: "success".into(), retcode: Retcode::Success, result: skills }, None))
}

/// Query configured skill queues
#[utoipa::path(operation_id = "queryAgentSkills", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "The agent's configured skill queues", body = SkillsResponse)))]
#[get("/agentskills")]
async fn query_agent_skills(gateway: web::Data<Gateway>, agent: SignedIn) -> ApiResult {
    let skills = gateway.configured_skills(&agent.0).await?;
    Ok(success(&SkillsResponse { message: "success".into(), retcode: Retcode::Success, result: skills }, None))
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
    responses((status = 200, description = "The agent's configured skill queues", body = SkillsResponse)))]
#[get("/agentskillsbyworkno/{workno:[^/]*}")]
async fn query_agent_skills_by_work_no(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    path: web::Path<SkillsByWorkNoPath>,
) -> ApiResult {
    let target = WorkNo::parse(&path.workno)
        .ok_or_else(|| ApiError::parameter("workno must be a work number from 101 to 999999"))?;
    let skills = gateway.configured_skills_of(&agent.0, target).await?;
    Ok(success(&SkillsResponse { message: "success".into(), retcode: Retcode::Success, result: skills }, None))
}

/// Get the agent's status
#[utoipa::path(operation_id = "getAgentStatus", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "State code and whether in a call", body = AgentStatusResponse)))]
#[get("/agentstatus")]
async fn get_agent_status(gateway: web::Data<Gateway>, agent: SignedIn) -> ApiResult {
    let view = gateway.status(&agent.0).await?;
    let result = AgentStatus { agent_state: view.state, is_working: view.is_working };
    Ok(success(&AgentStatusResponse { message: String::new(), retcode: Retcode::Success, result }, None))
}

/// The `service_token` header: absent or empty is none; a value that is
/// not visible ASCII never validates.
fn service_token(req: &actix_web::HttpRequest) -> Option<&str> {
    let value = req.headers().get("service_token")?;
    Some(value.to_str().unwrap_or("\u{fffd}")).filter(|t| !t.is_empty())
}

/// Heartbeat
///
/// Keeps the session alive like a poll does. In dynamic mode, once the
/// rotation interval has passed, the answer carries a new Guid in `Set-GUID`.
/// A `service_token` header that is longer than 50 characters or holds
/// special characters gets 100-001.
#[utoipa::path(operation_id = "handShake", tag = "onlineagent", params(AgentPath, GuidHeader, ServiceTokenHeader),
    responses((status = 200, description = "Alive", body = CommandResponse,
        headers(("Set-GUID" = String, description = "A rotated Guid, when one was issued")))))]
#[post("/handshake")]
async fn hand_shake(gateway: web::Data<Gateway>, agent: SignedIn, req: actix_web::HttpRequest) -> ApiResult {
    let beat = gateway.handshake(&agent.0, service_token(&req)).await?;
    Ok(success(&CommandResponse::success(), beat.set_guid.as_ref()))
}

/// `heartbeat` result.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatResult {
    /// The session's sign-in time, epoch milliseconds (as in the sign-in result).
    #[schema(example = "1471585949806")]
    pub login_time: String,
}

/// `heartbeat` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HeartbeatResponse {
    pub message: String,
    pub retcode: Retcode,
    /// Present when `retcode` is `"0"`.
    #[schema(required = false)]
    pub result: HeartbeatResult,
}

/// Heartbeat (older name)
///
/// The heartbeat under the name older clients still call (Huawei's Java
/// sample, `PUT`): the same effect as `handshake`, and the result carries
/// the session's `loginTime`.
#[utoipa::path(operation_id = "heartBeat", tag = "onlineagent", params(AgentPath, GuidHeader, ServiceTokenHeader),
    responses((status = 200, description = "Alive", body = HeartbeatResponse,
        headers(("Set-GUID" = String, description = "A rotated Guid, when one was issued")))))]
#[put("/heartbeat")]
async fn heart_beat(gateway: web::Data<Gateway>, agent: SignedIn, req: actix_web::HttpRequest) -> ApiResult {
    let beat = gateway.handshake(&agent.0, service_token(&req)).await?;
    let result = HeartbeatResult { login_time: beat.login_time.to_string() };
    let body = HeartbeatResponse { message: "success".into(), retcode: Retcode::Success, result };
    Ok(success(&body, beat.set_guid.as_ref()))
}

/// The `sendnoteletex` body (reference §2.1 row 24).
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"agentIds": ["102", "103"], "content": "Meeting at 3 pm"}))]
#[allow(non_snake_case, dead_code)]
pub struct NoteBody {
    /// Receiving work numbers, 1–100, as numbers or strings.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 100)]
    agentIds: Vec<String>,
    /// The note, 0–1023 bytes of UTF-8 text (Chinese included).
    content: String,
}

/// `sendnoteletex` answer: one outcome per receiver.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NoteResponse {
    pub message: String,
    pub retcode: Retcode,
    /// Each receiver's outcome: `"0"` delivered, `100-006` not signed in.
    /// Present when `retcode` is `"0"`.
    #[schema(required = false)]
    pub result: Vec<BulkResult>,
}

/// Send a note
///
/// Queues `AgentOther_Note` for each receiver that is signed in (in the
/// sender's VDN). Its `content` carries the note as Huawei's C# sample reads
/// it: `sender`, `sendername`, `receivetime` (epoch ms), `timestring` and
/// `context` (the text). `result` has each receiver's outcome; a receiver
/// that is not signed in is reported with 100-006, not dropped. A body that
/// is not `{agentIds: [1-100 work numbers], content: 0-1023 bytes}` gets 000-006.
#[utoipa::path(operation_id = "sendNoteletEx", tag = "onlineagent", params(AgentPath, GuidHeader),
    request_body = NoteBody, responses((status = 200, description = "Outcome per receiver", body = NoteResponse)))]
#[post("/sendnoteletex")]
async fn send_notelet_ex(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin, body: JsonBody) -> ApiResult {
    let note = NoteRequest::from_json(&body.0)?;
    let result = gateway.send_note(&agent.0, &origin, note).await?;
    Ok(success(&NoteResponse { message: "success".into(), retcode: Retcode::Success, result }, None))
}

/// The `notifybulletin` body.
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"targettype": 0, "targetname": "Team 1", "bulletindata": "Shift ends at 6 pm"}))]
#[allow(dead_code)]
pub struct BulletinBody {
    /// 0: a team (agent group); 1: a skill queue. A number or a string.
    #[schema(minimum = 0, maximum = 1)]
    targettype: u8,
    /// The team's or skill queue's name (or its number), 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    targetname: String,
    /// The bulletin, 0–900 characters.
    #[schema(max_length = 900)]
    bulletindata: String,
}

/// `notifybulletin` result.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BulletinResult {
    /// How many signed-in members got the bulletin.
    pub receivers: usize,
}

/// `notifybulletin` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BulletinResponse {
    pub message: String,
    pub retcode: Retcode,
    /// Present when `retcode` is `"0"`.
    #[schema(required = false)]
    pub result: BulletinResult,
}

/// Publish a bulletin
///
/// Queues `AgentOther_Bulletin` for every signed-in member, other than the
/// sender, of a team (`targettype` 0, by its name or number) or a skill
/// queue (1; the agents signed in to it now) in the sender's VDN. Its
/// `content` is as a note's (`sender`, `sendername`, `receivetime`,
/// `timestring`, `context`) plus `targettype` and `targetname`. A body out
/// of range, or a name that matches no team or queue, gets 000-006.
#[utoipa::path(operation_id = "notifyBulletin", tag = "onlineagent", params(AgentPath, GuidHeader),
    request_body = BulletinBody, responses((status = 200, description = "Published", body = BulletinResponse)))]
#[post("/notifybulletin")]
async fn notify_bulletin(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin, body: JsonBody) -> ApiResult {
    let bulletin = BulletinRequest::from_json(&body.0)?;
    let receivers = gateway.notify_bulletin(&agent.0, &origin, bulletin).await?;
    let result = BulletinResult { receivers };
    Ok(success(&BulletinResponse { message: "success".into(), retcode: Retcode::Success, result }, None))
}

/// The reason-code catalog.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReasonCodesResponse {
    pub message: String,
    #[schema(value_type = String, example = "0")]
    pub retcode: Retcode,
    pub result: Vec<ReasonCode>,
}

/// List reason codes (extension)
///
/// Every named sign-out reason (1–255), busy reason (200–250) and rest
/// cause (0–255), and the fixed system reasons (256–264), for any signed-in
/// caller.
#[utoipa::path(operation_id = "queryReasonCodes", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "The catalog", body = ReasonCodesResponse)))]
#[get("/reasoncodes")]
async fn query_reason_codes(gateway: web::Data<Gateway>, _agent: SignedIn) -> ApiResult {
    let result = gateway.directory().catalog().list();
    Ok(success(&ReasonCodesResponse { message: "success".into(), retcode: Retcode::Success, result }, None))
}

/// The sign-in body (reference §3.2). Numbers and booleans may be sent as
/// JSON strings too, e.g. `"status": "4"`.
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"password": "Agent@123", "phonenum": "7101", "status": "4"}))]
#[allow(non_snake_case, dead_code)]
pub struct SignInBody {
    /// Work-number password (at most 32 characters). `loginex` may leave it
    /// empty or out where the directory allows it.
    #[schema(max_length = 32)]
    password: String,
    /// Phone number bound to the agent (at most 24); required for agents,
    /// except on `loginex`.
    #[schema(max_length = 24)]
    phonenum: Option<String>,
    /// Answer calls automatically (default true).
    autoanswer: Option<bool>,
    /// Go idle after a call (default true); false = wrap-up.
    autoenteridle: Option<bool>,
    /// Phone hangs up after each call (default true).
    releasephone: Option<bool>,
    /// 4 = PC + phone (default), 11 = PC + phone video.
    #[schema(minimum = 4, maximum = 11)]
    agenttype: Option<u8>,
    /// State after sign-in: 3 busy, 4 idle (default), 5 wrap-up.
    #[schema(minimum = 3, maximum = 5)]
    status: Option<u8>,
    /// Agent client IPv4 address (default 127.0.0.1).
    #[schema(max_length = 15)]
    ip: Option<String>,
    /// IP of the client's application gateway.
    entryIp: Option<String>,
    /// Link softphone and hard phone (default false).
    phonelinkage: Option<bool>,
    /// Also sign in to the text-chat server (default true).
    checkInWebm: Option<bool>,
    /// Also sign in to the mail server (default false).
    checkInMailm: Option<bool>,
    /// VC number (at most 24).
    vcPhoneNumber: Option<String>,
    /// Notify inspectors when this agent signs in or out (default false).
    listenStatus: Option<bool>,
    /// Push-mode callback URL (push mode is not supported: with `serviceToken` it gets 100-011).
    callBackUri: Option<String>,
    /// Push-mode token.
    serviceToken: Option<String>,
}
