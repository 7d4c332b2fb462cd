//! The coordinator's state in `swarm_*` tables: what the scheduler loop
//! writes in each turn's transaction and reads back after a restart.

mod merges;
mod notify;
mod pick;
mod read;
mod rows;
mod trace;
mod usage;
mod versions;
mod write;

pub use merges::*;
pub use notify::*;
pub use pick::*;
pub use read::*;
pub use rows::*;
pub use trace::*;
pub use usage::*;
pub use versions::*;
pub use write::*;
