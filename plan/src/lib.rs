//! Plans for swarmd: the model, its two surface syntaxes, validation into a
//! task DAG, and analysis of that DAG.
//!
//! ```text
//! markdown / TOML text --parse--> Parsed (Plan + SourceMap + diagnostics)
//!                      --compile(catalogue)--> CompiledPlan (DAG) --analyse--> Analysis
//! ```
//!
//! [`load`] does all of it for one file. Parsing never panics and never
//! fails outright: whatever the bytes, the result is a plan or a list of
//! diagnostics, each with its file and line. This crate does no I/O beyond
//! reading the plan file and has no async runtime.

#![warn(missing_docs)]

pub mod analysis;
pub mod claims;
pub mod compile;
pub mod diagnostic;
mod fields;
pub mod markdown;
pub mod model;
pub mod policy;
pub mod revise;
pub mod simulate;
pub mod toml_form;

use std::path::Path;

pub use analysis::{analyse, Analysis, DayLoad, RoleLoad};
pub use claims::Workspace;
pub use compile::{compile, Allocation, CompiledPlan, CompiledTask, Need, MAX_COMMAND_BYTES};
pub use diagnostic::{Diagnostic, PlanErrors, Severity, SourceMap};
pub use model::{
    Agents, Checkpoint, Criterion, Day, DepRef, Gang, MatrixRow, Note, Plan, PlanDuration,
    Priority, Task, Window,
};
pub use simulate::{
    simulate, simulate_guided, simulate_ordered, simulate_pooled, SimulateError, Simulation,
    Staffing,
};
pub use swarm_roles::Catalogue;

/// The role name used for agents of a full-swarm task, which may play any
/// role.
pub const ANY_ROLE: &str = "any";

/// Largest plan file [`load`] reads, in bytes (256 MiB, a few million
/// tasks): `plan check` and every offline command use it; the daemon has
/// its own `max_plan_bytes`, by default this.
pub const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;

/// A plan as parsed, before validation.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// What could be read.
    pub plan: Plan,
    /// Where things were written.
    pub map: SourceMap,
    /// Problems found while reading (errors and warnings).
    pub diagnostics: Vec<Diagnostic>,
}

/// The two surface syntaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The seed's markdown.
    Markdown,
    /// `[[task]]` tables.
    Toml,
}

impl Format {
    /// TOML for `.toml` files, markdown for everything else.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("toml") => Format::Toml,
            _ => Format::Markdown,
        }
    }
}

/// Parses plan text in the given syntax; `file` names it in diagnostics.
pub fn parse(text: &str, file: &str, format: Format) -> Parsed {
    match format {
        Format::Markdown => markdown::parse(text, file),
        Format::Toml => toml_form::parse(text, file),
    }
}

/// Why a plan file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read the plan: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is larger than the limit ([`MAX_PLAN_BYTES`] unless told).
    #[error("{path}: the plan is larger than {limit} bytes (at least {size}); plans are limited to {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size on disk, or the bytes read before the limit was passed.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The plan has errors.
    #[error("{0}")]
    Invalid(PlanErrors),
}

/// Parses and validates plan text.
pub fn load_text(
    text: &str,
    file: &str,
    format: Format,
    catalogue: &Catalogue,
) -> Result<CompiledPlan, PlanErrors> {
    compile(parse(text, file, format), catalogue)
}

/// Reads, parses and validates a plan file of at most [`MAX_PLAN_BYTES`].
/// Bytes that are not UTF-8 are read as replacement characters, never
/// refused.
pub fn load(path: &Path, catalogue: &Catalogue) -> Result<CompiledPlan, LoadError> {
    load_at_most(path, catalogue, MAX_PLAN_BYTES)
}

/// As [`load`], refusing a file of more than `limit` bytes.
pub fn load_at_most(
    path: &Path,
    catalogue: &Catalogue,
    limit: u64,
) -> Result<CompiledPlan, LoadError> {
    let name = path.display().to_string();
    let io = |source| LoadError::Io {
        path: name.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > limit {
        return Err(LoadError::TooLarge {
            path: name,
            size,
            limit,
        });
    }
    // The size on disk can lie (a device, a pipe, a file still growing):
    // read at most one byte past the limit.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(path).map_err(io)?, limit + 1),
        &mut bytes,
    )
    .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge {
            path: name,
            size: bytes.len() as u64,
            limit,
        });
    }
    let text = String::from_utf8_lossy(&bytes);
    load_text(&text, &name, Format::from_path(path), catalogue).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod load_tests {
    use super::*;

    #[test]
    fn a_device_that_never_ends_is_refused_at_the_limit() {
        let catalogue = Catalogue::builtin();
        let err = load_at_most(Path::new("/dev/zero"), &catalogue, 4096)
            .expect_err("an endless file is refused");
        assert!(
            matches!(
                err,
                LoadError::TooLarge {
                    size: 4097,
                    limit: 4096,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("larger than 4096 bytes"), "{err}");
    }
}
