//! What the audit trail records about each request: every command (any
//! method but GET, and not the heartbeat), successful or not, with who
//! acted, on whom, the reason and the outcome. Written before the answer
//! leaves, by the call-log middleware.

use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest};

use super::auth::Acting;
use super::qualitycontrol::BulkOutcomes;
use crate::audit::{Actor, Entry};
use crate::domain::params::{BusyReason, RestCause, SignOutReason};
use crate::domain::reasons::Category;
use crate::domain::Gateway;
use crate::retcode::Retcode;

/// A request's id: in the audit record and the `X-Request-Id` header.
/// Kept as 16 bytes and written out only where it is used.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(uuid::Uuid);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4())
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.simple().fmt(f)
    }
}

/// Commands are audited; reads and the heartbeat are not.
pub fn is_audited(method: &Method, operation: &str) -> bool {
    method != Method::GET && operation != "handShake" && operation != "unknown"
}

/// A path segment, parsed by the domain's own parser for that parameter;
/// a value the command refused names no reason.
fn segment<T>(req: &HttpRequest, name: &str, parse: impl FnOnce(&str) -> Option<T>) -> Option<T> {
    req.match_info().get(name).and_then(parse)
}

/// The reason a command carried, by operation.
fn reason_of(req: &HttpRequest, operation: &str) -> Option<(Category, u16)> {
    let rest = |text: &str| RestCause::parse(text).map(|c| (Category::Rest, u16::from(c.code())));
    match operation {
        "forceLogoutWithReason" => {
            segment(req, "reason", SignOutReason::parse_client).map(|r| (Category::Signout, r.code()))
        }
        "logout" | "forceLogout" => Some((Category::Signout, SignOutReason::NORMAL.code())),
        "forceLogOutAgent" => Some((Category::Signout, SignOutReason::BY_INSPECTOR.code())),
        "forceBusy" => Some((Category::Busy, BusyReason::BY_INSPECTOR.code())),
        "forceRest" => segment(req, "reason", rest),
        "rest" => segment(req, "restcause", rest),
        "sayBusy" => {
            let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok()?;
            let reason = BusyReason::parse_client(query.get("reason").map_or("", String::as_str))?;
            Some((Category::Busy, reason.code()))
        }
        _ => None,
    }
}

/// The authenticated caller; for a refused sign-in, the work number it
/// claimed; otherwise nobody (a failed Guid check names no one).
fn actor(req: &HttpRequest, operation: &str) -> Actor {
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    match req.extensions().get::<Acting>() {
        Some(acting) => {
            Actor { work_no: acting.work_no.to_string(), role: format!("{:?}", acting.role).to_lowercase(), ip }
        }
        None => {
            let claimed = matches!(operation, "login" | "forceLogin")
                .then(|| req.match_info().get("agentid"))
                .flatten()
                .filter(|a| a.len() <= 12 && a.bytes().all(|b| b.is_ascii_digit()));
            Actor { work_no: claimed.unwrap_or("").into(), role: "unauthenticated".into(), ip }
        }
    }
}

/// The records for one answered request.
pub fn entries<B>(response: &ServiceResponse<B>, operation: &str, retcode: Retcode, request_id: &str) -> Vec<Entry> {
    let req = response.request();
    let Some(gateway) = req.app_data::<web::Data<Gateway>>() else { return Vec::new() };
    let actor = actor(req, operation);
    let entry = |target: String, reason: Option<(Category, u16)>, code: Retcode| Entry {
        actor: actor.clone(),
        target,
        action: operation.to_owned(),
        reason: reason.map(|(category, code)| gateway.audit_reason(category, code)),
        retcode: code.code().to_owned(),
        request_id: request_id.to_owned(),
    };
    if let Some(bulk) = req.extensions().get::<BulkOutcomes>() {
        return bulk.outcomes.iter().map(|(target, code)| entry(target.clone(), bulk.reason, *code)).collect();
    }
    let target = req.match_info().get("workNo").or_else(|| req.match_info().get("agentid")).unwrap_or("");
    let target = if target.bytes().all(|b| b.is_ascii_digit()) && target.len() <= 12 { target } else { "invalid" };
    vec![entry(target.to_owned(), reason_of(req, operation), retcode)]
}
