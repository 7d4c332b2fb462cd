//! The MCP tools: each one a thin call of the code behind the swarmctl
//! command of the same name, answering with what that command's `--json`
//! prints.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_handler, tool_router, ServerHandler};
use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::params::{
    MemoryKey, MemoryList, MemoryPut, PlanApply, PlanCancel, PlanFile, StandupRun, StandupShow,
    TaskAction, TaskFilter, TaskId, TaskLogs,
};
use super::{answer, noted, reply};
use crate::exit;
// Not `Result`: the handler macro's generated code means the standard one.
use crate::remote::{self, logs, memory, revise, standup, status, tasks, Failure, Target};

/// The tools, bound to one coordinator and one way of finding a token.
pub(crate) struct Swarm {
    target: Target,
}

impl Swarm {
    pub(crate) fn new(target: Target) -> Self {
        Swarm { target }
    }

    async fn act(&self, p: TaskAction, action: pb::TaskAction) -> remote::Result<Value> {
        let state = tasks::act(&self.target, &p.id, action, p.reason).await?;
        Ok(tasks::acted_json(&p.id, &state))
    }
}

#[tool_router]
impl Swarm {
    #[tool(
        description = "Validate a plan file offline and summarise it (tasks, dependencies, critical path, per-role hours), as `swarmctl plan check --json`; an invalid plan is an error listing each problem as FILE:LINE: error: ..."
    )]
    async fn plan_check(&self, Parameters(p): Parameters<PlanFile>) -> CallToolResult {
        reply(crate::plan::check_json(&p.input()).map_err(|m| Failure(exit::USAGE, m)))
    }

    #[tool(
        description = "Load a plan file into swarmd and start it (validated here first, as plan_check does); answers the plan's id, name, task count and warnings"
    )]
    async fn plan_load(&self, Parameters(p): Parameters<PlanFile>) -> CallToolResult {
        let load = async { status::send_plan(&self.target, status::check_plan(&p.input())?).await };
        answer(load, status::loaded_json).await
    }

    #[tool(
        description = "Apply a revised plan file to the running plan as its next version (with dry_run, only say what would change): tasks added, removed and changed field by field; succeeded tasks keep their results, running ones finish under the version they started with, removed ones are stopped; a revision that is not valid changes nothing. Answers as `swarmctl plan apply --json`"
    )]
    async fn plan_apply(&self, Parameters(p): Parameters<PlanApply>) -> CallToolResult {
        let how = revise::Apply {
            dry_run: p.dry_run,
            reason: p.reason,
            rerun: p.rerun,
            restart: p.restart,
        };
        let file = PlanFile {
            path: p.path,
            roles: p.roles,
            agents_dir: p.agents_dir,
        };
        let input = file.input();
        let apply = async { Ok(revise::send(&self.target, &input, how).await?.0) };
        answer(apply, revise::applied_json).await
    }

    #[tool(
        description = "The running plan's versions, oldest first: version, at, actor, reason, summary and changes, as `swarmctl plan history --json`"
    )]
    async fn plan_history(&self) -> CallToolResult {
        answer(revise::fetch_history(&self.target), revise::history_json).await
    }

    #[tool(
        description = "Abandon the running (or paused) plan: every task it has not finished is cancelled, running attempts are stopped, the plan ends `cancelled` and another can be loaded; answers the plan's name and how many tasks were cancelled, as `swarmctl plan cancel --json`"
    )]
    async fn plan_cancel(&self, Parameters(p): Parameters<PlanCancel>) -> CallToolResult {
        answer(
            status::cancel_plan(&self.target, p.reason),
            status::cancelled_json,
        )
        .await
    }

    #[tool(
        description = "The run at a glance: plan, state, task counts, agents, plan clock, verdict, gates and the tasks waiting for an operator"
    )]
    async fn status(&self) -> CallToolResult {
        let fetch = async { status::fetch_status(&mut self.target.control().await?).await };
        answer(fetch, status::status_json).await
    }

    #[tool(
        description = "Tasks in plan order with their state, attempts, roles, agents and reason, as `swarmctl tasks --json` prints them; only those in `state` and needing `role` when given (swarmd filters). At most `limit` tasks (default 500, at most 5000): when more match, a second text block says so and names the task id to pass as `after` for the next page"
    )]
    async fn tasks(&self, Parameters(p): Parameters<TaskFilter>) -> CallToolResult {
        let mut rows = Vec::new();
        let listed = tasks::stream_tasks(&self.target, p.listing(), |page| {
            rows.extend(page.iter().map(tasks::task_json));
        })
        .await;
        let note = |cut: &tasks::Cut| {
            cut.note(|last| format!("call tasks again with after = \"{last}\" for the next ones, or narrow the list with state or role"))
        };
        match listed {
            Ok(cut) => noted(Value::Array(rows), note(&cut)),
            Err(failure) => reply(Err(failure)),
        }
    }

    #[tool(description = "One task with its dependencies, commands and every attempt")]
    async fn task_show(&self, Parameters(p): Parameters<TaskId>) -> CallToolResult {
        answer(tasks::fetch_task(&self.target, p.id), tasks::detail_json).await
    }

    #[tool(
        description = "A task's output so far (its latest attempt unless `attempt` is given), standard output and standard error interleaved as written"
    )]
    async fn task_logs(&self, Parameters(p): Parameters<TaskLogs>) -> CallToolResult {
        let mut output = Vec::new();
        let read = logs::read(
            &self.target,
            p.id.clone(),
            false,
            p.attempt,
            p.workdir.as_deref(),
            |_, data| output.extend_from_slice(data),
        )
        .await;
        reply(read.map(|()| json!({"id": p.id, "output": String::from_utf8_lossy(&output)})))
    }

    #[tool(
        description = "What a succeeded task produced: the file it wrote to $SWARM_RESULT, else the tail of its output (the shared-memory entry at namespace `swarm:results`, key = the task id), as `swarmctl task result ID --json`"
    )]
    async fn task_result(&self, Parameters(p): Parameters<TaskId>) -> CallToolResult {
        answer(memory::fetch_result(&self.target, p.id), memory::entry_json).await
    }

    #[tool(
        description = "Mark a task succeeded; a task with no command waits for this. Answers the task's state after it"
    )]
    async fn task_done(&self, Parameters(p): Parameters<TaskAction>) -> CallToolResult {
        reply(self.act(p, pb::TaskAction::Done).await)
    }

    #[tool(description = "Mark a task failed; its dependents are blocked")]
    async fn task_fail(&self, Parameters(p): Parameters<TaskAction>) -> CallToolResult {
        reply(self.act(p, pb::TaskAction::Fail).await)
    }

    #[tool(
        description = "Run a failed, blocked or cancelled task again and unblock its dependents"
    )]
    async fn task_retry(&self, Parameters(p): Parameters<TaskAction>) -> CallToolResult {
        reply(self.act(p, pb::TaskAction::Retry).await)
    }

    #[tool(
        description = "Read one entry of the shared memory (namespace `default` unless given); an absent key is an error"
    )]
    async fn memory_get(&self, Parameters(p): Parameters<MemoryKey>) -> CallToolResult {
        answer(
            memory::get(&self.target, p.namespace, p.key),
            memory::entry_json,
        )
        .await
    }

    #[tool(
        description = "Store a value in the shared memory, optionally only if absent or only if it holds an expected value (compare-and-swap); answers whether the key was created"
    )]
    async fn memory_put(&self, Parameters(p): Parameters<MemoryPut>) -> CallToolResult {
        let (namespace, key) = (p.namespace.clone(), p.key.clone());
        let put = memory::Put {
            namespace: p.namespace,
            key: p.key,
            value: p.value,
            ttl: p.ttl,
            if_absent: p.if_absent,
            expect: p.expect,
            tags: p.tags,
        };
        reply(
            memory::put(&self.target, put)
                .await
                .map(|created| memory::put_json(&namespace, &key, created)),
        )
    }

    #[tool(
        description = "List live shared-memory entries, of one namespace and key prefix if given"
    )]
    async fn memory_list(&self, Parameters(p): Parameters<MemoryList>) -> CallToolResult {
        answer(memory::list(&self.target, p.namespace, p.prefix), |e| {
            memory::entries_json(e)
        })
        .await
    }

    #[tool(
        description = "Run a checkpoint (standup) now: write its report and reallocate agents; answers the report and its decisions"
    )]
    async fn standup_run(&self, Parameters(p): Parameters<StandupRun>) -> CallToolResult {
        answer(
            standup::run_now(&self.target, p.kind),
            standup::standup_json,
        )
        .await
    }

    #[tool(description = "One checkpoint's report and decisions (default: the latest)")]
    async fn standup_show(&self, Parameters(p): Parameters<StandupShow>) -> CallToolResult {
        answer(standup::fetch(&self.target, p.n), standup::standup_json).await
    }
}

#[tool_handler(
    name = "swarmctl",
    instructions = "Drive a swarmd coordinator: validate, load and cancel plans, watch the run, act on tasks, read and write the shared memory, run standups. Every tool answers JSON, as the swarmctl command of the same name prints with --json."
)]
impl ServerHandler for Swarm {}
