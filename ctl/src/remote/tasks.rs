//! `swarmctl tasks` and `swarmctl task show|logs|done|fail|retry|skip|cancel`.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::spend::spent_json;
use super::{clock, print_json, table, Result, Target};
use crate::cli::{ActionArgs, TaskCommand};

/// One row of `tasks --json`.
pub(crate) fn task_json(t: &pb::TaskSummary) -> Value {
    json!({
        "id": t.id, "title": t.title, "state": t.state, "attempts": t.attempts, "agents": t.agents,
        "priority": t.priority, "duration_hours": t.duration_hours, "roles": t.roles, "reason": t.reason,
        "day": t.day, "updated_at_ms": t.updated_at_ms, "waits_for_operator": t.waits_for_operator,
    })
}

/// What `swarmctl tasks` (and the MCP `tasks` tool) asks for; the
/// daemon filters.
#[derive(Debug, Default, Clone)]
pub(crate) struct Listing {
    /// Only tasks in this state.
    pub(crate) state: Option<String>,
    /// Only tasks that need this role (a phrase as plans write it works).
    pub(crate) role: Option<String>,
    /// At most this many tasks.
    pub(crate) limit: Option<u64>,
    /// Start after the task with this id.
    pub(crate) after: Option<String>,
}

/// Reads the listing page by page as the daemon sends it, handing each
/// page's tasks to `each`; answers whether `limit` cut it short with more
/// tasks matching, and the last task's id.
pub(crate) async fn stream_tasks(
    target: &Target,
    l: Listing,
    mut each: impl FnMut(&[pb::TaskSummary]),
) -> Result<Cut> {
    let mut client = target.control().await?;
    let mut pages = client
        .list_tasks(pb::ListTasksRequest {
            state: l.state.unwrap_or_default(),
            role: l.role.unwrap_or_default(),
            limit: l.limit.unwrap_or(0),
            after: l.after.unwrap_or_default(),
        })
        .await?
        .into_inner();
    let mut cut = Cut::default();
    while let Some(page) = pages.message().await? {
        if let Some(t) = page.tasks.last() {
            cut.last = Some(t.id.clone());
        }
        cut.more |= page.more;
        each(&page.tasks);
    }
    Ok(cut)
}

/// How a listing ended.
#[derive(Debug, Default)]
pub(crate) struct Cut {
    /// The limit stopped it and more tasks match.
    pub(crate) more: bool,
    /// The id of the last task listed.
    pub(crate) last: Option<String>,
}

impl Cut {
    /// What to say when more tasks match than were listed, with how to
    /// get the next ones (`next` words it for the last task's id).
    pub(crate) fn note(&self, next: impl Fn(&str) -> String) -> Option<String> {
        match (self.more, &self.last) {
            (true, Some(last)) => Some(format!("more tasks match; {}", next(last))),
            (true, None) => Some("more tasks match".into()),
            (false, _) => None,
        }
    }
}

/// One table row of `swarmctl tasks`.
fn task_row(t: &pb::TaskSummary) -> Vec<String> {
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
}

/// `swarmctl tasks`: every task that matches, printed as the pages
/// arrive: a table, or one JSON array written element by element.
pub(crate) async fn list(target: &Target, as_json: bool, l: Listing) -> Result<()> {
    let cut = if as_json {
        let mut array = super::rows::JsonArray::default();
        let cut = stream_tasks(target, l, |page| {
            let rows: Vec<Value> = page.iter().map(task_json).collect();
            array.print(&rows);
        })
        .await?;
        array.finish();
        cut
    } else {
        let header = ["ID", "STATE", "ATTEMPTS", "ROLES", "AGENTS", "TITLE"];
        let mut table = super::rows::StreamTable::new(&header);
        let cut = stream_tasks(target, l, |page| {
            table.print(page.iter().map(task_row).collect());
        })
        .await?;
        // No task matched: the header alone, as for an empty table.
        table.print(Vec::new());
        cut
    };
    if let Some(note) = cut.note(|last| format!("list the next ones with --after {last}")) {
        eprintln!("swarmctl: {note}");
    }
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
        TaskCommand::Diff { id, attempt, json } => {
            return super::work::diff(target, id, attempt, json).await
        }
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
        .map(|a| {
            let mut v = json!({"attempt": a.number, "fence": a.attempt, "agents": a.agents, "state": a.state, "created_at_ms": a.created_at_ms, "ended_at_ms": a.ended_at_ms, "exit_code": a.exit_code, "message": a.message, "output_dropped": a.output_dropped, "usage": a.usage.as_ref().map(spent_json), "session_id": a.session_id});
            if let (Some(o), Some(w)) = (v.as_object_mut(), super::work::attempt_json(a)) {
                o.insert("work".into(), w);
            }
            v
        })
        .collect();
    let mut v = task_json(&d.task.clone().unwrap_or_default());
    if let Some(o) = v.as_object_mut() {
        o.insert("attempt_history".into(), Value::Array(attempts));
        o.insert("depends_on".into(), json!(d.depends_on));
        o.insert("run".into(), json!(d.run));
        o.insert("checks".into(), json!(d.checks));
        o.insert("image".into(), json!(d.image));
        if !d.repo.is_empty() {
            o.insert("repo".into(), json!(d.repo));
            o.insert("integration_branch".into(), json!(d.integration_branch));
        }
        o.insert("spend".into(), spent_json(&d.spend.unwrap_or_default()));
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
    if let Some(spent) = d.spend.filter(|s| s.reports > 0) {
        crate::outln!("spent: {}", super::spend::spent_words(&spent));
    }
    let dropped: u64 = d.attempts.iter().map(|a| a.output_dropped).sum();
    if dropped > 0 {
        let dropped = crate::plural::count(dropped, "byte");
        crate::outln!(
            "output dropped: {dropped} (the agent shed output under pressure; the log marks where)"
        );
    }
    print_attempts(&d);
    for line in super::work::lines(&d) {
        crate::outln!("{line}");
    }
    Ok(())
}

/// `task show`'s table of attempts.
fn print_attempts(d: &pb::TaskDetail) {
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
                    a.usage
                        .map_or("-".into(), |u| super::spend::usd(u.cost_usd)),
                    a.message.lines().next().unwrap_or("").to_string(),
                ]
            })
            .collect();
        crate::out!(
            "{}",
            table(
                &["ATTEMPT", "STATE", "AGENTS", "STARTED", "ENDED", "EXIT", "COST", "MESSAGE"],
                &rows
            )
        );
    }
}
