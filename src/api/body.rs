//! The JSON body extractor: a size cap checked before reading, an absolute
//! deadline for the whole body (a slow sender cannot hold a worker), and
//! every failure in the envelope.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;

use super::error::ApiError;
use crate::retcode::Retcode;

/// Body limits, registered once as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub deadline: Duration,
}

/// A parsed JSON body; an empty body reads as `null`.
pub struct JsonBody(pub serde_json::Value);

fn too_large(max: usize) -> ApiError {
    ApiError::http(StatusCode::PAYLOAD_TOO_LARGE, Retcode::MessageError, format!("the body exceeds {max} bytes"))
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    match req.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("")) {
        None => Ok(()),
        Some(v) if v.trim_start().to_ascii_lowercase().starts_with("application/json") => Ok(()),
        Some(_) => Err(ApiError::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Retcode::MessageError,
            "Content-Type must be application/json; charset=UTF-8",
        )),
    }
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// A request without a body (a GET, mostly) is not refused for its
/// `Content-Type`: there is nothing it could mislabel.
fn has_body(req: &HttpRequest) -> bool {
    declared_length(req).is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING)
}

async fn read(mut payload: Payload, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::http(StatusCode::BAD_REQUEST, Retcode::MessageError, e.to_string()))?;
        if body.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<JsonBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limits = req
            .app_data::<web::Data<BodyLimits>>()
            .map_or(BodyLimits { max_bytes: 16 * 1024, deadline: Duration::from_secs(10) }, |l| *l.get_ref());
        let typed = if has_body(req) { check_content_type(req) } else { Ok(()) };
        let checked = typed.and_then(|()| match declared_length(req) {
            Some(n) if n > limits.max_bytes => Err(too_large(limits.max_bytes)),
            _ => Ok(()),
        });
        let payload = payload.take();
        Box::pin(async move {
            checked?;
            let body =
                tokio::time::timeout(limits.deadline, read(payload, limits.max_bytes)).await.map_err(|_| {
                    ApiError::http(
                        StatusCode::REQUEST_TIMEOUT,
                        Retcode::MessageError,
                        "the body was not received in time",
                    )
                })??;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(JsonBody(serde_json::Value::Null));
            }
            serde_json::from_slice(&body).map(JsonBody).map_err(|e| {
                ApiError::http(StatusCode::BAD_REQUEST, Retcode::MessageError, format!("malformed JSON body: {e}"))
            })
        })
    }
}
