//! Notes and bulletins to other agents.

use actix_web::{post, web};

use crate::api::auth::SignedIn;
use crate::api::bodies::{bulletin_request, note_request};
use crate::api::body::JsonBody;
use crate::api::envelope::{success, Envelope};
use crate::api::error::ApiResult;
use crate::api::params::{AgentPath, GuidHeader};
use crate::domain::audit::Origin;
use crate::domain::{BulkResult, Gateway};

/// The `sendnoteletex` body (reference §2.1 row 24).
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"agentIds": ["102", "103"], "content": "Meeting at 3 pm"}))]
#[allow(non_snake_case, dead_code)]
pub struct NoteBody {
    /// Receiving work numbers, 1–100, as numbers or strings.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 100)]
    agentIds: Vec<String>,
    /// The note, 0–1023 bytes of UTF-8 text (Chinese included).
    content: String,
}

/// Send a note
///
/// Queues `AgentOther_Note` for each receiver that is signed in (in the
/// sender's VDN). Its `content` carries the note as Huawei's C# sample reads
/// it: `sender`, `sendername`, `receivetime` (epoch ms), `timestring` and
/// `context` (the text). `result` has each receiver's outcome; a receiver
/// that is not signed in is reported with 100-006, not dropped. A body that
/// is not `{agentIds: [1-100 work numbers], content: 0-1023 bytes}` gets 000-006.
#[utoipa::path(operation_id = "sendNoteletEx", tag = "onlineagent", params(AgentPath, GuidHeader),
    request_body = NoteBody, responses((status = 200, description = "Outcome per receiver", body = Envelope<Vec<BulkResult>>)))]
#[post("/sendnoteletex")]
pub(super) async fn send_notelet_ex(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    body: JsonBody,
) -> ApiResult {
    let note = note_request(&body.0)?;
    let result = gateway.send_note(&agent.0, &origin, note).await?;
    Ok(success(&Envelope::ok("success", result), None))
}

/// The `notifybulletin` body.
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"targettype": 0, "targetname": "Team 1", "bulletindata": "Shift ends at 6 pm"}))]
#[allow(dead_code)]
pub struct BulletinBody {
    /// 0: a team (agent group); 1: a skill queue. A number or a string.
    #[schema(minimum = 0, maximum = 1)]
    targettype: u8,
    /// The team's or skill queue's name (or its number), 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    targetname: String,
    /// The bulletin, 0–900 characters.
    #[schema(max_length = 900)]
    bulletindata: String,
}

/// `notifybulletin` result.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BulletinResult {
    /// How many signed-in members got the bulletin.
    pub receivers: usize,
}

/// Publish a bulletin
///
/// Queues `AgentOther_Bulletin` for every signed-in member, other than the
/// sender, of a team (`targettype` 0, by its name or number) or a skill
/// queue (1; the agents signed in to it now) in the sender's VDN. Its
/// `content` is as a note's (`sender`, `sendername`, `receivetime`,
/// `timestring`, `context`) plus `targettype` and `targetname`. A body out
/// of range, or a name that matches no team or queue, gets 000-006.
#[utoipa::path(operation_id = "notifyBulletin", tag = "onlineagent", params(AgentPath, GuidHeader),
    request_body = BulletinBody, responses((status = 200, description = "Published", body = Envelope<BulletinResult>)))]
#[post("/notifybulletin")]
pub(super) async fn notify_bulletin(
    gateway: web::Data<Gateway>,
    agent: SignedIn,
    origin: Origin,
    body: JsonBody,
) -> ApiResult {
    let bulletin = bulletin_request(&body.0)?;
    let receivers = gateway.notify_bulletin(&agent.0, &origin, bulletin).await?;
    let result = BulletinResult { receivers };
    Ok(success(&Envelope::ok("success", result), None))
}
