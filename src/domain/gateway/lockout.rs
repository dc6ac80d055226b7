//! Sign-in lockout: consecutive wrong passwords for one work number lock it
//! for a while, longer on each repeat. Unknown work numbers are counted and
//! locked the same way, so no answer tells whether a work number exists.
use super::Gateway;
use crate::clock::now_ms;
use crate::domain::audit::Action;
use crate::domain::audit::Actor;
use crate::domain::audit::Origin;
use crate::domain::ids::WorkNo;
use crate::domain::Failure;
use crate::retcode::Retcode;

/// How many wrong passwords lock a work number, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub attempts: u32,
    /// The first lock's length; each repeat doubles it.
    pub base_ms: u64,
    pub max_ms: u64,
}

#[derive(Debug, Default)]
pub(super) struct LockState {
    failures: u32,
    /// Locks so far; the next lasts `base_ms << level`.
    level: u32,
    locked_until: u64,
    last_failure: u64,
}

impl Gateway {
    /// Refuses a locked work number (110-016), before any password check.
    pub(super) fn check_lock(&self, work_no: WorkNo) -> Result<(), Failure> {
        let now = now_ms();
        match self.0.lockouts.lock().get(&work_no) {
            Some(state) if state.locked_until > now => Err(Failure::new(
                Retcode::AccountLocked,
                format!(
                    "account locked after repeated wrong passwords; retry in {} s",
                    (state.locked_until - now).div_ceil(1000)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Counts a wrong password; the attempt that reaches the limit locks
    /// the work number. Both the lock (the gateway's act) and the attempt
    /// (as the claimed work number's) are audited. Returns the answer for
    /// this attempt: 100-004, or 100-007 when its record cannot be kept.
    pub(super) async fn password_failed(&self, work_no: WorkNo, action: Action, origin: &Origin) -> Failure {
        self.0.telemetry.password_failed();
        let policy = self.config().lockout;
        let now = now_ms();
        let locked_for = {
            let mut lockouts = self.0.lockouts.lock();
            let state = lockouts.entry(work_no).or_default();
            state.failures += 1;
            state.last_failure = now;
            (state.failures >= policy.attempts).then(|| {
                let length = policy.base_ms.saturating_mul(1 << state.level.min(20)).min(policy.max_ms);
                state.level += 1;
                state.failures = 0;
                state.locked_until = now + length;
                length
            })
        };
        let refusal = Failure::new(Retcode::WrongPassword, "wrong work number or password");
        let attempt = self.action_record(Actor::Claimed(work_no), work_no, action, refusal.code, Some(origin));
        let written = match locked_for {
            Some(length) => {
                log::warn!("lockout agent={work_no} retcode=110-016 for={length}ms");
                let lock = self.action_record(Actor::System, work_no, Action::Lockout, Retcode::AccountLocked, None);
                self.write_records(&[lock, attempt], action).await
            }
            None => self.write_records(&[attempt], action).await,
        };
        written.err().unwrap_or(refusal)
    }

    /// A right password resets the count and the growing lock length.
    pub(super) fn password_succeeded(&self, work_no: WorkNo) {
        self.0.lockouts.lock().remove(&work_no);
    }

    /// Forgets work numbers that are unlocked and quiet for the longest lock.
    pub(super) fn forget_old_lockouts(&self, now: u64) {
        let quiet = self.config().lockout.max_ms;
        self.0.lockouts.lock().retain(|_, s| s.locked_until > now || now.saturating_sub(s.last_failure) < quiet);
    }
}
