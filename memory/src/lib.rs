//! The two SQLite files under `.swarm/`.
//!
//! - `swarmd.db`, the coordinator's own: [`store`] opens it (WAL, full
//!   synchronous commits) and runs the migrations, driven by `PRAGMA
//!   user_version`; [`state`] reads and writes its `swarm_*` tables (plans,
//!   tasks, dependencies, attempts, agents, events, logs, checkpoints).
//!   One writer per table: the scheduler loop owns the [`store::Store`]
//!   and commits all transitions of one turn in one transaction; the
//!   shared-memory worker alone writes `swarm_memory_rows`, swarmd's copy
//!   of the shared memory ([`shared::journal`]), on its own connection.
//! - `memory.db`, shared with claude-flow: [`kv`] is the key/value memory
//!   in `memory_entries`, laid out as claude-flow lays it out so both tools
//!   read each other's entries; [`shared`] keeps it in step with swarmd's
//!   copy, safe from tools that write it whole.
//! - [`split`] moves a workdir of the older single-file layout to the two.

#![warn(missing_docs)]

pub mod backup;
pub mod kv;
mod migrations;
pub mod shared;
pub mod split;
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
