//! The daemon itself: its command line ([`cli`]), configuration
//! ([`config`]), start-up and shutdown ([`serve`]), `swarmd run`
//! ([`run`]), certificates ([`certs`]), the workdir lock ([`lock`]) and
//! the state directory ([`statedir`]).

pub mod certs;
pub mod cli;
pub mod config;
pub mod exit;
pub mod lock;
mod run;
pub mod serve;
pub mod statedir;
pub mod tasks;
