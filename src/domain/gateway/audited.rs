//! The rule every audited operation follows, so that the trail tells the
//! truth: no effect without its record.
//!
//! 1. [`Gateway::audited`] refuses at once (100-007) while the trail cannot
//!    be written, unless the action goes ahead unrecorded (sign-outs and
//!    locks), then takes the target agent's command lock from the store.
//! 2. The operation decides, from the agent's slot, what it would do or
//!    why it cannot.
//! 3. [`Audited::record`] writes that decision's record (with its retcode)
//!    and waits until it is in the trail. If it cannot be written, the
//!    operation stops there: nothing changed, the answer is 100-007 (an
//!    action that goes ahead unrecorded goes on, its record kept in the
//!    trail's fallback).
//! 4. The operation makes its change, still under the lock, so nothing
//!    another command does can come between what was recorded and what
//!    happens.

use std::sync::Arc;

use super::{Caller, Gateway};
use crate::domain::audit::{Action, ActionRecord, Actor, AuditTrail, Origin, Reason};
use crate::domain::ids::WorkNo;
use crate::domain::store::AgentLock;
use crate::domain::Failure;
use crate::retcode::Retcode;

/// The answer while the trail cannot take a command's record.
pub(super) fn trail_down() -> Failure {
    Failure::new(Retcode::Internal, "the audit trail cannot be written; commands are refused")
}

impl Caller {
    /// The caller as a record names it.
    pub fn actor(&self) -> Actor {
        Actor::Caller { work_no: self.work_no, role: self.role }
    }
}

/// An audited operation under way; the target's command lock is held until
/// it is dropped.
pub(super) struct Audited<'g> {
    gateway: &'g Gateway,
    actor: Actor,
    target: WorkNo,
    action: Action,
    origin: Option<&'g Origin>,
    _lock: AgentLock,
}

impl Gateway {
    /// The trail, for metrics and the audit query.
    pub fn audit(&self) -> &Arc<dyn AuditTrail> {
        &self.0.audit
    }

    /// Begins an audited operation of `actor` on `target`.
    pub(super) async fn audited<'g>(
        &'g self,
        actor: Actor,
        target: WorkNo,
        action: Action,
        origin: Option<&'g Origin>,
    ) -> Result<Audited<'g>, Failure> {
        self.refuse_unrecordable(action)?;
        let lock = self.0.store.lock_agent(target).await?;
        Ok(Audited { gateway: self, actor, target, action, origin, _lock: lock })
    }

    /// 100-007 while the trail cannot be written, unless `action` goes
    /// ahead unrecorded: checked before any work (a sign-in's password
    /// check included).
    pub(super) fn refuse_unrecordable(&self, action: Action) -> Result<(), Failure> {
        if action.goes_ahead_unrecorded() || self.0.audit.is_writable() {
            return Ok(());
        }
        self.0.telemetry.audit_refused();
        Err(trail_down())
    }

    /// A record of `action`, its reason named from the catalog.
    pub(super) fn action_record<'a>(
        &'a self,
        actor: Actor,
        target: WorkNo,
        action: Action,
        retcode: Retcode,
        origin: Option<&'a Origin>,
    ) -> ActionRecord<'a> {
        let reason = action.reason().map(|(category, code)| {
            let category = category.of(code);
            let name = self.directory().catalog().name(category, code).unwrap_or_default();
            Reason { code, category, name }
        });
        ActionRecord { actor, target, action, reason, retcode, origin }
    }

    /// Writes `records` about `action` and waits for them. Fails (100-007)
    /// when they are not in the trail, unless `action` goes ahead
    /// unrecorded: the trail has kept them in its fallback then.
    pub(super) async fn write_records(&self, records: &[ActionRecord<'_>], action: Action) -> Result<(), Failure> {
        match self.0.audit.record(records).await {
            Ok(()) => Ok(()),
            Err(_) if action.goes_ahead_unrecorded() => Ok(()),
            Err(e) => {
                log::error!("{e}; {} refused", action.name());
                self.0.telemetry.audit_refused();
                Err(trail_down())
            }
        }
    }

    /// Records a refusal that needed no look at any agent (a bulk action
    /// refused as a whole) and returns it.
    pub(super) async fn refused(
        &self,
        actor: Actor,
        target: WorkNo,
        action: Action,
        origin: &Origin,
        refusal: Failure,
    ) -> Failure {
        let record = self.action_record(actor, target, action, refusal.code, Some(origin));
        match self.write_records(&[record], action).await {
            Ok(()) => refusal,
            Err(failure) => failure,
        }
    }
}

impl Audited<'_> {
    /// Writes the record of what the operation decided; passes the
    /// decision on once the record is in the trail.
    pub async fn record<P>(&self, decided: Result<P, Failure>) -> Result<P, Failure> {
        self.record_with(None, decided).await
    }

    /// The same, preceded by the record of an act of the gateway's own that
    /// the operation brings about (a forced sign-in displacing a session).
    pub async fn record_with<P>(&self, first: Option<Action>, decided: Result<P, Failure>) -> Result<P, Failure> {
        let retcode = decided.as_ref().map_or_else(|f| f.code, |_| Retcode::Success);
        let gateway = self.gateway;
        let own = gateway.action_record(self.actor, self.target, self.action, retcode, self.origin);
        let written = match first {
            Some(act) => {
                let system = gateway.action_record(Actor::System, self.target, act, Retcode::Success, None);
                gateway.write_records(&[system, own], self.action).await
            }
            None => gateway.write_records(&[own], self.action).await,
        };
        written?;
        decided
    }
}
