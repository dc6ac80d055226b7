//! The HTTP layer: one module per resource group, each registering its
//! routes through utoipa-actix-web so that one declaration per route feeds
//! both the router and the OpenAPI document.

pub mod agentevent;
pub mod auth;
pub mod body;
pub mod envelope;
pub mod error;
mod health;
mod meta;
mod middleware;
pub mod onlineagent;
pub mod params;
mod routes;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, AppExt};

pub use middleware::HeaderLimit;
pub use routes::RouteTable;

use crate::domain::Gateway;
use error::ApiError;

/// The Huawei path space.
pub const BASE_PATH: &str = "/agentgateway/resource";

/// Top-level OpenAPI description; paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "agentgateway",
        description = "HTTPS REST gateway for contact-center agents, wire-compatible with Huawei CC-Gateway \
AgentGateway (`/agentgateway/resource/...`).\n\nEvery answer is a JSON envelope `{message, retcode}` (plus \
`result` or `event`). Business outcomes answer HTTP 200 with their retcode (`\"0\"` = success); framework \
failures (unknown route 404/000-002, wrong method 405/000-001, malformed or oversized body 400/413/000-006, \
oversized headers 431/000-006) answer their HTTP status with the same envelope.\n\nSign-in returns \
`Set-GUID: JSESSIONID=<guid>`; every other interface needs the `Guid` header.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "onlineagent", description = "The agent acting on itself: sign-in, sign-out, states, skills, heartbeat"),
        (name = "agentevent", description = "Long-poll event delivery"),
        (name = "meta", description = "The gateway's own documents"),
        (name = "ops", description = "Operating the gateway: liveness")
    ),
    components(schemas(envelope::Plain))
)]
struct ApiDoc;

/// Registers every route (used for the server and for the document).
fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(scope(BASE_PATH).configure(onlineagent::configure).configure(agentevent::configure))
        .configure(meta::configure)
        .configure(health::configure)
}

/// The OpenAPI document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = register(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    doc
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi().to_pretty_json().expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

/// Shared, immutable per-application data.
#[derive(Clone)]
pub struct AppData {
    pub gateway: web::Data<Gateway>,
    pub body_limits: web::Data<body::BodyLimits>,
    pub header_limit: web::Data<HeaderLimit>,
    pub routes: web::Data<RouteTable>,
    pub openapi: web::Data<meta::OpenApiText>,
}

impl AppData {
    pub fn new(gateway: Gateway, body_limits: body::BodyLimits, header_limit: HeaderLimit) -> AppData {
        let doc = openapi();
        AppData {
            gateway: web::Data::new(gateway),
            body_limits: web::Data::new(body_limits),
            header_limit: web::Data::new(header_limit),
            routes: web::Data::new(RouteTable::from_openapi(&doc)),
            openapi: web::Data::new(meta::OpenApiText(openapi_json())),
        }
    }
}

/// Builds the application for one worker.
pub fn app(
    data: AppData,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let parameter_error = |err: &dyn std::fmt::Display| ApiError::parameter(format!("invalid parameter: {err}")).into();
    let (app, _) = register(
        App::new()
            .into_utoipa_app()
            .app_data(data.gateway)
            .app_data(data.body_limits)
            .app_data(data.routes.clone())
            .app_data(data.openapi)
            .app_data(web::QueryConfig::default().error_handler(move |e, _| parameter_error(&e)))
            .app_data(web::PathConfig::default().error_handler(move |e, _| parameter_error(&e))),
    )
    .default_service(web::to(routes::unknown_route))
    .split_for_parts();
    app.wrap(actix_web::middleware::ErrorHandlers::new().default_handler(middleware::envelope_for_framework_errors))
        .wrap(actix_web::middleware::from_fn(middleware::call_log))
        .app_data(data.header_limit)
}
