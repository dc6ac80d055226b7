//! In-memory store: slots in a sharded map; one short lock per update.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::{AgentLock, AgentStore, StoreError};
use crate::domain::ids::{SessionId, WorkNo};
use crate::domain::session::AgentSlot;

const SHARDS: usize = 64;

/// Command locks of one shard of agents: an entry exists only while some
/// command holds or awaits it.
type LockShard = Arc<Mutex<HashMap<WorkNo, Arc<tokio::sync::Mutex<()>>>>>;

/// The embedded store of the default mode.
pub struct MemoryStore {
    shards: Vec<Mutex<HashMap<WorkNo, AgentSlot>>>,
    locks: Vec<LockShard>,
    wakers: Mutex<HashMap<SessionId, Arc<Notify>>>,
    /// Guid owners by the Guid's UUID (see [`guid_key`]).
    owners: Mutex<HashMap<u128, WorkNo>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            locks: (0..SHARDS).map(|_| LockShard::default()).collect(),
            wakers: Mutex::new(HashMap::new()),
            owners: Mutex::new(HashMap::new()),
        }
    }
}

impl MemoryStore {
    fn shard(&self, work_no: WorkNo) -> &Mutex<HashMap<WorkNo, AgentSlot>> {
        &self.shards[work_no.get() as usize % SHARDS]
    }
}

/// A held command lock; its entry leaves the shard with its last user.
struct HeldLock {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    shard: LockShard,
    work_no: WorkNo,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut shard = self.shard.lock();
        if shard.get(&self.work_no).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            shard.remove(&self.work_no);
        }
    }
}

#[async_trait]
impl AgentStore for MemoryStore {
    async fn lock_agent(&self, work_no: WorkNo) -> Result<AgentLock, StoreError> {
        let shard = self.locks[work_no.get() as usize % SHARDS].clone();
        let lock = shard.lock().entry(work_no).or_default().clone();
        let guard = lock.lock_owned().await;
        Ok(AgentLock::new(HeldLock { guard: Some(guard), shard, work_no }))
    }

    async fn update(
        &self,
        work_no: WorkNo,
        f: &mut (dyn for<'s> FnMut(&'s mut AgentSlot) + Send),
    ) -> Result<(), StoreError> {
        let mut shard = self.shard(work_no).lock();
        let slot = shard.entry(work_no).or_default();
        f(slot);
        if slot.is_empty() {
            shard.remove(&work_no);
        }
        Ok(())
    }

    async fn update_all(
        &self,
        f: &mut (dyn for<'s> FnMut(WorkNo, &'s mut AgentSlot) + Send),
    ) -> Result<(), StoreError> {
        for shard in &self.shards {
            shard.lock().retain(|work_no, slot| {
                f(*work_no, slot);
                !slot.is_empty()
            });
        }
        Ok(())
    }

    async fn work_nos(&self) -> Result<Vec<WorkNo>, StoreError> {
        Ok(self.shards.iter().flat_map(|s| s.lock().keys().copied().collect::<Vec<_>>()).collect())
    }

    async fn inspect(&self, f: &mut (dyn for<'s> FnMut(&'s AgentSlot) + Send)) -> Result<(), StoreError> {
        for shard in &self.shards {
            shard.lock().values().for_each(&mut *f);
        }
        Ok(())
    }

    fn waker(&self, session: SessionId) -> Arc<Notify> {
        self.wakers.lock().entry(session).or_default().clone()
    }

    fn wake(&self, session: SessionId) {
        let waker = self.wakers.lock().get(&session).cloned();
        if let Some(waker) = waker {
            waker.notify_waiters();
        }
    }

    fn forget(&self, session: SessionId) {
        self.wakers.lock().remove(&session);
    }

    fn index_guid(&self, guid: &str, work_no: WorkNo) {
        if let Some(key) = guid_key(guid) {
            self.owners.lock().insert(key, work_no);
        }
    }

    fn unindex_guid(&self, guid: &str) {
        if let Some(key) = guid_key(guid) {
            self.owners.lock().remove(&key);
        }
    }

    fn guid_owner(&self, guid: &str) -> Option<WorkNo> {
        self.owners.lock().get(&guid_key(guid)?).copied()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A Guid's index key: the 128 bits of its UUID part, not a copy of its
/// text (a Guid is 50-odd characters, kept once per session already). Our
/// Guids' UUIDs are random, so two live Guids do not share one; and the key
/// only names a candidate owner, whose session the caller then checks the
/// whole Guid against. Text that does not start with a UUID has no key.
fn guid_key(guid: &str) -> Option<u128> {
    guid.get(..36).and_then(|text| uuid::Uuid::try_parse(text).ok()).map(|uuid| uuid.as_u128())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::WorkNo;

    #[test]
    fn guid_owners_are_found_by_the_guid_and_forgotten_with_it() {
        let store = MemoryStore::default();
        let owner = WorkNo::new(900).unwrap();
        let guid = crate::domain::ids::Guid::generate(3);
        store.index_guid(guid.as_str(), owner);
        assert_eq!(store.guid_owner(guid.as_str()), Some(owner));
        let other = crate::domain::ids::Guid::generate(3);
        assert_eq!(store.guid_owner(other.as_str()), None);
        assert_eq!(store.guid_owner("not-a-guid"), None);
        assert_eq!(store.guid_owner(""), None);
        store.unindex_guid(guid.as_str());
        assert_eq!(store.guid_owner(guid.as_str()), None);
    }

    #[tokio::test]
    async fn a_command_lock_is_exclusive_per_agent_and_forgotten_when_free() {
        let store = Arc::new(MemoryStore::default());
        let (a, b) = (WorkNo::new(101).unwrap(), WorkNo::new(165).unwrap());
        let held = store.lock_agent(a).await.unwrap();
        // Another agent of the same shard is not held up.
        drop(store.lock_agent(b).await.unwrap());
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.lock_agent(a).await.map(drop) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a second lock on one agent waits");
        drop(held);
        waiting.await.unwrap().unwrap();
        assert!(store.locks.iter().all(|shard| shard.lock().is_empty()), "free locks are forgotten");
    }

    #[tokio::test]
    async fn update_all_visits_every_slot_and_drops_emptied_ones() {
        let store = MemoryStore::default();
        let (a, b) = (WorkNo::new(101).unwrap(), WorkNo::new(165).unwrap());
        let session = |work_no| {
            let mut slot = AgentSlot::default();
            slot.ended.push(crate::domain::session::tests_support::session(work_no));
            slot
        };
        for wn in [a, b] {
            store.update(wn, &mut |slot| *slot = session(wn)).await.unwrap();
        }
        let mut seen = Vec::new();
        store
            .update_all(&mut |wn, slot| {
                seen.push(wn);
                if wn == a {
                    slot.ended.clear();
                }
            })
            .await
            .unwrap();
        seen.sort();
        assert_eq!(seen, [a, b]);
        assert_eq!(store.work_nos().await.unwrap(), [b]);
    }
}
