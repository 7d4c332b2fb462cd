//! Workspace-level end-to-end tests.
//!
//! Tests in this crate start the real binaries (`swarmd`, `swarm-agent`,
//! `swarmctl`) on ephemeral ports and temporary directories and assert on
//! what a user sees: `swarmctl ... --json`, the database, the report file.
//! This library holds the helpers those tests share: finding the built
//! binaries and creating scratch working directories.

use std::path::PathBuf;

/// Path of a binary built from this workspace (`swarmctl`, `swarmd`, ...).
///
/// Integration tests of this crate run after `cargo test --workspace` has
/// built every binary of the workspace into the same target directory as the
/// test executable itself, so the binary sits next to that directory.
pub fn workspace_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/debug/deps/test-xxxx -> target/debug
    let dir = exe.parent()?.parent()?;
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    path.exists().then_some(path)
}

/// Path of the example plans shipped with the repository.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples")
}
