//! `ControlService`: everything `swarmctl` does. Reads take an admin or
//! viewer token, changes an admin token.

use super::lists::{EventFilter, TaskListing};
use super::streams::{async_stream, shutting_down};
use super::{convert, status, BoxStream};
use crate::daemon::tasks::Tasks;
use crate::edge::auth::{Scope, Tokens};
use swarm_core::budget::BudgetCmd;
use swarm_core::command::{Actor, CheckpointCmd, PlanCmd, Query};
use swarm_core::follow::{relay, Relayed};
use swarm_core::CoreHandle;
use swarm_proto::v1 as pb;
use tonic::{Request, Response, Status};

/// The control service.
pub struct ControlSvc {
    core: CoreHandle,
    tokens: Tokens,
    /// `WORKDIR/.swarm`, which backups copy.
    state_dir: std::path::PathBuf,
    /// Where roles and their profiles come from (`swarmctl roles`).
    roles: swarm_core::roles::RolesSource,
    /// Largest plan `LoadPlan` accepts, in bytes.
    max_plan_bytes: u64,
    /// Where the follow streams' tasks are registered.
    tasks: Tasks,
}

impl ControlSvc {
    /// A service sending to `core`.
    pub fn new(
        core: CoreHandle,
        tokens: Tokens,
        state_dir: std::path::PathBuf,
        tasks: Tasks,
    ) -> Self {
        ControlSvc {
            core,
            tokens,
            state_dir,
            roles: Default::default(),
            max_plan_bytes: crate::daemon::config::DEFAULT_MAX_PLAN_BYTES,
            tasks,
        }
    }

    /// Refuses plans larger than `bytes` (default
    /// [`crate::daemon::config::DEFAULT_MAX_PLAN_BYTES`]).
    pub fn with_max_plan_bytes(mut self, bytes: u64) -> Self {
        self.max_plan_bytes = bytes;
        self
    }

    /// Lists roles from `roles` (default: the built-in catalogue only).
    pub fn with_roles(mut self, roles: swarm_core::roles::RolesSource) -> Self {
        self.roles = roles;
        self
    }
}

type R<T> = Result<Response<T>, Status>;

