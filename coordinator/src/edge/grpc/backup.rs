//! `swarmctl backup DIR`: a consistent copy of the state directory,
//! taken off the runtime's threads.

use swarm_proto::v1 as pb;
use tonic::Status;

/// Backs `state_dir` up into `dir`; the manifest, as JSON.
pub(super) async fn take(
    state_dir: &std::path::Path,
    dir: String,
) -> Result<pb::BackupReply, Status> {
    if dir.trim().is_empty() {
        return Err(Status::invalid_argument(
            "give the directory to back up into",
        ));
    }
    let state = state_dir.to_path_buf();
    let taken = tokio::task::spawn_blocking(move || {
        swarm_memory::backup::take(
            &state,
            std::path::Path::new(&dir),
            swarm_memory::now_ms(),
            env!("CARGO_PKG_VERSION"),
        )
    })
    .await
    .map_err(|e| Status::internal(format!("the backup stopped: {e}")))?
    .map_err(|e| Status::failed_precondition(format!("cannot back up: {e}")))?;
    Ok(pb::BackupReply {
        manifest: serde_json::to_string_pretty(&taken).unwrap_or_default(),
    })
}
