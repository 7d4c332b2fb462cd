//! Compiling a plan sent over the wire (or stored), with the configured
//! roles and the plan's own.

use swarm_plan::{Catalogue, Format};

use super::command::LoadPlan;
use super::CoreError;

/// Compiles a plan sent over the wire.
pub(crate) fn compile(
    req: &LoadPlan,
    roles_file: Option<&std::path::Path>,
) -> Result<swarm_plan::CompiledPlan, CoreError> {
    let mut catalogue = Catalogue::builtin();
    if let Some(path) = roles_file {
        catalogue
            .extend_from_file(path)
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
    }
    if !req.roles_toml.is_empty() {
        catalogue
            .extend_from_toml(&req.roles_toml, "roles")
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
    }
    let format = if req.toml {
        Format::Toml
    } else {
        Format::Markdown
    };
    let name = if req.file_name.is_empty() {
        "plan"
    } else {
        &req.file_name
    };
    swarm_plan::load_text(&req.text, name, format, &catalogue)
        .map_err(|e| CoreError::Invalid(e.to_string()))
}
