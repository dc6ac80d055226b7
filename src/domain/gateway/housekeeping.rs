//! Heartbeat timeouts, freeing ended sessions, and forgetting old lockouts.

use super::*;

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
        if !self.0.audit.is_healthy() {
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
        let count = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        (snapshot.audit_records, snapshot.audit_handoffs, snapshot.audit_writes, snapshot.audit_syncs) =
            (count(&audit.records), count(&audit.handoffs), count(&audit.writes), count(&audit.syncs));
        Ok(snapshot)
    }

    /// Signs out silent agents (reason 263) and frees ended sessions whose
    /// final events were never fetched. Returns how many were signed out.
    pub async fn sweep(&self) -> Result<usize, Failure> {
        let timeout = self.config().heartbeat_timeout_ms;
        let ending = Ending::system(SignOutReason::HEARTBEAT_TIMEOUT, "heartbeat-timeout");
        let name = self.directory().catalog().name_or_empty(Category::System, ending.reason);
        let mut timed_out = Vec::new();
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
                if slot.live.as_ref().is_some_and(|s| s.is_silent(now, timeout)) {
                    timed_out.push((work_no, end_live(slot, &ending, name.clone(), now, timeout)));
                }
            })
            .await?;
        for id in expired {
            self.0.store.forget(id);
        }
        let signed_out = timed_out.len();
        for (work_no, retired) in timed_out {
            self.0.telemetry.signed_out(ending.reason);
            self.clean_up(retired);
            self.audit_system("heartbeatTimeout", work_no, Some((Category::System, ending.reason)), Retcode::Success)
                .await;
            self.notify_inspectors(work_no, false).await;
        }
        self.forget_old_lockouts(now_ms());
        Ok(signed_out)
    }
}
