//! The store implementations of the domain's [`AgentStore`] port: the
//! in-memory store of the default single-node mode (a shared one, such as
//! Redis, goes here too).

mod memory;

pub use crate::domain::store::{AgentLock, AgentStore, StoreError};
pub use memory::MemoryStore;
