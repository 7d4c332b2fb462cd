//! The Gantt chart as SVG: one row per agent, each attempt a bar where it
//! ran on the plan clock (working hours from the opening of Day 1), with
//! the slot the plan gave its task drawn faintly beneath it; plan days as
//! columns, checkpoints marked (dashed where the protocol puts them, solid
//! where one was held) and a line at now.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{clip, esc, state_class};
use swarm_core::board::Board;

/// Rows beyond this many agents are summed up in a note.
pub const MAX_AGENTS: usize = 120;
const LABEL_W: f64 = 150.0;
const ROW_H: f64 = 30.0;
const HEAD_H: f64 = 34.0;
const MARGIN: f64 = 10.0;
const CHART_W: f64 = 1000.0;

/// Where things go: the chart's span on the plan clock and its size.
struct Frame {
    /// Working hours per plan day.
    day: f64,
    /// Hours the chart spans: whole days.
    span: f64,
    /// Pixels per hour.
    px: f64,
    /// The SVG's height.
    height: f64,
    /// Where lines across the chart stop.
    bottom: f64,
    /// Agent rows drawn.
    shown: usize,
}

impl Frame {
    fn new(board: &Board, shown: usize) -> Frame {
        let end = board
            .runs
            .iter()
            .map(|r| r.end.unwrap_or(board.now_hours))
            .chain(
                board
                    .tasks
                    .iter()
                    .map(|t| t.planned_start + t.planned_hours),
            )
            .fold(board.now_hours, f64::max)
            .max(1.0);
        let day = if board.day_hours > 0.0 {
            board.day_hours
        } else {
            8.0
        };
        let span = (end / day).ceil().max(1.0) * day;
        let height = HEAD_H + shown.max(1) as f64 * ROW_H + 2.0 * MARGIN + 16.0;
        Frame {
            day,
            span,
            px: CHART_W / span,
            height,
            bottom: height - MARGIN - 16.0,
            shown,
        }
    }

    /// The x of `h` working hours.
    fn x(&self, h: f64) -> f64 {
        MARGIN + LABEL_W + h.clamp(0.0, self.span) * self.px
    }
}

/// The SVG document.
pub fn render(board: &Board) -> String {
    // Agents in the order they first ran something.
    let mut rows: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for run in &board.runs {
        for a in &run.agents {
            if !rows.contains_key(a.as_str()) {
                rows.insert(a, order.len());
                order.push(a);
            }
        }
    }
    let f = Frame::new(board, order.len().min(MAX_AGENTS));
    let (height, bottom) = (f.height, f.bottom);
    let width = 2.0 * MARGIN + LABEL_W + CHART_W;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="gantt" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="Gantt chart">"#
    );
    grid(&mut s, board, &f);
    for (r, agent) in order.iter().take(f.shown).enumerate() {
        let y = HEAD_H + r as f64 * ROW_H;
        let _ = write!(
            s,
            r#"<text class="agent" x="{MARGIN}" y="{ty:.1}">{name}</text>"#,
            ty = y + ROW_H / 2.0 + 4.0,
            name = esc(&clip(agent, 22)),
        );
    }
    bars(&mut s, board, &rows, &f);
    let _ = write!(
        s,
        r#"<line class="now" x1="{a:.1}" y1="{MARGIN}" x2="{a:.1}" y2="{bottom:.1}"><title>now: {h:.1} h</title></line>"#,
        a = f.x(board.now_hours),
        h = board.now_hours,
    );
    let note = if order.len() > f.shown {
        format!(
            " · {} more agents not shown: swarmctl agents",
            order.len() - f.shown
        )
    } else {
        String::new()
    };
    let _ = write!(
        s,
        r#"<text class="note" x="{MARGIN}" y="{ny:.1}">working hours from Day 1 · bar: attempt · thin bar: planned slot · dashed: checkpoint due · solid: checkpoint held{note}</text></svg>"#,
        ny = height - MARGIN,
    );
    s
}

