//! Sign-in and sign-out: `login`, `forcelogin`, `loginex`, `logout`,
//! `forcelogout`, `forcelogoutwithreason`.

use actix_web::{delete, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::auth::{agent_id, mark_refused, origin, Operator, SigningOut};
use crate::api::bodies::{sign_in_request, SignInBody};
use crate::api::body::JsonBody;
use crate::api::envelope::{signed_in, success, CommandResponse, Envelope, LoginResult, Plain, Reserved};
use crate::api::error::{ApiError, ApiResult};
use crate::api::params::{AgentPath, GuidHeader};
use crate::domain::audit::{Action, Origin};
use crate::domain::params::SignOutReason;
use crate::domain::requests::SignInKind;
use crate::domain::Gateway;
use crate::retcode::Retcode;

/// A sign-in: nobody is authenticated until it succeeds, so a refused
/// one is marked for the security log (those that reached the password
/// check are audit records too, written by the domain).
pub(super) async fn sign_in(
    gateway: &Gateway,
    req: &actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
    kind: SignInKind,
) -> ApiResult {
    let attempt = async {
        let work_no = agent_id(req)?;
        let request = sign_in_request(&body?.0, kind)?;
        let done = gateway.sign_in(work_no, request, &origin(req)).await?;
        Ok::<_, ApiError>((work_no, done))
    };
    let (work_no, done) = attempt.await.inspect_err(|_| mark_refused(req))?;
    let result = LoginResult {
        vdn_id: done.vdn,
        work_no: work_no.to_string(),
        media_type: done.media_type,
        login_time: done.login_time.to_string(),
        is_force_change: "false".into(),
        server_name: gateway.config().server_name.clone(),
        time_remaining: String::new(),
    };
    let body = Envelope { message: String::new(), retcode: Retcode::Success, result };
    Ok(signed_in(&body, &done.guid))
}

/// Sign in
///
/// Signs the agent in with its password and phone number and answers the
/// session's Guid in `Set-GUID`. Queues `AgentOther_InService`,
/// `AgentState_Ready` and, for `status` 3 or 5, `AgentState_SetNotReady_Success`
/// or `AgentState_Work`. An agent already signed in gets 100-002.
#[utoipa::path(
    operation_id = "login", tag = "onlineagent", params(AgentPath), request_body = SignInBody,
    responses((status = 200, description = "Signed in, or a retcode saying why not", body = Envelope<LoginResult>,
        headers(("Set-GUID" = String, description = "`JSESSIONID=<guid>`: send `<guid>` as the `Guid` header"),
            ("Guid" = String, description = "The same `<guid>`, without `JSESSIONID=`"))))
)]
#[put("")]
pub(super) async fn login(
    gateway: web::Data<Gateway>,
    req: actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
) -> ApiResult {
    sign_in(&gateway, &req, body, SignInKind::Login).await
}

/// Sign in forcibly
///
/// As sign-in, but an existing session of the agent is displaced: it is
/// signed out with reason 264, its Guid stops working at once (but for the
/// final poll, which receives `AgentOther_ShutdownService`).
#[utoipa::path(
    operation_id = "forceLogin", tag = "onlineagent", params(AgentPath), request_body = SignInBody,
    responses((status = 200, description = "Signed in", body = Envelope<LoginResult>,
        headers(("Set-GUID" = String, description = "`JSESSIONID=<guid>`"),
            ("Guid" = String, description = "The same `<guid>`, without `JSESSIONID=`"))))
)]
#[put("/forcelogin")]
pub(super) async fn force_login(
    gateway: web::Data<Gateway>,
    req: actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
) -> ApiResult {
    sign_in(&gateway, &req, body, SignInKind::ForceLogin).await
}

