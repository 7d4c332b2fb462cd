//! The benchmark of swarmd.
//!
//! It starts the real coordinator in a child process (this binary run as
//! `swarm-bench __coordinator`, which calls the same `serve` as `swarmd`,
//! with the production store settings: WAL, synchronous=FULL, group
//! commit), connects simulated agents that speak the real gRPC session
//! protocol and finish each assignment at once (a no-op executor, so the
//! coordinator is what is measured), loads a generated plan through the
//! control service, and prints one JSON line per run.
//!
//! - `--shape wide --tasks 100000 --slots 64`: independent tasks;
//! - `--shape chain --tasks 1000`: each task depends on the previous one;
//! - `--agents 1000 --idle 30s`: connected agents with nothing to do, and
//!   the coordinator's CPU use meanwhile.
//!
//! Dispatch latency is measured per task from the moment it could start
//! (it was ready — loaded, or its predecessor's result sent — and a slot
//! of the agent that gets it was free) to the agent receiving it and
//! reporting its executor started.

#![warn(missing_docs)]

mod agents;
mod cli;
mod coordinator;
mod limits;
mod measure;
mod shapes;

pub use cli::main;
