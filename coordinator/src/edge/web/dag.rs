//! The plan's DAG as SVG, laid out by the server: tasks in columns by
//! layer (the longest chain of dependencies before them), ordered within a
//! column by where their dependencies sit, each box coloured by its state,
//! the critical path drawn thick. Boxes carry `data-task` and
//! `data-state` so the page (and its browser test) can find them.

use std::fmt::Write;

use super::html::{clip, esc, state_class};
use swarm_core::board::{Board, BoardTask};

/// Plans with more tasks than this show the first ones and say so.
pub const MAX_TASKS: usize = 400;
const BOX_W: f64 = 170.0;
const BOX_H: f64 = 46.0;
const COL_GAP: f64 = 60.0;
const ROW_GAP: f64 = 14.0;
const MARGIN: f64 = 16.0;

/// Where each task goes: (column, row).
pub fn layout(tasks: &[BoardTask]) -> Vec<(usize, usize)> {
    let n = tasks.len();
    // Layers: a task sits one column right of its deepest dependency. The
    // board lists tasks in the plan's order, which need not be
    // topological, so relax until nothing moves (at most n rounds).
    let mut layer = vec![0usize; n];
    for _ in 0..n.max(1) {
        let mut moved = false;
        for (i, t) in tasks.iter().enumerate() {
            let want = t
                .deps
                .iter()
                .filter(|&&d| d < n)
                .map(|&d| layer[d] + 1)
                .max()
                .unwrap_or(0);
            if want > layer[i] && want < n {
                layer[i] = want;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    let columns = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut row = vec![0usize; n];
    for col in 0..columns {
        let mut members: Vec<(f64, usize)> = (0..n)
            .filter(|&i| layer[i] == col)
            .map(|i| {
                // Barycentre of the dependencies' rows keeps edges short.
                let rows: Vec<f64> = tasks[i]
                    .deps
                    .iter()
                    .filter(|&&d| d < n)
                    .map(|&d| row[d] as f64)
                    .collect();
                let key = if rows.is_empty() {
                    i as f64
                } else {
                    rows.iter().sum::<f64>() / rows.len() as f64
                };
                (key, i)
            })
            .collect();
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (r, &(_, i)) in members.iter().enumerate() {
            row[i] = r;
        }
    }
    layer.into_iter().zip(row).collect()
}

fn origin(cell: (usize, usize)) -> (f64, f64) {
    (
        MARGIN + cell.0 as f64 * (BOX_W + COL_GAP),
        MARGIN + cell.1 as f64 * (BOX_H + ROW_GAP),
    )
}

/// The SVG document.
pub fn render(board: &Board) -> String {
    let shown = &board.tasks[..board.tasks.len().min(MAX_TASKS)];
    let cells = layout(shown);
    let cols = cells.iter().map(|c| c.0 + 1).max().unwrap_or(1);
    let rows = cells.iter().map(|c| c.1 + 1).max().unwrap_or(1);
    let width = 2.0 * MARGIN + cols as f64 * BOX_W + (cols - 1) as f64 * COL_GAP;
    let height = 2.0 * MARGIN + rows as f64 * BOX_H + (rows - 1) as f64 * ROW_GAP + 20.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="task graph">"#
    );
    s.push_str(r#"<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>"#);
    for (i, t) in shown.iter().enumerate() {
        for &d in t.deps.iter().filter(|&&d| d < shown.len()) {
            let (x0, y0) = origin(cells[d]);
            let (x1, y1) = origin(cells[i]);
            let (ax, ay, bx, by) = (x0 + BOX_W, y0 + BOX_H / 2.0, x1, y1 + BOX_H / 2.0);
            let mid = (ax + bx) / 2.0;
            let class = if t.critical && shown[d].critical {
                "edge critical"
            } else {
                "edge"
            };
            let _ = write!(
                s,
                r#"<path class="{class}" d="M{ax:.1},{ay:.1} C{mid:.1},{ay:.1} {mid:.1},{by:.1} {bx:.1},{by:.1}" marker-end="url(#arrow)"/>"#
            );
        }
    }
    for (i, t) in shown.iter().enumerate() {
        let (x, y) = origin(cells[i]);
        let critical = if t.critical { " critical" } else { "" };
        let _ = write!(
            s,
            r#"<g class="task {state}{critical}" data-task="{id}" data-state="{st}" tabindex="0"><title>{id} {title} — {st}{why}</title><rect x="{x:.1}" y="{y:.1}" width="{BOX_W}" height="{BOX_H}" rx="6"/><text x="{tx:.1}" y="{ty1:.1}" class="tid">{id} · {st}</text><text x="{tx:.1}" y="{ty2:.1}">{short}</text></g>"#,
            state = state_class(t.state.name()),
            id = esc(&t.id),
            st = esc(t.state.name()),
            title = esc(&t.title),
            why = if t.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&t.reason))
            },
            tx = x + 8.0,
            ty1 = y + 18.0,
            ty2 = y + 36.0,
            short = esc(&clip(&t.title, 24)),
        );
    }
    if board.tasks.len() > shown.len() {
        let _ = write!(
            s,
            r#"<text x="{MARGIN}" y="{:.0}" class="note">… and {} more tasks: swarmctl tasks</text>"#,
            height - 6.0,
            board.tasks.len() - shown.len()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::model::TaskState;

    fn task(id: &str, deps: &[usize], critical: bool) -> BoardTask {
        BoardTask {
            id: id.into(),
            title: format!("<task {id}>"),
            state: TaskState::Pending,
            day: 0,
            roles: vec![],
            priority: "P1".into(),
            deps: deps.to_vec(),
            critical,
            planned_start: 0.0,
            planned_hours: 1.0,
            agents: vec![],
            reason: String::new(),
        }
    }

    #[test]
    fn layers_follow_the_longest_chain_even_out_of_order() {
        // 0 <- 2 <- 1, and 3 depends on 0 and 1: listed out of order.
        let tasks = vec![
            task("a", &[], true),
            task("c", &[2], true),
            task("b", &[0], true),
            task("d", &[0, 1], false),
        ];
        let cells = layout(&tasks);
        assert_eq!(cells[0].0, 0);
        assert_eq!(cells[2].0, 1);
        assert_eq!(cells[1].0, 2);
        assert_eq!(cells[3].0, 3);
    }

    #[test]
    fn every_task_is_drawn_escaped_with_its_state_and_critical_edges_marked() {
        let mut tasks = vec![task("1.1", &[], true), task("1.2", &[0], true)];
        tasks[1].state = TaskState::Running;
        let board = Board {
            tasks,
            ..Board::default()
        };
        let svg = render(&board);
        assert!(svg.contains(r#"data-task="1.1" data-state="pending""#));
        assert!(svg.contains(r#"class="task st-running critical" data-task="1.2""#));
        assert!(svg.contains(r#"class="edge critical""#));
        assert!(svg.contains("&lt;task 1.2&gt;"));
        assert!(!svg.contains("<task"));
    }

    #[test]
    fn a_cycle_in_bad_input_does_not_hang_the_layout() {
        let tasks = vec![task("a", &[1], false), task("b", &[0], false)];
        let cells = layout(&tasks);
        assert_eq!(cells.len(), 2);
    }
}