impl ControlSvc {
    /// Pauses or resumes the plan for `actor`; its state afterwards.
    async fn set_paused(&self, paused: bool, actor: Actor) -> R<pb::PlanStateReply> {
        let state = self
            .core
            .ask(|reply| {
                PlanCmd::SetPaused {
                    paused,
                    actor,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PlanStateReply {
            state: state.name().into(),
        }))
    }

    /// Checks that `req` may change the plan's course; its actor.
    fn operator<T>(&self, req: &Request<T>) -> Result<Actor, Status> {
        let holder = self.tokens.check(req, Scope::Admin)?;
        Ok(crate::edge::actor::actor_of(req, &holder))
    }
}

#[tonic::async_trait]
impl pb::control_service_server::ControlService for ControlSvc {
    async fn load_plan(
        &self,
        req: Request<tonic::Streaming<pb::LoadPlanChunk>>,
    ) -> R<pb::LoadPlanReply> {
        let actor = self.operator(&req)?;
        let text = super::plan_upload::receive(req.into_inner(), self.max_plan_bytes).await?;
        let load = super::revise::compile(&self.roles, text)
            .await
            .map_err(status)?;
        let loaded = self
            .core
            .ask(|reply| {
                PlanCmd::Load {
                    plan: Box::new(load),
                    actor,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::LoadPlanReply {
            plan_id: loaded.plan_id as u64,
            name: loaded.name,
            tasks: loaded.tasks,
            warnings: loaded.warnings,
        }))
    }

    async fn status(&self, req: Request<pb::StatusRequest>) -> R<pb::StatusReply> {
        self.tokens.check(&req, Scope::Read)?;
        let s = self
            .core
            .ask(|reply| Query::Status(reply).into())
            .await
            .map_err(status)?;
        Ok(Response::new(convert::status_to(s)))
    }

    type ListTasksStream = BoxStream<pb::ListTasksReply>;

    async fn list_tasks(&self, req: Request<pb::ListTasksRequest>) -> R<Self::ListTasksStream> {
        self.tokens.check(&req, Scope::Read)?;
        let listing = TaskListing::from_request(req.into_inner(), &self.roles)?;
        let first = listing.first(&self.core).await?;
        let core = self.core.clone();
        let stream = async_stream(&self.tasks, "task list stream", move |tx| {
            listing.send(core, first, tx)
        });
        Ok(Response::new(stream))
    }

    async fn get_task(&self, req: Request<pb::GetTaskRequest>) -> R<pb::TaskDetail> {
        self.tokens.check_task(&req, &req.get_ref().id)?;
        let id = req.into_inner().id;
        let d = self
            .core
            .ask(|reply| Query::GetTask(id, reply).into())
            .await
            .map_err(status)?;
        Ok(Response::new(convert::detail_to(d)))
    }

    async fn task_diff(&self, req: Request<pb::TaskDiffRequest>) -> R<pb::TaskDiffReply> {
        self.tokens.check_task(&req, &req.get_ref().id)?;
        let reply = super::diff::task_diff(&self.core, &self.state_dir, req.into_inner()).await?;
        Ok(Response::new(reply))
    }

    type TaskLogsStream = BoxStream<pb::LogLine>;

    async fn task_logs(&self, req: Request<pb::TaskLogsRequest>) -> R<Self::TaskLogsStream> {
        self.tokens.check_task(&req, &req.get_ref().id)?;
        super::logs::open(&self.core, &self.tasks, req.into_inner())
            .await
            .map(Response::new)
    }

    async fn task_action(&self, req: Request<pb::TaskActionRequest>) -> R<pb::TaskActionReply> {
        let actor = self.operator(&req)?;
        let r = req.into_inner();
        let action = convert::action_from(r.action).ok_or_else(|| {
            Status::invalid_argument("action must be one of done, fail, retry, skip, cancel")
        })?;
        let state = self
            .core
            .ask(|reply| {
                PlanCmd::TaskAction {
                    task: r.id,
                    action,
                    reason: r.reason,
                    actor,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::TaskActionReply {
            state: state.name().into(),
        }))
    }

    async fn list_agents(&self, req: Request<pb::ListAgentsRequest>) -> R<pb::ListAgentsReply> {
        self.tokens.check(&req, Scope::Read)?;
        let agents = self
            .core
            .ask(|reply| Query::ListAgents(reply).into())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListAgentsReply {
            agents: agents.into_iter().map(convert::agent_to).collect(),
        }))
    }

    async fn drain_agent(&self, req: Request<pb::DrainAgentRequest>) -> R<pb::DrainAgentReply> {
        let actor = self.operator(&req)?;
        let id = req.into_inner().id;
        let state = self
            .core
            .ask(|reply| {
                PlanCmd::DrainAgent {
                    agent: id,
                    actor,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DrainAgentReply {
            state: state.name().into(),
        }))
    }

    type EventsStream = BoxStream<pb::Event>;

    async fn events(&self, req: Request<pb::EventsRequest>) -> R<Self::EventsStream> {
        self.tokens.check(&req, Scope::Read)?;
        let r = req.into_inner();
        let filter = EventFilter::from_request(&r)?;
        let (follow, since) = (r.follow, r.since);
        let start = self
            .core
            .ask(|reply| Query::Events { since, reply }.into())
            .await
            .map_err(status)?;
        let core = self.core.clone();
        let stream = async_stream(&self.tasks, "events stream", move |tx| async move {
            let map = |e: &_| filter.map(e);
            let end = relay(&core, start, Some(since), follow, &tx, map).await;
            if end == Relayed::Stopped {
                shutting_down(&tx).await;
            }
        });
        Ok(Response::new(stream))
    }

    async fn run_standup(&self, req: Request<pb::RunStandupRequest>) -> R<pb::Standup> {
        let actor = self.operator(&req)?;
        let kind = Some(req.into_inner().kind).filter(|k| !k.trim().is_empty());
        let s = self
            .core
            .ask(|reply| CheckpointCmd::Run { kind, actor, reply }.into())
            .await
            .map_err(status)?;
        Ok(Response::new(convert::standup_to(s)))
    }

    async fn list_standups(
        &self,
        req: Request<pb::ListStandupsRequest>,
    ) -> R<pb::ListStandupsReply> {
        self.tokens.check(&req, Scope::Read)?;
        let all = self
            .core
            .ask(|reply| CheckpointCmd::List(reply).into())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListStandupsReply {
            standups: all.into_iter().map(convert::standup_to).collect(),
        }))
    }

