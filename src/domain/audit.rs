//! The audit port: what the domain records about the commands it runs, and
//! the trail it records them in.
//!
//! The domain decides what is audited, here, in one place: every
//! [`Action`] is an operation that changes an agent (or the gateway's own
//! acts: sign-outs of silent agents, displaced sessions, locked work
//! numbers). Reads, polls and the heartbeat are not actions. An action's
//! record is in the trail *before* the action takes effect (see
//! `gateway/audited.rs`); [`Action::goes_ahead_unrecorded`] names the few that
//! still go ahead when the trail cannot be written, with their record kept
//! in the trail's fallback. `crate::audit` implements [`AuditTrail`].

use std::future::Future;
use std::net::IpAddr;
use std::ops::Range;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::directory::Role;
use super::ids::WorkNo;
use super::params::{BusyReason, SignOutReason};
use super::reasons::Category;
use super::requests::SignInKind;
use super::state::{Command, Forced};
use crate::retcode::Retcode;

/// A request's id: in its audit records and its `X-Request-Id` header.
/// Kept as 16 bytes and written out only where it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(uuid::Uuid);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4())
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.simple().fmt(f)
    }
}

/// Where a command came from: its request id and the client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub request_id: RequestId,
    pub ip: Option<IpAddr>,
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An authenticated agent or inspector (a sign-in: once its password was right).
    Caller { work_no: WorkNo, role: Role },
    /// A sign-in whose password was wrong: the work number it claimed.
    Claimed(WorkNo),
    /// The gateway itself.
    System,
}

impl Actor {
    /// The record's `actor.role`.
    pub fn role(self) -> &'static str {
        match self {
            Actor::Caller { role, .. } => role.as_str(),
            Actor::Claimed(_) => "unauthenticated",
            Actor::System => "system",
        }
    }

    /// The record's `actor.workNo`: a work number, or `None` for the system.
    pub fn work_no(self) -> Option<WorkNo> {
        match self {
            Actor::Caller { work_no, .. } | Actor::Claimed(work_no) => Some(work_no),
            Actor::System => None,
        }
    }
}

/// An audited operation, with its typed parameters. One variant per
/// operation; [`Action::name`] is the Huawei method name it is recorded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `login`, `forceLogin` or `loginEx`.
    SignIn(SignInKind),
    /// `logout`: the agent signs itself out (reason 258).
    Logout,
    /// `forceLogout`: the agent signs itself out from any state (258).
    ForceLogout,
    /// `forceLogoutWithReason`: by the agent itself or by an inspector.
    ForceLogoutWithReason(SignOutReason),
    /// A state command of the agent's own.
    State(Command),
    /// `setAgentAutoEnterIdle`.
    AutoEnterIdle { on: bool },
    /// `setAgentAutoAnswer`.
    AutoAnswer { on: bool },
    /// `setTalkRight`.
    TalkRight { on: bool },
    /// `setCustomState`, 0–65534.
    CustomState(u16),
    /// `sendNoteletEx`: a note to other agents (target: the sender).
    SendNote,
    /// `notifyBulletin`: a bulletin to a team or skill queue (target: the sender).
    NotifyBulletin,
    /// `resetSkill`.
    ResetSkill,
    /// `forceLogOutAgent`: an inspector signs an agent out (reason 257).
    ForceLogOutAgent,
    /// `forceBusy`, `forceIdle`, `forceRest`.
    Forced(Forced),
    /// `bulkForceLogout`, one record per agent.
    BulkForceLogout(SignOutReason),
    /// `bulkForceBusy`, one record per agent.
    BulkForceBusy,
    /// The gateway ended a session for a forced sign-in (reason 264).
    Displaced,
    /// The gateway signed a silent agent out (reason 263).
    HeartbeatTimeout,
    /// The gateway locked a work number after wrong passwords (110-016).
    Lockout,
}

