//! The merge queue's work: opening a plan's integration branch, and
//! merging each succeeded attempt's commits into it, one at a time and in
//! the order the loop queued them; and what the queue tells the loop back.

/// One piece of work for the merge queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeJob {
    /// Find the plan's integration branch, or make it from `base`.
    Open {
        /// The plan.
        plan_id: i64,
        /// The repository's address.
        repo: String,
        /// The branch to start from.
        base: String,
        /// The integration branch.
        branch: String,
    },
    /// Merge an attempt's commits into the integration branch.
    Merge(Box<MergeWork>),
    /// Move the integration branch to a candidate merge whose checks
    /// passed (`verify = "merged"`), if it is still where the candidate
    /// was made from.
    Land {
        /// The plan.
        plan_id: i64,
        /// The repository's address.
        repo: String,
        /// The integration branch.
        branch: String,
        /// The attempt whose work it is.
        attempt: u64,
        /// The candidate merge commit.
        commit: String,
        /// The integration head it was made on.
        tip: String,
    },
}

/// An attempt's work to merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeWork {
    /// The plan.
    pub plan_id: i64,
    /// The repository's address.
    pub repo: String,
    /// The integration branch.
    pub branch: String,
    /// `<plan-slug>-<plan-id>`, for the `Swarm-Plan` trailer.
    pub label: String,
    /// The task.
    pub task_id: String,
    /// Its title, for the merge's subject.
    pub title: String,
    /// The attempt's fencing number (`Swarm-Attempt`).
    pub attempt: u64,
    /// The commits its members pushed, in member order.
    pub commits: Vec<String>,
    /// Its Checks must pass on the merged tree first: the merge is made
    /// on a candidate branch and reported, the integration branch stays.
    pub verify: bool,
}

/// What the merge queue tells the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeNotice {
    /// The plan's integration branch is at `head`.
    Opened {
        /// The plan.
        plan_id: i64,
        /// Its head.
        head: String,
    },
    /// The integration branch could not be found or made.
    OpenFailed {
        /// The plan.
        plan_id: i64,
        /// What git said.
        error: String,
    },
    /// An attempt's work is on the integration branch (merged now, or
    /// found merged already after a restart).
    Merged {
        /// The plan.
        plan_id: i64,
        /// The attempt.
        attempt: u64,
        /// The merge commit.
        commit: String,
        /// The integration branch's head now (the merge commit, unless it
        /// was found below later merges after a restart).
        head: String,
        /// The files it changed.
        files: Vec<String>,
        /// It was on the branch already: merged before a restart.
        found: bool,
    },
    /// The attempt's work merges cleanly; the merge waits on its candidate
    /// branch for the task's Checks (`verify = "merged"`).
    Candidate {
        /// The plan.
        plan_id: i64,
        /// The attempt.
        attempt: u64,
        /// The candidate merge commit.
        commit: String,
        /// Its branch.
        branch: String,
        /// The integration head it was made on.
        tip: String,
    },
    /// The attempt's work conflicts with the integration branch; nothing
    /// moved.
    Conflict {
        /// The plan.
        plan_id: i64,
        /// The attempt.
        attempt: u64,
        /// The conflicting files.
        files: Vec<String>,
        /// The tasks whose merges changed them since the attempt's base.
        with: Vec<String>,
    },
    /// The merge could not be made or pushed (not a conflict).
    Failed {
        /// The plan.
        plan_id: i64,
        /// The attempt.
        attempt: u64,
        /// What git said.
        error: String,
    },
}
