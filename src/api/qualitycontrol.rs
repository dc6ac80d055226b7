//! `qualitycontrol`: an inspector acting on agents in its scope (reference
//! §2.4), plus the bulk and audit-trail extensions. In every path
//! `{agentid}` is the inspector and `{workNo}` the agent acted on.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;

use super::auth::SignedIn;
use super::body::JsonBody;
use super::envelope::{success, CommandResponse, Envelope, Reserved};
use super::error::{ApiError, ApiResult};
use super::params::GuidHeader;
use crate::domain::audit::{Action, Origin, Record};
use crate::domain::ids::{parse_decimal, WorkNo};
use crate::domain::params::{RestCause, RestSeconds, SignOutReason};
use crate::domain::state::Forced;
use crate::domain::{BulkAction, BulkResult, Gateway, Selector};
use crate::retcode::Retcode;

/// Registers this resource's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        scope("/qualitycontrol/{agentid:[^/]*}")
            .service(force_log_out_agent)
            .service(force_busy)
            .service(force_idle)
            .service(force_rest)
            .service(bulk_force_logout)
            .service(bulk_force_busy)
            .service(query_audit),
    );
}

/// Path of an inspector acting on an agent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TargetPath {
    /// The inspector's work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// The agent acted on, 101–999999, in the inspector's scope and VDN.
    #[param(rename = "workNo", value_type = u32, minimum = 101, maximum = 999999)]
    #[serde(rename = "workNo")]
    pub work_no: String,
}

fn target(text: &str) -> Result<WorkNo, ApiError> {
    WorkNo::parse(text).ok_or_else(|| ApiError::parameter("workNo must be a work number from 101 to 999999"))
}

/// Sign an agent out
///
/// Signs the agent out from any state (reason 257, forced by an inspector).
/// The agent's final poll receives `AgentOther_ShutdownService` with
/// `reason`, `reasonName` and `initiator: "inspector:<workNo>"`. Outside the
/// inspector's scope: 900-002; on itself: 000-005.
#[utoipa::path(operation_id = "forceLogOutAgent", tag = "qualitycontrol", params(TargetPath, GuidHeader),
    responses((status = 200, description = "Signed out, or why not", body = Envelope<Reserved>)))]
#[post("/forcelogout/{workNo:[^/]*}")]
async fn force_log_out_agent(
    gateway: web::Data<Gateway>,
    inspector: SignedIn,
    origin: Origin,
    path: web::Path<TargetPath>,
) -> ApiResult {
    let target = target(&path.work_no)?;
    gateway.force_sign_out(&inspector.0, &origin, target, Action::ForceLogOutAgent).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Force an agent busy
///
/// Any state to busy with reason 3 (forced by an inspector); the agent
/// receives `AgentState_Force_SetNotReady` with `reason`, `reasonName`, `initiator`.
#[utoipa::path(operation_id = "forceBusy", tag = "qualitycontrol", params(TargetPath, GuidHeader),
    responses((status = 200, description = "Busy, or why not", body = Envelope<Reserved>)))]
#[post("/forcebusy/{workNo:[^/]*}")]
async fn force_busy(
    gateway: web::Data<Gateway>,
    inspector: SignedIn,
    origin: Origin,
    path: web::Path<TargetPath>,
) -> ApiResult {
    force(&gateway, &inspector, &origin, &path.work_no, Forced::Busy).await
}

/// Force an agent idle
///
/// Any state to idle; the agent receives `AgentState_Force_Ready` with `initiator`.
#[utoipa::path(operation_id = "forceIdle", tag = "qualitycontrol", params(TargetPath, GuidHeader),
    responses((status = 200, description = "Idle, or why not", body = Envelope<Reserved>)))]
#[post("/forceidle/{workNo:[^/]*}")]
async fn force_idle(
    gateway: web::Data<Gateway>,
    inspector: SignedIn,
    origin: Origin,
    path: web::Path<TargetPath>,
) -> ApiResult {
    force(&gateway, &inspector, &origin, &path.work_no, Forced::Idle).await
}

