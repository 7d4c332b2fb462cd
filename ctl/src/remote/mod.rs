//! Commands that talk to a running `swarmd` over gRPC: the connection, the
//! token, and the mapping from gRPC errors to exit codes.

mod agents;
mod budget;
mod events;
pub(crate) mod logs;
pub(crate) mod memory;
pub(crate) mod revise;
mod roles;
mod rows;
pub(crate) mod spend;
pub(crate) mod standup;
pub(crate) mod status;
pub(crate) mod tasks;
mod work;

use std::path::{Path, PathBuf};

use swarm_client::{Bearer, TokenFileError};
use swarm_proto::v1 as pb;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::cli::{Cli, Command, PlanCommand};
use crate::exit;

pub(crate) type Control =
    pb::control_service_client::ControlServiceClient<InterceptedService<Channel, Bearer>>;
pub(crate) type Memory =
    pb::memory_service_client::MemoryServiceClient<InterceptedService<Channel, Bearer>>;

/// The largest reply swarmctl reads: a memory entry holding the largest
/// value any swarmd keeps (its `max_value_bytes` is at most 64 MiB), with
/// room for the rest of the entry. Lists stream in pages far smaller.
const MAX_REPLY_BYTES: usize = memory::MAX_VALUE_BYTES as usize + 1024 * 1024;

/// A failed command: the exit code and what to print.
pub(crate) struct Failure(pub u8, pub String);

impl From<tonic::Status> for Failure {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let code = match s.code() {
            Code::InvalidArgument
            | Code::Unauthenticated
            | Code::PermissionDenied
            | Code::OutOfRange => exit::USAGE,
            Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => exit::CONFLICT,
            Code::NotFound => exit::NOT_FOUND,
            _ => exit::FAILED,
        };
        // A status swarmd sent has no source; one made on this side from
        // a failed connection carries the transport error. Only the latter
        // means the daemon is unreachable: an answer saying a file is
        // busy or swarmd is stopping is shown as it is.
        let msg = match s.code() {
            Code::Unavailable if std::error::Error::source(&s).is_some() => {
                format!("the daemon is unreachable: {}", s.message())
            }
            _ => match swarm_client::oversize::Oversize::of(&s) {
                Some(o) => o.to_string(),
                None => s.message().to_string(),
            },
        };
        Failure(code, msg)
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

/// Where and as whom to connect. Nothing is read or dialled until a
/// command needs the daemon, so a long-lived `swarmctl mcp` picks up a
/// token written after it started and reports a bad one per call.
#[derive(Clone)]
pub(crate) struct Target {
    url: String,
    tls: swarm_client::TlsFiles,
    token_file: Option<PathBuf>,
    /// `--as`: the person acting, named beside the token in events.
    as_name: Option<String>,
}

impl Target {
    fn token(&self) -> Result<String> {
        swarm_client::resolve_token(self.token_file.as_deref(), Path::new(".swarm/admin.token"))
            .map_err(token_failure)
    }

    async fn channel(&self) -> Result<(Channel, Bearer)> {
        let token = self.token()?;
        let coordinator = swarm_client::Coordinator::new(&self.url, &self.tls)
            .map_err(|e| Failure(exit::USAGE, format!("--coordinator: {e}")))?;
        let channel = coordinator
            .connect(std::time::Duration::from_secs(5))
            .await
            .map_err(|e| {
                let f = Failure(exit::FAILED, e.to_string());
                match self.refusal(&f) {
                    Some(_) => self.explain(f),
                    None => Failure(
                        exit::FAILED,
                        format!("{e} (is it running? see --coordinator, --ca, --cert, --key)"),
                    ),
                }
            })?;
        let bearer = Bearer::new(&token)
            .map_err(|e| Failure(exit::USAGE, e.to_string()))?
            .with_as(self.as_name.as_deref());
        Ok((channel, bearer))
    }

    /// The TLS refusal a failure shows, for this target's URL and files.
    fn refusal(&self, f: &Failure) -> Option<swarm_client::refusal::TlsRefusal> {
        if f.0 != exit::FAILED {
            return None;
        }
        swarm_client::refusal::TlsRefusal::classify(&self.url, &self.tls, &f.1)
    }

    /// A failure that is TLS refusing this client, with what to change
    /// ("transport error" alone says nothing); any other as it is.
    pub(crate) fn explain(&self, f: Failure) -> Failure {
        match self.refusal(&f) {
            Some(why) if !f.1.ends_with(&why.to_string()) => {
                Failure(f.0, format!("{}: {why}", f.1))
            }
            Some(_) | None => f,
        }
    }

    pub(crate) async fn control(&self) -> Result<Control> {
        let (channel, bearer) = self.channel().await?;
        Ok(
            pb::control_service_client::ControlServiceClient::with_interceptor(channel, bearer)
                .max_decoding_message_size(MAX_REPLY_BYTES),
        )
    }

