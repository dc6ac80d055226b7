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
