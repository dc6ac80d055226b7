//! Liveness: a trivial route that touches no agent state. It answers as
//! soon as a worker can run it, so it is also the benchmark's ceiling (the
//! cost of TLS, HTTP parsing, routing, middleware and the call log alone).

use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::envelope::Outcome;
use crate::retcode::Retcode;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(healthz);
}

/// `{"status":"ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness
///
/// Answers `{"status":"ok"}` while the gateway serves requests. It needs no
/// Guid and reads no agent state.
#[utoipa::path(operation_id = "healthz", tag = "ops",
    responses((status = 200, description = "The gateway is serving", body = Health)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    let mut response = HttpResponse::Ok().json(Health { status: "ok" });
    response.extensions_mut().insert(Outcome(Retcode::Success));
    response
}
