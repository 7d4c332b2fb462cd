//! `swarmctl plan simulate`: what-if runs of a plan file on simulated
//! agents (unlimited, a fixed number per role, or the plan's allocation
//! matrix day by day), printed as a report or, with `--json`, as one
//! object whose field names are a public interface: add, never rename.
//! The human report is written in `report.rs`.

mod actual;
mod pools;
mod report;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use swarm_plan::policy::PriorityOrder;
use swarm_plan::simulate::{replay, MAX_AGENTS};
use swarm_plan::{simulate_pooled, Catalogue, CompiledPlan, Need, Simulation, Staffing};

use crate::exit;
pub(crate) use pools::PoolArgs;
use report::render;

/// The valid form of `--agents`, for error messages.
const AGENTS_FORM: &str = "write it like --agents devops=2,security=1 (a role as the plan or the role catalogue names it, '=', a count of 1 or more; pieces separated by commas)";

/// Runs the simulation command and returns the exit code: 2 for bad
/// input; 5 when the answer is that some task can never be staffed.
pub(crate) fn run(
    plan: &CompiledPlan,
    agents: Option<&str>,
    matrix: bool,
    priority: PriorityOrder,
    pools: &PoolArgs<'_>,
    actual: Option<&std::path::Path>,
    json: bool,
) -> u8 {
    let pools = match pools.resolve(plan) {
        Ok(pools) => pools,
        Err(why) => {
            eprintln!("swarmctl: {why}");
            return exit::USAGE;
        }
    };
    let staffing = match (agents, matrix) {
        (Some(spec), _) => parse_agents(spec, plan)
            .map(Staffing::Fixed)
            .map_err(|why| format!("--agents: {why}")),
        (None, true) => Ok(Staffing::Matrix),
        (None, false) => Ok(Staffing::Unlimited),
    };
    let actual = actual.map(|path| actual::read(path, plan)).transpose();
    let (staffing, actual) = match (staffing, actual) {
        (Ok(staffing), Ok(actual)) => (staffing, actual),
        (Err(why), _) | (_, Err(why)) => {
            eprintln!("swarmctl: {why}");
            return exit::USAGE;
        }
    };
    let run = match &actual {
        Some(secs) => replay(plan, &staffing, priority, &pools, secs).map(|r| {
            let replayed = (r.off_plan, r.overran, r.replans);
            (r.sim, Some(replayed))
        }),
        None => simulate_pooled(plan, &staffing, priority, &pools).map(|sim| (sim, None)),
    };
    let (sim, replayed) = match run {
        Ok(run) => run,
        Err(e) => {
            eprintln!("swarmctl: cannot simulate: {e}");
            return exit::USAGE;
        }
    };
    let text = if json {
        let mut v = to_json(plan, &sim, &staffing);
        v["priority"] = json!(priority.to_string());
        if let Some((off_plan, overran, replans)) = replayed {
            v["actual"] = json!({"off_plan": off_plan, "overran": overran, "replans": replans});
        }
        format!("{:#}\n", v)
    } else {
        let mut text = render(plan, &sim, &staffing);
        if let Some((off_plan, overran, replans)) = replayed {
            text.push_str(&format!(
                "actual durations: {off_plan} of {} tasks took other than planned ({overran} longer); re-planned {replans} times (at the end of a task that overran, and at checkpoints once a task ended off its plan)\n",
                plan.tasks.len()
            ));
        }
        text
    };
    let code = super::print(&text);
    if code != exit::OK {
        return code;
    }
    if sim.complete() {
        exit::OK
    } else {
        let ids: Vec<&str> = sim.unrunnable.iter().map(|s| id(plan, s.task)).collect();
        eprintln!(
            "swarmctl: the plan cannot finish with these agents: {} task{} can never be staffed: {} (exit {})",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            ids.join(", "),
            exit::CANNOT_FINISH
        );
        exit::CANNOT_FINISH
    }
}

