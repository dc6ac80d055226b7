//! The gateway's domain core. Nothing in here knows about HTTP or actix:
//! it speaks work numbers, Guids, states, events and retcodes (which are
//! part of the Huawei contract, not of the transport).

pub mod directory;
pub mod events;
mod gateway;
pub mod ids;
pub mod messages;
pub mod params;
pub mod reasons;
pub mod session;
pub mod signin;
pub mod state;

use std::borrow::Cow;

pub use gateway::{
    agent_list, AgentInfo, BulkAction, BulkResult, Caller, Ending, Forced, Gateway, GatewayConfig, GroupAgentInfo,
    GroupInfo, Heartbeat, LockoutPolicy, PollAnswer, Purpose, Selector, SignedIn, SkillAgents, SkillQueryFilter,
    SkillStats, StatusView,
};

use crate::retcode::Retcode;

/// A refused command: the retcode to answer and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: Retcode,
    pub detail: Cow<'static, str>,
}

impl Failure {
    pub fn new(code: Retcode, detail: impl Into<Cow<'static, str>>) -> Failure {
        Failure { code, detail: detail.into() }
    }

    /// With the code's default text.
    pub fn of(code: Retcode) -> Failure {
        Failure::new(code, code.text())
    }
}

impl From<crate::audit::AuditError> for Failure {
    fn from(err: crate::audit::AuditError) -> Failure {
        log::error!("{err}");
        Failure::of(Retcode::Internal)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(err: crate::store::StoreError) -> Failure {
        log::error!("{err}");
        Failure::of(Retcode::Internal)
    }
}

/// Epoch milliseconds as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Wall-clock time in epoch milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
