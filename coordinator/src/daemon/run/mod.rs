//! `swarmd run PLAN`: the daemon, the plan and local agents in one
//! command, with live progress; exit 0 when every task succeeded.
//!
//! The phases, each in its own file: start the daemon (here), load the
//! plan through the same gRPC call `swarmctl plan load` uses (here), start
//! the local agents ([`agents`]), follow the events ([`progress`]), print
//! the summary ([`summary`], [`failures`]). What comes over gRPC is read
//! into the core's enums once, in [`wire`]. Its tokens never sit where its
//! tasks run ([`operator`]).

mod agents;
mod failures;
mod operator;
mod progress;
mod summary;
mod wire;

use std::path::{Path, PathBuf};

use crate::daemon::exit::Exit;

use swarm_client::Bearer;
use swarm_plan::CompiledPlan;
use swarm_proto::v1 as pb;
use swarm_text::{count, printable, printable_text};
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::daemon::config::Config;
use crate::edge::auth::Tokens;
use crate::provision::launch;
use agents::LocalAgents;
pub(crate) use operator::hide_memory;

pub(crate) type Control =
    pb::control_service_client::ControlServiceClient<InterceptedService<Channel, Bearer>>;

pub(crate) async fn run(
    listener: TcpListener,
    cfg: Config,
    tokens: Tokens,
    plan_path: PathBuf,
    exec: Option<String>,
    signals: crate::daemon::cli::Signals,
) -> Exit {
    let compiled = match compile_plan(&cfg, &plan_path) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let Ok(addr) = listener.local_addr() else {
        return Exit::Failed;
    };
    let url = format!("http://{addr}");
    let workdir = cfg.core.workdir.clone();
    let swarmctl = operator_swarmctl(&workdir, &url, &tokens);
    let state_dir = cfg.core.state_dir();
    let report = cfg.core.report_path.clone();
    let orphan_timeout = cfg.orphan_timeout;
    let sandbox = cfg.sandbox.clone();
    let otlp_endpoint = cfg.otlp_endpoint.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_tokens = tokens.clone();
    let server = tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = stop_rx => {}
                _ = signals.first() => {}
            }
        };
        crate::daemon::serve::serve(listener, cfg, server_tokens, shutdown).await
    });
    let drive = Drive {
        tokens: &tokens,
        swarmctl: swarmctl
            .as_ref()
            .map_or_else(|| "swarmctl".to_string(), |(c, _)| c.clone()),
        compiled: &compiled,
        plan_path: &plan_path,
        report: &report,
        agents: LocalAgents {
            url: &url,
            workdir: &workdir,
            state_dir: &state_dir,
            agent_token: tokens.agent_token(),
            exec: exec.as_deref(),
            orphan_timeout,
            sandbox: &sandbox,
            otlp_endpoint: otlp_endpoint.as_deref(),
        },
    };
    let code = match drive.run().await {
        Ok(code) => code,
        Err(e) => {
            let e = format!("{e:#}");
            eprintln!("swarmd run: {}", printable_text(&e));
            Exit::Failed
        }
    };
    let _ = stop_tx.send(());
    drop(swarmctl);
    server_end(server.await, code)
}

/// The roles and the plan, compiled; the exit on an error, said here.
fn compile_plan(cfg: &Config, plan_path: &Path) -> Result<swarm_plan::CompiledPlan, Exit> {
    let catalogue = swarm_core::roles::RolesSource::of(&cfg.core)
        .catalogue()
        .map_err(|e| {
            eprintln!("swarmd: {e}");
            Exit::Usage
        })?;
    swarm_plan::load_at_most(plan_path, &catalogue, cfg.core.max_plan_bytes).map_err(|e| {
        // The errors quote the plan.
        let e = e.to_string();
        eprintln!("{}\nswarmd: the plan was not loaded", printable_text(&e));
        Exit::Usage
    })
}

/// The run's exit, given how its server ended and the plan's `code`: a
/// failed store wins, since the plan's outcome cannot be trusted then.
fn server_end(
    ended: Result<Result<(), crate::daemon::serve::ServeError>, tokio::task::JoinError>,
    code: Exit,
) -> Exit {
    match ended {
        Ok(Err(e @ crate::daemon::serve::ServeError::Store(_))) => {
            eprintln!("swarmd run: {e}");
            Exit::StoreFailed
        }
        Ok(Err(e)) => {
            eprintln!("swarmd run: {e}");
            code
        }
        Ok(Ok(())) | Err(_) => code,
    }
}

