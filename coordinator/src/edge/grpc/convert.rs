//! Wire ↔ domain conversions for the coordinator, in one place.

use swarm_proto::v1 as pb;

use swarm_core::command::{
    AttemptRef, AttemptReport, FromAgent, Hello, Outcome, TaskAction, ToAgent,
};
use swarm_core::views;

pub(crate) fn attempt_from(r: Option<pb::AttemptRef>) -> AttemptRef {
    let r = r.unwrap_or_default();
    AttemptRef {
        task_id: r.task_id,
        attempt: r.attempt,
    }
}

pub(crate) fn attempt_to(r: &AttemptRef) -> pb::AttemptRef {
    pb::AttemptRef {
        task_id: r.task_id.clone(),
        attempt: r.attempt,
    }
}

pub(crate) fn hello_from(h: pb::Hello) -> Hello {
    Hello {
        agent_id: h.agent_id,
        roles: h.roles,
        slots: h.slots,
        host: h.host,
        labels: h.labels.into_iter().collect(),
        running: h
            .running
            .into_iter()
            .map(|r| attempt_from(Some(r)))
            .collect(),
        instance: h.instance,
        exec_template: h.exec_template,
        sandbox: h.sandbox,
        alive: Default::default(),
    }
}

/// An agent message after the Hello; None for an empty or repeated Hello.
pub(crate) fn from_agent(m: pb::AgentMessage) -> Option<FromAgent> {
    use pb::agent_message::Body;
    Some(match m.body? {
        Body::Hello(_) => return None,
        Body::Heartbeat(_) => FromAgent::Heartbeat,
        Body::Started(s) => FromAgent::Started(attempt_from(s.attempt)),
        Body::Log(l) => FromAgent::Log {
            attempt: attempt_from(l.attempt),
            stream: l.stream.clamp(0, 1) as u8,
            data: l.data,
        },
        Body::Result(r) => FromAgent::Result {
            attempt: attempt_from(r.attempt),
            report: AttemptReport {
                outcome: match pb::Outcome::try_from(r.outcome).unwrap_or(pb::Outcome::Unspecified)
                {
                    pb::Outcome::Succeeded => Outcome::Succeeded,
                    pb::Outcome::TimedOut => Outcome::TimedOut,
                    pb::Outcome::Cancelled => Outcome::Cancelled,
                    pb::Outcome::Failed | pb::Outcome::Unspecified => Outcome::Failed,
                },
                exit_code: r.exit_code,
                message: r.message,
                output_dropped: r.output_dropped,
                not_started: r.not_started,
                result: r.result,
                commit: Some(r.commit).filter(|c| !c.is_empty()),
                usage: r.usage.map(usage_from),
                rate_limit: r.rate_limit.map(|l| swarm_core::command::RateLimit {
                    reset_at: (l.reset_at_ms > 0).then_some(l.reset_at_ms),
                }),
            },
        },
        Body::Draining(_) => FromAgent::Draining,
        Body::Release(r) => FromAgent::Release {
            attempt: attempt_from(r.attempt),
            reason: r.reason,
        },
    })
}

pub(crate) fn to_agent(m: ToAgent) -> pb::CoordinatorMessage {
    use pb::coordinator_message::Body;
    let body = match m {
        ToAgent::Welcome(w) => {
            let swarm_core::command::Welcome {
                agent_id,
                heartbeat_ms,
                lease_ttl_ms,
                resume,
                abandon,
                active_role,
                state_dir,
            } = *w;
            Body::Welcome(pb::Welcome {
                agent_id,
                heartbeat_ms,
                lease_ttl_ms,
                resume: resume.iter().map(attempt_to).collect(),
                abandon: abandon.iter().map(attempt_to).collect(),
                active_role,
                state_dir,
            })
        }
        ToAgent::Assign(a) => Body::Assign(pb::Assign {
            attempt: Some(attempt_to(&a.attempt)),
            attempt_no: a.attempt_no,
            role: a.role,
            lead: a.lead,
            member: a.member,
            members: a.members,
            workspace: a.workspace.map(|w| pb::Workspace {
                repo: w.repo,
                base_commit: w.base_commit,
                branch: w.branch,
                plan: w.plan,
                checks_only: w.checks_only,
            }),
            spec: Some(pb::TaskSpec {
                title: a.title,
                run: a.run.unwrap_or_default(),
                checks: a.checks,
                image: a.image.unwrap_or_default(),
                timeout_ms: a.timeout_ms,
                brief: a.brief,
                env: a.env.into_iter().collect(),
                plan: a.plan,
                profile: Some(pb::RoleProfile {
                    prompt: a.profile.prompt.unwrap_or_default(),
                    exec: a.profile.exec.unwrap_or_default(),
                    model: a.profile.model.unwrap_or_default(),
                    tools: a.profile.tools,
                    env: a.profile.env.into_iter().collect(),
                }),
            }),
        }),
        ToAgent::Cancel(r, reason) => Body::Cancel(pb::Cancel {
            attempt: Some(attempt_to(&r)),
            reason,
        }),
        ToAgent::Ack {
            attempt,
            accepted,
            reason,
        } => Body::Ack(pb::ResultAck {
            attempt: Some(attempt_to(&attempt)),
            accepted,
            reason,
        }),
        ToAgent::SetRole(role) => Body::SetRole(pb::SetRole { role }),
        ToAgent::Drain(reason) => Body::Drain(pb::Drain { reason }),
        ToAgent::Goodbye { reason, grace_ms } => Body::Goodbye(pb::Goodbye { reason, grace_ms }),
    };
    pb::CoordinatorMessage { body: Some(body) }
}

