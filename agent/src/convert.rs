//! Wire ↔ domain conversions for the agent, in one place.
//!
//! Generated proto types stop here and in the session code that sends and
//! receives them; [`Work`](crate::work::Work) and the executors speak the
//! domain types of [`crate::work`] and [`crate::exec`]. The wire's "empty
//! means unset" conventions (`run`, `image`, `timeout_ms`) are resolved here.

use std::time::Duration;

use swarm_proto::v1 as pb;

use crate::exec::{Outcome, Stream};
use crate::session::Settings;
use crate::work::{Assignment, AttemptRef, AttemptResult, Workspace};

/// An attempt reference from the wire; a missing one is the default (empty
/// task, attempt 0), as the coordinator never omits it.
pub(crate) fn attempt_from(r: Option<pb::AttemptRef>) -> AttemptRef {
    let r = r.unwrap_or_default();
    AttemptRef {
        task_id: r.task_id,
        attempt: r.attempt,
    }
}

/// An attempt reference for the wire.
pub(crate) fn attempt_to(r: &AttemptRef) -> pb::AttemptRef {
    pb::AttemptRef {
        task_id: r.task_id.clone(),
        attempt: r.attempt,
    }
}

/// An Assign from the coordinator, with blank `run` / `image` and a zero
/// timeout read as unset, the task's environment sorted by name, and a
/// workspace without a repository read as none.
pub(crate) fn assignment_from(a: pb::Assign) -> Assignment {
    let s = a.spec.unwrap_or_default();
    let mut env: Vec<(String, String)> = s.env.into_iter().collect();
    env.sort();
    Assignment {
        attempt: attempt_from(a.attempt),
        attempt_no: a.attempt_no,
        role: a.role,
        lead: a.lead,
        title: s.title,
        run: Some(s.run).filter(|x| !x.trim().is_empty()),
        checks: s.checks,
        image: Some(s.image).filter(|x| !x.trim().is_empty()),
        timeout: (s.timeout_ms > 0).then(|| Duration::from_millis(s.timeout_ms)),
        brief: s.brief,
        env,
        profile: s
            .profile
            .map(|p| swarm_roles::Profile {
                prompt: Some(p.prompt).filter(|x| !x.is_empty()),
                exec: Some(p.exec).filter(|x| !x.trim().is_empty()),
                model: Some(p.model).filter(|x| !x.is_empty()),
                tools: p.tools,
                env: p.env.into_iter().collect(),
                pool: None,
                sources: Vec::new(),
            })
            .unwrap_or_default(),
        workspace: a
            .workspace
            .filter(|w| !w.repo.trim().is_empty())
            .map(|w| Workspace {
                repo: w.repo,
                base_commit: w.base_commit,
                branch: w.branch,
                plan: w.plan,
                checks_only: w.checks_only,
            }),
    }
}

/// A result for the wire: the outcome code, the exit code (0 on success),
/// the message the coordinator records (`cancelled` for a cancellation),
/// the output shed, and whether the attempt never started (a failed
/// attempt to the coordinator, never a lost agent).
pub(crate) fn result_to(r: &AttemptResult) -> pb::TaskResult {
    let (code, exit_code, message) = match &r.outcome {
        Outcome::Succeeded => (pb::Outcome::Succeeded, Some(0), String::new()),
        Outcome::Failed { exit_code, message } => {
            (pb::Outcome::Failed, *exit_code, message.clone())
        }
        Outcome::NotStarted { message } => (pb::Outcome::Failed, None, message.clone()),
        Outcome::TimedOut { message } => (pb::Outcome::TimedOut, None, message.clone()),
        Outcome::Cancelled => (pb::Outcome::Cancelled, None, "cancelled".to_string()),
        Outcome::RateLimited { message, .. } => (pb::Outcome::Failed, None, message.clone()),
    };
    let rate_limit = match &r.outcome {
        Outcome::RateLimited { reset_at_ms, .. } => Some(pb::RateLimit {
            reset_at_ms: reset_at_ms.unwrap_or(0),
        }),
        _ => None,
    };
    pb::TaskResult {
        attempt: Some(attempt_to(&r.attempt)),
        outcome: code as i32,
        exit_code,
        message,
        output_dropped: r.output_dropped,
        not_started: matches!(r.outcome, Outcome::NotStarted { .. }),
        result: r.result.clone(),
        commit: r.commit.clone().unwrap_or_default(),
        usage: r.usage.as_ref().map(usage_to),
        rate_limit,
    }
}

