//! `swarmd run PLAN`: the daemon, the plan and local agents in one
//! command, with live progress; exit 0 when every task succeeded.

mod failures;

use crate::daemon::exit::Exit;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use swarm_client::Bearer;
use swarm_plan::{CompiledPlan, Need};
use swarm_proto::v1 as pb;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::daemon::config::Config;
use crate::edge::auth::Tokens;
use crate::provision::launch::{self, AgentLaunch, AgentToken, Launcher};
use swarm_core::model::{PlanState, TaskState};
use swarm_core::{AttemptEnd, EventKind};

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
    let catalogue = match swarm_core::roles::RolesSource::of(&cfg.core).catalogue() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("swarmd: {e}");
            return Exit::Usage;
        }
    };
    let compiled = match swarm_plan::load_at_most(&plan_path, &catalogue, cfg.core.max_plan_bytes) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}\nswarmd: the plan was not loaded");
            return Exit::Usage;
        }
    };
    let Ok(addr) = listener.local_addr() else {
        return Exit::Failed;
    };
    let url = format!("http://{addr}");
    let workdir = cfg.core.workdir.clone();
    let state_dir = cfg.core.state_dir();
    let cfg_report = cfg.core.report_path.clone();
    let orphan_timeout = cfg.orphan_timeout;
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
    let report = cfg_report.clone();
    let code = match drive(Drive {
        url: &url,
        tokens: &tokens,
        compiled: &compiled,
        plan_path: &plan_path,
        workdir: &workdir,
        state_dir: &state_dir,
        exec,
        report: &report,
        orphan_timeout,
    })
    .await
    {
        Ok(code) => code,
        Err(e) => {
            eprintln!("swarmd run: {e:#}");
            Exit::Failed
        }
    };
    let _ = stop_tx.send(());
    let _ = server.await;
    code
}

async fn connect(url: &str, token: &str) -> anyhow::Result<Control> {
    let channel = Channel::from_shared(url.to_string())?.connect().await?;
    let bearer = Bearer::new(token)?;
    Ok(pb::control_service_client::ControlServiceClient::with_interceptor(channel, bearer))
}

/// What `swarmd run` drives: the daemon it started and the plan.
struct Drive<'a> {
    /// The daemon's URL.
    url: &'a str,
    /// Its tokens (admin for the plan, agent for the agents).
    tokens: &'a Tokens,
    /// The plan, compiled (for titles, roles and manual tasks).
    compiled: &'a CompiledPlan,
    /// The plan file, loaded as it is.
    plan_path: &'a Path,
    /// Where tasks run and the report is written.
    workdir: &'a Path,
    /// `WORKDIR/.swarm`.
    state_dir: &'a Path,
    /// The agents' command template, if any.
    exec: Option<String>,
    /// The report, relative to the workdir.
    report: &'a Path,
    /// The agents' `--orphan-timeout`, so they do not outlive swarmd.
    orphan_timeout: std::time::Duration,
}

