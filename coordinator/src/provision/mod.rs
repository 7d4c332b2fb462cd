//! Provisioners: how a role's pool of agents grows and shrinks.
//!
//! - `none`: nothing is started; a shortfall is reported;
//! - `process`: local `swarm-agent` processes;
//! - `docker`: agent containers on the local engine or any engine reachable
//!   through `DOCKER_HOST`.

pub mod docker;
