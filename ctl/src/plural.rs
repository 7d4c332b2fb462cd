//! Counts in words: "1 task", "2 tasks", "0 days". Every count swarmctl
//! prints beside a noun goes through [`count`], the one `swarm-text`
//! gives the daemon's output too.

pub(crate) use swarm_text::count;