async fn drive(d: Drive<'_>) -> anyhow::Result<Exit> {
    let Drive {
        url,
        tokens,
        compiled,
        plan_path,
        workdir,
        state_dir,
        exec,
        report,
        orphan_timeout,
    } = d;
    let mut client = connect(url, tokens.admin_token()).await?;
    let before = client
        .events(pb::EventsRequest {
            since: 0,
            follow: false,
        })
        .await?
        .into_inner();
    let last_seq = last_event(before).await;
    let text = String::from_utf8_lossy(&std::fs::read(plan_path)?).into_owned();
    let loaded = client
        .load_plan(swarm_client::plan_upload::chunks(
            pb::LoadPlanHeader {
                file_name: plan_path.display().to_string(),
                toml: swarm_plan::Format::from_path(plan_path) == swarm_plan::Format::Toml,
                ..Default::default()
            },
            text,
        ))
        .await?
        .into_inner();
    println!(
        "swarmd: running plan '{}' ({} tasks) at {url}",
        loaded.name, loaded.tasks
    );
    let mut agents = spawn_agents(
        compiled,
        url,
        workdir,
        state_dir,
        exec.as_deref(),
        orphan_timeout,
    )?;
    let started = Instant::now();
    let mut events = client
        .events(pb::EventsRequest {
            since: last_seq,
            follow: true,
        })
        .await?
        .into_inner();
    let titles: BTreeMap<String, String> = compiled
        .plan
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.title.clone()))
        .collect();
    let manual: Vec<String> = compiled
        .plan
        .tasks
        .iter()
        .filter(|t| t.run.is_none() && t.image.is_none())
        .map(|t| t.id.clone())
        .collect();
    let mut outcome = None;
    let report_path = workdir.join(report);
    // On a terminal a bar of tasks done stays beneath the lines.
    let progress = swarm_client::progress::Progress::new();
    let mut states: BTreeMap<String, TaskState> = BTreeMap::new();
    while let Some(e) = events.message().await? {
        let title = titles.get(&e.task_id).map(String::as_str).unwrap_or("");
        let at = format!("{:>7.1}s", started.elapsed().as_secs_f64());
        let Some(kind) = EventKind::parse(&e.kind) else {
            continue;
        };
        if let EventKind::Task(state) = kind {
            states.insert(e.task_id.clone(), state);
            progress.show(tally(&states, titles.len()));
        }
        let line = match kind {
            EventKind::Task(TaskState::Running) => Some(format!("{at}  ▶ {} {title}", e.task_id)),
            EventKind::Task(TaskState::Succeeded) => Some(format!("{at}  ✓ {} {title}", e.task_id)),
            EventKind::Task(TaskState::Failed) => {
                Some(format!("{at}  ✗ {} {title}: {}", e.task_id, e.message))
            }
            EventKind::Task(TaskState::Blocked) => {
                Some(format!("{at}  ⊘ {} blocked: {}", e.task_id, e.message))
            }
            EventKind::Task(TaskState::Pending) if !e.message.is_empty() => {
                Some(format!("{at}  ↻ {} {}", e.task_id, e.message))
            }
            EventKind::AttemptEnded(AttemptEnd::Lost) => {
                Some(format!("{at}  ↻ {} {}", e.task_id, e.message))
            }
            EventKind::AttemptStarted if exec.is_none() && manual.contains(&e.task_id) => {
                Some(format!(
                    "{at}  … {} waits for an operator: swarmctl task done {}",
                    e.task_id, e.task_id
                ))
            }
            EventKind::AgentRoleSwitched
            | EventKind::AgentProvisioned
            | EventKind::AgentDraining => Some(format!("{at}  ⇄ {}", e.message)),
            EventKind::CheckpointReported => Some(format!(
                "{at}  ☰ {} — report appended to {}",
                e.message,
                report_path.display()
            )),
            EventKind::Plan(state @ (PlanState::Succeeded | PlanState::Failed)) => {
                outcome = Some(state == PlanState::Succeeded);
                None
            }
            _ => None,
        };
        if let Some(line) = line {
            progress.line(&line);
        }
        if kind == EventKind::CheckpointReported && outcome.is_some() {
            break;
        }
    }
    progress.finish();
    let tasks = client
        .list_tasks(pb::ListTasksRequest {})
        .await?
        .into_inner()
        .tasks;
    print_summary(&tasks, started.elapsed().as_secs_f64());
    crate::daemon::run::failures::print(&mut client, &tasks, workdir).await;
    // The verdict status and the reports give, in one line.
    if let Ok(s) = client.status(pb::StatusRequest {}).await {
        let s = s.into_inner();
        println!(
            "verdict: {} — {}",
            s.verdict.replace('_', " "),
            s.verdict_reason
        );
    }
    launch::stop(&mut agents).await;
    Ok(if outcome == Some(true) {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// Tasks done, running and failed, from the last state each task's events
/// gave.
fn tally(states: &BTreeMap<String, TaskState>, total: usize) -> swarm_client::progress::Tally {
    let count = |f: fn(&TaskState) -> bool| states.values().filter(|s| f(s)).count() as u64;
    swarm_client::progress::Tally {
        done: count(|s| s.is_done()),
        total: total as u64,
        running: count(|s| *s == TaskState::Running),
        failed: count(|s| *s == TaskState::Failed),
    }
}

async fn last_event(mut stream: tonic::Streaming<pb::Event>) -> u64 {
    let mut last = 0;
    while let Ok(Some(e)) = stream.message().await {
        last = e.seq;
    }
    last
}

/// One agent per role per agent the widest task needs; more when a full
/// swarm needs more agents than that.
pub(crate) fn agents_needed(compiled: &CompiledPlan) -> Vec<String> {
    let mut per_role: BTreeMap<String, usize> = BTreeMap::new();
    let mut swarm = 0usize;
    for t in &compiled.tasks {
        match &t.need {
            Need::Roles(roles) => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for r in roles {
                    *counts.entry(r).or_insert(0) += 1;
                }
                for (r, n) in counts {
                    let e = per_role.entry(r.to_string()).or_insert(0);
                    *e = (*e).max(n);
                }
            }
            Need::Swarm { min, .. } => swarm = swarm.max(*min as usize),
            Need::Monitoring => swarm = swarm.max(1),
        }
    }
    let mut out: Vec<String> = per_role
        .iter()
        .flat_map(|(r, n)| std::iter::repeat_n(r.clone(), *n))
        .collect();
    let roles: Vec<String> = per_role.keys().cloned().collect();
    let mut k = 0;
    while out.len() < swarm {
        out.push(
            roles
                .get(k % roles.len().max(1))
                .cloned()
                .unwrap_or_else(|| "coder".to_string()),
        );
        k += 1;
    }
    out
}

/// Roles the allocation matrix staffs, on some day, with more agents than
/// [`agents_needed`] starts: every other local agent can also play them,
/// so a standup can switch an idle one over when that day's work needs it.
pub(crate) fn roles_to_lend(compiled: &CompiledPlan, local: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in &compiled.matrix {
        for (role, &planned) in &row.roles {
            let have = local.iter().filter(|r| *r == role).count();
            if have > 0 && planned as usize > have && !out.contains(role) {
                out.push(role.clone());
            }
        }
    }
    out.sort();
    out
}

fn spawn_agents(
    compiled: &CompiledPlan,
    url: &str,
    workdir: &Path,
    state_dir: &Path,
    exec: Option<&str>,
    orphan_timeout: std::time::Duration,
) -> anyhow::Result<Vec<tokio::process::Child>> {
    let launcher = Launcher::next_to_swarmd()?;
    let logs = state_dir.join("agents");
    std::fs::create_dir_all(&logs)?;
    let roles = agents_needed(compiled);
    let extra = roles_to_lend(compiled, &roles);
    println!(
        "swarmd: starting {} local agent(s): {}",
        roles.len(),
        roles.join(", ")
    );
    if !extra.is_empty() {
        println!(
            "swarmd: the allocation matrix asks for more {} than that; the other agents can also play {}, and a standup switches idle ones over",
            extra.join(", "),
            if extra.len() == 1 { "it" } else { "them" }
        );
    }
    let token_file = state_dir.join("agent.token");
    let mut children = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let also: Vec<String> = extra.iter().filter(|r| *r != role).cloned().collect();
        children.push(launcher.spawn(&AgentLaunch {
            url,
            role,
            also: &also,
            id: &format!("local-{role}-{i}"),
            workdir,
            token: AgentToken::File(&token_file),
            exec,
            log: &logs.join(format!("{role}-{i}.log")),
            orphan_timeout: Some(orphan_timeout),
            tls: &swarm_client::TlsFiles::default(),
        })?);
    }
    Ok(children)
}

fn print_summary(tasks: &[pb::TaskSummary], secs: f64) {
    let ok = tasks
        .iter()
        .filter(|t| t.state == "succeeded" || t.state == "skipped")
        .count();
    println!(
        "\n{:<8} {:<10} {:>8}  TITLE / REASON",
        "TASK", "STATE", "ATTEMPTS"
    );
    for t in tasks {
        let detail = if t.reason.is_empty() {
            t.title.clone()
        } else {
            format!("{} — {}", t.title, t.reason)
        };
        println!("{:<8} {:<10} {:>8}  {}", t.id, t.state, t.attempts, detail);
    }
    println!("\n{ok}/{} tasks succeeded in {secs:.1}s", tasks.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_starts_one_agent_per_role_and_lends_sre_for_day_2() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/release-rehearsal.md"
        );
        let plan =
            swarm_plan::load(Path::new(path), &swarm_plan::Catalogue::builtin()).expect("example");
        let local = agents_needed(&plan);
        assert_eq!(
            local,
            [
                "backend",
                "devops",
                "performance",
                "security",
                "sre",
                "tester"
            ]
        );
        // Day 2's row wants two SRE agents; one is started.
        assert_eq!(roles_to_lend(&plan, &local), ["sre"]);
    }
}
