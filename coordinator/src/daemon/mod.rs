//! The daemon itself: its command line ([`cli`]), what it holds before
//! serving (`claim`), configuration ([`config`]), start-up and shutdown ([`serve`]) with its task registry
//! ([`tasks`]), signals ([`signals`]), exit codes ([`exit`]), `swarmd run`
//! ([`run`]), `swarmd restore` ([`restore`]), certificates ([`certs`]), named tokens
//! ([`token_cmd`]),
//! the workdir lock ([`lock`]), the state directory ([`statedir`]) and the
//! state files looked at before start ([`statefiles`]).

pub mod certs;
mod claim;
pub mod cli;
pub mod config;
pub mod exit;
mod incoming;
pub mod lock;
pub mod restore;
mod run;
pub mod serve;
mod serve_error;
pub mod signals;
pub mod statedir;
pub mod statefiles;
pub mod tasks;
pub mod token_cmd;