/// Sign in to the platform (voice only)
///
/// Signs the agent in to CCS (voice) only, not to the media servers, so
/// `mediatype` is `TFF`; otherwise as sign-in (same body, same result, same
/// events, 100-002 when already signed in). `phonenum` is optional. The
/// password may be empty or left out only for work numbers whose directory
/// record allows it (`loginex_without_password`); for any other work number
/// an empty password is a wrong password (100-004).
#[utoipa::path(
    operation_id = "loginEx", tag = "onlineagent", params(AgentPath), request_body = SignInBody,
    responses((status = 200, description = "Signed in, or a retcode saying why not", body = Envelope<LoginResult>,
        headers(("Set-GUID" = String, description = "`JSESSIONID=<guid>`: send `<guid>` as the `Guid` header"),
            ("Guid" = String, description = "The same `<guid>`, without `JSESSIONID=`"))))
)]
#[put("/loginex")]
pub(super) async fn login_ex(
    gateway: web::Data<Gateway>,
    req: actix_web::HttpRequest,
    body: Result<JsonBody, ApiError>,
) -> ApiResult {
    sign_in(&gateway, &req, body, SignInKind::LoginEx).await
}

/// Sign out
///
/// Signs the agent out (reason 258). The session's last poll receives
/// `AgentOther_ShutdownService`.
#[utoipa::path(operation_id = "logout", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Signed out", body = Envelope<Reserved>)))]
#[delete("/logout")]
pub(super) async fn logout(gateway: web::Data<Gateway>, agent: SigningOut, origin: Origin) -> ApiResult {
    gateway.sign_out(&agent.0, &origin, Action::Logout).await?;
    Ok(success(&CommandResponse::success(), None))
}

/// Sign out forcibly
///
/// Signs the agent out from any state, releasing what it was doing (reason 258).
#[utoipa::path(operation_id = "forceLogout", tag = "onlineagent", params(AgentPath, GuidHeader),
    responses((status = 200, description = "Signed out", body = Plain)))]
#[delete("/forcelogout")]
pub(super) async fn force_logout(gateway: web::Data<Gateway>, agent: SigningOut, origin: Origin) -> ApiResult {
    gateway.sign_out(&agent.0, &origin, Action::ForceLogout).await?;
    Ok(success(&Plain::success(), None))
}

/// Path of `forcelogoutwithreason`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReasonPath {
    /// Work number, 101–999999.
    #[param(value_type = u32, minimum = 101, maximum = 999999)]
    pub agentid: String,
    /// Sign-out reason code, an integer 1–255. Anything else gets 100-005.
    #[param(value_type = u16, minimum = 1, maximum = 255)]
    pub reason: String,
}

/// Sign out forcibly with a reason
///
/// Signs the agent out from any state and records `reason` (1–255). The
/// final poll receives `AgentOther_ShutdownService` with `content.loginTime`
/// and, additively, `reason`, `reasonName` and `initiator`. The caller is the
/// agent itself, or an inspector (with its own Guid) whose scope covers the
/// agent; an inspector outside its scope gets 900-002.
#[utoipa::path(operation_id = "forceLogoutWithReason", tag = "onlineagent", params(ReasonPath, GuidHeader),
    responses((status = 200, description = "Signed out, or 100-005 for a reason outside 1-255", body = Plain)))]
#[delete("/forcelogoutwithreason/{reason:[^/]*}")]
pub(super) async fn force_logout_with_reason(
    gateway: web::Data<Gateway>,
    caller: Operator,
    origin: Origin,
    path: web::Path<ReasonPath>,
) -> ApiResult {
    let reason = SignOutReason::parse_client(&path.reason)
        .ok_or_else(|| ApiError::business(Retcode::SignOutParameter, "reason must be an integer from 1 to 255"))?;
    let action = Action::ForceLogoutWithReason(reason);
    let Operator(caller, target) = caller;
    if caller.work_no == target {
        gateway.sign_out(&caller, &origin, action).await?;
    } else {
        gateway.force_sign_out(&caller, &origin, target, action).await?;
    }
    Ok(success(&Plain::success(), None))
}