/// The day columns and the checkpoints, planned and held.
fn grid(s: &mut String, board: &Board, f: &Frame) {
    let bottom = f.bottom;
    let mut n = 0.0;
    while n < f.span {
        let _ = write!(
            s,
            r#"<line class="day" x1="{a:.1}" y1="{MARGIN}" x2="{a:.1}" y2="{bottom:.1}"/><text class="dayname" x="{t:.1}" y="{ty:.1}">Day {d}</text>"#,
            a = f.x(n),
            t = f.x(n) + 4.0,
            ty = MARGIN + 12.0,
            d = (n / f.day) as u32 + 1,
        );
        n += f.day;
    }
    for c in &board.planned_checkpoints {
        let _ = write!(
            s,
            r#"<line class="checkpoint planned" x1="{a:.1}" y1="{y0:.1}" x2="{a:.1}" y2="{bottom:.1}"><title>{k} (planned)</title></line>"#,
            a = f.x(c.at),
            y0 = MARGIN + 16.0,
            k = esc(&c.kind),
        );
    }
    for c in &board.held_checkpoints {
        let _ = write!(
            s,
            r#"<line class="checkpoint held" x1="{a:.1}" y1="{y0:.1}" x2="{a:.1}" y2="{bottom:.1}"><title>{k} (held at {h:.1} h)</title></line>"#,
            a = f.x(c.at),
            y0 = MARGIN + 16.0,
            k = esc(&c.kind),
            h = c.at,
        );
    }
}

/// Each attempt as a bar on each of its agents' rows, over its task's
/// planned slot.
fn bars(s: &mut String, board: &Board, rows: &BTreeMap<&str, usize>, f: &Frame) {
    for run in &board.runs {
        let Some(task) = board.tasks.get(run.task) else {
            continue;
        };
        for a in &run.agents {
            let r = rows[a.as_str()];
            if r >= f.shown {
                continue;
            }
            let y = HEAD_H + r as f64 * ROW_H;
            let (p0, p1) = (
                f.x(task.planned_start),
                f.x(task.planned_start + task.planned_hours),
            );
            let (a0, a1) = (f.x(run.start), f.x(run.end.unwrap_or(board.now_hours)));
            let _ = write!(
                s,
                r#"<rect class="planned" x="{p0:.1}" y="{py:.1}" width="{pw:.1}" height="5"><title>{id} planned {ps:.1}–{pe:.1} h</title></rect><g class="run {cls}" data-task="{id}" data-attempt="{num}"><title>{id} attempt {num} on {agent}: {st}, {s0:.1}–{s1} h</title><rect x="{a0:.1}" y="{ay:.1}" width="{aw:.1}" height="16" rx="3"/><text x="{tx:.1}" y="{tty:.1}">{label}</text></g>"#,
                py = y + 22.0,
                pw = (p1 - p0).max(1.0),
                ps = task.planned_start,
                pe = task.planned_start + task.planned_hours,
                cls = state_class(run.state.name()),
                id = esc(&task.id),
                num = run.number,
                agent = esc(a),
                st = esc(run.state.name()),
                s0 = run.start,
                s1 = run
                    .end
                    .map_or_else(|| "now".to_string(), |e| format!("{e:.1}")),
                ay = y + 4.0,
                aw = (a1 - a0).max(2.0),
                tx = a0 + 3.0,
                tty = y + 16.0,
                label = esc(&task.id),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::board::{BoardCheckpoint, BoardRun, BoardTask};

    #[test]
    fn each_attempt_is_a_bar_on_each_of_its_agents_rows() {
        let task = BoardTask {
            id: "1.1".into(),
            title: "t".into(),
            state: swarm_core::model::TaskState::Running,
            day: 1,
            roles: vec![],
            priority: "P0".into(),
            deps: vec![],
            critical: true,
            planned_start: 0.0,
            planned_hours: 2.0,
            agents: vec![],
            reason: String::new(),
        };
        let board = Board {
            day_hours: 8.0,
            now_hours: 3.0,
            tasks: vec![task],
            runs: vec![BoardRun {
                task: 0,
                number: 1,
                agents: vec!["sre-1".into(), "<qa>".into()],
                state: swarm_core::model::AttemptState::Running,
                start: 1.0,
                end: None,
            }],
            planned_checkpoints: vec![BoardCheckpoint {
                kind: "Daily Standup".into(),
                at: 0.0,
            }],
            held_checkpoints: vec![],
            ..Board::default()
        };
        let svg = render(&board);
        assert_eq!(
            svg.matches(r#"data-task="1.1" data-attempt="1""#).count(),
            2
        );
        assert!(svg.contains("&lt;qa&gt;"));
        assert!(svg.contains("Daily Standup (planned)"));
        assert!(svg.contains("Day 1"));
        assert!(svg.contains("1.0–now h"));
    }
}
