//! One declaration, four layers: precedence per kind of setting, where
//! each value came from, file:line in errors, and the README and
//! `--help` listing every key.

use super::show::{rows, Row};
use super::*;

/// The row of `key` after loading these layers.
fn row(file: Option<&str>, env: &[(&str, &str)], flags: &Flags, key: &str) -> Row {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("swarmd.toml");
    if let Some(text) = file {
        std::fs::write(&path, text).expect("write");
    }
    let env = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let loaded = load_traced(file.map(|_| path.as_path()), &env, flags).expect("valid");
    rows(&loaded)
        .into_iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row for {key}"))
}

#[test]
fn default_file_env_flag_in_that_order_for_every_kind_of_setting() {
    use toml::Value as V;
    // (key, variable, file value, env text, flag text, the four values)
    let cases = [
        (
            "shutdown_timeout_ms",
            "SWARM_SHUTDOWN_TIMEOUT_MS",
            "2000",
            "3000",
            "4",
            [
                V::Integer(10_000),
                V::Integer(2000),
                V::Integer(3000),
                V::Integer(4000),
            ],
        ),
        (
            "time_scale",
            "SWARM_TIME_SCALE",
            "2.5",
            "3",
            "4",
            [V::Float(1.0), V::Float(2.5), V::Float(3.0), V::Float(4.0)],
        ),
        (
            "pace",
            "SWARM_PACE",
            "\"calendar\"",
            "asap",
            "calendar",
            [
                "asap".into(),
                "calendar".into(),
                "asap".into(),
                "calendar".into(),
            ],
        ),
        (
            "insecure",
            "SWARM_INSECURE",
            "true",
            "0",
            "true",
            [
                V::Boolean(false),
                V::Boolean(true),
                V::Boolean(false),
                V::Boolean(true),
            ],
        ),
        (
            "workdir",
            "SWARM_WORKDIR",
            "\"/a\"",
            "/b",
            "/c",
            [".".into(), "/a".into(), "/b".into(), "/c".into()],
        ),
        (
            "listen",
            "SWARM_LISTEN",
            "\"127.0.0.1:1\"",
            "127.0.0.1:2",
            "127.0.0.1:3",
            [
                "127.0.0.1:7420".into(),
                "127.0.0.1:1".into(),
                "127.0.0.1:2".into(),
                "127.0.0.1:3".into(),
            ],
        ),
        (
            "http_listen",
            "SWARM_HTTP",
            "\"off\"",
            "127.0.0.1:9",
            "off",
            [
                "127.0.0.1:7421".into(),
                "off".into(),
                "127.0.0.1:9".into(),
                "off".into(),
            ],
        ),
    ];
    for (key, var, file, env, flag, [d, f, e, g]) in cases {
        let file = format!("{key} = {file}\n");
        let flags = Flags::default().with(setting(key).expect("declared").key, flag);
        let none = Flags::default();
        let layers = [
            (row(None, &[], &none, key), d, Source::Default),
            (row(Some(&file), &[], &none, key), f, Source::File),
            (row(Some(&file), &[(var, env)], &none, key), e, Source::Env),
            (
                row(Some(&file), &[(var, env)], &flags, key),
                g,
                Source::Flag,
            ),
        ];
        for (got, value, source) in layers {
            assert_eq!((got.value, got.source), (Some(value), source), "{key}");
        }
    }
}

#[test]
fn file_only_settings_and_tables_show_file_or_default() {
    let text = "max_losses = 3\n[scale.sre]\nmax = 2\n[exec]\nqa = \"make test\"\n";
    let none = Flags::default();
    let r = row(Some(text), &[], &none, "max_losses");
    assert_eq!(
        (r.value, r.source),
        (Some(toml::Value::Integer(3)), Source::File)
    );
    let r = row(Some(text), &[], &none, "default_retries");
    assert_eq!(
        (r.value, r.source),
        (Some(toml::Value::Integer(0)), Source::Default)
    );
    let r = row(Some(text), &[], &none, "scale.sre.max");
    assert_eq!(
        (r.value, r.source),
        (Some(toml::Value::Integer(2)), Source::File)
    );
    let r = row(Some(text), &[], &none, "exec.qa");
    assert_eq!(r.source, Source::File);
    let r = row(Some(text), &[], &none, "exec.default");
    assert_eq!((r.value, r.source), (None, Source::Default));
}

