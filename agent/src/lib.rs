//! The worker, `swarm-agent`.
//!
//! This crate will own the agent's session with the coordinator
//! (registration, heartbeats, reconnect with backoff, resuming running
//! attempts after either side restarts), the executors (shell, command
//! template, docker, manual), log streaming, and draining on SIGTERM.

#![warn(missing_docs)]

pub mod exec;