/// The admin token written outside the workdir for the operator's
/// swarmctl, and the command line that uses it (said once here); `None`
/// when it cannot be written (said why: the run goes on without).
fn operator_swarmctl(
    workdir: &Path,
    url: &str,
    tokens: &Tokens,
) -> Option<(String, operator::OperatorToken)> {
    let base = operator::OperatorToken::base(&|k| std::env::var(k).ok());
    match operator::OperatorToken::write(&base, workdir, tokens.admin_token()) {
        Ok(t) => {
            let swarmctl = t.swarmctl(url);
            println!(
                "swarmd: the tokens stay out of the workdir; swarmctl for this run (the token \
                 file goes when it ends): {swarmctl} status"
            );
            Some((swarmctl, t))
        }
        Err(e) => {
            eprintln!("swarmd: no token file for swarmctl during this run: {e}");
            None
        }
    }
}

async fn connect(url: &str, token: &str) -> anyhow::Result<Control> {
    let channel = Channel::from_shared(url.to_string())?.connect().await?;
    let bearer = Bearer::new(token)?;
    Ok(pb::control_service_client::ControlServiceClient::with_interceptor(channel, bearer))
}

/// What `swarmd run` drives: the daemon it started and the plan.
struct Drive<'a> {
    /// Its tokens (admin for the plan, agent for the agents).
    tokens: &'a Tokens,
    /// How the operator's swarmctl reaches this run, up to the command.
    swarmctl: String,
    /// The plan, compiled (for titles, roles and manual tasks).
    compiled: &'a CompiledPlan,
    /// The plan file, loaded as it is.
    plan_path: &'a Path,
    /// The report, relative to the workdir.
    report: &'a Path,
    /// The daemon's URL and where the local agents run.
    agents: LocalAgents<'a>,
}

impl Drive<'_> {
    /// Loads the plan, starts the agents, follows the run to its end and
    /// prints the summary; exit 0 when the plan succeeded.
    async fn run(self) -> anyhow::Result<Exit> {
        let url = self.agents.url;
        let mut client = connect(url, self.tokens.admin_token()).await?;
        let before = client
            .events(pb::EventsRequest {
                since: 0,
                follow: false,
                ..Default::default()
            })
            .await?
            .into_inner();
        let last_seq = last_event(before).await;
        let loaded = self.load(&mut client).await?;
        println!(
            "swarmd: running plan '{}' ({}) at {url}",
            printable(&loaded.name),
            count(loaded.tasks, "task")
        );
        let mut children = agents::spawn_agents(self.compiled, &self.agents)?;
        let workdir = self.agents.workdir;
        let mut follow = progress::Follow::new(
            self.compiled,
            self.agents.exec.is_some(),
            workdir.join(self.report),
            self.swarmctl.clone(),
        );
        let mut events = client
            .events(pb::EventsRequest {
                since: last_seq,
                follow: true,
                ..Default::default()
            })
            .await?
            .into_inner();
        let outcome = follow.run(&mut events).await?;
        summary::print(&mut client, workdir, follow.elapsed()).await?;
        launch::stop(&mut children).await;
        Ok(if outcome == Some(true) {
            Exit::Ok
        } else {
            Exit::Failed
        })
    }

    /// Loads the plan file through the daemon's `LoadPlan`.
    async fn load(&self, client: &mut Control) -> anyhow::Result<pb::LoadPlanReply> {
        let path = self.plan_path;
        let text = String::from_utf8_lossy(&std::fs::read(path)?).into_owned();
        let header = pb::LoadPlanHeader {
            file_name: path.display().to_string(),
            toml: swarm_plan::Format::from_path(path) == swarm_plan::Format::Toml,
            ..Default::default()
        };
        let chunks = swarm_client::plan_upload::chunks(header, text);
        Ok(client.load_plan(chunks).await?.into_inner())
    }
}

async fn last_event(mut stream: tonic::Streaming<pb::Event>) -> u64 {
    let mut last = 0;
    while let Ok(Some(e)) = stream.message().await {
        last = e.seq;
    }
    last
}
