//! The open-file limit: every simulated agent holds a connection in this
//! process and another in the coordinator's, so ten thousand agents need
//! more descriptors than the usual soft limit of 1,024. The soft limit is
//! raised (up to the hard limit) before the coordinator child is spawned,
//! which inherits it.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Descriptors wanted beside one per agent: the store, the listener,
/// the control client, the runtime.
const SPARE: u64 = 256;

/// Raises the soft open-file limit so that `agents` connections fit;
/// returns the limit now in force.
///
/// # Errors
/// When the hard limit is too low (only root may raise it), naming both
/// numbers and the cure.
pub(crate) fn raise_open_files(agents: u64) -> anyhow::Result<u64> {
    let needed = agents.saturating_add(SPARE);
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= needed {
        return Ok(soft);
    }
    anyhow::ensure!(
        hard >= needed,
        "{agents} agents need about {needed} open files, but the hard limit is {hard}: raise it (ulimit -Hn {needed}, as root) or run fewer agents"
    );
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard)?;
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_covers_the_agents_after_raising() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        let agents = hard.min(4_096).saturating_sub(SPARE).max(1);
        let now = raise_open_files(agents).expect("raised");
        assert!(now >= agents + SPARE);
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        assert!(soft >= agents + SPARE);
        if hard < u64::MAX - SPARE {
            let err = raise_open_files(hard).expect_err("over the hard limit");
            assert!(err.to_string().contains("hard limit"), "{err}");
        }
    }
}
