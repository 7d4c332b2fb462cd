//! The SQLite store behind `.swarm/memory.db`.
//!
//! This crate will own the schema and its migrations (driven by
//! `PRAGMA user_version`), the claude-flow v3 compatible `memory_entries`
//! table (and read/write support for the older v2 layout, never rewritten
//! silently), the coordinator's own `swarm_*` state tables (plans, tasks,
//! dependencies, attempts, agents, checkpoints, events), the append-only
//! event log, group commit of a scheduler turn in one transaction, and
//! online backups.

#![warn(missing_docs)]

pub mod kv;