impl Action {
    /// The record's `action`: the Huawei method name, or the system act.
    pub fn name(self) -> &'static str {
        match self {
            Action::SignIn(SignInKind::Login) => "login",
            Action::SignIn(SignInKind::ForceLogin) => "forceLogin",
            Action::SignIn(SignInKind::LoginEx) => "loginEx",
            Action::Logout => "logout",
            Action::ForceLogout => "forceLogout",
            Action::ForceLogoutWithReason(_) => "forceLogoutWithReason",
            Action::State(command) => match command {
                Command::SayFree => "sayFree",
                Command::SayBusy { .. } => "sayBusy",
                Command::CancelBusy => "cancelBusy",
                Command::Rest { .. } => "rest",
                Command::CancelRest => "cancelRest",
                Command::Work => "sayWork",
                Command::CancelWork => "cancelWork",
            },
            Action::AutoEnterIdle { .. } => "setAgentAutoEnterIdle",
            Action::AutoAnswer { .. } => "setAgentAutoAnswer",
            Action::TalkRight { .. } => "setTalkRight",
            Action::CustomState(_) => "setCustomState",
            Action::SendNote => "sendNoteletEx",
            Action::NotifyBulletin => "notifyBulletin",
            Action::ResetSkill => "resetSkill",
            Action::ForceLogOutAgent => "forceLogOutAgent",
            Action::Forced(Forced::Busy) => "forceBusy",
            Action::Forced(Forced::Idle) => "forceIdle",
            Action::Forced(Forced::Rest { .. }) => "forceRest",
            Action::BulkForceLogout(_) => "bulkForceLogout",
            Action::BulkForceBusy => "bulkForceBusy",
            Action::Displaced => "displaced",
            Action::HeartbeatTimeout => "heartbeatTimeout",
            Action::Lockout => "lockout",
        }
    }

    /// The reason a sign-out (or the gateway's ending of a session)
    /// carries; `None` for any other action.
    pub fn sign_out_reason(self) -> Option<SignOutReason> {
        match self {
            Action::ForceLogoutWithReason(reason) | Action::BulkForceLogout(reason) => Some(reason),
            Action::Logout | Action::ForceLogout => Some(SignOutReason::NORMAL),
            Action::ForceLogOutAgent => Some(SignOutReason::BY_INSPECTOR),
            Action::Displaced => Some(SignOutReason::DISPLACED),
            Action::HeartbeatTimeout => Some(SignOutReason::HEARTBEAT_TIMEOUT),
            _ => None,
        }
    }

    /// The reason the action carries, as the catalog files it.
    pub fn reason(self) -> Option<(Category, u16)> {
        if let Some(reason) = self.sign_out_reason() {
            return Some((Category::Signout.of(reason.code()), reason.code()));
        }
        let busy = |reason: BusyReason| Some((Category::Busy, reason.code()));
        match self {
            Action::State(Command::SayBusy { reason, .. }) => busy(reason),
            Action::Forced(Forced::Busy) | Action::BulkForceBusy => busy(BusyReason::BY_INSPECTOR),
            Action::State(Command::Rest { cause, .. }) | Action::Forced(Forced::Rest { cause, .. }) => {
                Some((Category::Rest, u16::from(cause.code())))
            }
            _ => None,
        }
    }

    /// Sign-outs and locks go ahead while the trail cannot be written, with
    /// their record in the trail's fallback: refusing them would keep an
    /// agent signed in (or a guessed work number open) because of a full
    /// disk. Every other action is refused (100-007) and changes nothing.
    pub fn goes_ahead_unrecorded(self) -> bool {
        matches!(
            self,
            Action::Logout
                | Action::ForceLogout
                | Action::ForceLogoutWithReason(_)
                | Action::ForceLogOutAgent
                | Action::BulkForceLogout(_)
                | Action::HeartbeatTimeout
                | Action::Lockout
        )
    }
}

/// A reason as a record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'a> {
    pub code: u16,
    pub category: Category,
    pub name: &'a str,
}

/// What the domain asks the trail to record about one action.
#[derive(Debug, Clone, Copy)]
pub struct ActionRecord<'a> {
    pub actor: Actor,
    pub target: WorkNo,
    pub action: Action,
    pub reason: Option<Reason<'a>>,
    pub retcode: Retcode,
    /// The request behind it; `None` for the gateway's own acts.
    pub origin: Option<&'a Origin>,
}

/// The trail could not take a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit trail unavailable: {0}")]
pub struct AuditError(pub String);

/// A submitted batch of records: resolves once they are in the trail, or
/// with the error that kept them out.
pub type Recording = Pin<Box<dyn Future<Output = Result<(), AuditError>> + Send>>;

/// What the trail has done since it opened, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrailStats {
    /// Records written, the hand-overs that brought them to the writer, the
    /// writes that stored them and the `fdatasync`s that forced them to disk.
    pub records: u64,
    pub handoffs: u64,
    pub writes: u64,
    pub syncs: u64,
    /// Records kept in the fallback because the trail could not be written.
    pub fallback: u64,
    /// The chain's head: the last record's number and the first 52 bits
    /// of its hash (exact in a metric's float).
    pub head_seq: u64,
    pub head_hash_prefix: u64,
    pub writable: bool,
}

