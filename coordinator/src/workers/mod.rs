//! The workers the core hands jobs to after its commit, each off the
//! scheduler's thread: checkpoint reports ([`report`]), gate checks
//! ([`gates`]), guide searches ([`guides`]), result copies ([`results`]),
//! the shared memory file ([`memory`]) and periodic backups
//! ([`backups`]). Each takes its receiver and a handle to the core.

pub mod backups;
pub mod gates;
pub mod guides;
pub mod memory;
pub mod report;
pub mod results;
