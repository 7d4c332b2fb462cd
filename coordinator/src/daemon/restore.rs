//! `swarmd restore BACKUP --workdir NEW`: a workdir rebuilt from a backup,
//! refused while a daemon holds it.

use crate::daemon::exit::Exit;

/// `swarmd restore BACKUP --workdir NEW`.
pub fn restore(backup: &std::path::Path, workdir: Option<&std::path::Path>) -> Exit {
    let Some(workdir) = workdir else {
        eprintln!("swarmd restore: give the workdir to rebuild with --workdir NEW");
        return Exit::Usage;
    };
    let state = workdir.join(".swarm");
    // A daemon holding the workdir keeps it: nothing is overwritten.
    let _lock = match crate::daemon::lock::WorkdirLock::acquire(&state) {
        Ok(lock) => lock,
        Err(e @ crate::daemon::lock::LockError::Held { .. }) => {
            eprintln!("swarmd restore: {e}");
            return Exit::Locked;
        }
        Err(e) => {
            eprintln!("swarmd restore: {e}");
            return Exit::Usage;
        }
    };
    match swarm_memory::backup::restore(backup, &state) {
        Ok(m) => {
            println!(
                "restored {} into {} ({}); start swarmd --workdir {} to go on",
                backup.display(),
                state.display(),
                if m.plan.is_empty() {
                    "no plan".to_string()
                } else {
                    m.plan
                },
                workdir.display()
            );
            Exit::Ok
        }
        Err(e) => {
            eprintln!("swarmd restore: {e}");
            Exit::Usage
        }
    }
}
