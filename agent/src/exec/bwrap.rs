//! Bubblewrap (`bwrap`): finding a working one on this host, and the
//! arguments that put one command in the [sandbox](super::sandbox).
//!
//! Every sandbox gets its own PID namespace (`--unshare-pid`): when its
//! first process dies the kernel kills everything else in it, so nothing a
//! task starts (`setsid` daemons included) outlives it, and host processes
//! are not visible (`--proc /proc`). `--die-with-parent` ties that first
//! process to bwrap, which the agent's guard ties to the agent. bwrap sets
//! no-new-privileges, so `sudo` and other setuid programs fail inside.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::sandbox::{Filesystem, Network, Policy};

/// A bubblewrap that made a sandbox on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bwrap {
    /// Its absolute path.
    path: PathBuf,
    /// Whether it is setuid (then it clears the parent-death signal).
    setuid: bool,
}

/// What one sandbox holds.
pub(crate) struct Layout<'a> {
    /// The settings in force.
    pub policy: Policy,
    /// The task's working directory.
    pub workdir: &'a Path,
    /// Hidden: an empty directory over directories, `/dev/null` over files.
    pub hidden: &'a [PathBuf],
    /// Writable under `filesystem = "workdir"`.
    pub grants: &'a [PathBuf],
}

/// Finds `bwrap` on `PATH` and has it make a sandbox running `true`.
///
/// # Errors
/// Not found, or it could not make a sandbox here (with what it said).
pub(crate) fn find() -> Result<Bwrap, String> {
    let path = on_path("bwrap").ok_or_else(|| "bwrap (bubblewrap) is not on PATH".to_string())?;
    let setuid = std::fs::metadata(&path)
        .map(|m| m.permissions().mode() & 0o4000 != 0)
        .unwrap_or(false);
    let bwrap = Bwrap { path, setuid };
    let probe = Layout {
        policy: Policy::default(),
        workdir: Path::new("/"),
        hidden: &[],
        grants: &[],
    };
    let out = Command::new(&bwrap.path)
        .args(bwrap.argv(&probe).iter().skip(1))
        .arg("true")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{} cannot be run: {e}", bwrap.path.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot make a sandbox here ({}): {}",
            bwrap.path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(bwrap)
}

/// The first executable file `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

impl Bwrap {
    /// A bubblewrap at `path`, not checked (tests of the arguments).
    #[cfg(test)]
    pub(crate) fn unchecked(path: &str) -> Bwrap {
        Bwrap {
            path: PathBuf::from(path),
            setuid: false,
        }
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is setuid.
    pub(crate) fn setuid(&self) -> bool {
        self.setuid
    }

    /// `bwrap OPTIONS --`: the program and the arguments that come before
    /// the command.
    pub(crate) fn argv(&self, layout: &Layout<'_>) -> Vec<String> {
        let mut a = Argv(vec![self.path.display().to_string()]);
        a.flags(&["--die-with-parent", "--unshare-pid"]);
        if layout.policy.network == Network::None {
            a.flags(&["--unshare-net"]);
        }
        match layout.policy.filesystem {
            Filesystem::Host => a.mount("--bind", Path::new("/"), Path::new("/")),
            Filesystem::Workdir => {
                a.mount("--ro-bind", Path::new("/"), Path::new("/"));
                a.flags(&["--tmpfs", "/tmp"]);
                for dir in
                    std::iter::once(layout.workdir).chain(layout.grants.iter().map(|g| g.as_path()))
                {
                    if let Ok(dir) = std::fs::canonicalize(dir) {
                        a.mount("--bind", &dir, &dir);
                    }
                }
            }
        }
        a.flags(&["--dev", "/dev", "--proc", "/proc"]);
        let mut hidden_dirs = Vec::new();
        for path in layout.hidden {
            let Ok(path) = std::fs::canonicalize(path) else {
                continue;
            };
            if path.is_dir() {
                a.0.push("--tmpfs".into());
                a.0.push(path.display().to_string());
                hidden_dirs.push(path);
            } else {
                a.mount("--ro-bind", Path::new("/dev/null"), &path);
            }
        }
        // The working directory and the grants stay writable even inside a
        // hidden directory (an attempt's worktree and its clone's git
        // directory live in the agent's own): bound again over the tmpfs,
        // and nothing else of the hidden directory with them.
        for dir in std::iter::once(layout.workdir).chain(layout.grants.iter().map(|g| g.as_path()))
        {
            let Ok(dir) = std::fs::canonicalize(dir) else {
                continue;
            };
            if hidden_dirs.iter().any(|h| dir.starts_with(h)) {
                a.mount("--bind", &dir, &dir);
            }
        }
        if !layout.workdir.as_os_str().is_empty() {
            a.0.push("--chdir".into());
            a.0.push(layout.workdir.display().to_string());
        }
        a.0.push("--".into());
        a.0
    }
}

/// An argument list being built.
struct Argv(Vec<String>);

impl Argv {
    fn flags(&mut self, flags: &[&str]) {
        self.0.extend(flags.iter().map(|f| f.to_string()));
    }

