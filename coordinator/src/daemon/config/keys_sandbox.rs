//! `[sandbox]`: how the agents swarmd starts (the process, docker and
//! swarm provisioners, `swarmd run`'s local agents) sandbox their tasks —
//! the settings `swarm-agent` takes as `--sandbox`, `--sandbox-filesystem`,
//! `--sandbox-network` and `--sandbox-grant`, declared once like every
//! other key (`sandbox.mode` is `[sandbox] mode` in the file). A role's
//! profile may override the first three for its tasks (`sandbox`,
//! `sandbox_filesystem`, `sandbox_network` in the roles file).

use std::path::PathBuf;

use swarm_roles::sandbox::{Choice, Filesystem, Mode, Network};
use toml::Value;

use super::setting::{text, Bad, Flag, FlagUnit, Kind, Setting};

/// The sandbox of the tasks of the agents swarmd starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSandbox {
    /// `sandbox.mode`: auto, required or off.
    pub mode: Mode,
    /// `sandbox.filesystem`: host or workdir.
    pub filesystem: Filesystem,
    /// `sandbox.network`: host or none.
    pub network: Network,
    /// `sandbox.grant`: directories tasks may write under
    /// `filesystem = "workdir"`, as the agent's host (or container) sees
    /// them.
    pub grants: Vec<PathBuf>,
}

impl AgentSandbox {
    /// The agent's flags that carry these settings; every one is given,
    /// so what the agent inherits from swarmd's environment never counts.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--sandbox".to_string(),
            self.mode.as_str().to_string(),
            "--sandbox-filesystem".to_string(),
            self.filesystem.as_str().to_string(),
            "--sandbox-network".to_string(),
            self.network.as_str().to_string(),
        ];
        for dir in &self.grants {
            args.push("--sandbox-grant".to_string());
            args.push(dir.display().to_string());
        }
        args
    }
}

/// The agents' variables the flags above replace: removed from a launched
/// agent's environment.
pub const AGENT_ENV: [&str; 3] = [
    "SWARM_SANDBOX",
    "SWARM_SANDBOX_FILESYSTEM",
    "SWARM_SANDBOX_NETWORK",
];

const fn flag(long: &'static str, value_name: &'static str) -> Option<Flag> {
    Some(Flag {
        long,
        value_name,
        unit: FlagUnit::Same,
    })
}

/// One of a setting's choices, or an error naming the key.
fn choice<T: Choice>(key: &str, v: &Value) -> Result<T, Bad> {
    T::parse_as(key, text(v)?).map_err(Bad::Value)
}

/// The `[sandbox]` settings, in the order they are applied.
pub static SANDBOX: &[Setting] = &[
    Setting {
        key: "sandbox.mode",
        env: Some("SWARM_SANDBOX"),
        flag: flag("sandbox", "MODE"),
        default: "auto",
        help: "Tasks of the agents swarmd starts run under bubblewrap: auto (where it works), \
               required (an agent without it refuses to start) or off",
        kind: Kind::Text {
            env_expected: Some("auto, required or off"),
        },
        apply: |d, v| {
            d.c.sandbox.mode = choice("sandbox.mode", v)?;
            Ok(())
        },
        show: |c| Some(Value::String(c.sandbox.mode.as_str().into())),
    },
    Setting {
        key: "sandbox.filesystem",
        env: Some("SWARM_SANDBOX_FILESYSTEM"),
        flag: flag("sandbox-filesystem", "WHAT"),
        default: "host",
        help: "What those tasks may write: host (what the agent's user may) or workdir (their \
               working directory, a private /tmp and sandbox.grant; the rest read-only)",
        kind: Kind::Text {
            env_expected: Some("host or workdir"),
        },
        apply: |d, v| {
            d.c.sandbox.filesystem = choice("sandbox.filesystem", v)?;
            Ok(())
        },
        show: |c| Some(Value::String(c.sandbox.filesystem.as_str().into())),
    },
    Setting {
        key: "sandbox.network",
        env: Some("SWARM_SANDBOX_NETWORK"),
        flag: flag("sandbox-network", "WHAT"),
        default: "host",
        help: "Network of those tasks: host, or none (they still reach swarmd through their \
               agent)",
        kind: Kind::Text {
            env_expected: Some("host or none"),
        },
        apply: |d, v| {
            d.c.sandbox.network = choice("sandbox.network", v)?;
            Ok(())
        },
        show: |c| Some(Value::String(c.sandbox.network.as_str().into())),
    },
    Setting {
        key: "sandbox.grant",
        env: None,
        flag: None,
        default: "[]",
        help: "Directories those tasks may also write under filesystem = \"workdir\" (paths on \
               the agents' hosts)",
        kind: Kind::Path,
        apply: |d, v| {
            let items = v.as_array().ok_or(Bad::Type("an array of directories"))?;
            let mut grants = Vec::new();
            for item in items {
                let dir = text(item).map_err(|_| Bad::Type("an array of directories"))?;
                if dir.trim().is_empty() {
                    return Err(Bad::Value(
                        "sandbox.grant holds an empty path; name a directory".into(),
                    ));
                }
                grants.push(PathBuf::from(dir));
            }
            d.c.sandbox.grants = grants;
            Ok(())
        },
        show: |c| {
            let dirs = c.sandbox.grants.iter();
            let dirs = dirs.map(|p| Value::String(p.display().to_string()));
            Some(Value::Array(dirs.collect()))
        },
    },
];

