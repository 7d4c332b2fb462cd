//! Listing the plan's tasks in pages: the filter is applied here, on the
//! loop's own view, and each page looks at a bounded number of tasks, so a
//! listing of a million-task plan is many short answers rather than one
//! long turn that holds up scheduling (and one reply larger than any
//! message may be).
//!
//! A listing walks the plan in plan order. Each page says where the next
//! one starts ([`TaskCursor`]); a cursor belongs to one plan, so a plan
//! loaded in the middle of a listing ends it with a clear error instead of
//! mixing two plans' tasks.

use swarm_plan::compile::Need;

use crate::active::ActivePlan;
use crate::command::Reply;
use crate::model::TaskState;
use crate::views::TaskView;
use crate::{CoreError, CoreHandle, State};

/// Most tasks one page holds.
pub const MAX_PAGE: usize = 2_000;

/// Most tasks one page looks at, matching or not: what bounds the loop's
/// time on a page when the filter matches few.
pub const MAX_SCAN: usize = 20_000;

/// Which tasks a listing keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only tasks in this state.
    pub state: Option<TaskState>,
    /// Only tasks that need this role (a canonical name; `any` keeps the
    /// tasks any agent may staff).
    pub role: Option<String>,
}

impl TaskFilter {
    /// Whether task `i` of `plan` passes.
    fn keeps(&self, plan: &ActivePlan, i: usize) -> bool {
        self.state.is_none_or(|s| plan.task(i).state == s)
            && self
                .role
                .as_deref()
                .is_none_or(|role| match &plan.compiled().tasks[i].need {
                    Need::Roles(roles) => roles.iter().any(|r| r == role),
                    Need::Swarm { .. } | Need::Monitoring => role == swarm_plan::ANY_ROLE,
                })
    }
}

/// Where a page of a listing ends: the next page starts there. Opaque;
/// only the loop makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCursor {
    /// The plan listed.
    plan: i64,
    /// Index of the first task not yet looked at.
    index: usize,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// At the plan's first task.
    First,
    /// Just after the task with this id.
    After(String),
    /// Where the previous page of the same listing ended.
    Resume(TaskCursor),
}

/// A request for one page.
#[derive(Debug, Clone)]
pub struct PageQuery {
    /// Which tasks to keep.
    pub filter: TaskFilter,
    /// Where to start.
    pub start: PageStart,
    /// Most tasks to return (at most [`MAX_PAGE`]; 0 is taken as 1).
    pub limit: usize,
}

/// One page of tasks, in plan order.
#[derive(Debug, Clone, Default)]
pub struct TaskPage {
    /// The tasks that passed the filter.
    pub tasks: Vec<TaskView>,
    /// Where the next page starts; `None` when the plan's last task was
    /// looked at. A page may be empty and still have a next one (nothing
    /// matched in the tasks it looked at).
    pub next: Option<TaskCursor>,
}

impl State {
    /// One page of the listing `q` asks for. No plan: an empty last page.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an `After` id the plan does not hold;
    /// [`CoreError::Conflict`] when the plan a cursor belongs to was
    /// replaced.
    pub(crate) fn task_page(&self, q: PageQuery, now: i64) -> Result<TaskPage, CoreError> {
        let Some(plan) = &self.plan else {
            return Ok(TaskPage::default());
        };
        let start = match q.start {
            PageStart::First => 0,
            PageStart::After(id) => self.task_index(&id)? + 1,
            PageStart::Resume(c) if c.plan == plan.id() => c.index,
            PageStart::Resume(c) => {
                return Err(CoreError::Conflict(format!(
                    "plan {} was replaced by plan {} while its tasks were being listed; list them again",
                    c.plan,
                    plan.id()
                )))
            }
        };
        let limit = q.limit.clamp(1, MAX_PAGE);
        let end = plan.len().min(start.saturating_add(MAX_SCAN));
        let mut tasks = Vec::new();
        let mut i = start;
        while i < end && tasks.len() < limit {
            if q.filter.keeps(plan, i) {
                tasks.push(self.view_of(plan, i, now));
            }
            i += 1;
        }
        let next = (i < plan.len()).then_some(TaskCursor {
            plan: plan.id(),
            index: i,
        });
        Ok(TaskPage { tasks, next })
    }
}

/// Every task that passes `filter`, gathered page by page (each page one
/// short turn of the loop): for callers that need the whole list at once,
/// such as the web view's table.
///
/// # Errors
/// What the loop answered to a page.
pub async fn all_tasks(core: &CoreHandle, filter: TaskFilter) -> Result<Vec<TaskView>, CoreError> {
    let mut out = Vec::new();
    let mut start = PageStart::First;
    loop {
        let q = PageQuery {
            filter: filter.clone(),
            start,
            limit: MAX_PAGE,
        };
        let page = core.ask(|reply: Reply<TaskPage>| list(q, reply)).await?;
        out.extend(page.tasks);
        match page.next {
            Some(c) => start = PageStart::Resume(c),
            None => return Ok(out),
        }
    }
}

/// The command that asks the loop for the page `q`.
pub fn list(q: PageQuery, reply: Reply<TaskPage>) -> crate::Command {
    crate::command::Query::ListTasks(q, reply).into()
}
