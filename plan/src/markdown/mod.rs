//! The markdown surface of a plan: [`parse`] reads the seed's format (and
//! the variations people type), [`write`](fn@write) renders a plan back in it.

mod lines;
mod matrix;
mod parse;
pub(crate) mod phrases;
mod task;
mod write;

pub use parse::parse;
pub use write::{agents_phrase, write};
