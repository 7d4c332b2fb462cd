//! `swarmctl plan ...`: offline work on plan files.

mod graph;
mod json;
mod show;
mod simulate;

use std::io::Write;

use swarm_plan::{analyse, CompiledPlan, LoadError};

use crate::cli::{ConvertTarget, PlanCommand, PlanInput};
use crate::exit;

/// Runs one plan command and returns its exit code.
pub(crate) fn run(cmd: PlanCommand) -> u8 {
    match cmd {
        PlanCommand::Check { input, json } => check(&input, json),
        PlanCommand::Show {
            input,
            day_start,
            json,
        } => with_plan(&input, |plan| {
            let analysis = analyse(plan);
            if json {
                print(&format!("{:#}\n", json::summary(plan, &analysis)))
            } else {
                print(&show::render(plan, &analysis, day_start))
            }
        }),
        PlanCommand::Graph { input, format } => with_plan(&input, |plan| {
            let analysis = analyse(plan);
            print(&graph::render(plan, &analysis, format))
        }),
        PlanCommand::Load { .. } => exit::FAILED,
        PlanCommand::Simulate {
            input,
            agents,
            matrix,
            priority,
            json,
        } => with_plan(&input, |plan| {
            simulate::run(plan, agents.as_deref(), matrix, priority, json)
        }),
        PlanCommand::Convert { input, to, output } => with_plan(&input, |plan| {
            let text = match to {
                ConvertTarget::Toml => swarm_plan::toml_form::write(&plan.plan),
                ConvertTarget::Markdown => swarm_plan::markdown::write(&plan.plan),
            };
            match output {
                Some(path) => match std::fs::write(&path, text) {
                    Ok(()) => exit::OK,
                    Err(e) => {
                        eprintln!("swarmctl: cannot write {}: {e}", path.display());
                        exit::FAILED
                    }
                },
                None => print(&text),
            }
        }),
    }
}

/// `plan check --json` for a valid plan; for an invalid one, the errors
/// as `plan check` prints them (FILE:LINE: error: ...).
pub(crate) fn check_json(input: &PlanInput) -> Result<serde_json::Value, String> {
    let plan = load(input).map_err(|failure| failure.message())?;
    Ok(json::summary(&plan, &analyse(&plan)))
}

fn check(input: &PlanInput, as_json: bool) -> u8 {
    match load(input) {
        Ok(plan) => {
            let analysis = analyse(&plan);
            if as_json {
                print(&format!("{:#}\n", json::summary(&plan, &analysis)))
            } else {
                print_warnings(&plan);
                print(&show::summary_line(&plan, &analysis))
            }
        }
        Err(failure) => {
            if as_json {
                print(&format!("{:#}\n", json::failure(&failure)));
            } else {
                eprintln!("{}", failure.message());
            }
            exit::USAGE
        }
    }
}

/// Loads the plan and runs `f` on it, or reports why it cannot.
fn with_plan(input: &PlanInput, f: impl FnOnce(&CompiledPlan) -> u8) -> u8 {
    match load(input) {
        Ok(plan) => {
            print_warnings(&plan);
            f(&plan)
        }
        Err(failure) => {
            eprintln!("{}", failure.message());
            exit::USAGE
        }
    }
}

/// Why a plan could not be used.
pub(crate) enum Failure {
    /// The role file is bad.
    Roles(swarm_roles::CatalogueError),
    /// The plan could not be read or is invalid.
    Plan(LoadError),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::Roles(e) => format!("swarmctl: {e}"),
            Failure::Plan(LoadError::Invalid(errors)) => {
                let count = errors
                    .0
                    .iter()
                    .filter(|d| d.severity == swarm_plan::Severity::Error)
                    .count();
                format!(
                    "{errors}\nswarmctl: {count} error{} in the plan; nothing was changed",
                    if count == 1 { "" } else { "s" }
                )
            }
            Failure::Plan(e) => format!("swarmctl: {e}"),
        }
    }
}

fn load(input: &PlanInput) -> Result<CompiledPlan, Failure> {
    let catalogue = input.catalogue().map_err(Failure::Roles)?;
    swarm_plan::load(&input.file, &catalogue).map_err(Failure::Plan)
}

fn print_warnings(plan: &CompiledPlan) {
    for w in &plan.warnings {
        eprintln!("{w}");
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            eprintln!("swarmctl: cannot write output: {e}");
            exit::FAILED
        }
    }
}

/// Hours as people write them: `2`, `1.5`, `0.25`.
pub(crate) fn hours(secs: u64) -> String {
    let h = secs as f64 / 3600.0;
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
