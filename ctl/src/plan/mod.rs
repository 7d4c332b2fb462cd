//! `swarmctl plan ...`: offline work on plan files.

mod graph;
mod json;
mod show;
mod simulate;

use swarm_client::printable::printable_text;
use swarm_plan::{analyse, CompiledPlan, LoadError};

use crate::cli::{ConvertTarget, PlanCommand, PlanInput, PlanReadError};
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
        PlanCommand::Load { .. }
        | PlanCommand::Cancel { .. }
        | PlanCommand::Apply { .. }
        | PlanCommand::History { .. }
        | PlanCommand::Diff { .. } => exit::FAILED,
        PlanCommand::Simulate {
            input,
            agents,
            matrix,
            priority,
            pools,
            default_pool,
            actual,
            json,
        } => with_plan(&input, |plan| {
            // The catalogue loaded with the plan: its profiles name pools.
            let catalogue = input.catalogue().ok();
            let pools = simulate::PoolArgs {
                specs: &pools,
                default_pool: &default_pool,
                catalogue: catalogue.as_ref(),
            };
            simulate::run(
                plan,
                agents.as_deref(),
                matrix,
                priority,
                &pools,
                actual.as_deref(),
                json,
            )
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
                // A plan file's text, exact: not output for a terminal.
                None => {
                    crate::out::bytes(text.as_bytes());
                    exit::OK
                }
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
                print_error(&failure.message());
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
            print_error(&failure.message());
            exit::USAGE
        }
    }
}

/// Why a plan could not be used.
pub(crate) enum Failure {
    /// The role file is bad or cannot be read.
    Roles(crate::cli::RolesError),
    /// The plan file is larger than the cap.
    Read(swarm_client::read::ReadError),
    /// The plan could not be read or is invalid.
    Plan(LoadError),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::Roles(e) => format!("swarmctl: {e}"),
            Failure::Read(e) => format!("swarmctl: {e}"),
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
    let text = input.plan_text().map_err(|e| match e {
        PlanReadError::Unreadable(e) => Failure::Plan(e),
        PlanReadError::TooLarge(e) => Failure::Read(e),
    })?;
    let name = input.file.display().to_string();
    let format = swarm_plan::Format::from_path(&input.file);
    swarm_plan::load_text(&text, &name, format, &catalogue)
        .map_err(|e| Failure::Plan(LoadError::Invalid(e)))
}

fn print_warnings(plan: &CompiledPlan) {
    for w in &plan.warnings {
        print_error(&w.to_string());
    }
}

/// Writes human output, control characters escaped (a closed pipe ends
/// swarmctl quietly).
fn print(text: &str) -> u8 {
    crate::out!("{text}");
    exit::OK
}

/// Writes to standard error, control characters escaped: diagnostics
/// quote plan text.
fn print_error(text: &str) {
    eprintln!("{}", printable_text(text));
}

/// Hours as people write them: `2`, `1.5`, `0.25`.
pub(crate) fn hours(secs: u64) -> String {
    let h = secs as f64 / 3600.0;
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
