//! The route table, derived from the OpenAPI document: Huawei log names by
//! route pattern, and the 404-versus-405 decision for unmatched requests.

use std::collections::HashMap;

use actix_router::ResourceDef;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use crate::retcode::Retcode;

struct Route {
    def: ResourceDef,
    method: Method,
}

/// Every documented route.
pub struct RouteTable {
    routes: Vec<Route>,
    /// Operation ids by pattern, then method: looked up by a borrowed
    /// pattern on every request, without building a key.
    names: HashMap<String, Vec<(Method, &'static str)>>,
}

/// What follows a path parameter's name where handlers and scopes register
/// it: any segment, even an empty one, so that an empty segment still
/// reaches the handler and gets its parameter retcode instead of a 404.
const ANY_SEGMENT: &str = ":[^/]*";

/// `{name}` becomes `{name:[^/]*}`, the form our handlers register.
fn actix_pattern(openapi_path: &str) -> String {
    openapi_path.replace('}', &format!("{ANY_SEGMENT}}}"))
}

/// `{name:[^/]*}` becomes `{name}`, the form the API document uses.
pub fn openapi_path(actix_pattern: &str) -> String {
    actix_pattern.replace(&format!("{ANY_SEGMENT}}}"), "}")
}

impl RouteTable {
    /// The routes of `doc`, but for path items that name their own servers:
    /// another listener serves those.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> RouteTable {
        let mut routes = Vec::new();
        let mut names = HashMap::new();
        for (path, item) in doc.paths.paths.iter().filter(|(_, item)| item.servers.is_none()) {
            let pattern = actix_pattern(path);
            let operations = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let name = operation.operation_id.clone().unwrap_or_else(|| path.clone());
                let name: &'static str = Box::leak(name.into_boxed_str());
                names.entry(pattern.clone()).or_insert_with(Vec::new).push((method.clone(), name));
                routes.push(Route { def: ResourceDef::new(pattern.as_str()), method });
            }
        }
        RouteTable { routes, names }
    }

    /// The Huawei method name (the OpenAPI operation id) of a matched route.
    pub fn name(&self, method: &Method, pattern: &str) -> Option<&'static str> {
        self.names.get(pattern)?.iter().find(|(m, _)| m == method).map(|(_, name)| *name)
    }

    /// Methods served at `path`.
    fn allowed(&self, path: &str) -> Vec<Method> {
        self.routes.iter().filter(|r| r.def.is_match(path)).map(|r| r.method.clone()).collect()
    }
}

/// Answers requests no route took: 405 when the path exists with other
/// methods, 404 otherwise; both in the envelope.
pub async fn unknown_route(req: HttpRequest, table: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    super::auth::mark_refused(&req);
    let allowed = table.allowed(req.path());
    if allowed.is_empty() {
        return Err(ApiError::http(
            StatusCode::NOT_FOUND,
            Retcode::BadParameter,
            format!("no interface at {}", req.path()),
        ));
    }
    let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
    let error = ApiError::http(
        StatusCode::METHOD_NOT_ALLOWED,
        Retcode::WrongMethod,
        format!("{} is not supported here; use {}", req.method(), list.join(", ")),
    );
    let mut response = actix_web::ResponseError::error_response(&error);
    if let Ok(value) = header::HeaderValue::from_str(&list.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(response)
}
