//! Heartbeat timeouts, freeing ended sessions, and forgetting old lockouts.
use super::Gateway;
use super::Initiator;
use super::SignOutCause;
use crate::clock::now_ms;
use crate::domain::audit::Action;
use crate::domain::audit::Actor;
use crate::domain::ids::SessionId;
use crate::domain::ids::WorkNo;
use crate::domain::params::SignOutReason;
use crate::domain::Failure;
use crate::retcode::Retcode;
use crate::telemetry::Snapshot;

impl Gateway {
    /// Begins shutting down: waiting polls answer now, and new polls answer
    /// without waiting, so no client is left hanging on a closing node.
    pub fn shut_down(&self) {
        self.0.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.0.stopping.borrow()
    }

    /// Ready to serve: not shutting down, the store answers, and the audit
    /// trail can be written (commands are refused otherwise).
    pub async fn readiness(&self) -> Result<(), Failure> {
        if self.is_stopping() {
            return Err(Failure::new(Retcode::Internal, "shutting down"));
        }
        if !self.0.audit.is_writable() {
            return Err(Failure::new(Retcode::Internal, "the audit trail cannot be written"));
        }
        self.0.store.ping().await.map_err(|e| Failure::new(Retcode::Internal, e.to_string()))
    }

    /// Counts of what the store holds, for the metrics gauges.
    pub async fn snapshot(&self) -> Result<Snapshot, Failure> {
        let mut by_state = std::collections::BTreeMap::<u8, u64>::new();
        let mut snapshot = Snapshot::default();
        self.0
            .store
            .inspect(&mut |slot| {
                if let Some(live) = &slot.live {
                    *by_state.entry(live.state.code()).or_default() += 1;
                }
                snapshot.ended_sessions += slot.ended.len() as u64;
                snapshot.events_queued += slot
                    .live
                    .as_deref()
                    .into_iter()
                    .chain(slot.ended.iter())
                    .map(|s| s.queue.len() as u64)
                    .sum::<u64>();
            })
            .await?;
        snapshot.agents_by_state = by_state.into_iter().collect();
        let audit = self.0.audit.stats();
        (snapshot.audit_records, snapshot.audit_handoffs, snapshot.audit_writes, snapshot.audit_syncs) =
            (audit.records, audit.handoffs, audit.writes, audit.syncs);
        (snapshot.audit_fallback, snapshot.audit_head_seq, snapshot.audit_head_hash_prefix, snapshot.audit_writable) =
            (audit.fallback, audit.head_seq, audit.head_hash_prefix, audit.writable);
        Ok(snapshot)
    }

    /// Signs out silent agents (reason 263) and frees ended sessions whose
    /// final events were never fetched. Returns how many were signed out.
    pub async fn sweep(&self) -> Result<usize, Failure> {
        let timeout = self.config().heartbeat_timeout_ms;
        let mut silent = Vec::new();
        let mut expired = Vec::new();
        // One pass over every slot (for the memory store: one lock per shard),
        // not one store update per agent: the sweep runs every second.
        self.0
            .store
            .update_all(&mut |work_no, slot| {
                let now = now_ms();
                if !slot.ended.is_empty() {
                    let before: Vec<SessionId> = slot.ended.iter().map(|s| s.id).collect();
                    slot.drop_expired(now);
                    expired.extend(before.into_iter().filter(|id| !slot.ended.iter().any(|s| s.id == *id)));
                }
                if let Some(session) = slot.live.as_ref().filter(|s| s.is_silent(now, timeout)) {
                    silent.push((work_no, session.id));
                }
            })
            .await?;
        for id in expired {
            self.0.store.forget(id);
        }
        let mut signed_out = 0;
        for (work_no, session) in silent {
            signed_out += usize::from(self.time_out(work_no, session).await?);
        }
        self.forget_old_lockouts(now_ms());
        Ok(signed_out)
    }

    /// Signs `session` out for silence, audited as the gateway's own act,
    /// unless it spoke up (or ended) since the sweep saw it.
    async fn time_out(&self, work_no: WorkNo, session: SessionId) -> Result<bool, Failure> {
        let timeout = self.config().heartbeat_timeout_ms;
        let cause = SignOutCause {
            reason: SignOutReason::HEARTBEAT_TIMEOUT,
            initiator: Initiator::System("heartbeat-timeout"),
        };
        let audit = self.audited(Actor::System, work_no, Action::HeartbeatTimeout, None).await?;
        let now = now_ms();
        let still_silent =
            self.with_slot(work_no, |slot| slot.live_if(session).is_some_and(|s| s.is_silent(now, timeout))).await?;
        if !still_silent {
            return Ok(false);
        }
        audit.record(Ok(())).await?;
        self.end_session(work_no, session, &cause).await?;
        Ok(true)
    }
}
