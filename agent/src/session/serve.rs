//! Serving an open session: what each coordinator message and executor
//! event does to the agent's [`Work`] and [`Outbox`], and closing cleanly.

use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio::time::Instant;

use super::connect::Conn;
use super::outbox::Outbox;
use super::RESEND_AFTER;
use crate::convert;
use crate::work::{AttemptResult, ExecEvent, Work};

/// How long closing may take to hand over what is queued, and then to see
/// the coordinator end its side.
const CLOSE_LIMIT: Duration = Duration::from_secs(3);

/// Sleeps until `at`, or forever when there is none.
pub(super) async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Ends the session cleanly: what is queued (Draining, results, releases)
/// is handed to the stream, the stream is closed, and the coordinator's
/// side ends too.
pub(super) async fn close(conn: Option<Conn>, outbox: &mut Outbox) {
    let Some(Conn {
        out, mut inbound, ..
    }) = conn
    else {
        return;
    };
    let _ = tokio::time::timeout(CLOSE_LIMIT, async {
        while let Some(m) = outbox.pop() {
            if out.send(m).await.is_err() {
                break;
            }
        }
    })
    .await;
    drop(out);
    let _ = tokio::time::timeout(CLOSE_LIMIT, async move {
        while let Ok(Some(_)) = inbound.message().await {}
    })
    .await;
}

/// Applies a Welcome: abandoned attempts stop, results of resumed attempts
/// go out again.
pub(super) fn welcomed(outbox: &mut Outbox, work: &mut Work, w: &pb::Welcome) {
    for r in &w.abandon {
        work.cancel(r.attempt);
        outbox.forget(r.attempt);
    }
    let resumed: Vec<u64> = w.resume.iter().map(|r| r.attempt).collect();
    work.keep_results_of(&resumed);
    send_due_results(outbox, work);
}

/// Queues the results never sent or unacknowledged for [`RESEND_AFTER`],
/// each after its output's last dropped-bytes marker, with the total shed.
pub(super) fn send_due_results(outbox: &mut Outbox, work: &mut Work) {
    for mut result in work.results_due(Instant::now(), RESEND_AFTER) {
        result.output_dropped = outbox.finish(&result.attempt);
        outbox.control(pb::agent_message::Body::Result(convert::result_to(&result)));
    }
}

/// What a coordinator message asks of the session's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Heard {
    /// Nothing beyond what was done.
    Routine,
    /// Drain (only said to an agent not draining yet).
    Drain,
    /// The coordinator is going away; its grace (zero: none beyond the
    /// lease).
    Goodbye(Duration),
}

/// Handles one coordinator message; `draining` says whether the agent
/// drains already (an assignment is then handed back).
pub(super) fn handle(
    outbox: &mut Outbox,
    work: &mut Work,
    m: pb::CoordinatorMessage,
    draining: bool,
) -> Heard {
    use pb::coordinator_message::Body;
    match m.body {
        Some(Body::Assign(a)) => assign(outbox, work, a, draining),
        Some(Body::Cancel(cancel)) => {
            if let Some(r) = cancel.attempt {
                tracing::info!(
                    "task {} fence {} ended by the coordinator: {}",
                    r.task_id,
                    r.attempt,
                    cancel.reason
                );
                work.cancel(r.attempt);
                outbox.forget(r.attempt);
            }
        }
        Some(Body::Ack(ack)) => {
            if let Some(r) = ack.attempt {
                if !ack.accepted {
                    tracing::warn!(
                        "result of task {} fence {} was rejected: {}",
                        r.task_id,
                        r.attempt,
                        ack.reason
                    );
                }
                work.acknowledged(r.attempt);
                outbox.forget(r.attempt);
            }
        }
        Some(Body::SetRole(role)) => tracing::info!("now playing role {}", role.role),
        Some(Body::Drain(d)) => {
            if !draining {
                tracing::info!("asked to drain: {}", d.reason);
                return Heard::Drain;
            }
        }
        Some(Body::Goodbye(g)) => {
            let grace = Duration::from_millis(u64::from(g.grace_ms));
            tracing::info!(
                "the coordinator is going away ({}); attempts keep running, reconnecting later{}",
                g.reason,
                if grace.is_zero() {
                    String::new()
                } else {
                    format!(" (it grants a grace of {grace:?})")
                }
            );
            return Heard::Goodbye(grace);
        }
        Some(Body::Welcome(_)) | None => {}
    }
    Heard::Routine
}

