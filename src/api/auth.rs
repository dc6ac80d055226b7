//! Authentication as extractors: a handler that takes [`SignedIn`] only
//! runs for a live session's Guid on its own agent id; [`Poller`] also
//! admits an ended session's Guid, for the final poll.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::error::ApiError;
use crate::domain::ids::WorkNo;
use crate::domain::{Caller, Gateway};
use crate::retcode::Retcode;

/// A caller whose Guid belongs to a live session of `{agentid}`.
pub struct SignedIn(pub Caller);

/// A caller whose Guid belongs to a live or just-ended session of `{agentid}`.
pub struct Poller(pub Caller);

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

fn authenticate(req: &HttpRequest, allow_ended: bool) -> Authenticating<Caller> {
    let parsed = credentials(req);
    Box::pin(async move {
        let (gateway, work_no, guid) = parsed?;
        Ok(gateway.authenticate(work_no, &guid, allow_ended).await?)
    })
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Authenticating<SignedIn>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req, false);
        Box::pin(async move { caller.await.map(SignedIn) })
    }
}

impl FromRequest for Poller {
    type Error = ApiError;
    type Future = Authenticating<Poller>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req, true);
        Box::pin(async move { caller.await.map(Poller) })
    }
}
