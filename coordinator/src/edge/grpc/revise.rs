//! Revisions of the running plan at the gRPC edge: `ApplyPlan` (the
//! revised file streamed like `LoadPlan`, compiled off the loop, then
//! applied by the core as the plan's next version), `PlanHistory`, and
//! `PlanDiff` (two stored versions compiled off the loop and compared).
//! [`apply`] is what the web view's form uses too.

use swarm_core::actor::Actor;
use swarm_core::command::{LoadPlan, PlanCmd, PlanText, Query};
use swarm_core::revise::{ApplyPlan, Revision};
use swarm_core::roles::RolesSource;
use swarm_core::{CoreError, CoreHandle};
use swarm_proto::v1 as pb;
use tonic::Status;

use super::status;

/// How to apply a revision: `swarmctl plan apply`'s flags.
#[derive(Debug, Clone, Default)]
pub struct ApplyChoice {
    /// Only say what would change.
    pub dry_run: bool,
    /// Finished tasks to run again.
    pub rerun: Vec<String>,
    /// Running tasks to stop and start again.
    pub restart: Vec<String>,
    /// Why.
    pub reason: String,
}

/// Compiles `text` off the loop (a plan that does not compile is refused
/// with its `file:line`, nothing changed) and has the core apply it.
///
/// # Errors
/// The compiler's [`CoreError::Invalid`], or the core's refusal.
pub async fn apply(
    core: &CoreHandle,
    roles: &RolesSource,
    text: PlanText,
    choice: ApplyChoice,
    actor: Actor,
) -> Result<Revision, CoreError> {
    let plan = compile(roles, text).await?;
    let req = ApplyPlan {
        plan,
        dry_run: choice.dry_run,
        rerun: choice.rerun,
        restart: choice.restart,
        reason: choice.reason,
        actor,
    };
    core.ask(|reply| PlanCmd::Apply(Box::new(req), reply).into())
        .await
}

/// Compiles a plan on a blocking thread: never on the scheduler's, nor
/// on the runtime's.
pub(super) async fn compile(roles: &RolesSource, text: PlanText) -> Result<LoadPlan, CoreError> {
    let roles = roles.clone();
    tokio::task::spawn_blocking(move || LoadPlan::compile(text, &roles))
        .await
        .map_err(|e| CoreError::Fatal(format!("compiling the plan stopped: {e}")))?
}

/// `ApplyPlan`: the text and options received, applied.
pub(super) async fn apply_plan(
    core: &CoreHandle,
    roles: &RolesSource,
    received: (PlanText, pb::ApplyOptions),
    actor: Actor,
) -> Result<pb::ApplyPlanReply, Status> {
    let (text, o) = received;
    let choice = ApplyChoice {
        dry_run: o.dry_run,
        rerun: o.rerun,
        restart: o.restart,
        reason: o.reason,
    };
    let r = apply(core, roles, text, choice, actor)
        .await
        .map_err(status)?;
    Ok(pb::ApplyPlanReply {
        plan: r.plan,
        version: r.version,
        applied: r.applied,
        summary: r.summary,
        changes: r.changes,
        added: r.added,
        removed: r.removed,
        changed: r.changed,
        stopped: r.stopped,
        restarted: r.restarted,
        rerun: r.rerun,
        warnings: r.warnings,
    })
}

/// `PlanHistory`.
pub(super) async fn plan_history(core: &CoreHandle) -> Result<pb::PlanHistoryReply, Status> {
    let versions = core
        .ask(|reply| Query::PlanHistory(reply).into())
        .await
        .map_err(status)?;
    let plan = core
        .ask(|reply| Query::Status(reply).into())
        .await
        .map_err(status)?
        .plan;
    Ok(pb::PlanHistoryReply {
        plan,
        versions: versions
            .into_iter()
            .map(|v| pb::PlanVersion {
                version: v.version,
                at: v.at,
                actor: v.actor,
                reason: v.reason,
                summary: v.summary,
                changes: v.changes,
            })
            .collect(),
    })
}

/// `PlanDiff`: version `from` (0: the one before `to`) against `to` (0:
/// the one running).
pub(super) async fn plan_diff(
    core: &CoreHandle,
    roles: &RolesSource,
    req: pb::PlanDiffRequest,
) -> Result<pb::PlanDiffReply, Status> {
    let history = core
        .ask(|reply| Query::PlanHistory(reply).into())
        .await
        .map_err(status)?;
    let current = history.last().map_or(1, |v| v.version);
    let to = if req.to == 0 { current } else { req.to };
    let from = if req.from == 0 {
        to.saturating_sub(1).max(1)
    } else {
        req.from
    };
    let mut compiled = Vec::new();
    for version in [from, to] {
        let text = core
            .ask(|reply| Query::PlanText(version, reply).into())
            .await
            .map_err(status)?;
        let plan = compile(roles, text).await.map_err(|e| {
            status(CoreError::Invalid(format!(
                "version {version} of the plan no longer compiles: {e}"
            )))
        })?;
        compiled.push(plan);
    }
    let change =
        swarm_plan::revise::diff(compiled[0].compiled(), &|_| true, compiled[1].compiled());
    Ok(pb::PlanDiffReply {
        from,
        to,
        summary: change.summary(),
        changes: change.lines(),
    })
}
