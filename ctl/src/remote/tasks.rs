//! `swarmctl tasks` and `swarmctl task show|logs|done|fail|retry|skip|cancel`.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{clock, print_json, table, Result, Target};
use crate::cli::{ActionArgs, TaskCommand};

/// One row of `tasks --json`.
fn task_json(t: &pb::TaskSummary) -> Value {
    json!({
        "id": t.id, "title": t.title, "state": t.state, "attempts": t.attempts, "agents": t.agents,
        "priority": t.priority, "duration_hours": t.duration_hours, "roles": t.roles, "reason": t.reason,
        "day": t.day, "updated_at_ms": t.updated_at_ms, "waits_for_operator": t.waits_for_operator,
    })
}

/// `tasks --json`.
pub(crate) fn tasks_json(tasks: &[pb::TaskSummary]) -> Value {
    Value::Array(tasks.iter().map(task_json).collect())
}

/// Every task of the plan.
pub(crate) async fn fetch_tasks(target: &Target) -> Result<Vec<pb::TaskSummary>> {
    let mut client = target.control().await?;
    Ok(client
        .list_tasks(pb::ListTasksRequest {})
        .await?
        .into_inner()
        .tasks)
}

/// Keeps the tasks in `state` that need `role`; a phrase as plans write
/// it (`QA Engineer`) means its role (`qa`).
pub(crate) fn filter(tasks: &mut Vec<pb::TaskSummary>, state: Option<&str>, role: Option<&str>) {
    let catalogue = swarm_roles::Catalogue::builtin();
    let role = role.map(|r| {
        catalogue
            .resolve(r)
            .map_or_else(|_| swarm_roles::normalise(r), str::to_string)
    });
    tasks.retain(|t| {
        state.is_none_or(|s| t.state == s)
            && role
                .as_ref()
                .is_none_or(|r| t.roles.iter().any(|x| swarm_roles::normalise(x) == *r))
    });
}

pub(crate) async fn list(
    target: &Target,
    as_json: bool,
    state: Option<&str>,
    role: Option<&str>,
) -> Result<()> {
    let mut tasks = fetch_tasks(target).await?;
    filter(&mut tasks, state, role);
    if as_json {
        print_json(&tasks_json(&tasks));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.state.clone(),
                t.attempts.to_string(),
                t.roles.join("+"),
                t.agents.join(","),
                if t.reason.is_empty() {
                    t.title.clone()
                } else {
                    format!("{} — {}", t.title, t.reason)
                },
            ]
        })
        .collect();
    crate::out!(
        "{}",
        table(
            &["ID", "STATE", "ATTEMPTS", "ROLES", "AGENTS", "TITLE"],
            &rows
        )
    );
    Ok(())
}

/// An operator's action on a task; returns the task's state after it.
pub(crate) async fn act(
    target: &Target,
    id: &str,
    action: pb::TaskAction,
    reason: String,
) -> Result<String> {
    Ok(target
        .control()
        .await?
        .task_action(pb::TaskActionRequest {
            id: id.to_string(),
            action: action as i32,
            reason,
        })
        .await?
        .into_inner()
        .state)
}

/// `task done|fail|... --json`.
pub(crate) fn acted_json(id: &str, state: &str) -> Value {
    json!({"id": id, "state": state})
}

pub(crate) async fn task(target: &Target, cmd: TaskCommand) -> Result<()> {
    let (args, action, verb) = match cmd {
        TaskCommand::Show { id, json } => return show(target, id, json).await,
        TaskCommand::Logs {
            id,
            follow,
            attempt,
            workdir,
        } => return super::logs::run(target, id, follow, attempt, workdir).await,
        TaskCommand::Result { id, json } => {
            return super::memory::task_result(target, id, json).await
        }
        TaskCommand::Done(a) => (a, pb::TaskAction::Done, "done"),
        TaskCommand::Fail(a) => (a, pb::TaskAction::Fail, "failed"),
        TaskCommand::Retry(a) => (a, pb::TaskAction::Retry, "retried"),
        TaskCommand::Skip(a) => (a, pb::TaskAction::Skip, "skipped"),
        TaskCommand::Cancel(a) => (a, pb::TaskAction::Cancel, "cancelled"),
    };
    let ActionArgs { id, reason, json } = args;
    let state = act(target, &id, action, reason).await?;
    if json {
        print_json(&acted_json(&id, &state));
    } else {
        crate::outln!("task {id} {verb}; it is now {state}");
    }
    Ok(())
}