/// What an attempt spent, for the wire.
fn usage_to(u: &crate::usage::Usage) -> pb::Usage {
    pb::Usage {
        cost_usd: u.cost_usd,
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_creation_tokens: u.cache_creation_tokens,
        cache_read_tokens: u.cache_read_tokens,
        turns: u.turns,
        session_id: u.session_id.clone(),
        model: u.model.clone(),
    }
}

/// The wire value of an output stream.
pub(crate) fn stream_to(stream: Stream) -> i32 {
    let wire = match stream {
        Stream::Stdout => pb::LogStream::Stdout,
        Stream::Stderr => pb::LogStream::Stderr,
    };
    wire as i32
}

/// The Hello that opens a session, listing the attempts still held.
pub(crate) fn hello(s: &Settings, running: &[AttemptRef], instance: &str) -> pb::Hello {
    pb::Hello {
        agent_id: s.id.clone(),
        roles: s.roles.clone(),
        slots: s.slots,
        host: s.host.clone(),
        labels: s.labels.clone().into_iter().collect(),
        running: running.iter().map(attempt_to).collect(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        instance: instance.to_string(),
        exec_template: Some(s.template.is_some()),
        sandbox: s.sandbox.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_fields_of_an_assign_are_unset_and_env_is_sorted() {
        let a = pb::Assign {
            attempt: Some(pb::AttemptRef {
                task_id: "d1.build".into(),
                attempt: 7,
            }),
            attempt_no: 2,
            role: "coder".into(),
            lead: true,
            member: 1,
            members: 1,
            workspace: None,
            spec: Some(pb::TaskSpec {
                run: "  ".into(),
                image: String::new(),
                timeout_ms: 0,
                env: [("B".to_string(), "2".to_string()), ("A".into(), "1".into())]
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
        };
        let got = assignment_from(a);
        assert_eq!(got.attempt.task_id, "d1.build");
        assert_eq!(got.attempt.attempt, 7);
        assert_eq!((got.run, got.image, got.timeout), (None, None, None));
        assert_eq!(
            got.env,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn results_carry_the_codes_the_coordinator_reads() {
        let attempt = AttemptRef {
            task_id: "t".into(),
            attempt: 3,
        };
        let ok = result_to(&AttemptResult {
            attempt: attempt.clone(),
            outcome: Outcome::Succeeded,
            output_dropped: 12,
            result: None,
            commit: None,
            usage: None,
        });
        assert_eq!(ok.outcome, pb::Outcome::Succeeded as i32);
        assert_eq!(ok.exit_code, Some(0));
        assert_eq!((ok.output_dropped, ok.not_started), (12, false));
        let never = result_to(&AttemptResult {
            attempt: attempt.clone(),
            outcome: Outcome::NotStarted {
                message: "image missing".into(),
            },
            output_dropped: 0,
            result: None,
            commit: None,
            usage: None,
        });
        assert_eq!(never.outcome, pb::Outcome::Failed as i32);
        assert_eq!((never.exit_code, never.not_started), (None, true));
        assert_eq!(never.message, "image missing");
        let cancelled = result_to(&AttemptResult {
            attempt,
            outcome: Outcome::Cancelled,
            output_dropped: 0,
            result: None,
            commit: None,
            usage: None,
        });
        assert_eq!(cancelled.outcome, pb::Outcome::Cancelled as i32);
        assert_eq!(cancelled.message, "cancelled");
        assert_eq!(cancelled.attempt.map(|a| a.attempt), Some(3));
    }

    #[test]
    fn a_workspace_comes_through_and_its_commit_goes_back() {
        let assign = |repo: &str| pb::Assign {
            workspace: Some(pb::Workspace {
                repo: repo.into(),
                base_commit: "abc".into(),
                branch: "swarm/p-1/attempts/t/a1".into(),
                plan: "p-1".into(),
                checks_only: false,
            }),
            ..Default::default()
        };
        let got = assignment_from(assign("/srv/git/app.git")).workspace;
        assert_eq!(
            got,
            Some(Workspace {
                repo: "/srv/git/app.git".into(),
                base_commit: "abc".into(),
                branch: "swarm/p-1/attempts/t/a1".into(),
                plan: "p-1".into(),
                checks_only: false,
            })
        );
        assert_eq!(assignment_from(assign("  ")).workspace, None);
        let wire = result_to(&AttemptResult {
            attempt: attempt_from(None),
            outcome: Outcome::Succeeded,
            output_dropped: 0,
            result: None,
            commit: Some("c0ffee".into()),
            usage: None,
        });
        assert_eq!(wire.commit, "c0ffee");
    }
}
