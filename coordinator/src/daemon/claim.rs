//! What one daemon holds before it serves: the workdir's state looked at
//! (a lost or damaged `swarmd.db` refused, naming it and the cure, before
//! anything is written), its state directory closed to others, its lock,
//! the state file, the tokens and the listener.

use crate::daemon::config;
use crate::daemon::exit::Exit;
use crate::edge::auth::Tokens;

/// The workdir's state looked at (a lost or damaged `swarmd.db` is
/// refused before anything is written), its state directory closed to
/// others, its lock, the state file (made before the tokens, so tokens
/// never sit beside no state), the tokens and the listener: what one
/// daemon holds. `fresh` moves the old state aside first. `swarmd run`
/// (`run_mode`) holds its tokens in memory: its tasks run in the workdir.
pub(crate) async fn claim(
    cfg: &config::Config,
    env: &dyn Fn(&str) -> Option<String>,
    fresh: bool,
    run_mode: bool,
) -> Result<
    (
        crate::daemon::lock::WorkdirLock,
        Tokens,
        tokio::net::TcpListener,
    ),
    Exit,
> {
    let state = cfg.core.state_dir();
    if !fresh {
        check_state(cfg)?;
    }
    if let Err(e) = crate::daemon::statedir::secure(&state) {
        eprintln!(
            "swarmd: cannot close {} to other users: {e}",
            state.display()
        );
        return Err(Exit::Usage);
    }
    let lock = match crate::daemon::lock::WorkdirLock::acquire(&state) {
        Ok(lock) => lock,
        Err(e @ crate::daemon::lock::LockError::Held { .. }) => {
            eprintln!("swarmd: {e}");
            return Err(Exit::Locked);
        }
        Err(e) => {
            eprintln!("swarmd: {e}");
            return Err(Exit::Usage);
        }
    };
    if fresh {
        start_over(&state)?;
    }
    if let Err(e) = swarm_memory::Store::open(&cfg.core.state_db_path()) {
        let file = cfg.core.state_db_path();
        if crate::daemon::statefiles::is_damage(&e) {
            let how = e.to_string();
            return Err(refuse(
                cfg,
                &crate::daemon::statefiles::Refusal::Damaged { file, how },
            ));
        }
        eprintln!("swarmd: cannot open {}: {e}", file.display());
        return Err(Exit::Usage);
    }
    let tokens = if run_mode {
        Tokens::in_memory(env)
    } else {
        Tokens::load_or_create(&state, env)
    };
    let tokens = tokens.map_err(|e| {
        let shown = state.display();
        eprintln!("swarmd: cannot read or create the tokens in {shown}: {e}");
        Exit::Usage
    })?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| {
            eprintln!("swarmd: cannot listen on {}: {e}", cfg.listen);
            Exit::Usage
        })?;
    Ok((lock, tokens, listener))
}

/// Refuses a lost or damaged `swarmd.db`, naming it and the cure; logs a
/// damaged `memory.db`. Changes nothing on disk.
fn check_state(cfg: &config::Config) -> Result<(), Exit> {
    use crate::daemon::statefiles;
    match statefiles::check(&cfg.core.state_dir()) {
        Ok(warnings) => {
            for w in warnings {
                tracing::warn!("{w}");
            }
            Ok(())
        }
        Err(refusal) => Err(refuse(cfg, &refusal)),
    }
}

/// Says why the state cannot be started on and the cure (naming the
/// newest backup when there is one).
pub(crate) fn refuse(cfg: &config::Config, refusal: &crate::daemon::statefiles::Refusal) -> Exit {
    let backups = cfg
        .backups
        .as_ref()
        .map_or_else(|| cfg.core.state_dir().join("backups"), |b| b.dir.clone());
    let newest = crate::workers::backups::newest(&backups);
    let cure =
        crate::daemon::statefiles::cure(&cfg.core.workdir, refusal.file(), newest.as_deref());
    eprintln!("swarmd: {}.\nTo go on: {cure}.", refusal.what());
    Exit::Usage
}

/// `--fresh`: the old state moved aside, said where.
fn start_over(state: &std::path::Path) -> Result<(), Exit> {
    let stamp = crate::workers::backups::stamp(swarm_memory::now_ms());
    match crate::daemon::statefiles::start_over(state, &stamp) {
        Ok(Some(aside)) => {
            eprintln!(
                "swarmd: --fresh: the old state is kept as {}; starting over with a new swarmd.db",
                aside.display()
            );
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => {
            eprintln!("swarmd: --fresh: {e}");
            Err(Exit::Usage)
        }
    }
}
