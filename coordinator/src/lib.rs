//! The coordinator, `swarmd`.
//!
//! This crate will own the gRPC services (agent, control, memory, health,
//! reflection), the scheduler loop that is the single writer of all state
//! (priority, then upward rank, gang placement with head-of-line
//! reservation), agent leases and fencing tokens, the plan clock and its
//! checkpoints with progress reports and reallocation, the provisioners
//! (none, process, docker) and the metrics endpoint.
