//! Text from a plan, a task, an agent or an event made safe for a
//! terminal; the functions live in `swarm-text`, which the core and the
//! daemon's reports use too, and are re-exported here for the clients.
//!
//! - [`printable`]: one field (a title, a key, a message): every control
//!   character escaped, newlines included;
//! - [`printable_text`]: a whole multi-line text (a report, a page of
//!   output): newlines and tabs kept, every other control escaped.

pub use swarm_text::{printable, printable_text};
