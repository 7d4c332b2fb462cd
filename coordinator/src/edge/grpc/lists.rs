//! The lists `swarmctl` reads that grow with the plan — its tasks and the
//! event log — filtered here and streamed: the loop answers page by page
//! ([`swarm_core::listing`], [`swarm_core::follow`]), and each reply
//! stays under [`PAGE_BYTES`], so no message grows with the plan.

use prost::Message as _;
use swarm_core::event::KindFilter;
use swarm_core::listing::{self, PageQuery, PageStart, TaskFilter, TaskPage};
use swarm_core::model::TaskState;
use swarm_core::CoreHandle;
use swarm_memory::state::EventRow;
use swarm_proto::v1 as pb;
use tokio::sync::mpsc;
use tonic::Status;

use super::{convert, status};

/// About the most bytes of tasks one reply carries (a page of the loop's
/// is split further when its tasks are long): far under any message
/// limit.
pub(crate) const PAGE_BYTES: usize = 1024 * 1024;

/// What `ListTasks` asks for, read from the request.
pub(crate) struct TaskListing {
    filter: TaskFilter,
    start: PageStart,
    /// Most tasks in all (`None`: every one).
    limit: Option<u64>,
}

impl TaskListing {
    /// Reads `r`, resolving a role phrase with `roles` (a phrase no
    /// catalogue knows is taken as a role name).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for an unknown state, naming the valid ones.
    pub(crate) fn from_request(
        r: pb::ListTasksRequest,
        roles: &swarm_core::roles::RolesSource,
    ) -> Result<TaskListing, Status> {
        let state = match r.state.trim() {
            "" => None,
            s => Some(
                s.parse::<TaskState>()
                    .map_err(|e| Status::invalid_argument(format!("--state: {e}")))?,
            ),
        };
        let role = match r.role.trim() {
            "" => None,
            phrase => Some(roles.role_name(phrase)),
        };
        let after = r.after.trim();
        Ok(TaskListing {
            filter: TaskFilter { state, role },
            start: if after.is_empty() {
                PageStart::First
            } else {
                PageStart::After(after.to_string())
            },
            limit: (r.limit > 0).then_some(r.limit),
        })
    }

    /// Asks the loop for the first page, so that a bad request (an
    /// unknown `after`) is refused before the stream starts.
    pub(crate) async fn first(&self, core: &CoreHandle) -> Result<TaskPage, Status> {
        let q = self.query(self.start.clone(), 0);
        core.ask(|reply| listing::list(q, reply))
            .await
            .map_err(status)
    }

    /// A page query from `start`, having sent `sent` tasks. One more than
    /// the limit leaves is asked for, to tell whether more match.
    fn query(&self, start: PageStart, sent: u64) -> PageQuery {
        let wanted = self.limit.map_or(usize::MAX, |l| {
            usize::try_from(l.saturating_sub(sent).saturating_add(1)).unwrap_or(usize::MAX)
        });
        PageQuery {
            filter: self.filter.clone(),
            start,
            limit: wanted.min(listing::MAX_PAGE),
        }
    }

    /// Sends `page` and the pages after it into `tx`, until the plan's
    /// last task, the limit, or the client going away.
    pub(crate) async fn send(
        self,
        core: CoreHandle,
        mut page: TaskPage,
        tx: mpsc::Sender<Result<pb::ListTasksReply, Status>>,
    ) {
        let mut sent = 0u64;
        loop {
            let left = self.limit.map_or(u64::MAX, |l| l.saturating_sub(sent));
            // A task past the limit matched: the listing ends, saying
            // more match. At the limit with none found yet, the next
            // page looks for one.
            let more = page.tasks.len() as u64 > left;
            page.tasks
                .truncate(usize::try_from(left).unwrap_or(usize::MAX));
            sent += page.tasks.len() as u64;
            for reply in replies(page.tasks, more) {
                if tx.send(Ok(reply)).await.is_err() {
                    return;
                }
            }
            let (false, Some(cursor)) = (more, page.next) else {
                return;
            };
            let q = self.query(PageStart::Resume(cursor), sent);
            page = match core.ask(|reply| listing::list(q, reply)).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Err(status(e))).await;
                    return;
                }
            };
        }
    }
}

