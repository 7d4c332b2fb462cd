//! The runs: a generated plan over simulated agents, or idle agents.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use swarm_client::Bearer;
use swarm_proto::v1 as pb;
use tonic::transport::Channel;

use crate::agents::{self, Clock};
use crate::cli::{Args, Shape};
use crate::coordinator::{Child, ADMIN, AGENT};
use crate::measure::{cpu_secs, peak_rss_mb, percentile};

type Control = pb::control_service_client::ControlServiceClient<
    tonic::service::interceptor::InterceptedService<Channel, Bearer>,
>;

async fn control(url: &str) -> anyhow::Result<Control> {
    let admin = Bearer::new(ADMIN)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Channel::from_shared(url.to_string())?.connect().await {
            Ok(ch) => {
                return Ok(
                    pb::control_service_client::ControlServiceClient::with_interceptor(
                        ch,
                        admin.clone(),
                    ),
                )
                .map(|mut c: Control| {
                    c = c
                        .max_decoding_message_size(64 * 1024 * 1024)
                        .max_encoding_message_size(64 * 1024 * 1024);
                    c
                })
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The generated plan: `tasks` no-op tasks for role `coder`.
fn plan_text(shape: Shape, tasks: usize) -> String {
    let mut s = String::with_capacity(tasks * 64);
    s.push_str("# Benchmark\n");
    for i in 1..=tasks {
        s.push_str(&format!(
            "**Task {i}**: t\n- **Agent**: Coder\n- **Duration**: 1m\n"
        ));
        if shape == Shape::Chain && i > 1 {
            s.push_str(&format!("- **Dependencies**: Task {}\n", i - 1));
        }
    }
    s
}

async fn start_agents(
    url: &str,
    count: u32,
    slots_each: u32,
    clock: &Arc<Clock>,
) -> Vec<tokio::task::JoinHandle<anyhow::Result<()>>> {
    (0..count)
        .map(|i| {
            let (url, clock) = (url.to_string(), clock.clone());
            tokio::spawn(agents::run(
                url,
                AGENT.into(),
                format!("bench-{i}"),
                "coder".into(),
                slots_each,
                clock,
            ))
        })
        .collect()
}

async fn wait_agents(client: &mut Control, n: u32) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .status(pb::StatusRequest {})
        .await?
        .into_inner()
        .agents
        < n
    {
        anyhow::ensure!(Instant::now() < deadline, "agents did not all connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Polls `status` until the plan succeeded; how long each `status` took
/// while it ran, as an operator sees it, ms.
async fn wait_succeeded(client: &mut Control) -> anyhow::Result<Vec<f64>> {
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut status_ms = Vec::new();
    loop {
        let asked = Instant::now();
        let s = client.status(pb::StatusRequest {}).await?.into_inner();
        status_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
        if s.state == "succeeded" {
            return Ok(status_ms);
        }
        anyhow::ensure!(
            s.state == "running" && Instant::now() < deadline,
            "the plan ended {} with {:?}",
            s.state,
            s.tasks
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs the benchmark described by `args`; returns its JSON line.
pub(crate) async fn run(args: Args) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    // Before the coordinator starts: it inherits the limit. (1,000: the
    // most agents any default starts.)
    crate::limits::raise_open_files(u64::from(args.agents.unwrap_or(1000)))?;
    let coordinator = Child::start(dir.path())?;
    let mut client = control(&coordinator.url).await?;
    if let Some(idle) = args.idle {
        return idle_run(&coordinator, &mut client, args.agents.unwrap_or(1000), idle).await;
    }
    let agents = args.agents.unwrap_or_else(|| args.slots.clamp(1, 8));
    let slots_each = args.slots.div_ceil(agents).max(1);
    let clock = Arc::new(Clock {
        chain: args.shape == Shape::Chain,
        ..Clock::default()
    });
    let handles = start_agents(&coordinator.url, agents, slots_each, &clock).await;
    wait_agents(&mut client, agents).await?;
    let text = plan_text(args.shape, args.tasks);
    let cpu_before = cpu_secs(coordinator.pid());
    let load_started = Instant::now();
    if let Ok(mut l) = clock.loaded.lock() {
        *l = Some(load_started);
    }
    let loaded = client
        .load_plan(swarm_client::plan_upload::chunks(
            pb::LoadPlanHeader {
                file_name: "bench.md".into(),
                ..Default::default()
            },
            text,
        ))
        .await?
        .into_inner();
    let load_ms = load_started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        loaded.tasks as usize == args.tasks,
        "the plan has {} tasks, not {}",
        loaded.tasks,
        args.tasks
    );
    let mut status_ms = wait_succeeded(&mut client).await?;
    let elapsed = load_started.elapsed().as_secs_f64();
    let run_secs = elapsed - load_ms / 1000.0;
    // The coordinator's CPU time for the load and the run, per task: what
    // a task costs it, less swayed than tasks/s by whatever else the
    // machine runs.
    let cpu_us = (cpu_secs(coordinator.pid()) - cpu_before) * 1e6 / args.tasks as f64;
    let mut samples = clock.samples.lock().map(|s| s.clone()).unwrap_or_default();
    samples.sort_by(f64::total_cmp);
    status_ms.sort_by(f64::total_cmp);
    let rss = peak_rss_mb(coordinator.pid());
    for h in handles {
        h.abort();
    }
    Ok(json!({
        "shape": match args.shape { Shape::Wide => "wide", Shape::Chain => "chain" },
        "tasks": args.tasks,
        "agents": agents,
        "slots": agents * slots_each,
        "load_ms": round(load_ms),
        "run_s": round(run_secs),
        "tasks_per_sec": round(args.tasks as f64 / run_secs),
        "dispatch_p50_ms": round(percentile(&samples, 50.0)),
        "dispatch_p99_ms": round(percentile(&samples, 99.0)),
        "status_p50_ms": round(percentile(&status_ms, 50.0)),
        "status_p99_ms": round(percentile(&status_ms, 99.0)),
        "cpu_us_per_task": round(cpu_us),
        "samples": samples.len(),
        "peak_rss_mb": round(rss),
    })
    .to_string())
}

async fn idle_run(
    coordinator: &Child,
    client: &mut Control,
    agents: u32,
    idle: Duration,
) -> anyhow::Result<String> {
    let clock = Arc::new(Clock::default());
    let handles = start_agents(&coordinator.url, agents, 1, &clock).await;
    wait_agents(client, agents).await?;
    // Let connection set-up settle before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu0, t0) = (cpu_secs(coordinator.pid()), Instant::now());
    tokio::time::sleep(idle).await;
    let (cpu1, secs) = (cpu_secs(coordinator.pid()), t0.elapsed().as_secs_f64());
    let connected = client
        .status(pb::StatusRequest {})
        .await?
        .into_inner()
        .agents;
    for h in handles {
        h.abort();
    }
    Ok(json!({
        "shape": "idle",
        "agents": agents,
        "connected_at_end": connected,
        "idle_s": round(secs),
        "coordinator_cpu_pct_of_one_core": round((cpu1 - cpu0) / secs * 100.0),
        "peak_rss_mb": round(peak_rss_mb(coordinator.pid())),
    })
    .to_string())
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