#[cfg(test)]
mod tests {
    use super::super::{load, load_traced, show, Flags, Source};
    use super::*;

    /// Loads `text` as the config file, with `env` and `flags`.
    fn loaded(
        text: &str,
        env: &[(&str, &str)],
        flags: &Flags,
    ) -> Result<super::super::Loaded, String> {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("swarmd.toml");
        std::fs::write(&file, text).expect("write");
        let env = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        load_traced(Some(&file), &env, flags).map_err(|e| e.to_string())
    }

    #[test]
    fn the_table_the_environment_and_the_flags_set_it_in_that_order() {
        let text =
            "[sandbox]\nmode = \"off\"\nfilesystem = \"workdir\"\ngrant = [\"/srv/cache\"]\n";
        let l = loaded(text, &[], &Flags::default()).expect("valid");
        let s = &l.config.sandbox;
        assert_eq!(
            (s.mode, s.filesystem, s.network),
            (Mode::Off, Filesystem::Workdir, Network::Host)
        );
        assert_eq!(s.grants, [PathBuf::from("/srv/cache")]);
        assert_eq!(l.origin("sandbox.mode"), Source::File);
        let env = [("SWARM_SANDBOX", "required")];
        let flags = Flags::default().with("sandbox.network", "none");
        let l = loaded(text, &env, &flags).expect("valid");
        assert_eq!(l.config.sandbox.mode, Mode::Required);
        assert_eq!(l.config.sandbox.network, Network::None);
        assert_eq!(l.origin("sandbox.mode"), Source::Env);
        assert_eq!(l.origin("sandbox.network"), Source::Flag);
        // `swarmd config show` lists each key with its value.
        let rows = show::rows(&l);
        let row = |k: &str| rows.iter().find(|r| r.key == k).cloned().expect(k);
        assert_eq!(
            row("sandbox.mode").value,
            Some(Value::String("required".into()))
        );
        assert_eq!(row("sandbox.filesystem").source, Source::File);
        let grant = row("sandbox.grant").value.expect("set");
        assert_eq!(
            grant,
            Value::Array(vec![Value::String("/srv/cache".into())])
        );
    }

    #[test]
    fn bad_values_name_the_key_its_line_and_the_choices() {
        let none = Flags::default();
        let err = loaded("gates = true\n[sandbox]\nnetwork = \"lan\"\n", &[], &none).unwrap_err();
        assert!(
            err.contains(":3: sandbox.network = \"lan\" is not a choice; valid: host, none"),
            "{err}"
        );
        let err = loaded(
            "[sandbox]\nmode = \"off\"\nfilesytem = \"workdir\"\n",
            &[],
            &none,
        )
        .unwrap_err();
        assert!(
            err.contains(":3: unknown key `filesytem` in [sandbox]; the keys are mode, filesystem, network, grant"),
            "{err}"
        );
        let err = loaded("sandbox = \"off\"\n", &[], &none).unwrap_err();
        assert!(
            err.contains(":1: sandbox must be a table ([sandbox])"),
            "{err}"
        );
        let err = loaded("[sandbox]\ngrant = \"/srv\"\n", &[], &none).unwrap_err();
        assert!(
            err.contains("sandbox.grant = \"/srv\": expected an array of directories"),
            "{err}"
        );
        let env = |k: &str| (k == "SWARM_SANDBOX").then(|| "sometimes".to_string());
        let err = load(None, &env, &none).unwrap_err().to_string();
        assert_eq!(
            err,
            "SWARM_SANDBOX=sometimes: expected auto, required or off"
        );
        let flags = Flags::default().with("sandbox.filesystem", "all");
        let err = load(None, &|_| None, &flags).unwrap_err().to_string();
        assert!(
            err.contains("--sandbox-filesystem all") && err.contains("host, workdir"),
            "{err}"
        );
    }

    #[test]
    fn every_setting_becomes_an_agent_flag() {
        let s = AgentSandbox {
            mode: Mode::Required,
            filesystem: Filesystem::Workdir,
            network: Network::None,
            grants: vec![PathBuf::from("/srv/cache")],
        };
        assert_eq!(
            s.args(),
            [
                "--sandbox",
                "required",
                "--sandbox-filesystem",
                "workdir",
                "--sandbox-network",
                "none",
                "--sandbox-grant",
                "/srv/cache"
            ]
        );
        assert_eq!(
            AgentSandbox::default().args(),
            [
                "--sandbox",
                "auto",
                "--sandbox-filesystem",
                "host",
                "--sandbox-network",
                "host"
            ]
        );
    }
}