    fn mount(&mut self, how: &str, from: &Path, to: &Path) {
        self.0.push(how.to_string());
        self.0.push(from.display().to_string());
        self.0.push(to.display().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bwrap() -> Bwrap {
        Bwrap::unchecked("/usr/bin/bwrap")
    }

    #[test]
    fn the_default_binds_the_host_and_hides_secrets() {
        let dir = tempfile::tempdir().expect("tmp");
        let secrets = dir.path().join(".swarm");
        std::fs::create_dir(&secrets).expect("dir");
        let key = dir.path().join("agent.key");
        std::fs::write(&key, "k").expect("key");
        let hidden = [secrets.clone(), key.clone(), dir.path().join("missing")];
        let layout = Layout {
            policy: Policy::default(),
            workdir: dir.path(),
            hidden: &hidden,
            grants: &[],
        };
        let argv = bwrap().argv(&layout).join(" ");
        let secrets = std::fs::canonicalize(&secrets).expect("canonical");
        let key = std::fs::canonicalize(&key).expect("canonical");
        assert!(argv.starts_with("/usr/bin/bwrap --die-with-parent --unshare-pid --bind / /"));
        assert!(
            argv.contains(&format!("--tmpfs {}", secrets.display())),
            "{argv}"
        );
        assert!(
            argv.contains(&format!("--ro-bind /dev/null {}", key.display())),
            "{argv}"
        );
        assert!(
            !argv.contains("missing") && !argv.contains("--unshare-net"),
            "{argv}"
        );
        assert!(argv.ends_with(" --"), "{argv}");
    }

    #[test]
    fn workdir_and_no_network_bind_read_only_and_unshare() {
        let dir = tempfile::tempdir().expect("tmp");
        let layout = Layout {
            policy: Policy {
                filesystem: Filesystem::Workdir,
                network: Network::None,
                ..Policy::default()
            },
            workdir: dir.path(),
            hidden: &[],
            grants: &[],
        };
        let argv = bwrap().argv(&layout).join(" ");
        let wd = std::fs::canonicalize(dir.path()).expect("canonical");
        assert!(
            argv.contains("--unshare-net --ro-bind / / --tmpfs /tmp"),
            "{argv}"
        );
        assert!(
            argv.contains(&format!("--bind {0} {0}", wd.display())),
            "{argv}"
        );
    }

    #[test]
    fn a_workdir_and_grants_inside_a_hidden_directory_stay_writable() {
        let Ok(bwrap) = find() else {
            eprintln!("no working bubblewrap on this host: nothing to check");
            return;
        };
        let dir = tempfile::tempdir().expect("tmp");
        let agent = dir.path().join(".swarm-agent/a");
        let worktree = agent.join("work/t-1");
        let git_dir = agent.join("repos/k/.git");
        for d in [&worktree, &git_dir] {
            std::fs::create_dir_all(d).expect("dir");
        }
        std::fs::write(agent.join("token"), "secret").expect("token");
        for filesystem in [Filesystem::Workdir, Filesystem::Host] {
            let hidden = [dir.path().join(".swarm-agent")];
            let grants = [git_dir.clone()];
            let layout = Layout {
                policy: Policy {
                    filesystem,
                    ..Policy::default()
                },
                workdir: &worktree,
                hidden: &hidden,
                grants: &grants,
            };
            let argv = bwrap.argv(&layout);
            let script = format!(
                "echo a > made && echo b > {}/written && ! test -e {}",
                git_dir.display(),
                agent.join("token").display()
            );
            let out = Command::new(&argv[0])
                .args(&argv[1..])
                .args(["sh", "-c", &script])
                .output()
                .expect("bwrap runs");
            assert!(
                out.status.success(),
                "{filesystem:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                std::fs::read_to_string(worktree.join("made")).expect("made"),
                "a\n"
            );
            assert_eq!(
                std::fs::read_to_string(git_dir.join("written")).expect("written"),
                "b\n"
            );
            std::fs::remove_file(worktree.join("made")).expect("rm");
        }
    }
}