/// `tasks` as replies of at most about [`PAGE_BYTES`] each; the last
/// carries `more`. Nothing to send but `more`: one empty reply saying so.
fn replies(tasks: Vec<swarm_core::views::TaskView>, more: bool) -> Vec<pb::ListTasksReply> {
    let mut out = Vec::new();
    let mut reply = pb::ListTasksReply::default();
    let mut bytes = 0;
    for t in tasks {
        let t = convert::task_to(t);
        let len = t.encoded_len() + 8;
        if bytes + len > PAGE_BYTES && !reply.tasks.is_empty() {
            out.push(std::mem::take(&mut reply));
            bytes = 0;
        }
        bytes += len;
        reply.tasks.push(t);
    }
    if !reply.tasks.is_empty() || more {
        reply.more = more;
        out.push(reply);
    }
    out
}

/// The events an `Events` request keeps: of one task, of one kind or
/// family.
pub(crate) struct EventFilter {
    task: Option<String>,
    kind: Option<KindFilter>,
}

impl EventFilter {
    /// Reads the request's filter.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for an unknown kind or family, naming the valid
    /// ones.
    pub(crate) fn from_request(r: &pb::EventsRequest) -> Result<EventFilter, Status> {
        let kind = match r.kind.trim() {
            "" => None,
            k => Some(
                k.parse::<KindFilter>()
                    .map_err(|e| Status::invalid_argument(format!("--kind: {e}")))?,
            ),
        };
        let task = Some(r.task_id.trim().to_string()).filter(|t| !t.is_empty());
        Ok(EventFilter { task, kind })
    }

    /// The event on the wire, if the filter keeps it.
    pub(crate) fn map(&self, e: &EventRow) -> Option<pb::Event> {
        let task_ok = self
            .task
            .as_deref()
            .is_none_or(|t| e.task_id.as_deref() == Some(t));
        let kind_ok = self.kind.is_none_or(|k| k.passes(&e.kind));
        (task_ok && kind_ok).then(|| convert::event_to(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, title_bytes: usize) -> swarm_core::views::TaskView {
        swarm_core::views::TaskView {
            id: id.into(),
            title: "t".repeat(title_bytes),
            state: TaskState::Ready,
            attempts: 0,
            agents: vec![],
            priority: "P1".into(),
            duration_hours: 1.0,
            roles: vec!["coder".into()],
            reason: String::new(),
            day: 1,
            updated_at: 0,
            waits_for_operator: false,
        }
    }

    #[test]
    fn long_tasks_are_split_into_replies_under_the_page_size() {
        let tasks: Vec<_> = (0..10)
            .map(|i| task(&format!("1.{i}"), 300 * 1024))
            .collect();
        let out = replies(tasks, false);
        assert_eq!(out.iter().map(|r| r.tasks.len()).sum::<usize>(), 10);
        assert!(out.len() >= 4, "{} replies", out.len());
        for r in &out {
            assert!(r.encoded_len() <= PAGE_BYTES + 16, "{}", r.encoded_len());
            assert!(!r.more);
        }
        // One task larger than a page still goes, alone.
        let big = replies(vec![task("1.1", 2 * PAGE_BYTES)], true);
        assert_eq!(big.len(), 1);
        assert!(big[0].more);
    }

    #[test]
    fn nothing_left_but_more_is_one_empty_reply_and_nothing_is_none() {
        assert!(replies(vec![], false).is_empty());
        let more = replies(vec![], true);
        assert_eq!(
            (more.len(), more[0].tasks.len(), more[0].more),
            (1, 0, true)
        );
    }

    #[test]
    fn an_unknown_state_or_kind_is_refused_with_the_valid_ones() {
        let r = pb::ListTasksRequest {
            state: "redy".into(),
            ..Default::default()
        };
        let e = TaskListing::from_request(r, &Default::default())
            .err()
            .expect("refused");
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(
            e.message().contains("'redy'") && e.message().contains("ready"),
            "{}",
            e.message()
        );
        let r = pb::EventsRequest {
            kind: "atempt".into(),
            ..Default::default()
        };
        let e = EventFilter::from_request(&r).err().expect("refused");
        assert!(
            e.message().contains("'atempt'") && e.message().contains("attempt"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn a_role_phrase_is_resolved_and_an_unknown_one_kept_as_a_name() {
        let r = pb::ListTasksRequest {
            role: "QA Engineer".into(),
            ..Default::default()
        };
        let l = TaskListing::from_request(r, &Default::default()).expect("ok");
        assert_eq!(l.filter.role.as_deref(), Some("qa"));
        let r = pb::ListTasksRequest {
            role: " Chaos Monkey ".into(),
            limit: 5,
            after: "1.3".into(),
            ..Default::default()
        };
        let l = TaskListing::from_request(r, &Default::default()).expect("ok");
        assert_eq!(l.filter.role.as_deref(), Some("chaos-monkey"));
        assert_eq!(
            (l.start, l.limit),
            (PageStart::After("1.3".into()), Some(5))
        );
    }
}
