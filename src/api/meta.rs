//! The gateway's own documents: the OpenAPI document and the API page.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpResponse};

use super::envelope::{Outcome, Plain};
use super::error::{ApiError, ApiResult};
use crate::retcode::Retcode;

/// The generated OpenAPI document, serialised once.
pub struct OpenApiText(pub String);

/// Swagger UI's settings for the API page.
pub struct ApiPage(Arc<utoipa_swagger_ui::Config<'static>>);

impl Default for ApiPage {
    fn default() -> Self {
        // Operation ids are the Huawei log names people search for; the
        // online validator would send the document to a third party. The
        // Guid entered with Authorize is kept across reloads of the page.
        let config = utoipa_swagger_ui::Config::from("/openapi.json")
            .display_operation_id(true)
            .validator_url("none")
            .persist_authorization(true);
        ApiPage(Arc::new(config))
    }
}

/// Everything the page loads comes from this gateway: the browser refuses
/// anything else, so a page that would reach a CDN breaks visibly.
const PAGE_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The page's title, in place of Swagger UI's own.
const PAGE_TITLE: &str = "<title>agentgateway API</title>";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(get_openapi).service(get_api_page_root).service(get_api_page);
}

fn tagged(mut response: HttpResponse) -> HttpResponse {
    response.extensions_mut().insert(Outcome(Retcode::Success));
    response
}

/// OpenAPI document
///
/// This document, as JSON (OpenAPI 3.1).
#[utoipa::path(operation_id = "getOpenApi", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
#[get("/openapi.json")]
async fn get_openapi(doc: web::Data<OpenApiText>) -> HttpResponse {
    tagged(HttpResponse::Ok().content_type("application/json").body(doc.0.clone()))
}

/// API page (without the slash)
///
/// Redirects (308) to `/docs/`, where the page's relative links work.
#[utoipa::path(operation_id = "getApiPageRoot", tag = "meta",
    responses((status = 308, description = "To `/docs/`", headers(("Location" = String, description = "`/docs/`")))))]
#[get("/docs")]
async fn get_api_page_root() -> HttpResponse {
    tagged(HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish())
}

/// API page
///
/// A human-readable page of this document (Swagger UI) at `/docs/`; other
/// names are the page's scripts and styles. Everything it loads is served
/// by the gateway itself.
#[utoipa::path(operation_id = "getApiPage", tag = "meta",
    params(("asset" = String, Path, description = "Empty for the page, otherwise one of its files",
        example = "swagger-ui.css")),
    responses(
        (status = 200, description = "The page (`text/html`) or one of its files", content_type = "text/html"),
        (status = 404, description = "No such file (000-002)", body = Plain)))]
#[get("/docs/{asset:[^/]*}")]
async fn get_api_page(page: web::Data<ApiPage>, asset: web::Path<String>) -> ApiResult {
    let file = utoipa_swagger_ui::serve(&asset, page.0.clone())
        .map_err(|e| ApiError::http(StatusCode::INTERNAL_SERVER_ERROR, Retcode::Internal, e.to_string()))?
        .ok_or_else(|| {
            ApiError::http(StatusCode::NOT_FOUND, Retcode::BadParameter, format!("no file {asset:?} on the API page"))
        })?;
    let body = match file.bytes {
        // The page itself: named after the gateway, not after Swagger UI.
        bytes if file.content_type.starts_with("text/html") => {
            web::Bytes::from(String::from_utf8_lossy(&bytes).replace("<title>Swagger UI</title>", PAGE_TITLE))
        }
        Cow::Borrowed(bytes) => web::Bytes::from_static(bytes),
        Cow::Owned(bytes) => web::Bytes::from(bytes),
    };
    Ok(tagged(
        HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(body),
    ))
}
