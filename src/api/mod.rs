//! The HTTP layer: one module per resource group, each registering its
//! routes through utoipa-actix-web so that one declaration per route feeds
//! both the router and the OpenAPI document.

pub mod agentevent;
pub mod agentgroup;
pub mod auth;
pub mod bodies;
pub mod body;
pub mod envelope;
pub mod error;
mod meta;
mod middleware;
pub mod onlineagent;
mod ops;
pub mod params;
pub mod qualitycontrol;
mod routes;
pub mod status;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, AppExt};

pub use middleware::HeaderLimit;
pub use routes::RouteTable;
pub use status::StatusPolicy;

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
`result` or `event`). Every answer under `/agentgateway/resource/` is HTTP 200 with its retcode (`\"0\"` = \
success), refusals of the HTTP layer included: unknown interface 000-002, wrong method 000-001 (with `Allow`), \
malformed, oversized, mistyped or slow body and oversized headers 000-006. With `--rest-statuses` those refusals \
keep their REST status (404, 405, 400, 413, 415, 408, 431, 5xx) and the same envelope.\n\nSign-in returns \
`Set-GUID: JSESSIONID=<guid>`; every other interface needs the `Guid` header (the `Guid` security scheme: on \
this page, enter it with Authorize).\n\nOutside the Huawei \
path space: `/healthz` and `/readyz` (probes), `/metrics` (Prometheus, on the metrics listener only), \
`/openapi.json` (this document) and `/docs/` (this document as a page; `/docs` redirects there).",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "onlineagent", description = "The agent acting on itself: sign-in, sign-out, states, skills, heartbeat"),
        (name = "agentevent", description = "Long-poll event delivery"),
        (name = "qualitycontrol", description = "Inspectors acting on agents in their scope; bulk actions and the audit trail"),
        (name = "agentgroup", description = "Status queries for inspectors, filtered to their scope"),
        (name = "meta", description = "The gateway's own documents"),
        (name = "ops", description = "Probes and metrics for operators")
    ),
    components(schemas(envelope::Plain))
)]
struct ApiDoc;

/// Registers every route (used for the server and for the document).
fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(
        scope(BASE_PATH)
            .configure(onlineagent::configure)
            .configure(agentevent::configure)
            .configure(qualitycontrol::configure)
            .configure(agentgroup::configure),
    )
    .configure(meta::configure)
    .configure(ops::configure)
}

/// The OpenAPI document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = register(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    document_paths_without_patterns(&mut doc);
    guid_as_security_scheme(&mut doc);
    doc.merge(ops::metrics_doc());
    add_failure_response(&mut doc);
    doc
}

/// The name of the `Guid` security scheme and of its header.
const GUID_SCHEME: &str = "Guid";

/// The `Guid` header, which handlers declare as a parameter
/// ([`params::GuidHeader`]), is documented once as an API-key security
/// scheme instead of a parameter of every operation: the API page then has
/// an Authorize button that remembers the Guid, and a generated client adds
/// it to every call in one place.
fn guid_as_security_scheme(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
    let scheme = ApiKeyValue::with_description(
        GUID_SCHEME,
        "The session's Guid, sent as the `Guid` request header on every interface but sign-in: the value of \
`Set-GUID` after `JSESSIONID=` (sign-in also answers it alone in `Guid`). In dynamic mode (the default) the \
gateway rotates it: a poll or heartbeat answer may carry a new `Set-GUID`, and the client must switch to it; \
the previous Guid keeps working for `--guid-timeout-ms` after it was issued. A missing or wrong Guid gets \
000-003 or 100-006.",
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(GUID_SCHEME, SecurityScheme::ApiKey(ApiKey::Header(scheme)));
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            let Some(parameters) = operation.parameters.as_mut() else { continue };
            let before = parameters.len();
            parameters.retain(|p| !(p.name == GUID_SCHEME && p.parameter_in == ParameterIn::Header));
            if parameters.len() < before {
                operation.security = Some(vec![SecurityRequirement::new(GUID_SCHEME, Vec::<String>::new())]);
            }
        }
    }
}

/// Scope prefixes reach the document as registered, `{agentid:[^/]*}`
/// (a segment that may be empty, so that it gets a parameter retcode, not
/// a 404); the document names the parameter only.
fn document_paths_without_patterns(doc: &mut utoipa::openapi::OpenApi) {
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths.into_iter().map(|(path, item)| (routes::openapi_path(&path), item)).collect();
}

/// Any operation can also fail in the HTTP layer with the same envelope
/// (unknown route, wrong method, bad body, oversized headers): documented
/// once as a shared response, and as every operation's `default`.
fn add_failure_response(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let failure = ResponseBuilder::new()
        .description(
            "A refusal of the HTTP layer: unknown route (000-002), wrong method (000-001, with `Allow`), bad body \
or oversized headers (000-006), internal error (100-007). HTTP 200 by default; with `--rest-statuses`, 404, 405, \
400/408/413/415, 431 or 5xx.",
        )
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Plain"))).build())
        .build();
    doc.components.get_or_insert_with(Default::default).responses.insert("Failure".into(), failure.into());
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            operation.responses.responses.entry("default".into()).or_insert(Ref::from_response_name("Failure").into());
        }
    }
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
    pub statuses: web::Data<StatusPolicy>,
    pub routes: web::Data<RouteTable>,
    pub openapi: web::Data<meta::OpenApiText>,
    pub api_page: web::Data<meta::ApiPage>,
    /// The metrics listener's route table.
    pub metrics_routes: web::Data<RouteTable>,
}

impl AppData {
    pub fn new(
        gateway: Gateway,
        body_limits: body::BodyLimits,
        header_limit: HeaderLimit,
        statuses: StatusPolicy,
    ) -> AppData {
        let doc = openapi();
        AppData {
            gateway: web::Data::new(gateway),
            body_limits: web::Data::new(body_limits),
            header_limit: web::Data::new(header_limit),
            statuses: web::Data::new(statuses),
            routes: web::Data::new(RouteTable::from_openapi(&doc)),
            openapi: web::Data::new(meta::OpenApiText(openapi_json())),
            api_page: web::Data::new(meta::ApiPage::default()),
            metrics_routes: web::Data::new(RouteTable::from_openapi(&ops::MetricsListenerDoc::openapi())),
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
            .app_data(data.api_page)
            .app_data(web::QueryConfig::default().error_handler(move |e, _| parameter_error(&e)))
            .app_data(web::PathConfig::default().error_handler(move |e, _| parameter_error(&e))),
    )
    .default_service(web::to(routes::unknown_route))
    .split_for_parts();
    app.wrap(actix_web::middleware::ErrorHandlers::new().default_handler(middleware::envelope_for_framework_errors))
        .wrap(actix_web::middleware::from_fn(status::apply))
        .wrap(actix_web::middleware::from_fn(middleware::call_log))
        .app_data(data.header_limit)
        .app_data(data.statuses)
}

/// Builds the metrics listener's application: `/metrics` and the probes,
/// in the same envelope, but without the call log (scrapes and probes every
/// few seconds would drown it) and without counting themselves.
pub fn metrics_app(
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
    App::new()
        .app_data(data.gateway)
        .app_data(data.metrics_routes)
        .configure(ops::configure_metrics_listener)
        .default_service(web::to(routes::unknown_route))
        .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(middleware::envelope_for_framework_errors))
}