pub(crate) fn action_from(a: i32) -> Option<TaskAction> {
    Some(match pb::TaskAction::try_from(a).ok()? {
        pb::TaskAction::Done => TaskAction::Done,
        pb::TaskAction::Fail => TaskAction::Fail,
        pb::TaskAction::Retry => TaskAction::Retry,
        pb::TaskAction::Skip => TaskAction::Skip,
        pb::TaskAction::Cancel => TaskAction::Cancel,
        pb::TaskAction::Unspecified => return None,
    })
}

pub(crate) fn status_to(s: views::Status) -> pb::StatusReply {
    let c = s.counts;
    pb::StatusReply {
        plan_id: s.plan_id as u64,
        plan: s.plan,
        state: s.state.name().to_string(),
        tasks: Some(pb::TaskCounts {
            total: c.total,
            pending: c.pending,
            ready: c.ready,
            running: c.running,
            merging: c.merging,
            succeeded: c.succeeded,
            failed: c.failed,
            blocked: c.blocked,
            skipped: c.skipped,
            cancelled: c.cancelled,
            removed: c.removed,
        }),
        agents: s.agents,
        loaded_at_ms: s.loaded_at,
        finished_at_ms: s.finished_at,
        unstaffed_roles: s.unstaffed_roles,
        plan_time: s.plan_time,
        plan_day: s.plan_day,
        projected_completion: s.projected,
        shortfall: s.shortfall,
        next_checkpoint: s.next_checkpoint,
        memory: s.memory,
        workspace: s.workspace,
        verdict: s.verdict.map(|v| v.name().to_string()).unwrap_or_default(),
        verdict_reason: s.verdict_reason,
        gates: s.gates,
        waiting_for_operator: s.waiting_for_operator,
        spend: Some(spend_to(&s.spend)),
        pools: s.pools,
        budgets: s.budgets,
    }
}

/// Budgets for the wire.
pub(crate) fn budgets_to(lines: Vec<swarm_core::budget::BudgetLine>) -> pb::BudgetsReply {
    let budgets = lines
        .into_iter()
        .map(|l| pb::BudgetInfo {
            scope: l.scope.name(),
            limit_usd: l.limit_usd,
            spent_usd: l.spent_usd,
            state: if l.reached() {
                "reached"
            } else if l.warned() {
                "warning"
            } else {
                "ok"
            }
            .to_string(),
            sentence: l.sentence(),
        })
        .collect();
    pb::BudgetsReply { budgets }
}

/// What an attempt spent on one agent, from the wire.
fn usage_from(u: pb::Usage) -> swarm_memory::state::Usage {
    swarm_memory::state::Usage {
        cost_usd: if u.cost_usd.is_finite() {
            u.cost_usd.max(0.0)
        } else {
            0.0
        },
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_creation_tokens: u.cache_creation_tokens,
        cache_read_tokens: u.cache_read_tokens,
        turns: u.turns,
        session_id: u.session_id,
        model: u.model,
    }
}

fn spent_to(t: &views::Tally) -> pb::Spent {
    pb::Spent {
        cost_usd: t.cost_usd,
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        cache_creation_tokens: t.cache_creation_tokens,
        cache_read_tokens: t.cache_read_tokens,
        reports: t.reports,
    }
}