    pub(crate) async fn memory(&self) -> Result<Memory> {
        let (channel, bearer) = self.channel().await?;
        Ok(
            pb::memory_service_client::MemoryServiceClient::with_interceptor(channel, bearer)
                .max_decoding_message_size(MAX_REPLY_BYTES),
        )
    }
}

/// A token that cannot be read is a usage error; the hint names every way
/// swarmctl finds one.
fn token_failure(e: TokenFileError) -> Failure {
    let msg = match e {
        TokenFileError::Unreadable { .. } => {
            format!("{e}; give --token-file, set SWARM_TOKEN, or run in swarmd's working directory")
        }
        TokenFileError::Empty { .. } => e.to_string(),
    };
    Failure(exit::USAGE, msg)
}

impl Failure {
    /// The message swarmctl prints for this failure (after `swarmctl: `).
    pub(crate) fn message(&self) -> &str {
        &self.1
    }
}

/// Runs a command that needs the daemon.
pub(crate) fn run(cli: Cli) -> u8 {
    let target = Target {
        url: cli.coordinator.trim_end_matches('/').to_string(),
        tls: swarm_client::TlsFiles {
            ca: cli.ca,
            cert: cli.cert,
            key: cli.key,
        },
        token_file: cli.token_file,
        as_name: cli.as_name,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swarmctl: cannot start: {e}");
            return exit::FAILED;
        }
    };
    let result = runtime.block_on(dispatch(&target, cli.command));
    match result.map_err(|f| target.explain(f)) {
        Ok(()) => exit::OK,
        Err(Failure(code, msg)) => {
            // Messages quote what the daemon and the plan hold.
            let msg = swarm_client::printable::printable_text(&msg);
            eprintln!("swarmctl: {msg}");
            code
        }
    }
}

/// One command that needs the daemon, against `target`.
async fn dispatch(target: &Target, command: Command) -> Result<()> {
    match command {
        Command::Plan(PlanCommand::Load { input, json }) => {
            status::load(target, &input, json).await
        }
        Command::Plan(PlanCommand::Cancel { reason, json }) => {
            status::cancel(target, reason, json).await
        }
        Command::Plan(PlanCommand::Apply {
            input,
            dry_run,
            reason,
            rerun,
            restart,
            json,
        }) => {
            let how = revise::Apply {
                dry_run,
                reason,
                rerun,
                restart,
            };
            revise::apply(target, &input, how, json).await
        }
        Command::Plan(PlanCommand::History { json }) => revise::history(target, json).await,
        Command::Plan(PlanCommand::Diff { v1, v2, json }) => {
            revise::diff(target, v1, v2, json).await
        }
        Command::Status { json, watch } => status::status(target, json, watch).await,
        Command::Tasks {
            json,
            state,
            role,
            limit,
            after,
        } => {
            let listing = tasks::Listing {
                state,
                role,
                limit,
                after,
            };
            tasks::list(target, json, listing).await
        }
        Command::Task(cmd) => tasks::task(target, cmd).await,
        Command::Agents { json } => agents::list(target, json).await,
        Command::Agent(cmd) => agents::agent(target, cmd).await,
        Command::Memory(cmd) => memory::run(target, cmd).await,
        Command::Events {
            follow,
            since,
            task,
            kind,
            json,
        } => {
            let filter = events::Filter { task, kind };
            events::run(target, follow, since, &filter, json).await
        }
        Command::Standup(cmd) => standup::run(target, cmd).await,
        Command::Pause { json } => status::pause(target, true, json).await,
        Command::Resume { json } => status::pause(target, false, json).await,
        Command::Budget(cmd) => budget::run(target, cmd).await,
        Command::Gate(crate::cli::GateCommand::Approve { day, json }) => {
            status::approve_gate(target, day, json).await
        }
        Command::Backup { dir, json } => status::backup(target, &dir, json).await,
        Command::Roles { json } => roles::list(target, json).await,
        Command::Mcp => crate::mcp::serve(target.clone()).await,
        Command::Plan(_) | Command::Completions { .. } => Err(Failure(
            exit::FAILED,
            "offline commands do not reach this point".into(),
        )),
    }
}

/// Prints a JSON value on one line (lists) or pretty (objects).
pub(crate) fn print_json(v: &serde_json::Value) {
    crate::outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// `12:03:04` for a time in ms since the epoch (UTC).
pub(crate) fn clock(ms: i64) -> String {
    if ms <= 0 {
        return "-".into();
    }
    let secs = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

pub(crate) use rows::table;

/// One field of human output with its control characters escaped; JSON
/// output keeps the exact text.
pub(crate) use swarm_client::printable::printable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failed_connection_is_called_unreachable() {
        let answered = Failure::from(tonic::Status::unavailable("swarmd.db is locked"));
        assert_eq!(answered.1, "swarmd.db is locked");
        assert_eq!(answered.0, exit::FAILED);
        let mut cut = tonic::Status::unavailable("tcp connect error");
        cut.set_source(std::sync::Arc::new(std::io::Error::other(
            "connection refused",
        )));
        let cut = Failure::from(cut);
        assert!(
            cut.1
                .starts_with("the daemon is unreachable: tcp connect error"),
            "{}",
            cut.1
        );
    }
}