#[test]
fn every_setting_is_shown_once_and_json_has_key_value_source() {
    let loaded = load_traced(None, &|_| None, &Flags::default()).expect("defaults");
    let shown = rows(&loaded);
    for s in settings() {
        assert_eq!(
            shown.iter().filter(|r| r.key == s.key).count(),
            1,
            "{}",
            s.key
        );
    }
    let json = show::json(&shown);
    let first = &json[0];
    assert_eq!(first["key"], "workdir");
    assert_eq!(first["value"], ".");
    assert_eq!(first["source"], "default");
    let table = show::table(&shown);
    assert!(table.starts_with("KEY"), "{table}");
    assert!(table.contains("lease_ttl_ms"), "{table}");
}

#[test]
fn run_mode_port_yields_to_the_environment_and_flags_only() {
    let file = "listen = \"127.0.0.1:9000\"\n";
    let run = Flags::default().with_fallback("listen", "127.0.0.1:0");
    let r = row(Some(file), &[], &run, "listen");
    assert_eq!(r.value, Some("127.0.0.1:0".into()));
    let r = row(
        Some(file),
        &[("SWARM_LISTEN", "127.0.0.1:9001")],
        &run,
        "listen",
    );
    assert_eq!(
        (r.value, r.source),
        (Some("127.0.0.1:9001".into()), Source::Env)
    );
    let told = run.clone().with("listen", "127.0.0.1:9002");
    let r = row(Some(file), &[], &told, "listen");
    assert_eq!(r.value, Some("127.0.0.1:9002".into()));
}

#[test]
fn file_errors_name_the_file_the_line_and_what_would_do() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    for (text, line, wanted) in [
        (
            "gates = true\nlease_ttl_ms = \"soon\"\n",
            2,
            "lease_ttl_ms = \"soon\": expected",
        ),
        (
            "\n\nleese_ttl_ms = 5\n",
            3,
            "unknown key `leese_ttl_ms`; the keys are",
        ),
        ("heartbeat_ms = = 3\n", 1, ""),
        (
            "[scale.qa]\nmin = 2\nmax = 1\n",
            1,
            "scale.qa: min (2) is above max (1)",
        ),
    ] {
        std::fs::write(&file, text).expect("write");
        let err = load(Some(&file), &|_| None, &Flags::default())
            .expect_err(text)
            .to_string();
        let at = format!("config {}:{line}: ", file.display());
        assert!(
            err.starts_with(&at) && err.contains(wanted),
            "{text}: {err}"
        );
    }
}

#[test]
fn flags_refuse_what_their_setting_refuses() {
    let err = load(None, &|_| None, &Flags::default().with("pace", "soon"))
        .expect_err("bad pace")
        .to_string();
    assert!(
        err.contains("--pace soon") && err.contains("asap or calendar"),
        "{err}"
    );
    let err = load(None, &|_| None, &Flags::default().with("heartbeat_ms", "5"))
        .expect_err("no such flag")
        .to_string();
    assert!(err.contains("heartbeat_ms has no flag") && err.contains("SWARM_HEARTBEAT_MS"));
}

#[test]
fn help_lists_every_key_with_its_variable() {
    use clap::CommandFactory as _;
    let help = crate::daemon::cli::Cli::command()
        .render_long_help()
        .to_string();
    for s in settings() {
        assert!(help.contains(s.key), "--help lacks {}", s.key);
        if let Some(env) = s.env {
            assert!(help.contains(env), "--help lacks {env}");
        }
    }
    for t in tables::TABLE_KEYS {
        assert!(help.contains(t.key), "--help lacks {}", t.key);
    }
}

/// The README's table is the declaration's; `SWARMD_BLESS_README=1`
/// rewrites it after a change to the declaration.
#[test]
fn readme_lists_every_setting_as_declared() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README");
    let (begin, end) = show::README_MARKERS;
    let start = readme
        .find(begin)
        .expect("README has the settings' begin marker")
        + begin.len();
    let stop = readme
        .find(end)
        .expect("README has the settings' end marker");
    let wanted = format!("\n{}", show::readme_table());
    if std::env::var_os("SWARMD_BLESS_README").is_some() {
        let updated = format!("{}{wanted}{}", &readme[..start], &readme[stop..]);
        std::fs::write(path, updated).expect("write README");
        return;
    }
    assert!(
        readme[start..stop] == wanted,
        "README's settings table differs from the declaration; run this test with \
         SWARMD_BLESS_README=1 to regenerate it. Wanted:\n{wanted}"
    );
}