    async fn get_standup(&self, req: Request<pb::GetStandupRequest>) -> R<pb::Standup> {
        self.tokens.check(&req, Scope::Read)?;
        let id = req.into_inner().id as i64;
        let s = self
            .core
            .ask(|reply| CheckpointCmd::Get(id, reply).into())
            .await
            .map_err(status)?;
        Ok(Response::new(convert::standup_to(s)))
    }

    async fn pause(&self, req: Request<pb::PauseRequest>) -> R<pb::PlanStateReply> {
        let actor = self.operator(&req)?;
        self.set_paused(true, actor).await
    }

    async fn resume(&self, req: Request<pb::ResumeRequest>) -> R<pb::PlanStateReply> {
        let actor = self.operator(&req)?;
        self.set_paused(false, actor).await
    }

    async fn cancel_plan(&self, req: Request<pb::CancelPlanRequest>) -> R<pb::CancelPlanReply> {
        let actor = self.operator(&req)?;
        let reason = req.into_inner().reason;
        let cancelled = self
            .core
            .ask(|reply| {
                PlanCmd::Cancel {
                    reason,
                    actor,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::CancelPlanReply {
            name: cancelled.name,
            cancelled: cancelled.tasks,
            state: swarm_core::model::PlanState::Cancelled.name().into(),
        }))
    }

    async fn backup(&self, req: Request<pb::BackupRequest>) -> R<pb::BackupReply> {
        self.tokens.check(&req, Scope::Admin)?;
        let dir = req.into_inner().dir;
        super::backup::take(&self.state_dir, dir)
            .await
            .map(Response::new)
    }

    async fn list_roles(&self, req: Request<pb::ListRolesRequest>) -> R<pb::ListRolesReply> {
        self.tokens.check(&req, Scope::Read)?;
        super::roles::list(&self.roles).map(Response::new)
    }

    async fn approve_gate(&self, req: Request<pb::ApproveGateRequest>) -> R<pb::ApproveGateReply> {
        let actor = self.operator(&req)?;
        let day = req.into_inner().day;
        let opened = self
            .core
            .ask(|reply| PlanCmd::ApproveGate { day, actor, reply }.into())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ApproveGateReply { opened }))
    }

    async fn budgets(&self, req: Request<pb::BudgetsRequest>) -> R<pb::BudgetsReply> {
        self.tokens.check(&req, Scope::Read)?;
        let lines = self
            .core
            .ask(|reply| BudgetCmd::Show(reply).into())
            .await
            .map_err(status)?;
        Ok(Response::new(convert::budgets_to(lines)))
    }

    async fn set_budget(&self, req: Request<pb::SetBudgetRequest>) -> R<pb::BudgetsReply> {
        let actor = self.operator(&req)?;
        let pb::SetBudgetRequest { scope, usd } = req.into_inner();
        let lines = self
            .core
            .ask(|reply| {
                BudgetCmd::Set {
                    scope,
                    usd,
                    actor,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        Ok(Response::new(convert::budgets_to(lines)))
    }

    async fn apply_plan(
        &self,
        req: Request<tonic::Streaming<pb::LoadPlanChunk>>,
    ) -> R<pb::ApplyPlanReply> {
        let actor = self.operator(&req)?;
        let chunks = req.into_inner();
        let received =
            super::plan_upload::receive_with_options(chunks, self.max_plan_bytes).await?;
        let reply = super::revise::apply_plan(&self.core, &self.roles, received, actor).await?;
        Ok(Response::new(reply))
    }

    async fn plan_history(&self, req: Request<pb::PlanHistoryRequest>) -> R<pb::PlanHistoryReply> {
        self.tokens.check(&req, Scope::Read)?;
        Ok(Response::new(
            super::revise::plan_history(&self.core).await?,
        ))
    }

    async fn plan_diff(&self, req: Request<pb::PlanDiffRequest>) -> R<pb::PlanDiffReply> {
        self.tokens.check(&req, Scope::Read)?;
        let reply = super::revise::plan_diff(&self.core, &self.roles, req.into_inner()).await?;
        Ok(Response::new(reply))
    }
}