/// A task with its dependencies and every attempt.
pub(crate) async fn fetch_task(target: &Target, id: String) -> Result<pb::TaskDetail> {
    let mut client = target.control().await?;
    Ok(client
        .get_task(pb::GetTaskRequest { id })
        .await?
        .into_inner())
}

/// `task show --json`.
pub(crate) fn detail_json(d: &pb::TaskDetail) -> Value {
    let attempts: Vec<Value> = d
        .attempts
        .iter()
        .map(|a| json!({"attempt": a.number, "fence": a.attempt, "agents": a.agents, "state": a.state, "created_at_ms": a.created_at_ms, "ended_at_ms": a.ended_at_ms, "exit_code": a.exit_code, "message": a.message, "output_dropped": a.output_dropped}))
        .collect();
    let mut v = task_json(&d.task.clone().unwrap_or_default());
    if let Some(o) = v.as_object_mut() {
        o.insert("attempt_history".into(), Value::Array(attempts));
        o.insert("depends_on".into(), json!(d.depends_on));
        o.insert("run".into(), json!(d.run));
        o.insert("checks".into(), json!(d.checks));
        o.insert("image".into(), json!(d.image));
    }
    v
}

async fn show(target: &Target, id: String, as_json: bool) -> Result<()> {
    let d = fetch_task(target, id).await?;
    if as_json {
        print_json(&detail_json(&d));
        return Ok(());
    }
    let t = d.task.clone().unwrap_or_default();
    crate::outln!(
        "task {}: {}\nstate: {}{}",
        t.id,
        super::printable(&t.title),
        t.state,
        if t.reason.is_empty() {
            String::new()
        } else {
            format!(" — {}", t.reason)
        }
    );
    if t.waits_for_operator {
        crate::outln!("waiting for an operator: swarmctl task done {}", t.id);
    }
    crate::outln!(
        "roles: {} · {} · {} h · day {}",
        t.roles.join("+"),
        t.priority,
        t.duration_hours,
        t.day
    );
    crate::outln!(
        "depends on: {}",
        if d.depends_on.is_empty() {
            "nothing".into()
        } else {
            d.depends_on.join(", ")
        }
    );
    if !d.run.is_empty() {
        crate::outln!("run: {}", d.run);
    }
    for c in &d.checks {
        crate::outln!("check: {c}");
    }
    let dropped: u64 = d.attempts.iter().map(|a| a.output_dropped).sum();
    if dropped > 0 {
        let dropped = crate::plural::count(dropped, "byte");
        crate::outln!(
            "output dropped: {dropped} (the agent shed output under pressure; the log marks where)"
        );
    }
    if d.attempts.is_empty() {
        crate::outln!("no attempts yet");
    } else {
        let rows: Vec<Vec<String>> = d
            .attempts
            .iter()
            .map(|a| {
                vec![
                    a.number.to_string(),
                    a.state.clone(),
                    a.agents.join(","),
                    clock(a.created_at_ms),
                    clock(a.ended_at_ms),
                    a.exit_code.map_or("-".into(), |c| c.to_string()),
                    a.message.lines().next().unwrap_or("").to_string(),
                ]
            })
            .collect();
        crate::out!(
            "{}",
            table(
                &["ATTEMPT", "STATE", "AGENTS", "STARTED", "ENDED", "EXIT", "MESSAGE"],
                &rows
            )
        );
    }
    Ok(())
}