/// Path of `forcerest`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ForceRestPath {
    /// The inspector's work number.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// The agent acted on.
    #[param(rename = "workNo", value_type = u32, minimum = 101, maximum = 999999)]
    #[serde(rename = "workNo")]
    pub work_no: String,
    /// Rest duration in seconds, 1–86399.
    #[param(value_type = u32, minimum = 1, maximum = 86399)]
    pub time: String,
    /// Rest cause, 1–255.
    #[param(value_type = u8, minimum = 1, maximum = 255)]
    pub reason: String,
}

/// Force an agent to rest
///
/// Any state to rest for `time` seconds with cause `reason`; the agent
/// receives `AgentState_SetRest_Success` with `reason`, `time`, `reasonName`,
/// `initiator`, and later the `AgentState_Rest_Timeout` reminder.
#[utoipa::path(operation_id = "forceRest", tag = "qualitycontrol", params(ForceRestPath, GuidHeader),
    responses((status = 200, description = "Resting, or why not (000-002 for a bad time or reason)", body = Envelope<Reserved>)))]
#[post("/forcerest/{workNo:[^/]*}/{time:[^/]*}/{reason:[^/]*}")]
async fn force_rest(
    gateway: web::Data<Gateway>,
    inspector: SignedIn,
    origin: Origin,
    path: web::Path<ForceRestPath>,
) -> ApiResult {
    target(&path.work_no)?;
    let seconds =
        RestSeconds::parse(&path.time).ok_or_else(|| ApiError::parameter("time must be from 1 to 86399 seconds"))?;
    let cause = RestCause::parse(&path.reason)
        .filter(|c| c.code() >= 1)
        .ok_or_else(|| ApiError::parameter("reason must be from 1 to 255"))?;
    force(&gateway, &inspector, &origin, &path.work_no, Forced::Rest { seconds, cause }).await
}

async fn force(gateway: &Gateway, inspector: &SignedIn, origin: &Origin, work_no: &str, forced: Forced) -> ApiResult {
    let target = target(work_no)?;
    gateway.force_state(&inspector.0, origin, target, forced, Action::Forced(forced)).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Body of a bulk action: exactly one of `group` or `skill`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"group": 1, "reason": 57}))]
pub struct BulkBody {
    /// Every agent of this agent group (inside the caller's scope).
    pub group: Option<u32>,
    /// Every agent configured for this skill queue (inside the caller's scope).
    pub skill: Option<u32>,
    /// Sign-out reason 1–255 (bulk sign-out only).
    #[schema(minimum = 1, maximum = 255)]
    pub reason: Option<u16>,
}

fn selector(body: &serde_json::Value) -> Result<(Selector, Option<u16>), ApiError> {
    let bulk: BulkBody = serde_json::from_value(body.clone())
        .map_err(|e| ApiError::business(Retcode::MessageError, format!("invalid bulk body: {e}")))?;
    let selector = match (bulk.group, bulk.skill) {
        (Some(group), None) => Selector::Group(group),
        (None, Some(skill)) => Selector::Skill(skill),
        _ => return Err(ApiError::business(Retcode::MessageError, "give exactly one of group or skill")),
    };
    Ok((selector, bulk.reason))
}

async fn bulk(
    gateway: &Gateway,
    inspector: &SignedIn,
    origin: &Origin,
    selector: Selector,
    action: BulkAction,
) -> ApiResult {
    let results = gateway.bulk(&inspector.0, origin, selector, action).await?;
    Ok(success(&Envelope::ok("success", results), None))
}

/// Sign out every agent of a group or skill queue (extension)
///
/// Signs out, with one reason, every agent of the group or skill queue that
/// is inside the caller's scope. `result` holds each agent's own outcome
/// (e.g. 100-006 for one not signed in); the call succeeds as a whole.
#[utoipa::path(operation_id = "bulkForceLogout", tag = "qualitycontrol", params(super::params::AgentPath, GuidHeader),
    request_body = BulkBody, responses((status = 200, description = "Per-agent outcomes", body = Envelope<Vec<BulkResult>>)))]
#[post("/bulkforcelogout")]
async fn bulk_force_logout(
    gateway: web::Data<Gateway>,
    inspector: SignedIn,
    origin: Origin,
    body: JsonBody,
) -> ApiResult {
    let (selector, reason) = selector(&body.0)?;
    let reason = reason
        .and_then(SignOutReason::from_code)
        .ok_or_else(|| ApiError::business(Retcode::SignOutParameter, "reason must be an integer from 1 to 255"))?;
    bulk(&gateway, &inspector, &origin, selector, BulkAction::SignOut { reason }).await
}

