//! The coordinator, `swarmd`.
//!
//! - [`core`]: the scheduler loop, the single writer of all state
//!   (priority, then upward rank, gang placement with head-of-line
//!   reservation; leases and fencing; retries; recovery after a restart);
//! - [`grpc`]: the agent, control and memory services, which only convert
//!   requests into commands for the loop;
//! - [`server`]: the tonic server with health and reflection;
//! - [`auth`], [`config`]: tokens and layered configuration;
//! - [`cli`]: `swarmd` and `swarmd run`.

#![warn(missing_docs)]

pub mod auth;
pub mod backups;
pub mod certs;
pub mod cli;
pub mod clock;
pub mod config;
pub(crate) mod core;
pub mod gates;
pub mod grpc;
pub mod guides;
pub mod http;
mod http_tls;
pub mod lock;
pub mod metrics;
pub mod provision;
pub mod report;
pub mod results;
pub mod roles;
mod run;
mod run_failures;
pub mod server;
pub mod shared_memory;
pub mod statedir;
pub mod tls;
pub mod web;
