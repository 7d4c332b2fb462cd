//! What one setting is: its TOML key, environment variable, flag, default
//! and help, and the two functions that read it into a [`Draft`] and show
//! it back as TOML would hold it. The declarations themselves are in
//! `keys_core.rs`, `keys_daemon.rs` and `tables.rs`.

use std::path::PathBuf;
use std::time::Duration;

use toml::Value;

use super::{Config, TlsFlags};

/// The configuration while its layers are laid on: the [`Config`], and
/// the server's TLS files, which only make sense together once every
/// layer has spoken.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    /// Everything but the server's TLS.
    pub c: Config,
    /// `tls_cert`, `tls_key`, `tls_client_ca`, one at a time.
    pub tls: TlsFlags,
}

/// Why a value cannot be taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Bad {
    /// It has the wrong TOML type; the text says what is expected.
    Type(&'static str),
    /// It has the right type and a wrong value; the message names the key.
    Value(String),
}

impl From<String> for Bad {
    fn from(message: String) -> Self {
        Bad::Value(message)
    }
}

/// Reads a value into the draft.
pub type Apply = fn(&mut Draft, &Value) -> Result<(), Bad>;
/// The effective value as TOML would hold it; `None`: not set.
pub type Show = fn(&Config) -> Option<Value>;

/// How an environment variable's or a flag's text becomes a TOML value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Milliseconds, a whole number.
    Millis,
    /// A whole number.
    Count,
    /// A number of bytes.
    Bytes,
    /// A number, fractions allowed.
    Number,
    /// `true` or `false` (`1`, `0`, or empty in the environment).
    Switch,
    /// A path, taken as written.
    Path,
    /// Text the setting parses itself; `env_expected`, when given, is what
    /// an environment variable's error says was expected (otherwise the
    /// setting's own message is the error).
    Text {
        /// What the variable should hold, for its error message.
        env_expected: Option<&'static str>,
    },
}

impl Kind {
    /// What the text should hold, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Millis => "milliseconds",
            Kind::Count => "a whole number",
            Kind::Bytes => "a number of bytes",
            Kind::Number => "a number like 3600",
            Kind::Switch => "1, true, 0 or false",
            Kind::Path => "a path",
            Kind::Text { env_expected } => env_expected.unwrap_or("text"),
        }
    }

    /// The text as TOML would hold it; `None`: not of this kind.
    pub fn parse_text(self, text: &str) -> Option<Value> {
        match self {
            Kind::Millis | Kind::Count | Kind::Bytes => text
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|n| i64::try_from(n).ok())
                .map(Value::Integer),
            Kind::Number => text.trim().parse::<f64>().ok().map(Value::Float),
            Kind::Switch => match text {
                "1" | "true" => Some(Value::Boolean(true)),
                "0" | "false" | "" => Some(Value::Boolean(false)),
                _ => None,
            },
            Kind::Path | Kind::Text { .. } => Some(Value::String(text.to_string())),
        }
    }
}

/// How a flag's text maps onto the setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagUnit {
    /// The same text the environment variable takes.
    Same,
    /// Whole seconds, for a setting kept in milliseconds.
    Seconds,
    /// No value: giving the flag turns the setting on.
    Switch,
}

/// A setting's flag.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// `--LONG`.
    pub long: &'static str,
    /// The placeholder in `--help`.
    pub value_name: &'static str,
    /// How its text maps onto the setting.
    pub unit: FlagUnit,
}

impl Flag {
    /// The flag's text as TOML would hold it.
    pub fn to_value(self, kind: Kind, text: &str) -> Option<Value> {
        match self.unit {
            FlagUnit::Same => kind.parse_text(text),
            FlagUnit::Seconds => text
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .filter(|ms| *ms >= 0)
                .map(Value::Integer),
            FlagUnit::Switch => Kind::Switch.parse_text(text),
        }
    }
}

/// One setting, declared once.
#[derive(Debug)]
pub struct Setting {
    /// The key as the config file spells it.
    pub key: &'static str,
    /// Its environment variable, if any.
    pub env: Option<&'static str>,
    /// Its flag, if any.
    pub flag: Option<Flag>,
    /// The default, as `--help` and the README say it.
    pub default: &'static str,
    /// What it means.
    pub help: &'static str,
    /// How the environment's (and the flag's) text is read.
    pub kind: Kind,
    /// Reads a value into the draft.
    pub apply: Apply,
    /// Shows the effective value.
    pub show: Show,
}

/// Milliseconds.
pub fn millis(v: &Value) -> Result<Duration, Bad> {
    whole(v).map(Duration::from_millis)
}

/// A whole number at or above zero.
pub fn whole(v: &Value) -> Result<u64, Bad> {
    match v {
        Value::Integer(n) => u64::try_from(*n).map_err(|_| Bad::Type("a whole number >= 0")),
        _ => Err(Bad::Type("a whole number >= 0")),
    }
}

/// A whole number that fits `T`.
pub fn count<T: TryFrom<u64>>(v: &Value) -> Result<T, Bad> {
    T::try_from(whole(v)?).map_err(|_| Bad::Type("a smaller whole number"))
}

/// A number, fractions allowed.
pub fn number(v: &Value) -> Result<f64, Bad> {
    match v {
        Value::Float(f) => Ok(*f),
        // A config's `3600` is as good as `3600.0`.
        #[allow(clippy::cast_precision_loss)]
        Value::Integer(n) => Ok(*n as f64),
        _ => Err(Bad::Type("a number")),
    }
}

/// `true` or `false`.
pub fn switch(v: &Value) -> Result<bool, Bad> {
    v.as_bool().ok_or(Bad::Type("true or false"))
}

/// A string.
pub fn text(v: &Value) -> Result<&str, Bad> {
    v.as_str().ok_or(Bad::Type("a string"))
}

/// A path.
pub fn path(v: &Value) -> Result<PathBuf, Bad> {
    text(v).map(PathBuf::from)
}

/// A duration shown as milliseconds.
pub fn show_ms(d: Duration) -> Option<Value> {
    Some(show_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
}

/// A whole number shown as TOML holds it (TOML integers are i64).
pub fn show_u64(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A path shown as a string.
pub fn show_path(p: &std::path::Path) -> Option<Value> {
    Some(Value::String(p.display().to_string()))
}

/// Minutes after midnight as `HH:MM`.
pub fn show_hhmm(minutes: u16) -> Option<Value> {
    Some(Value::String(format!(
        "{:02}:{:02}",
        minutes / 60,
        minutes % 60
    )))
}

/// Ms since the epoch as `YYYY-MM-DDTHH:MM` (UTC), as `start` takes it.
pub fn show_start(ms: i64) -> Value {
    let day = ms.div_euclid(86_400_000);
    let minute = ms.rem_euclid(86_400_000) / 60_000;
    let (y, m, d) = swarm_core::clock::civil_from_days(day);
    Value::String(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}",
        minute / 60,
        minute % 60
    ))
}
