//! Parameters shared by many interfaces, for the OpenAPI document.

use serde::Deserialize;
use utoipa::IntoParams;

/// The `{agentid}` path segment.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AgentPath {
    /// Work number of the agent, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
}

/// The `Guid` request header.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct GuidHeader {
    /// Session Guid: the value of `Set-GUID` after `JSESSIONID=`, from sign-in or,
    /// in dynamic mode, from the latest poll or handshake answer that carried one.
    #[param(rename = "Guid", example = "279fe21d-2caa-4437-84c3-ab9e9dae20f5.AgentGateway0")]
    guid: String,
}

/// The optional `service_token` header of the heartbeat (`handshake`,
/// `heartbeat`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct ServiceTokenHeader {
    /// Push-mode token: at most 50 characters, letters, digits, `-` and `_`
    /// only; anything else gets 100-001. Optional; the gateway delivers
    /// events by polling only, so it is checked and otherwise unused.
    #[param(rename = "service_token", max_length = 50, pattern = "^[A-Za-z0-9_-]*$")]
    service_token: Option<String>,
}
