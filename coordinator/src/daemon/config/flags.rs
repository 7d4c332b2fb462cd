//! The settings' flags: one clap argument per declared flag, made from
//! the declaration (so `--help` and the loader cannot disagree), and the
//! flag layer they produce.

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::setting::{Draft, FlagUnit, Setting};
use super::settings;

/// The flags given, as text by config key, in the order given.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    given: Vec<(&'static str, String)>,
    fallback: Vec<(&'static str, String)>,
}

impl Flags {
    /// Adds the flag of setting `key` with `text` (as typed after it;
    /// `true` for a switch).
    #[must_use]
    pub fn with(mut self, key: &'static str, text: impl Into<String>) -> Flags {
        self.given.push((key, text.into()));
        self
    }

    /// Adds a value that counts as a flag only when neither a flag nor the
    /// environment sets `key` (`swarmd run` picks a free port this way).
    #[must_use]
    pub fn with_fallback(mut self, key: &'static str, text: impl Into<String>) -> Flags {
        self.fallback.push((key, text.into()));
        self
    }

    pub(super) fn given(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.given.iter().map(|(k, v)| (*k, v.as_str()))
    }

    pub(super) fn fallback(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.fallback.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// The settings' flags on `swarmd`'s command line (flattened into it).
#[derive(Debug, Default, Clone)]
pub struct SettingFlags(pub Flags);

impl clap::FromArgMatches for SettingFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Flags::default();
        for s in settings() {
            let Some(flag) = s.flag else { continue };
            match flag.unit {
                FlagUnit::Switch => {
                    if m.get_flag(s.key) {
                        flags = flags.with(s.key, "true");
                    }
                }
                FlagUnit::Same | FlagUnit::Seconds => {
                    if let Some(text) = m.get_one::<String>(s.key) {
                        flags = flags.with(s.key, text.clone());
                    }
                }
            }
        }
        Ok(SettingFlags(flags))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for SettingFlags {
    fn augment_args(cmd: Command) -> Command {
        settings().fold(cmd, |cmd, s| match arg(s) {
            Some(a) => cmd.arg(a),
            None => cmd,
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// The clap argument of a setting's flag; its value is checked by the
/// setting's own reader, so a bad one is refused before anything starts.
fn arg(s: &'static Setting) -> Option<Arg> {
    let flag = s.flag?;
    let env = s.env.map(|e| format!(", {e}")).unwrap_or_default();
    let help = format!("{} [config {}{env}; default {}]", s.help, s.key, s.default);
    let a = Arg::new(s.key).long(flag.long).global(true).help(help);
    Some(match flag.unit {
        FlagUnit::Switch => a.action(ArgAction::SetTrue),
        FlagUnit::Same | FlagUnit::Seconds => a
            .value_name(flag.value_name)
            .action(ArgAction::Set)
            .value_parser(move |text: &str| -> Result<String, String> {
                super::layers::flag_value(&mut Draft::default(), s, text)
                    .map(|()| text.to_string())
                    .map_err(|e| e.to_string())
            }),
    })
}
