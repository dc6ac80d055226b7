//! Operations: liveness, readiness and Prometheus metrics, outside the
//! Huawei path space. `/healthz` and `/readyz` are served on the gateway's
//! own listener and on the metrics listener; `/metrics` only on the metrics
//! listener (`--metrics-listen`), so who may read it is a matter of where
//! that listener binds.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use utoipa::openapi::server::Server;
use utoipa::OpenApi;

use super::envelope::{success, Outcome, Plain};
use super::error::{ApiError, ApiResult};
use crate::domain::{Failure, Gateway};
use crate::retcode::Retcode;
use crate::telemetry;

/// Registers the probes on the gateway's own listener.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(get_liveness).service(get_readiness);
}

/// Registers everything the metrics listener serves.
pub fn configure_metrics_listener(cfg: &mut web::ServiceConfig) {
    cfg.service(get_metrics).service(get_liveness).service(get_readiness);
}

/// The metrics listener's routes, for its route table (404 versus 405).
#[derive(OpenApi)]
#[openapi(paths(get_metrics, get_liveness, get_readiness))]
pub struct MetricsListenerDoc;

/// The document of `/metrics`, to merge into the gateway's. The path item
/// names its own server, because this listener does not serve it.
pub fn metrics_doc() -> utoipa::openapi::OpenApi {
    #[derive(OpenApi)]
    #[openapi(paths(get_metrics))]
    struct MetricsDoc;

    let mut doc = MetricsDoc::openapi();
    let server = Server::builder()
        .url("http://127.0.0.1:9464")
        .description(Some("The metrics listener, `--metrics-listen` (default 127.0.0.1:9464, plain HTTP)"))
        .build();
    for item in doc.paths.paths.values_mut() {
        item.servers = Some(vec![server.clone()]);
    }
    doc
}

fn unavailable(failure: Failure) -> ApiError {
    ApiError::http(StatusCode::SERVICE_UNAVAILABLE, failure.code, failure.detail)
}

/// Liveness
///
/// Answers while the process serves requests, also while it shuts down.
/// For a liveness probe; it checks nothing else.
#[utoipa::path(operation_id = "getLiveness", tag = "ops",
    responses((status = 200, description = "Alive: `{\"message\":\"alive\",\"retcode\":\"0\"}`", body = Plain)))]
#[get("/healthz")]
async fn get_liveness() -> HttpResponse {
    success(&Plain { message: "alive".into(), retcode: Retcode::Success }, None)
}

/// Readiness
///
/// Ready when the gateway listens, the agent store answers, and it is not
/// shutting down. For a readiness probe or a load balancer's health check.
#[utoipa::path(operation_id = "getReadiness", tag = "ops",
    responses(
        (status = 200, description = "Ready: `{\"message\":\"ready\",\"retcode\":\"0\"}`", body = Plain),
        (status = 503, description = "Not ready (100-007): shutting down, or the store is unusable", body = Plain)))]
#[get("/readyz")]
async fn get_readiness(gateway: web::Data<Gateway>) -> ApiResult {
    gateway.readiness().await.map_err(unavailable)?;
    Ok(success(&Plain { message: "ready".into(), retcode: Retcode::Success }, None))
}

/// Prometheus metrics
///
/// Requests by operation id and retcode, latency histograms, signed-in
/// agents by state, waiting polls, queued and dropped events, sign-outs by
/// reason, Guid and password failures, in the Prometheus text format 0.0.4.
/// Served only on the metrics listener (`--metrics-listen`, plain HTTP,
/// 127.0.0.1:9464 by default); the gateway's own listener answers 404.
#[utoipa::path(operation_id = "getMetrics", tag = "ops",
    responses(
        (status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String,
            example = "agentgateway_polls_waiting 3\n"),
        (status = 503, description = "The store could not be read (100-007)", body = Plain)))]
#[get("/metrics")]
async fn get_metrics(gateway: web::Data<Gateway>) -> ApiResult {
    let snapshot = gateway.snapshot().await.map_err(unavailable)?;
    let mut response =
        HttpResponse::Ok().content_type(telemetry::CONTENT_TYPE).body(gateway.telemetry().render(&snapshot));
    response.extensions_mut().insert(Outcome(Retcode::Success));
    Ok(response)
}
