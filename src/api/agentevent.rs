//! `agentevent`: long-poll event delivery (reference §4).

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::scope;

use super::auth::Poller;
use super::envelope::{success, EventResponse};
use super::error::{ApiError, ApiResult};
use super::params::{AgentPath, GuidHeader};
use crate::domain::ids::parse_decimal;
use crate::domain::Gateway;
use crate::retcode::Retcode;

/// Registers this resource's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(scope("/agentevent/{agentid:[^/]*}").service(get_agent_event));
}

/// Query of the poll.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PollQuery {
    /// Call data refreshed by the client's call-control bar (accepted, unused).
    pub calldata: Option<String>,
    /// Extension: the `seq` of the last event received. Events up to it are
    /// forgotten; later ones are kept and re-sent until acknowledged, so an
    /// answer lost in flight loses no event. Without `ack`, each event is
    /// delivered once, as Huawei does.
    #[param(value_type = Option<u64>, minimum = 0)]
    pub ack: Option<String>,
}

/// Poll for the next event
///
/// Answers at once with the oldest queued event, or waits up to the poll
/// wait (10 s by default) for one and then answers `{"message":"","retcode":"0"}`
/// (no `event`).
/// One event per answer. A newer poll of the same session ends an older
/// one empty. Polling is the heartbeat. In dynamic mode an answer may carry
/// a rotated Guid in `Set-GUID`. After the session is signed out, its Guid
/// still fetches the remaining events, ending with
/// `AgentOther_ShutdownService`; after that it gets 100-006.
#[utoipa::path(operation_id = "getAgentEvent", tag = "agentevent", params(AgentPath, PollQuery, GuidHeader),
    responses((status = 200, description = "An event, or no `event` after the poll wait", body = EventResponse,
        headers(("Set-GUID" = String, description = "A rotated Guid (dynamic mode), when one was issued")))))]
#[get("")]
async fn get_agent_event(gateway: web::Data<Gateway>, poller: Poller, query: web::Query<PollQuery>) -> ApiResult {
    let ack = match query.ack.as_deref() {
        None => None,
        Some(text) => {
            Some(parse_decimal(text, 19).ok_or_else(|| ApiError::parameter("ack must be a sequence number"))?)
        }
    };
    let answer = gateway.poll(&poller.0, ack).await?;
    let body = EventResponse { message: String::new(), retcode: Retcode::Success, event: answer.event };
    Ok(success(&body, answer.set_guid.as_ref()))
}
