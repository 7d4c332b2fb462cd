//! Unit tests of the scheduler core, driven turn by turn through
//! [`super::testkit::Harness`]: a fake clock, a store in memory, agents as
//! channels. Each test asserts on a transition the core committed.

mod placement;
mod sessions;
