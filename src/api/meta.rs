//! The gateway's own documents.

use actix_web::{get, web, HttpResponse};

/// The generated OpenAPI document, serialised once.
pub struct OpenApiText(pub String);

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(get_openapi);
}

/// OpenAPI document
///
/// This document, as JSON (OpenAPI 3.1).
#[utoipa::path(operation_id = "getOpenApi", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
#[get("/openapi.json")]
async fn get_openapi(doc: web::Data<OpenApiText>) -> HttpResponse {
    let mut response = HttpResponse::Ok().content_type("application/json").body(doc.0.clone());
    response.extensions_mut().insert(super::envelope::Outcome(crate::retcode::Retcode::Success));
    response
}