/// `devops=2,Security Auditor=1` as agents per canonical role. Roles are
/// any phrase of the built-in catalogue, or a role the plan itself uses.
fn parse_agents(spec: &str, plan: &CompiledPlan) -> Result<BTreeMap<String, u32>, String> {
    let catalogue = Catalogue::builtin();
    let mut out: BTreeMap<String, u32> = BTreeMap::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for piece in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((phrase, count)) = piece.split_once('=') else {
            return Err(format!("'{piece}' is not ROLE=N; {AGENTS_FORM}"));
        };
        let (phrase, count) = (phrase.trim(), count.trim());
        let role = match catalogue.resolve(phrase) {
            Ok(role) => role.to_string(),
            Err(_) if plan_roles(plan).contains(&phrase.to_lowercase()) => phrase.to_lowercase(),
            Err(unknown) => {
                let known: Vec<&str> = catalogue.roles().iter().map(|r| r.name.as_str()).collect();
                return Err(format!(
                    "'{piece}': {unknown}; the known roles are {}",
                    known.join(", ")
                ));
            }
        };
        let n: u32 = match count.parse::<u64>() {
            Ok(0) => {
                return Err(format!(
                    "'{piece}' gives no agents; a count is 1 or more (leave a role out to give it none)"
                ))
            }
            Ok(n) if n <= MAX_AGENTS => n as u32,
            _ => {
                return Err(format!(
                    "'{piece}': the count must be a whole number from 1 to {MAX_AGENTS}; {AGENTS_FORM}"
                ))
            }
        };
        if let Some(first) = written.insert(role.clone(), piece.to_string()) {
            return Err(format!(
                "{role} is given twice ('{first}' and '{piece}'); give each role once"
            ));
        }
        out.insert(role, n);
    }
    if out.is_empty() {
        return Err(format!("no agents given; {AGENTS_FORM}"));
    }
    Ok(out)
}

/// Every canonical role the plan's tasks and matrix name.
fn plan_roles(plan: &CompiledPlan) -> Vec<String> {
    let mut roles: Vec<String> = plan
        .tasks
        .iter()
        .flat_map(|t| match &t.need {
            Need::Roles(r) => r.to_vec(),
            _ => Vec::new(),
        })
        .chain(plan.matrix.iter().flat_map(|a| a.roles.keys().cloned()))
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

fn id(plan: &CompiledPlan, task: usize) -> &str {
    plan.plan.tasks.get(task).map_or("?", |t| t.id.as_str())
}

fn h(secs: u64) -> f64 {
    (secs as f64 / 3600.0 * 100.0).round() / 100.0
}

/// The `--json` object.
fn to_json(plan: &CompiledPlan, sim: &Simulation, staffing: &Staffing) -> Value {
    let roles: serde_json::Map<String, Value> = sim
        .roles
        .iter()
        .map(|(role, u)| {
            let v = json!({
                "agents": u.agents,
                "busy_hours": h(u.busy_secs),
                "utilisation": (u.utilisation * 10_000.0).round() / 10_000.0,
                "waiting_hours": h(u.waiting_secs),
                "unstaffed_hours": h(u.unstaffed_secs),
            });
            (role.clone(), v)
        })
        .collect();
    let tasks: Vec<Value> = sim
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "id": id(plan, i),
                "ready_hours": t.ready.map(h),
                "start_hours": t.start.map(h),
                "finish_hours": t.finish.map(h),
                "agents": t.agents.iter().map(|&a| sim.agents.get(a).map_or("?", String::as_str)).collect::<Vec<_>>(),
                "unstaffed_hours": h(t.unstaffed_secs),
                "unstaffed_roles": t.unstaffed_roles,
            })
        })
        .collect();
    json!({
        "plan": plan.plan.name,
        "staffing": match staffing {
            Staffing::Unlimited => json!("unlimited"),
            Staffing::Fixed(map) => json!(map),
            Staffing::Matrix => json!("matrix"),
        },
        "complete": sim.complete(),
        "makespan_hours": h(sim.makespan),
        "business_days": sim.business_days,
        "day_hours": h(sim.day_secs),
        "critical_path_hours": h(sim.critical_path),
        "roles": roles,
        "pools": sim.pools.iter().map(|(name, u)| (name.clone(), json!({
            "concurrency": u.limit.concurrency,
            "per_minute": u.limit.per_minute,
            "peak": u.peak,
            "starts": u.starts,
            "waiting_hours": h(u.waiting_secs),
        }))).collect::<serde_json::Map<_, _>>(),
        "bottlenecks": sim.bottlenecks.iter().map(|b| json!({
            "role": b.role,
            "waiting_hours": h(b.waiting_secs),
            "unstaffed_hours": h(b.unstaffed_secs),
            "utilisation": (b.utilisation * 10_000.0).round() / 10_000.0,
        })).collect::<Vec<_>>(),
        "tasks": tasks,
        "unrunnable": sim.unrunnable.iter().map(|s| json!({
            "id": id(plan, s.task),
            "missing": s.missing.iter().map(|(role, needed, available)| json!({
                "role": role, "needed": needed, "available": available,
            })).collect::<Vec<_>>(),
            "staffed_days": s.staffed_days.iter().cloned().collect::<BTreeMap<_, _>>(),
            "pool": s.pool.as_ref().map(|(pool, members, most)| json!({
                "pool": pool, "members": members, "most_at_once": most,
            })),
        })).collect::<Vec<_>>(),
        "blocked": sim.blocked.iter().map(|&i| id(plan, i)).collect::<Vec<_>>(),
    })
}
