//! Heartbeat timeouts, freeing ended sessions, and forgetting old lockouts.

use super::*;

impl Gateway {
    /// Signs out silent agents (reason 263) and frees ended sessions whose
    /// final events were never fetched. Returns how many were signed out.
    pub async fn sweep(&self) -> Result<usize, Failure> {
        let timeout = self.config().heartbeat_timeout_ms;
        let ending = Ending::system(SignOutReason::HEARTBEAT_TIMEOUT, "heartbeat-timeout");
        let name = self.directory().catalog().name_or_empty(Category::System, ending.reason);
        let mut signed_out = 0;
        for work_no in self.0.store.work_nos().await? {
            let now = now_ms();
            let (retired, expired) = self
                .with_slot(work_no, |slot| {
                    let before: Vec<SessionId> = slot.ended.iter().map(|s| s.id).collect();
                    slot.drop_expired(now);
                    let expired: Vec<SessionId> =
                        before.into_iter().filter(|id| !slot.ended.iter().any(|s| s.id == *id)).collect();
                    let silent = slot.live.as_ref().is_some_and(|s| s.is_silent(now, timeout));
                    let retired =
                        if silent { end_live(slot, &ending, name.clone(), now, timeout) } else { Retired::default() };
                    (retired, expired)
                })
                .await?;
            for id in expired {
                self.0.store.forget(id);
            }
            if retired.session.is_some() {
                self.clean_up(retired);
                self.audit_system(
                    "heartbeatTimeout",
                    work_no,
                    Some((Category::System, ending.reason)),
                    Retcode::Success,
                )
                .await;
                self.notify_inspectors(work_no, false).await;
                signed_out += 1;
            }
        }
        self.forget_old_lockouts(now_ms());
        Ok(signed_out)
    }
}