/// An assignment: started, or handed back when draining.
fn assign(outbox: &mut Outbox, work: &mut Work, a: pb::Assign, draining: bool) {
    let place = Place {
        member: a.member,
        members: a.members,
    };
    let a = convert::assignment_from(a);
    let r = &a.attempt;
    if draining {
        outbox.control(pb::agent_message::Body::Release(pb::Release {
            attempt: Some(convert::attempt_to(r)),
            reason: "the agent is draining".into(),
        }));
    } else if !work.holds(r.attempt) {
        // People count attempts per task; the fencing number ties this
        // line to the ones below, which know only that.
        tracing::info!(
            "task {} attempt {} (fence {}; {})",
            r.task_id,
            a.attempt_no,
            r.attempt,
            part(&a.role, a.lead, place)
        );
        work.assign(a);
    }
}

/// Handles an executor event: Started and results are queued as control
/// messages, output as output (which may be shed).
pub(super) fn on_event(outbox: &mut Outbox, work: &mut Work, ev: ExecEvent) {
    use pb::agent_message::Body;
    match ev {
        ExecEvent::Started(r) => outbox.control(Body::Started(pb::Started {
            attempt: Some(convert::attempt_to(&r)),
        })),
        ExecEvent::Log(r, stream, data) => outbox.output(&r, stream, data, Instant::now()),
        ExecEvent::Done(r, outcome, written, commit, usage) => {
            if let Some(result) = work.finished(r, outcome, written, commit, usage) {
                log_result(&result);
                send_due_results(outbox, work);
            }
        }
    }
}

fn log_result(result: &AttemptResult) {
    let wire = convert::result_to(result);
    let what = match (wire.not_started, wire.message.is_empty()) {
        (true, _) => format!("could not start: {}", wire.message),
        (false, true) => "succeeded".to_string(),
        (false, false) => wire.message,
    };
    tracing::info!(
        "task {} fence {} ended: {what}",
        result.attempt.task_id,
        result.attempt.attempt,
    );
}

/// This agent's place in an attempt's gang, as the Assign gives it.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// From 1 (1: the gang's lead); 0 when the coordinator does not say.
    member: u32,
    /// How many agents the attempt spans (1: not a gang; 0: not said).
    members: u32,
}

/// What this agent does in an attempt, for its log. The coordinator sets
/// `lead` on every member that runs the task: the only one of a
/// `gang = "lead"` task (or of a one-role task), each member of a
/// `gang = "all"` task, running its own role. A member without it holds
/// its slot while the gang's lead runs the task. In a gang the line says
/// which member this agent is, so the members' logs tell them apart.
fn part(role: &str, lead: bool, place: Place) -> String {
    let Place { member, members } = place;
    let gang = match (member, members) {
        (0, _) | (_, 0 | 1) => String::new(),
        (1, n) => format!(", member 1 of {n} of the gang (its lead)"),
        (k, n) => format!(", member {k} of {n} of the gang"),
    };
    if lead {
        format!("runs it as {role}{gang}")
    } else {
        format!("holds a slot as {role}{gang} while the gang's lead runs it")
    }
}

#[cfg(test)]
mod tests {
    use super::{part, Place};

    const ALONE: Place = Place {
        member: 1,
        members: 1,
    };

    #[test]
    fn the_log_says_who_runs_the_task_and_who_holds_a_slot() {
        assert_eq!(part("sre", true, ALONE), "runs it as sre");
        let unsaid = Place {
            member: 0,
            members: 0,
        };
        assert_eq!(
            part("qa-engineer", false, unsaid),
            "holds a slot as qa-engineer while the gang's lead runs it"
        );
        let second = Place {
            member: 2,
            members: 3,
        };
        assert_eq!(
            part("qa-engineer", false, second),
            "holds a slot as qa-engineer, member 2 of 3 of the gang while the gang's lead runs it"
        );
    }

    #[test]
    fn every_member_of_a_gang_that_all_run_says_which_it_is() {
        let at = |member| Place { member, members: 2 };
        assert_eq!(
            part("sre", true, at(1)),
            "runs it as sre, member 1 of 2 of the gang (its lead)"
        );
        assert_eq!(
            part("security", true, at(2)),
            "runs it as security, member 2 of 2 of the gang"
        );
    }
}
