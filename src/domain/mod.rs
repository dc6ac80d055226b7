//! The gateway's domain core. Nothing in here knows about HTTP or actix:
//! it speaks work numbers, Guids, states, events and retcodes (which are
//! part of the Huawei contract, not of the transport).

pub mod audit;
pub mod directory;
pub mod events;
mod gateway;
pub mod ids;
pub mod params;
pub mod reasons;
pub mod requests;
pub mod session;
pub mod state;
pub mod store;

use std::borrow::Cow;

pub use gateway::{
    agent_list, AgentInfo, BulkAction, BulkResult, Caller, Gateway, GatewayConfig, GroupAgentInfo, GroupInfo,
    Heartbeat, Initiator, LockoutPolicy, NewSession, PollAnswer, Purpose, Selector, SignOutCause, SkillAgents,
    SkillQueryFilter, SkillStats, StatusView,
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

impl From<store::StoreError> for Failure {
    fn from(err: store::StoreError) -> Failure {
        log::error!("{err}");
        Failure::of(Retcode::Internal)
    }
}
