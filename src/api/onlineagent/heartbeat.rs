//! The heartbeat: `handshake` and its older name `heartbeat`.

use actix_web::{post, put, web};

use crate::api::auth::SignedIn;
use crate::api::envelope::{success, CommandResponse, Envelope, Reserved};
use crate::api::error::ApiResult;
use crate::api::params::{AgentPath, GuidHeader, ServiceTokenHeader};
use crate::domain::Gateway;
use crate::retcode::Retcode;

/// The `service_token` header: absent or empty is none; a value that is
/// not visible ASCII never validates.
pub(super) fn service_token(req: &actix_web::HttpRequest) -> Option<&str> {
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
    responses((status = 200, description = "Alive", body = Envelope<Reserved>,
        headers(("Set-GUID" = String, description = "A rotated Guid, when one was issued")))))]
#[post("/handshake")]
pub(super) async fn hand_shake(gateway: web::Data<Gateway>, agent: SignedIn, req: actix_web::HttpRequest) -> ApiResult {
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

/// Heartbeat (older name)
///
/// The heartbeat under the name older clients still call (Huawei's Java
/// sample, `PUT`): the same effect as `handshake`, and the result carries
/// the session's `loginTime`.
#[utoipa::path(operation_id = "heartBeat", tag = "onlineagent", params(AgentPath, GuidHeader, ServiceTokenHeader),
    responses((status = 200, description = "Alive", body = Envelope<HeartbeatResult>,
        headers(("Set-GUID" = String, description = "A rotated Guid, when one was issued")))))]
#[put("/heartbeat")]
pub(super) async fn heart_beat(gateway: web::Data<Gateway>, agent: SignedIn, req: actix_web::HttpRequest) -> ApiResult {
    let beat = gateway.handshake(&agent.0, service_token(&req)).await?;
    let result = HeartbeatResult { login_time: beat.login_time.to_string() };
    let body = Envelope { message: "success".into(), retcode: Retcode::Success, result };
    Ok(success(&body, beat.set_guid.as_ref()))
}
