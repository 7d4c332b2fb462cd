//! The SQLite store behind `.swarm/memory.db`.
//!
//! - [`store`] opens the file (WAL, full synchronous commits) and runs the
//!   migrations, driven by `PRAGMA user_version`;
//! - [`kv`] is the shared key/value memory in `memory_entries`, laid out as
//!   claude-flow lays it out so both tools read each other's entries;
//! - [`state`] holds the coordinator's own state in `swarm_*` tables
//!   (plans, tasks, dependencies, attempts, agents, events, logs), which
//!   never collide with claude-flow's tables.
//!
//! One writer: the coordinator's scheduler loop owns the [`store::Store`]
//! and commits all transitions of one turn in one transaction.

#![warn(missing_docs)]

pub mod kv;
pub mod state;
pub mod store;

pub use store::{Store, StoreError};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
