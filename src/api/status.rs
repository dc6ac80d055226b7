//! The HTTP status of envelope answers in the Huawei path space.
//!
//! Huawei's Java sample reads the body of an answer only when its HTTP
//! status is 200; any other status becomes a null result without a
//! retcode. So by default every answer under `/agentgateway/resource/` that
//! carries the envelope, the HTTP layer's refusals included, is HTTP 200
//! and its retcode says why. `--rest-statuses` keeps the REST statuses
//! (404, 405, 400, 408, 413, 415, 431, 5xx) for clients that want them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;

use super::envelope::Outcome;
use super::BASE_PATH;

/// Which statuses envelope answers in the Huawei path space get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusPolicy {
    /// Keep the HTTP layer's REST statuses instead of answering 200.
    pub rest: bool,
}

impl StatusPolicy {
    /// The status an envelope answer to `path` goes out with.
    pub fn status_for(&self, path: &str, status: StatusCode) -> StatusCode {
        if self.rest || !in_huawei_space(path) {
            status
        } else {
            StatusCode::OK
        }
    }
}

/// `/agentgateway/resource` and everything below it.
fn in_huawei_space(path: &str) -> bool {
    path.strip_prefix(BASE_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Applies the policy to every envelope answer (one with an [`Outcome`]).
/// Headers, `Allow` included, are kept.
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = req.app_data::<web::Data<StatusPolicy>>().map_or(StatusPolicy { rest: false }, |p| *p.get_ref());
    let mut response = next.call(req).await?;
    let status = response.status();
    if status != StatusCode::OK && response.response().extensions().get::<Outcome>().is_some() {
        *response.response_mut().status_mut() = policy.status_for(response.request().path(), status);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_huawei_path_space_is_kept_at_200() {
        let huawei = StatusPolicy { rest: false };
        let not_found = StatusCode::NOT_FOUND;
        for path in ["/agentgateway/resource", "/agentgateway/resource/", "/agentgateway/resource/onlineagent/1"] {
            assert_eq!(huawei.status_for(path, not_found), StatusCode::OK, "{path}");
        }
        for path in ["/docs/x.js", "/agentgateway/resourcex", "/agentgateway", "/metrics"] {
            assert_eq!(huawei.status_for(path, not_found), not_found, "{path}");
        }
        let rest = StatusPolicy { rest: true };
        assert_eq!(rest.status_for("/agentgateway/resource/x", not_found), not_found);
    }
}