/// Force every agent of a group or skill queue busy (extension)
#[utoipa::path(operation_id = "bulkForceBusy", tag = "qualitycontrol", params(super::params::AgentPath, GuidHeader),
    request_body = BulkBody, responses((status = 200, description = "Per-agent outcomes", body = Envelope<Vec<BulkResult>>)))]
#[post("/bulkforcebusy")]
async fn bulk_force_busy(
    gateway: web::Data<Gateway>,
    inspector: SignedIn,
    origin: Origin,
    body: JsonBody,
) -> ApiResult {
    let (selector, _) = selector(&body.0)?;
    bulk(&gateway, &inspector, &origin, selector, BulkAction::Busy).await
}

/// Query of the audit trail.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only records acting on this work number.
    #[param(value_type = Option<u32>)]
    pub agent: Option<String>,
    /// Only records of what this work number did (as agent, inspector, or a sign-in that claimed it).
    #[param(value_type = Option<u32>)]
    pub actor: Option<String>,
    /// Only this action (a Huawei method name such as `forceLogoutWithReason`).
    pub action: Option<String>,
    /// Only records written at or after this time (epoch ms) [default: 24 hours before `to`, or before now].
    #[param(value_type = Option<u64>)]
    pub from: Option<String>,
    /// Only records before this time (epoch ms).
    #[param(value_type = Option<u64>)]
    pub to: Option<String>,
    /// Page number, from 1 [default 1].
    #[param(value_type = Option<u32>, minimum = 1)]
    pub page: Option<String>,
    /// Records per page, 1–200 [default 50].
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub size: Option<String>,
}

/// A page of audit records, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Matching records in scope (all pages).
    pub total: usize,
    pub page: usize,
    pub size: usize,
    pub records: Vec<Record>,
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

fn number(text: Option<&str>, name: &str, default: u64) -> Result<u64, ApiError> {
    text.map_or(Ok(default), |t| {
        parse_decimal(t, 19).ok_or_else(|| ApiError::parameter(format!("{name} must be a number")))
    })
}

/// Read the audit trail (extension)
///
/// Records about agents in the inspector's scope (and records about the
/// trail itself), newest first, filtered by target, actor, action and the
/// time they were written, and paged. The whole trail is searched: the
/// time range is found in the file, and only that range is read (without
/// `from`, the 24 hours before `to`, or before now).
#[utoipa::path(operation_id = "queryAudit", tag = "qualitycontrol", params(super::params::AgentPath, AuditQuery, GuidHeader),
    responses((status = 200, description = "A page of records", body = Envelope<AuditPage>)))]
#[get("/audit")]
async fn query_audit(gateway: web::Data<Gateway>, inspector: SignedIn, query: web::Query<AuditQuery>) -> ApiResult {
    let agent = query.agent.as_deref().map(target).transpose()?;
    let actor = query
        .actor
        .as_deref()
        .map(|a| WorkNo::parse(a).ok_or_else(|| ApiError::parameter("actor must be a work number from 101 to 999999")));
    let actor = actor.transpose()?.map(|a| a.to_string());
    let to = number(query.to.as_deref(), "to", u64::MAX)?;
    let from = number(query.from.as_deref(), "from", to.min(crate::clock::now_ms()).saturating_sub(DAY_MS))?;
    let page = number(query.page.as_deref(), "page", 1)?.max(1) as usize;
    let size = number(query.size.as_deref(), "size", 50)?;
    if !(1..=200).contains(&size) {
        return Err(ApiError::parameter("size must be from 1 to 200"));
    }
    let (agent, action) = (agent.map(|a| a.to_string()), query.into_inner().action);
    let filter = move |r: &Record| {
        agent.as_ref().is_none_or(|a| r.entry.target == *a)
            && actor.as_ref().is_none_or(|a| r.entry.actor.work_no == *a)
            && action.as_ref().is_none_or(|a| r.entry.action == *a)
    };
    let (skip, take) = ((page - 1) * size as usize, size as usize);
    let (records, total) = gateway.audit_records(&inspector.0, from..to, filter, skip, take).await?;
    let result = AuditPage { total, page, size: size as usize, records };
    Ok(success(&Envelope::ok("success", result), None))
}
