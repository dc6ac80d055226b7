//! What the audit trail records about each request: every command (any
//! method but GET, and not the heartbeat), successful or not, with who
//! acted, on whom, the reason and the outcome. Written before the answer
//! leaves, by the call-log middleware.

use std::fmt::Display;
use std::net::IpAddr;

use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest};

use super::auth::Acting;
use super::qualitycontrol::BulkOutcomes;
use crate::audit::{ActorRef, EntryRef, Shown, Written};
use crate::domain::ids::{parse_decimal, WorkNo};
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
    method != Method::GET && !matches!(operation, "handShake" | "heartBeat" | "unknown")
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

/// Writes the records for one answered request: one, or one per agent of
/// a bulk action. Resolves once they are written.
pub async fn record<B>(response: &ServiceResponse<B>, operation: &str, retcode: Retcode, request_id: &str) {
    let req = response.request();
    let Some(gateway) = req.app_data::<web::Data<Gateway>>() else { return };
    for written in submit(req, gateway, operation, retcode, request_id) {
        if let Err(e) = written.wait().await {
            log::error!("{e}");
        }
    }
}

/// Serialises the request's records into the audit batch while its parts
/// can be borrowed; the caller awaits them after.
fn submit(req: &HttpRequest, gateway: &Gateway, operation: &str, retcode: Retcode, request_id: &str) -> Vec<Written> {
    let who = who(req, operation);
    let target = target(req);
    let reason = |reason: Option<(Category, u16)>| reason.map(|(category, code)| gateway.audit_reason(category, code));
    let one = EntryRef {
        actor: ActorRef { work_no: Shown(&who.work_no), role: who.role, ip: Shown(&who.ip) },
        target: Shown(&target),
        action: operation,
        reason: reason(reason_of(req, operation)),
        retcode: retcode.code(),
        request_id,
    };
    match req.extensions().get::<BulkOutcomes>() {
        Some(bulk) => (bulk.outcomes.iter())
            .map(|(t, code)| {
                let each = EntryRef { target: Shown(t), reason: reason(bulk.reason), retcode: code.code(), ..one };
                gateway.audit().submit(&each)
            })
            .collect(),
        None => vec![gateway.audit().submit(&one)],
    }
}

/// Who acted, as a record names them.
struct Who<'r> {
    work_no: Party<'r>,
    role: &'static str,
    ip: Address,
}

/// The authenticated caller; for a refused sign-in, the work number it
/// claimed; otherwise nobody (a failed Guid check names no one).
fn who<'r>(req: &'r HttpRequest, operation: &str) -> Who<'r> {
    let ip = Address(req.peer_addr().map(|a| a.ip()));
    match req.extensions().get::<Acting>() {
        Some(acting) => Who { work_no: Party::Caller(acting.work_no), role: acting.role.as_str(), ip },
        None => Who { work_no: Party::Claimed(claimed(req, operation)), role: "unauthenticated", ip },
    }
}

enum Party<'r> {
    Caller(WorkNo),
    Claimed(&'r str),
}

impl Display for Party<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Party::Caller(work_no) => work_no.fmt(f),
            Party::Claimed(text) => f.write_str(text),
        }
    }
}

/// The client's address, or nothing.
struct Address(Option<IpAddr>);

impl Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.map_or(Ok(()), |ip| ip.fmt(f))
    }
}

/// The work number a sign-in claimed, when it is a plain number.
fn claimed<'r>(req: &'r HttpRequest, operation: &str) -> &'r str {
    matches!(operation, "login" | "forceLogin" | "loginEx")
        .then(|| req.match_info().get("agentid"))
        .flatten()
        .filter(|a| parse_decimal(a, 12).is_some())
        .unwrap_or("")
}

/// The agent acted on: client text, so recorded only as a plain number.
fn target(req: &HttpRequest) -> &str {
    let target = req.match_info().get("workNo").or_else(|| req.match_info().get("agentid")).unwrap_or("");
    if target.is_empty() || parse_decimal(target, 12).is_some() {
        target
    } else {
        "invalid"
    }
}
