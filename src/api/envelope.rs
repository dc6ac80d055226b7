//! Response bodies: the `{message, retcode, result}` envelope and its kin.

use actix_web::http::header::{HeaderName, HeaderValue, WireSpelling};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::events::Event;
use crate::domain::ids::Guid;
use crate::retcode::Retcode;

/// Carried in response extensions so the call log knows the outcome.
#[derive(Debug, Clone, Copy)]
pub struct Outcome(pub Retcode);

/// The `Set-GUID` response header: `JSESSIONID=<guid>`.
pub const SET_GUID: &str = "Set-GUID";

/// The `Guid` header: on requests the session's Guid; on a sign-in answer
/// the same Guid as `Set-GUID` carries, without `JSESSIONID=`.
pub const GUID: &str = "Guid";

/// Huawei's clients look for `Set-GUID` with a case-sensitive comparison of
/// the header name, so these names go out spelled exactly so (actix-http
/// otherwise writes every header name in lower case).
const EXACT_SPELLINGS: WireSpelling = WireSpelling(&[SET_GUID, GUID]);

/// Serialises `body` as JSON with `status`, tagging the outcome.
pub fn respond<T: Serialize>(status: StatusCode, retcode: Retcode, body: &T) -> HttpResponse {
    let mut response = HttpResponse::build(status).json(body);
    response.extensions_mut().insert(Outcome(retcode));
    response
}

/// Adds a header whose name must reach the client exactly as spelled.
fn insert_exact(response: &mut HttpResponse, name: &'static str, value: &str) {
    // `HeaderName` folds the name to lower case; the spelling restores it on the wire.
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        response.headers_mut().insert(name, value);
        response.extensions_mut().insert(EXACT_SPELLINGS);
    }
}

/// A success answer, optionally handing the client a new Guid in `Set-GUID`.
pub fn success<T: Serialize>(body: &T, set_guid: Option<&Guid>) -> HttpResponse {
    let mut response = respond(StatusCode::OK, Retcode::Success, body);
    if let Some(guid) = set_guid {
        insert_exact(&mut response, SET_GUID, &guid.set_guid_header());
    }
    response
}

/// A successful sign-in: `Set-GUID: JSESSIONID=<guid>`, and `Guid: <guid>`
/// as the 2024-09 sign-in page lists it.
pub fn signed_in<T: Serialize>(body: &T, guid: &Guid) -> HttpResponse {
    let mut response = success(body, Some(guid));
    insert_exact(&mut response, GUID, guid.as_str());
    response
}

/// An envelope without `result`: every error, and forced sign-outs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Plain {
    /// Free text; `success` or what went wrong.
    #[schema(example = "success")]
    pub message: String,
    /// `"0"` on success, otherwise an `NNN-NNN` code saying why not.
    pub retcode: Retcode,
}

impl Plain {
    pub fn success() -> Plain {
        Plain { message: "success".into(), retcode: Retcode::Success }
    }
}

/// The envelope of an answer that carries a result: `{message, retcode,
/// result}`. `result` is present when `retcode` is `"0"`; a refusal is a
/// [`Plain`] envelope without it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Free text: `success`, `""` where Huawei sends nothing, or what went wrong.
    pub message: String,
    pub retcode: Retcode,
    /// Present when `retcode` is `"0"`.
    #[schema(required = false)]
    pub result: T,
}

impl<T> Envelope<T> {
    /// A success with `message` (`success`, or `""` where Huawei sends that).
    pub fn ok(message: &str, result: T) -> Envelope<T> {
        Envelope { message: message.to_owned(), retcode: Retcode::Success, result }
    }
}

/// The empty, reserved `result` object.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Reserved {}

/// The envelope of a command whose `result` is reserved (`{}`).
pub type CommandResponse = Envelope<Reserved>;

impl CommandResponse {
    pub fn success() -> CommandResponse {
        Envelope::ok("success", Reserved {})
    }
}

/// Sign-in result (reference §3.3). Values are strings, as Huawei sends them.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// VDN (virtual call centre) id.
    #[serde(rename = "vdnid")]
    pub vdn_id: u32,
    /// The agent's work number.
    #[serde(rename = "workno")]
    pub work_no: String,
    /// One T/F per server: CTI, WebM, MailM.
    #[serde(rename = "mediatype")]
    #[schema(example = "TTF")]
    pub media_type: String,
    /// Sign-in time, epoch milliseconds.
    #[schema(example = "1471585949806")]
    pub login_time: String,
    /// `"true"` when the password must be changed first.
    pub is_force_change: String,
    /// Cluster name of the gateway.
    pub server_name: String,
    /// Days until the password expires; `""` for never.
    pub time_remaining: String,
}

/// `agentstatus` result.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    /// 2 signed out, 3 busy, 4 idle, 5 wrap-up, 7 talking, 8 rest (reference §6.1).
    #[schema(example = 4)]
    pub agent_state: u8,
    /// True while the agent is in a call.
    pub is_working: bool,
}

/// Poll answer: one event, or none when none arrived in time.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub message: String,
    pub retcode: Retcode,
    /// The event. Absent when none arrived within the poll wait: that answer
    /// is exactly `{"message":"","retcode":"0"}`, the only "no event" body
    /// Huawei's C# sample accepts. Absent as well when `retcode` is not `"0"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub event: Option<Event>,
}
