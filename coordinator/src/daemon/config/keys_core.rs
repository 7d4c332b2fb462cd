//! The scheduler core's settings ([`CoreConfig`](super::CoreConfig)), each
//! declared once: key, variable, flag, default, help, how it is read and
//! how it is shown.

use toml::Value;

use super::setting::{
    count, millis, number, path, show_hhmm, show_ms, show_path, show_start, show_u64, switch, text,
    whole, Bad, Flag, FlagUnit, Kind, Setting,
};

const fn flag(long: &'static str, value_name: &'static str) -> Option<Flag> {
    Some(Flag {
        long,
        value_name,
        unit: FlagUnit::Same,
    })
}

/// The core's settings, in the order they are applied.
pub static CORE: &[Setting] = &[
    Setting {
        key: "workdir",
        env: Some("SWARM_WORKDIR"),
        flag: flag("workdir", "DIR"),
        default: ".",
        help: "Working directory; state lives in WORKDIR/.swarm/",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.core.workdir = path(v)?;
            Ok(())
        },
        show: |c| show_path(&c.core.workdir),
    },
    Setting {
        key: "heartbeat_ms",
        env: Some("SWARM_HEARTBEAT_MS"),
        flag: None,
        default: "5000",
        help: "How often agents send a heartbeat",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.core.heartbeat = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.core.heartbeat),
    },
    Setting {
        key: "lease_ttl_ms",
        env: Some("SWARM_LEASE_TTL_MS"),
        flag: None,
        default: "15000",
        help: "An agent silent this long is lost and its attempts re-queued",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.core.lease_ttl = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.core.lease_ttl),
    },
    Setting {
        key: "reconnect_grace_ms",
        env: Some("SWARM_RECONNECT_GRACE_MS"),
        flag: None,
        default: "20000",
        help: "After a restart, how long agents have to reconnect and resume",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.core.reconnect_grace = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.core.reconnect_grace),
    },
    Setting {
        key: "default_retries",
        env: None,
        flag: None,
        default: "0",
        help: "Retries of a failed task when its plan gives none",
        kind: Kind::Count,
        apply: |d, v| {
            d.c.core.default_retries = count(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.core.default_retries.into())),
    },
    Setting {
        key: "retry_backoff_ms",
        env: Some("SWARM_RETRY_BACKOFF_MS"),
        flag: None,
        default: "1000",
        help: "First retry delay; doubles with each failure",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.core.retry_backoff = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.core.retry_backoff),
    },
    Setting {
        key: "retry_backoff_max_ms",
        env: None,
        flag: None,
        default: "60000",
        help: "Longest retry delay",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.core.retry_backoff_max = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.core.retry_backoff_max),
    },
    Setting {
        key: "max_losses",
        env: None,
        flag: None,
        default: "5",
        help: "A task that loses its agent this many times fails",
        kind: Kind::Count,
        apply: |d, v| {
            d.c.core.max_losses = count(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.core.max_losses.into())),
    },
    Setting {
        key: "max_rate_limited",
        env: None,
        flag: None,
        default: "20",
        help: "A task rate limited this many times in a row waits for an operator (swarmctl task \
               retry ID); rate-limited attempts use no retry",
        kind: Kind::Count,
        apply: |d, v| {
            d.c.core.max_rate_limited = count(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.core.max_rate_limited.into())),
    },
    Setting {
        key: "default_pool",
        env: None,
        flag: None,
        default: "default",
        help: "The pool of a rate-limited API that tasks draw on; a rate limit pauses the pool \
               until its reset time",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let name = text(v)?.trim();
            if name.is_empty() {
                return Err(Bad::Value("default_pool must name a pool".into()));
            }
            d.c.core.default_pool = name.to_string();
            Ok(())
        },
        show: |c| Some(Value::String(c.core.default_pool.clone())),
    },
    Setting {
        key: "log_cap_bytes",
        env: None,
        flag: None,
        default: "1048576",
        help: "Output kept per attempt (the tail), in bytes",
        kind: Kind::Bytes,
        apply: |d, v| {
            d.c.core.log_cap_bytes = whole(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.core.log_cap_bytes)),
    },
    Setting {
        key: "max_plan_bytes",
        env: Some("SWARM_MAX_PLAN_BYTES"),
        flag: None,
        default: "268435456",
        help: "Largest plan text `swarmctl plan load` may send (256 MiB)",
        kind: Kind::Bytes,
        apply: |d, v| {
            d.c.core.max_plan_bytes = whole(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.core.max_plan_bytes)),
    },
    Setting {
        key: "gates",
        env: None,
        flag: Some(Flag {
            long: "gates",
            value_name: "",
            unit: FlagUnit::Switch,
        }),
        default: "false",
        help: "Day gates: a day's checklist and exit criteria hold back the tasks after them \
               until their checks pass or `swarmctl gate approve DAY`",
        kind: Kind::Switch,
        apply: |d, v| {
            d.c.core.gates = switch(v)?;
            Ok(())
        },
        show: |c| Some(Value::Boolean(c.core.gates)),
    },
    Setting {
        key: "roles_file",
        env: Some("SWARM_ROLES"),
        flag: None,
        default: "none",
        help: "Extra roles for plans, as a roles TOML file",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.core.roles_file = Some(path(v)?);
            Ok(())
        },
        show: |c| c.core.roles_file.as_deref().and_then(show_path),
    },
    Setting {
        key: "time_scale",
        env: Some("SWARM_TIME_SCALE"),
        flag: flag("time-scale", "K"),
        default: "1",
        help: "Run the plan clock this many times faster than wall time (3600: one plan hour \
               per second)",
        kind: Kind::Number,
        apply: |d, v| {
            d.c.core.time_scale = number(v)?;
            Ok(())
        },
        show: |c| Some(Value::Float(c.core.time_scale)),
    },
    Setting {
        key: "pace",
        env: Some("SWARM_PACE"),
        flag: flag("pace", "PACE"),
        default: "asap",
        help: "When tasks start: asap (as soon as dependencies allow) or calendar (not before \
               their planned day starts on the plan clock)",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            d.c.core.pace = text(v)?.parse::<super::Pace>()?;
            Ok(())
        },
        show: |c| {
            Some(Value::String(
                match c.core.pace {
                    super::Pace::Asap => "asap",
                    super::Pace::Calendar => "calendar",
                }
                .into(),
            ))
        },
    },
    Setting {
        key: "priority",
        env: Some("SWARM_PRIORITY"),
        flag: None,
        default: "slack",
        help: "How priority and the critical path order ready tasks: slack or strict",
        kind: Kind::Text {
            env_expected: Some(swarm_plan::policy::PriorityOrder::NAMES),
        },
        apply: |d, v| {
            d.c.core.priority = text(v)?
                .parse()
                .map_err(|e| Bad::Value(format!("priority: {e}")))?;
            Ok(())
        },
        show: |c| Some(Value::String(c.core.priority.to_string())),
    },
    Setting {
        key: "start",
        env: Some("SWARM_START"),
        flag: flag("start", "DATE"),
        default: "when the plan is loaded",
        help: "Plan start, YYYY-MM-DD or YYYY-MM-DDTHH:MM UTC; plan day 1 is the first business \
               day from then",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            d.c.core.start = Some(swarm_core::clock::parse_start(text(v)?)?);
            Ok(())
        },
        show: |c| c.core.start.map(show_start),
    },
    Setting {
        key: "day_start",
        env: None,
        flag: None,
        default: "09:00",
        help: "Working day start on the plan clock, HH:MM",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let t = text(v)?;
            d.c.core.day_start = swarm_core::clock::parse_hhmm(t)
                .ok_or_else(|| format!("day_start '{t}' must be HH:MM"))?;
            Ok(())
        },
        show: |c| show_hhmm(c.core.day_start),
    },
    Setting {
        key: "day_end",
        env: None,
        flag: None,
        default: "17:00",
        help: "Working day end on the plan clock, HH:MM",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let t = text(v)?;
            d.c.core.day_end = swarm_core::clock::parse_hhmm(t)
                .ok_or_else(|| format!("day_end '{t}' must be HH:MM"))?;
            Ok(())
        },
        show: |c| show_hhmm(c.core.day_end),
    },
    Setting {
        key: "report_path",
        env: None,
        flag: None,
        default: "docs/plans/DAILY_PROGRESS_REPORT.md",
        help: "Where checkpoint reports are appended, relative to the workdir",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.core.report_path = path(v)?;
            Ok(())
        },
        show: |c| show_path(&c.core.report_path),
    },
    Setting {
        key: "provisioner",
        env: Some("SWARM_PROVISIONER"),
        flag: flag("provisioner", "KIND"),
        default: "none",
        help: "How agent pools grow at checkpoints: none (report the shortfall), process (local \
               swarm-agent processes), docker (agent containers) or swarm (one Docker Swarm \
               service per role)",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            d.c.core.provisioner = text(v)?.parse::<super::ProvisionerKind>()?;
            Ok(())
        },
        show: |c| {
            use super::ProvisionerKind as P;
            let name = match c.core.provisioner {
                P::None => "none",
                P::Process => "process",
                P::Docker => "docker",
                P::Swarm => "swarm",
            };
            Some(Value::String(name.into()))
        },
    },
    Setting {
        key: "default_max_agents",
        env: None,
        flag: None,
        default: "4",
        help: "Pool bound of roles without a [scale.ROLE] max",
        kind: Kind::Count,
        apply: |d, v| {
            d.c.core.default_max_agents = count(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.core.default_max_agents.into())),
    },
    Setting {
        key: "agents_dir",
        env: Some("SWARM_AGENTS_DIR"),
        flag: flag("agents-dir", "DIR"),
        default: "WORKDIR/.claude/agents when it exists",
        help: "Claude Code agent definitions that give roles their prompt, model and tools, or \
               add roles",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.core.agents_dir = Some(path(v)?);
            Ok(())
        },
        show: |c| c.core.agents_dir.as_deref().and_then(show_path),
    },
];
