//! Dependency expansion: each task's written references (and, without a
//! Dependencies field, the implicit rule) turned into task indexes; then a
//! topological order, or the cycle that prevents one.
//!
//! The implicit rule: a task without a Dependencies field waits for the
//! tasks of the nearest earlier section of its day that has tasks, where
//! a day's sections are the part before its first window and then each
//! window in order; when no earlier section has tasks, it waits for every
//! task of the nearest earlier day that has tasks.

use std::collections::{BTreeMap, HashMap};

use super::{CompiledTask, MAX_EDGES};
use crate::diagnostic::{Sink, TaskLines};
use crate::model::{DepRef, Plan, Task};

/// The plan's tasks grouped by day and by section of a day.
pub(super) struct DayIndex {
    /// Heading line of each day number (the first, when written twice).
    day_lines: HashMap<u32, usize>,
    /// Windows per day number.
    windows: HashMap<u32, usize>,
    by_day: BTreeMap<u32, Vec<usize>>,
    /// (day, section) to tasks; see [`DayIndex::section_of`].
    by_section: BTreeMap<(u32, usize), Vec<usize>>,
}

impl DayIndex {
    pub(super) fn new(plan: &Plan, day_lines: HashMap<u32, usize>) -> Self {
        let mut windows: HashMap<u32, usize> = HashMap::new();
        for day in &plan.days {
            windows.entry(day.number).or_insert(day.windows.len());
        }
        let mut index = DayIndex {
            day_lines,
            windows,
            by_day: BTreeMap::new(),
            by_section: BTreeMap::new(),
        };
        for (i, task) in plan.tasks.iter().enumerate() {
            if let Some(d) = task.day {
                index.by_day.entry(d).or_default().push(i);
                let section = index.section_of(task);
                index.by_section.entry((d, section)).or_default().push(i);
            }
        }
        index
    }

    /// Whether a day has a heading or tasks.
    pub(super) fn known(&self, day: u32) -> bool {
        self.day_lines.contains_key(&day) || self.by_day.contains_key(&day)
    }

    /// Which section of its day a task sits in: 0 before the day's first
    /// window, `w + 1` in window `w`. A window the day does not have
    /// counts as none.
    fn section_of(&self, task: &Task) -> usize {
        let count = task
            .day
            .and_then(|d| self.windows.get(&d))
            .copied()
            .unwrap_or(0);
        match task.window {
            Some(w) if w < count => w + 1,
            _ => 0,
        }
    }

    /// What a task without a Dependencies field waits for.
    fn implicit(&self, task: &Task) -> &[usize] {
        let Some(day) = task.day else {
            return &[];
        };
        let section = self.section_of(task);
        let earlier = self.by_section.range((day, 0)..(day, section)).next_back();
        match earlier {
            Some((_, tasks)) => tasks,
            None => self
                .by_day
                .range(..day)
                .next_back()
                .map(|(_, tasks)| tasks.as_slice())
                .unwrap_or(&[]),
        }
    }
}

/// Per task, the indexes of the tasks it waits for, each once. Unknown
/// references are errors at the task's Dependencies line.
pub(super) fn expand_dependencies(
    plan: &Plan,
    index: &HashMap<&str, usize>,
    days: &DayIndex,
    line_of: &dyn Fn(usize) -> TaskLines,
    sink: &mut Sink,
) -> Vec<Vec<usize>> {
    let by_day = &days.by_day;
    let known_day = |d: u32| days.known(d);
    let day_names = describe_days(by_day, &days.day_lines);
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); plan.tasks.len()];
    let mut stamp = vec![usize::MAX; plan.tasks.len()];
    let mut edges = 0usize;
    'tasks: for (i, task) in plan.tasks.iter().enumerate() {
        let line = line_of(i).depends;
        let mut targets: Vec<usize> = Vec::new();
        match &task.depends {
            None => targets.extend(days.implicit(task)),
            Some(refs) => {
                for r in refs {
                    match r {
                        DepRef::Task { id, day } => match index.get(id.as_str()) {
                            Some(&j) => {
                                if let (Some(said), Some(actual)) = (day, plan.tasks[j].day) {
                                    if *said != actual {
                                        sink.warning(line, format!("task {} names 'Day {said} Task {id}', but task {id} is in day {actual}", task.id));
                                    }
                                }
                                targets.push(j);
                            }
                            None => sink.error(
                                line,
                                format!(
                                    "task {} depends on task {id}, which does not exist{}",
                                    task.id,
                                    nearby_ids(plan, id)
                                ),
                            ),
                        },
                        DepRef::Day(d) => {
                            if known_day(*d) {
                                targets.extend(
                                    by_day.get(d).into_iter().flatten().filter(|&&j| j != i),
                                );
                            } else {
                                sink.error(line, format!("task {} depends on day {d}, which does not exist; {day_names}", task.id));
                            }
                        }
                        DepRef::Days(a, b) => {
                            for end in [a, b] {
                                if !known_day(*end) {
                                    sink.error(line, format!("task {} depends on days {a}-{b}, but day {end} does not exist; {day_names}", task.id));
                                }
                            }
                            for (_, tasks) in by_day.range(*a..=*b) {
                                targets.extend(tasks.iter().filter(|&&j| j != i));
                            }
                        }
                    }
                }
            }
        }
        for j in targets {
            if stamp[j] != i {
                stamp[j] = i;
                deps[i].push(j);
                edges += 1;
            }
        }
        if edges > MAX_EDGES {
            sink.error(line, format!("the plan expands to more than {MAX_EDGES} dependency edges; split it into smaller plans"));
            break 'tasks;
        }
    }
    deps
}

