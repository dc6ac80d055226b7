//! Middleware: the per-call log line and metrics, the count of refusals
//! with no principal behind them, the header size cap, and the net that
//! turns any framework error without our envelope into one. Audit records
//! are the domain's: each audited operation writes its own before it takes
//! effect.

use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{web, HttpMessage, ResponseError};

use super::auth::Refused;
use super::envelope::Outcome;
use super::error::ApiError;
use super::routes::RouteTable;
use crate::domain::audit::RequestId;
use crate::domain::ids::parse_decimal;
use crate::domain::Gateway;
use crate::retcode::Retcode;

/// Largest total of header bytes accepted.
#[derive(Debug, Clone, Copy)]
pub struct HeaderLimit(pub usize);

fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum()
}

/// One line and one count per call: Huawei method name, agent, retcode,
/// status, duration. The Guid and the body are never logged. A refusal
/// with no principal behind it is counted for the security log.
pub async fn call_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let started = Instant::now();
    let gateway = req.app_data::<web::Data<Gateway>>().cloned();
    let _in_flight = gateway.as_ref().map(|g| g.telemetry().request_started());
    let mut response = match refusal(&req) {
        Some(error) => {
            let (http_req, _) = req.into_parts();
            ServiceResponse::new(http_req, error.error_response()).map_into_left_body()
        }
        None => next.call(req).await?.map_body(|_, body| body.boxed()).map_into_right_body(),
    };
    let (name, retcode) = outcome(&response);
    // A command's id was made for its audit records; any other request's
    // is made now, not on arrival: a waiting poll need not hold it.
    let request_id = response.request().extensions().get::<RequestId>().copied().unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    if let Some(gateway) = &gateway {
        if response.request().extensions().contains::<Refused>() {
            let code = retcode.unwrap_or(Retcode::MessageError).code();
            gateway.telemetry().refused_unauthenticated(code, response.request().peer_addr().map(|a| a.ip()));
        }
        gateway.telemetry().request(name, retcode.map_or("none", Retcode::code), started.elapsed().as_secs_f64());
        if gateway.is_stopping() {
            // A closing node: let the client reconnect elsewhere instead of
            // holding a keep-alive connection that shutdown must wait out.
            response.response_mut().head_mut().set_connection_type(ConnectionType::Close);
        }
    }
    log_call(&response, name, retcode, started);
    Ok(response.map_body(|_, body| match body {
        EitherBody::Left { body } => EitherBody::left(body),
        EitherBody::Right { body } => EitherBody::left(body),
    }))
}

/// Refuses oversized headers (431) before routing.
fn refusal(req: &ServiceRequest) -> Option<ApiError> {
    let limit = req.app_data::<web::Data<HeaderLimit>>().map_or(usize::MAX, |l| l.0);
    (header_bytes(req) > limit).then(|| {
        req.extensions_mut().insert(Refused);
        // Answered before the status policy's middleware runs: apply it here.
        let status =
            req.app_data::<web::Data<super::StatusPolicy>>().map_or(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, |p| {
                p.status_for(req.path(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            });
        ApiError::http(status, Retcode::MessageError, format!("request headers exceed {limit} bytes"))
    })
}

/// The Huawei method name and the retcode of an answer.
fn outcome<B>(response: &ServiceResponse<B>) -> (&'static str, Option<Retcode>) {
    let req = response.request();
    let name = req
        .match_pattern()
        .and_then(|p| req.app_data::<web::Data<RouteTable>>().and_then(|t| t.name(req.method(), &p)))
        .unwrap_or("unknown");
    (name, response.response().extensions().get::<Outcome>().map(|o| o.0))
}

fn log_call<B>(response: &ServiceResponse<B>, name: &str, retcode: Option<Retcode>, started: Instant) {
    if !log::log_enabled!(log::Level::Info) {
        return;
    }
    let req = response.request();
    // The segment is client text: log it only when it is a plain number, so
    // no request can forge a log line.
    let agent = req
        .match_info()
        .get("agentid")
        .map(|a| if parse_decimal(a, 12).is_some() { a } else { "invalid" })
        .unwrap_or("-");
    log::info!(
        "{name} agent={agent} retcode={} status={} {:.3}ms",
        retcode.map_or("-", Retcode::code),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
}

/// Any error response that did not come through [`ApiError`] (an actix
/// extractor or internal error) is replaced by the envelope.
pub fn envelope_for_framework_errors<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if response.response().extensions().get::<Outcome>().is_some() {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let retcode = match status {
        StatusCode::NOT_FOUND => Retcode::BadParameter,
        StatusCode::METHOD_NOT_ALLOWED => Retcode::WrongMethod,
        s if s.is_server_error() => Retcode::Internal,
        _ => Retcode::MessageError,
    };
    let message = status.canonical_reason().unwrap_or("request refused").to_owned();
    let replacement = ApiError::http(status, retcode, message).error_response();
    let (req, _) = response.into_parts();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, replacement).map_into_right_body()))
}