fn spend_to(s: &views::SpendView) -> pb::Spend {
    let lines = |v: &[views::SpendLine]| -> Vec<pb::SpendLine> {
        v.iter()
            .map(|l| pb::SpendLine {
                name: l.name.clone(),
                spent: Some(spent_to(&l.tally)),
            })
            .collect()
    };
    pb::Spend {
        total: Some(spent_to(&s.total)),
        today: Some(spent_to(&s.today)),
        usd_per_plan_hour: s.usd_per_plan_hour,
        by_role: lines(&s.by_role),
        by_day: lines(&s.by_day),
        by_agent: lines(&s.by_agent),
    }
}

pub(crate) fn task_to(t: views::TaskView) -> pb::TaskSummary {
    pb::TaskSummary {
        id: t.id,
        title: t.title,
        state: t.state.name().to_string(),
        attempts: t.attempts,
        agents: t.agents,
        priority: t.priority,
        duration_hours: t.duration_hours,
        roles: t.roles,
        reason: t.reason,
        day: t.day,
        updated_at_ms: t.updated_at,
        waits_for_operator: t.waits_for_operator,
    }
}

pub(crate) fn detail_to(d: views::TaskDetail) -> pb::TaskDetail {
    pb::TaskDetail {
        task: Some(task_to(d.task)),
        attempts: d
            .attempts
            .into_iter()
            .map(|a| {
                let w = a.work.unwrap_or_default();
                pb::AttemptInfo {
                    attempt: a.attempt,
                    number: a.number,
                    agents: a.agents,
                    state: a.state.name().to_string(),
                    created_at_ms: a.created_at,
                    ended_at_ms: a.ended_at,
                    exit_code: a.exit_code,
                    message: a.message,
                    output_dropped: a.output_dropped,
                    branch: w.branch,
                    commits: w.commits,
                    merge: w.merge,
                    merged_commit: w.merged_commit,
                    files: w.files,
                    merged_at_ms: w.merged_at,
                    merge_note: w.note,
                    usage: a.usage.as_ref().map(spent_to),
                    session_id: a.session_id,
                }
            })
            .collect(),
        depends_on: d.depends_on,
        run: d.run,
        checks: d.checks,
        image: d.image,
        repo: d.repo,
        integration_branch: d.integration,
        spend: Some(spent_to(&d.spend)),
    }
}

pub(crate) fn agent_to(a: views::AgentView) -> pb::AgentInfo {
    pb::AgentInfo {
        id: a.id,
        roles: a.roles,
        active_role: a.active_role,
        slots: a.slots,
        busy: a.busy,
        host: a.host,
        state: a.state.name().to_string(),
        last_seen_ms: a.last_seen,
        labels: a.labels.into_iter().collect(),
        running: a
            .running
            .into_iter()
            .map(|(task_id, attempt)| pb::AttemptRef { task_id, attempt })
            .collect(),
        sandbox: a.sandbox,
    }
}

pub(crate) fn event_to(e: &swarm_memory::state::EventRow) -> pb::Event {
    pb::Event {
        seq: e.seq,
        at_ms: e.at,
        kind: e.kind.clone(),
        task_id: e.task_id.clone().unwrap_or_default(),
        attempt: e.attempt.unwrap_or(0),
        number: e.number.unwrap_or(0),
        agent_id: e.agent_id.clone().unwrap_or_default(),
        message: e.message.clone(),
        actor: e.actor.clone().unwrap_or_default(),
    }
}

pub(crate) fn entry_to(e: swarm_memory::kv::Entry) -> pb::MemoryEntry {
    pb::MemoryEntry {
        namespace: e.namespace,
        key: e.key,
        value: e.value,
        tags: e.tags,
        created_at_ms: e.created_at_ms,
        updated_at_ms: e.updated_at_ms,
        expires_at_ms: e.expires_at_ms.unwrap_or(0),
        access_count: e.access_count,
        owner_id: e.owner_id.unwrap_or_default(),
        provenance: e.provenance.as_str().to_string(),
    }
}

pub(crate) fn standup_to(s: views::StandupView) -> pb::Standup {
    pb::Standup {
        id: s.id as u64,
        kind: s.kind,
        at_ms: s.at,
        plan_time: s.plan_time,
        plan_day: s.plan_day,
        report: s.report,
        decisions: s.decisions,
    }
}
