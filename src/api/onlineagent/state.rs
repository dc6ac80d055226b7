//! The agent's own state commands: idle, busy, rest, wrap-up and their
//! cancels.

use actix_web::{post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::auth::SignedIn;
use crate::api::envelope::{success, CommandResponse, Envelope, Reserved};
use crate::api::error::{ApiError, ApiResult};
use crate::api::params::{AgentPath, GuidHeader};
use crate::domain::audit::Origin;
use crate::domain::params::{parse_flag, BusyReason, RestCause, RestSeconds};
use crate::domain::state::Command;
use crate::domain::Gateway;

pub(super) async fn run(gateway: &Gateway, agent: &SignedIn, origin: &Origin, command: Command) -> ApiResult {
    gateway.command(&agent.0, origin, command).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Set idle
///
/// From busy (`AgentState_CancelNotReady_Success`) or wrap-up
/// (`AgentState_CancelWork_Success`) to idle, then `AgentState_Ready`.
#[utoipa::path(operation_id = "sayFree", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Idle, or 100-009 from another state", body = Envelope<Reserved>)))]
#[post("/sayfree")]
pub(super) async fn say_free(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
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
    responses((status = 200, description = "Busy; 000-002 for a bad reason", body = Envelope<Reserved>)))]
#[post("/saybusy")]
pub(super) async fn say_busy(
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
    responses((status = 200, description = "Idle, or 100-009 when not busy", body = Envelope<Reserved>)))]
#[post("/cancelbusy")]
pub(super) async fn cancel_busy(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
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
    responses((status = 200, description = "Resting; 000-002 for a bad time or cause", body = Envelope<Reserved>)))]
#[post("/rest/{time:[^/]*}/{restcause:[^/]*}")]
pub(super) async fn rest(
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
    responses((status = 200, description = "Idle, or 100-009 when not resting", body = Envelope<Reserved>)))]
#[post("/cancelrest")]
pub(super) async fn cancel_rest(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::CancelRest).await
}

/// Enter wrap-up
///
/// Idle or busy to the work (wrap-up) state: `AgentState_SetWork_Success`.
#[utoipa::path(operation_id = "sayWork", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "In wrap-up, or 100-009", body = Envelope<Reserved>)))]
#[post("/work")]
pub(super) async fn say_work(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::Work).await
}

/// Quit wrap-up
///
/// Wrap-up to idle: `AgentState_CancelWork_Success`, `AgentState_Ready`.
#[utoipa::path(operation_id = "cancelWork", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Idle, or 100-009 when not in wrap-up", body = Envelope<Reserved>)))]
#[post("/cancelwork")]
pub(super) async fn cancel_work(gateway: web::Data<Gateway>, agent: SignedIn, origin: Origin) -> ApiResult {
    run(&gateway, &agent, &origin, Command::CancelWork).await
}
