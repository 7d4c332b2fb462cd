//! The worker, `swarm-agent`.
//!
//! - [`session`]: the session with the coordinator: registration,
//!   heartbeats, reconnecting with backoff, resuming running attempts after
//!   either side restarts, re-sending results until they are acknowledged,
//!   draining on SIGTERM;
//! - [`work`]: the attempts this agent holds and the executor tasks that
//!   run them;
//! - [`exec`]: the executors (shell, command template, docker, manual)
//!   and the sandbox host commands run in;
//! - [`cli_sandbox`]: the sandbox flags;
//! - [`exit`]: the agent's exit codes, named;
//! - [`forward`]: the private socket through which tasks reach the
//!   coordinator under mTLS;
//! - [`runtime`]: the agent's private runtime directory (the tasks'
//!   socket, their result files);
//! - [`spans`]: the agent's own spans, under each attempt's
//!   `TRACEPARENT`, when it has an OTLP endpoint;
//! - [`home`]: the agent's directory in its workdir (its lock, the process
//!   groups its attempts run);
//! - [`ratelimit`]: an attempt turned away by a rate-limited API;
//! - [`usage`]: what an attempt spent (Claude Code's result object,
//!   `$SWARM_USAGE`);
//! - `convert`: wire ↔ domain conversions; generated proto types stay in
//!   `convert` and [`session`].

#![warn(missing_docs)]

pub mod cli;
pub mod cli_sandbox;
mod convert;
pub mod exec;
pub mod exit;
pub mod forward;
pub mod home;
mod procfs;
pub mod ratelimit;
pub mod runtime;
pub mod session;
pub mod spans;
pub mod usage;
pub mod work;
