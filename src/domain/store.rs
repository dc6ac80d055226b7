//! The store port: where agent slots live. The domain talks only to
//! [`AgentStore`] and owns it; `crate::store` implements it (in memory for
//! the default single-node mode; a shared implementation such as Redis
//! slots in there for scale-out without touching the domain).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::ids::{SessionId, WorkNo};
use super::session::AgentSlot;

/// A store failure (the in-memory store never fails).
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

/// Exclusive use of one agent for an audited command, held from its
/// decision through its record to its change (`domain/gateway/audited.rs`),
/// so that what the record says is what happens. It does not block
/// [`AgentStore::update`]: polls and heartbeats go on meanwhile.
pub struct AgentLock(#[allow(dead_code)] Box<dyn Send + Sync>);

impl AgentLock {
    pub fn new(held: impl Send + Sync + 'static) -> AgentLock {
        AgentLock(Box::new(held))
    }
}

/// Per-agent state, updated atomically one agent at a time.
#[async_trait]
pub trait AgentStore: Send + Sync + 'static {
    /// Runs `f` with exclusive access to `work_no`'s slot (an empty slot if
    /// the agent has none). An implementation over a shared store may run
    /// `f` more than once (optimistic retry), so `f` must only touch the
    /// slot and its own captured results.
    async fn update(
        &self,
        work_no: WorkNo,
        f: &mut (dyn for<'s> FnMut(&'s mut AgentSlot) + Send),
    ) -> Result<(), StoreError>;

    /// Waits for, and takes, `work_no`'s command lock; released when the
    /// returned value is dropped. Locks are taken one agent at a time, or
    /// in ascending work-number order, so that two commands never wait for
    /// each other.
    async fn lock_agent(&self, work_no: WorkNo) -> Result<AgentLock, StoreError>;

    /// Work numbers that currently hold a slot.
    async fn work_nos(&self) -> Result<Vec<WorkNo>, StoreError>;

    /// Shows `f` every slot, read-only, for statistics (metrics). It may see
    /// each agent at a slightly different moment; it never blocks an agent
    /// for longer than one slot takes to read.
    async fn inspect(&self, f: &mut (dyn for<'s> FnMut(&'s AgentSlot) + Send)) -> Result<(), StoreError>;

    /// Runs `f` on every slot, one slot at a time, each with the exclusive
    /// access of [`update`](Self::update) (housekeeping: the heartbeat
    /// sweep). The default goes through `work_nos` and `update`; a store
    /// can do it in fewer steps. The same retry rule as `update` applies.
    async fn update_all(
        &self,
        f: &mut (dyn for<'s> FnMut(WorkNo, &'s mut AgentSlot) + Send),
    ) -> Result<(), StoreError> {
        for work_no in self.work_nos().await? {
            self.update(work_no, &mut |slot| f(work_no, slot)).await?;
        }
        Ok(())
    }

    /// The wake-up handle of a session, for long polls waiting on it.
    fn waker(&self, session: SessionId) -> Arc<Notify>;

    /// Wakes every poll waiting on `session`.
    fn wake(&self, session: SessionId);

    /// Forgets a session's wake-up handle once nothing can wait on it.
    fn forget(&self, session: SessionId);

    /// Records that `guid` belongs to `work_no`, so that a Guid presented
    /// on another agent's path (an inspector's) finds its owner.
    fn index_guid(&self, guid: &str, work_no: WorkNo);

    /// Forgets a Guid that no longer works.
    fn unindex_guid(&self, guid: &str);

    /// The work number a Guid was issued to, if it is still indexed. The
    /// owner's slot remains the authority: check the Guid there.
    fn guid_owner(&self, guid: &str) -> Option<WorkNo>;

    /// Checks that the store is usable (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
}
