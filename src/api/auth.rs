//! Authentication as extractors: a handler that takes [`SignedIn`] only
//! runs for a live session's Guid on its own agent id; [`Poller`] also
//! admits an ended session's Guid, for the final poll. A command's
//! [`Origin`] (its request id and the client's address) is an extractor
//! too, for the audit records the domain writes.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use crate::domain::audit::{Origin, RequestId};
use crate::domain::ids::WorkNo;
use crate::domain::{Caller, Gateway, Purpose};
use crate::retcode::Retcode;

/// A caller whose Guid belongs to a live session of `{agentid}`.
pub struct SignedIn(pub Caller);

/// A caller whose Guid belongs to a live or just-ended session of `{agentid}`.
pub struct Poller(pub Caller);

/// A caller signing its own session out: as [`SignedIn`], but the Guid of
/// a session that has already ended gets 100-008 rather than 100-006.
pub struct SigningOut(pub Caller);

/// The agent `{agentid}` itself, or an inspector acting on it with its own
/// Guid; `.1` is the agent acted on.
pub struct Operator(pub Caller, pub WorkNo);

/// Marks a request that was refused with no principal behind it (a Guid
/// refused, a sign-in refused, no such interface): the call log counts it
/// for the security log instead of the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Refused;

/// Marks `req` as [`Refused`].
pub fn mark_refused(req: &HttpRequest) {
    req.extensions_mut().insert(Refused);
}

/// The request's origin: a new request id (also sent back as
/// `X-Request-Id`) and the client's address.
pub fn origin(req: &HttpRequest) -> Origin {
    let request_id = *req.extensions_mut().get_or_insert_with(RequestId::new);
    Origin { request_id, ip: req.peer_addr().map(|a| a.ip()) }
}

impl FromRequest for Origin {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Origin, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(origin(req)))
    }
}

/// Parses the `{agentid}` path segment (101–999999).
pub fn agent_id(req: &HttpRequest) -> Result<WorkNo, ApiError> {
    let text = req.match_info().get("agentid").unwrap_or_default();
    WorkNo::parse(text).ok_or_else(|| ApiError::parameter("agentid must be a work number from 101 to 999999"))
}

fn credentials(req: &HttpRequest) -> Result<(web::Data<Gateway>, WorkNo, String), ApiError> {
    let gateway = req
        .app_data::<web::Data<Gateway>>()
        .cloned()
        .ok_or_else(|| ApiError::business(Retcode::Internal, "gateway not configured"))?;
    let work_no = agent_id(req)?;
    let guid = req.headers().get("guid").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default().to_owned();
    Ok((gateway, work_no, guid))
}

type Authenticating<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

#[derive(Clone, Copy)]
enum Admit {
    As(Purpose),
    Operator,
}

fn authenticate(req: &HttpRequest, admit: Admit) -> Authenticating<Caller> {
    let parsed = credentials(req);
    let req = req.clone();
    Box::pin(async move {
        let (gateway, work_no, guid) = parsed.inspect_err(|_| mark_refused(&req))?;
        let caller = match admit {
            Admit::As(purpose) => gateway.authenticate(work_no, &guid, purpose).await,
            Admit::Operator => gateway.authenticate_operator(work_no, &guid).await,
        };
        if caller.is_err() {
            mark_refused(&req);
        }
        Ok(caller?)
    })
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Authenticating<SignedIn>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req, Admit::As(Purpose::Command));
        Box::pin(async move { caller.await.map(SignedIn) })
    }
}

impl FromRequest for Poller {
    type Error = ApiError;
    type Future = Authenticating<Poller>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req, Admit::As(Purpose::Poll));
        Box::pin(async move { caller.await.map(Poller) })
    }
}

impl FromRequest for SigningOut {
    type Error = ApiError;
    type Future = Authenticating<SigningOut>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req, Admit::As(Purpose::SignOut));
        Box::pin(async move { caller.await.map(SigningOut) })
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Authenticating<Operator>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req, Admit::Operator);
        let target = agent_id(req);
        Box::pin(async move { Ok(Operator(caller.await?, target?)) })
    }
}
