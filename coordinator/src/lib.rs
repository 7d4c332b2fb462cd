//! The coordinator daemon, `swarmd`, around the scheduler core
//! (`swarm_core`, its own crate: the one writer of all state).
//!
//! - [`daemon`]: the command line, the configuration, start-up and
//!   shutdown, `swarmd run`, certificates, the workdir lock;
//! - [`edge`]: what faces the network: the gRPC services, the HTTP
//!   listener and web view, authentication, TLS. Handlers only turn
//!   requests into commands for the core;
//! - [`workers`]: what the core hands work to after its commit: reports,
//!   gate checks, guide searches, result copies, the shared memory,
//!   backups;
//! - [`provision`]: how a role's pool of agents grows and shrinks.

#![warn(missing_docs)]

pub mod daemon;
pub mod edge;
pub mod provision;
pub mod workers;