/// Windows that add up to more than their day (its heading's length, else
/// 8 hours) are a warning: the plan runs, but a window would open after
/// the working day ends.
pub(super) fn warn_long_windows(plan: &Plan, day_lines: &[usize], sink: &mut Sink) {
    for (i, day) in plan.days.iter().enumerate() {
        let length = day.duration.unwrap_or(crate::analysis::DEFAULT_DAY);
        let end = day.windows_end();
        if end > length {
            let line = day_lines.get(i).copied().unwrap_or(1);
            sink.warning(
                line,
                format!(
                    "day {}'s windows add up to {end}, more than the day's {length}; a window that would open after the working day opens at its end",
                    day.number
                ),
            );
        }
    }
}

/// Kahn's algorithm. On a cycle, returns the cycle's tasks in the order in
/// which each waits for the next, the first repeated at the end.
pub(super) fn topological_order(tasks: &[CompiledTask]) -> Result<Vec<usize>, Vec<usize>> {
    let mut missing: Vec<usize> = tasks.iter().map(|t| t.deps.len()).collect();
    let mut ready: Vec<usize> = (0..tasks.len())
        .filter(|&i| missing[i] == 0)
        .rev()
        .collect();
    let mut order = Vec::with_capacity(tasks.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &d in tasks[i].dependents.iter().rev() {
            missing[d] -= 1;
            if missing[d] == 0 {
                ready.push(d);
            }
        }
    }
    if order.len() == tasks.len() {
        return Ok(order);
    }
    // Every task left over waits for another one left over: walk until a
    // task repeats.
    let start = (0..tasks.len()).find(|&i| missing[i] > 0).unwrap_or(0);
    let mut seen_at: HashMap<usize, usize> = HashMap::new();
    let mut path = Vec::new();
    let mut at = start;
    loop {
        if let Some(&pos) = seen_at.get(&at) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(at);
            return Err(cycle);
        }
        seen_at.insert(at, path.len());
        path.push(at);
        match tasks[at].deps.iter().find(|&&d| missing[d] > 0) {
            Some(&next) => at = next,
            None => return Err(vec![at, at]),
        }
    }
}

/// "the plan has days 1-10" or "the plan has no days".
fn describe_days(by_day: &BTreeMap<u32, Vec<usize>>, headed: &HashMap<u32, usize>) -> String {
    let mut days: Vec<u32> = by_day.keys().chain(headed.keys()).copied().collect();
    days.sort_unstable();
    days.dedup();
    match (days.first(), days.last()) {
        (Some(a), Some(b)) if a == b => format!("the plan has only day {a}"),
        (Some(a), Some(b)) if (b - a) as usize + 1 == days.len() => {
            format!("the plan has days {a}-{b}")
        }
        (Some(_), Some(_)) if days.len() <= 12 => format!(
            "the plan has days {}",
            days.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (Some(a), Some(b)) => format!("the plan has {} days from {a} to {b}", days.len()),
        _ => "the plan has no days".to_string(),
    }
}

/// "; tasks with ids like it: 1.2, 1.3" for an unknown id.
fn nearby_ids(plan: &Plan, id: &str) -> String {
    let prefix = id
        .rsplit_once('.')
        .map(|(p, _)| format!("{p}."))
        .unwrap_or_default();
    let near: Vec<&str> = plan
        .tasks
        .iter()
        .map(|t| t.id.as_str())
        .filter(|t| !prefix.is_empty() && t.starts_with(&prefix))
        .take(8)
        .collect();
    if near.is_empty() {
        String::new()
    } else {
        format!(" (known ids like it: {})", near.join(", "))
    }
}