/// The trail, as the domain uses it.
pub trait AuditTrail: Send + Sync + 'static {
    /// Submits records; they are serialised at once, so they may borrow
    /// from anything. Resolves once every one is in the trail. On an error
    /// none is; those whose action [goes ahead
    /// unrecorded](Action::goes_ahead_unrecorded) are in the fallback then.
    fn record(&self, records: &[ActionRecord<'_>]) -> Recording;

    /// False while the trail cannot be written.
    fn is_writable(&self) -> bool;

    /// The records written in `time` (epoch ms, end excluded) that pass
    /// `keep`, newest first: a page of them and how many passed. Reads the
    /// file: call it where blocking is allowed.
    fn search(
        &self,
        time: Range<u64>,
        keep: &mut dyn FnMut(&Record) -> bool,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Record>, usize), AuditError>;

    fn stats(&self) -> TrailStats;
}

/// Who acted, as a record reads back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Actor)]
pub struct RecordedActor {
    /// Work number, or `system`.
    pub work_no: String,
    /// `agent`, `inspector`, `system`, or `unauthenticated` (a sign-in with a wrong password).
    pub role: String,
    /// Client IP address (empty for the system).
    pub ip: String,
}

/// A reason attached to an action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AuditReason {
    pub code: u16,
    pub category: String,
    pub name: String,
}

/// What a record says, as read back; the trail adds the number, time and chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub actor: RecordedActor,
    /// Work number acted on (empty for a record about the trail itself).
    pub target: String,
    /// The Huawei method name (e.g. `forceLogoutWithReason`) or a system act.
    pub action: String,
    pub reason: Option<AuditReason>,
    /// Outcome retcode (`"0"` = success), as written (one of the table's codes).
    #[schema(value_type = crate::retcode::Retcode)]
    pub retcode: String,
    pub request_id: String,
    /// Set on a record that was kept in the fallback while the trail could
    /// not be written: when it happened (epoch ms). `time` is when it was
    /// written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub happened_ms: Option<u64>,
    /// On a record about the trail itself (a torn record cut off, a trail
    /// restored or set aside): what was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One record as stored: an entry plus its place in the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// 1, 2, 3… with no gaps.
    pub seq: u64,
    /// UTC time the record was written, RFC 3339 with milliseconds; never
    /// earlier than the record before it.
    pub time: String,
    /// Epoch milliseconds of `time`.
    pub time_ms: u64,
    #[serde(flatten)]
    pub entry: Entry,
    /// SHA-256 (hex) of the previous record's line.
    pub prev: String,
    /// SHA-256 (hex) of this record's line without `hash`.
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::params::{RestCause, RestSeconds};

    #[test]
    fn actions_are_recorded_under_their_huawei_names_with_their_reasons() {
        let cause = RestCause::parse("7").unwrap();
        let seconds = RestSeconds::parse("60").unwrap();
        let reason = SignOutReason::parse_client("57").unwrap();
        let cases = [
            (Action::SignIn(SignInKind::ForceLogin), "forceLogin", None),
            (Action::SignIn(SignInKind::LoginEx), "loginEx", None),
            (Action::CustomState(7), "setCustomState", None),
            (Action::Logout, "logout", Some((Category::System, 258))),
            (Action::ForceLogoutWithReason(reason), "forceLogoutWithReason", Some((Category::Signout, 57))),
            (Action::State(Command::Rest { seconds, cause, prolong: None }), "rest", Some((Category::Rest, 7))),
            (Action::Forced(Forced::Busy), "forceBusy", Some((Category::Busy, 3))),
            (Action::HeartbeatTimeout, "heartbeatTimeout", Some((Category::System, 263))),
            (Action::Lockout, "lockout", None),
        ];
        for (action, name, reason) in cases {
            assert_eq!((action.name(), action.reason()), (name, reason), "{action:?}");
        }
    }

    #[test]
    fn only_sign_outs_and_locks_go_ahead_without_their_record() {
        let reason = SignOutReason::parse_client("1").unwrap();
        for action in [Action::Logout, Action::ForceLogOutAgent, Action::BulkForceLogout(reason), Action::Lockout] {
            assert!(action.goes_ahead_unrecorded(), "{action:?}");
        }
        for action in [Action::SignIn(SignInKind::Login), Action::State(Command::SayFree), Action::SendNote] {
            assert!(!action.goes_ahead_unrecorded(), "{action:?}");
        }
    }
}
