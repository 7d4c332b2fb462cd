//! Errors and warnings about a plan, each pinned to a file and line, and
//! the line map that lets validation point back into the source.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The plan cannot run.
    Error,
    /// The plan runs, but probably not as its author meant.
    Warning,
}

/// One finding about a plan, at a line of its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// File name as given by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {kind}: {}", self.file, self.line, self.message)
    }
}

/// Every error found in a plan (at least one), in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanErrors(pub Vec<Diagnostic>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// Lines of the source that validation may need to point at. Indexes match
/// the plan's `tasks`, `days` and `matrix` vectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    /// File name used in diagnostics.
    pub file: String,
    /// Where each task is written, in plan order.
    pub tasks: Vec<TaskLines>,
    /// Per day: the heading's line.
    pub days: Vec<usize>,
    /// Per staffing-matrix row: its line.
    pub matrix: Vec<usize>,
}

/// Where each part of one task was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskLines {
    /// The `**Task N.M**` line.
    pub header: usize,
    /// The Agent field (or the header when absent).
    pub agents: usize,
    /// The Dependencies field (or the header when absent).
    pub depends: usize,
}

/// Collects diagnostics for one file.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) file: String,
    pub(crate) found: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn new(file: &str) -> Self {
        Sink {
            file: file.to_string(),
            found: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, line: usize, message: impl Into<String>) {
        self.push(Severity::Error, line, message.into());
    }

    pub(crate) fn warning(&mut self, line: usize, message: impl Into<String>) {
        self.push(Severity::Warning, line, message.into());
    }

    fn push(&mut self, severity: Severity, line: usize, message: String) {
        self.found.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line,
            message,
        });
    }
}
