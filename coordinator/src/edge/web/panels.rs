//! The web view's HTML panels, rendered by the server from the same views
//! `swarmctl` prints: the summary line, every task with its state, agents
//! by role with what each runs, the checkpoint reports with their
//! reallocation decisions, and one task's attempts (with what each spent,
//! `usage.rs`) and its log tail.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{esc, state_class};
use swarm_core::model::AgentState;
use swarm_core::views::{AgentView, StandupView, Status, TaskDetail, TaskView};

/// Tables longer than this show the first rows and say how many are left.
pub const MAX_ROWS: usize = 2000;

/// The plan, its state, the plan clock and the counts.
pub fn summary(s: &Status) -> String {
    if s.plan.is_empty() {
        return format!(
            r#"<p class="idle">No plan loaded ({} agents connected): <code>swarmctl plan load FILE</code></p>"#,
            s.agents
        );
    }
    let c = &s.counts;
    let mut out = format!(
        r#"{actions}<h2 data-plan-state="{st}">{name} <span class="badge {cls}">{st}</span></h2><p class="clock">{time} · {agents} agents · {verdict}{reason}</p><p class="counts">"#,
        actions = super::forms::plan(s),
        name = esc(&s.plan),
        st = esc(s.state.name()),
        cls = state_class(s.state.name()),
        time = esc(&s.plan_time),
        agents = s.agents,
        verdict = s.verdict.map_or("", swarm_core::verdict::Verdict::name),
        reason = if s.verdict_reason.is_empty() {
            String::new()
        } else {
            format!(": {}", esc(&s.verdict_reason))
        },
    );
    for (state, n) in c.by_state() {
        let name = state.name();
        let _ = write!(
            out,
            r#"<span class="count {cls}" data-count="{name}">{name} {n}</span> "#,
            cls = state_class(name)
        );
    }
    let _ = write!(out, "of {}</p>", c.total);
    for (label, line) in [
        ("Projected", &s.projected),
        ("Next checkpoint", &s.next_checkpoint),
        ("Shared memory", &s.memory),
        ("Repository", &s.workspace),
        ("Spend", &spend_line(&s.spend)),
    ] {
        if !line.is_empty() {
            let _ = write!(out, "<p><b>{label}:</b> {}</p>", esc(line));
        }
    }
    for (label, list) in [
        ("Shortfall", &s.shortfall),
        ("Unstaffed roles", &s.unstaffed_roles),
        ("Closed gates", &s.gates),
        ("Waiting for an operator", &s.waiting_for_operator),
        ("Paused pools", &s.pools),
        ("Budgets", &s.budgets),
    ] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|x| esc(x)).collect();
            let _ = write!(
                out,
                r#"<p class="warn"><b>{label}:</b> {}</p>"#,
                items.join(", ")
            );
        }
    }
    out
}

/// What the plan spent: today, in all, per plan hour and by role; empty
/// while nothing said what it spent.
fn spend_line(s: &swarm_core::views::SpendView) -> String {
    if s.total.reports == 0 {
        return String::new();
    }
    let roles: Vec<String> = (s.by_role.iter())
        .map(|l| format!("{} ${:.2}", l.name, l.tally.cost_usd))
        .collect();
    format!(
        "${:.2} today, ${:.2} in all (${:.2} per plan hour); by role: {}",
        s.today.cost_usd,
        s.total.cost_usd,
        s.usd_per_plan_hour,
        roles.join(", ")
    )
}

/// Every task, one row each, with `data-task` and `data-state`.
pub fn tasks(tasks: &[TaskView]) -> String {
    let mut out = String::from(
        "<table class=\"tasks\"><thead><tr><th>Task</th><th>Title</th><th>State</th><th>Day</th><th>Pri</th><th>Roles</th><th>Agents</th><th>Attempts</th><th>Why</th></tr></thead><tbody>",
    );
    for t in tasks.iter().take(MAX_ROWS) {
        let _ = write!(
            out,
            r#"<tr class="{cls}" data-task="{id}" data-state="{st}"><td class="tid">{id}</td><td>{title}</td><td class="state">{st}</td><td>{day}</td><td>{pri}</td><td>{roles}</td><td>{agents}</td><td>{n}</td><td>{why}</td></tr>"#,
            cls = state_class(t.state.name()),
            id = esc(&t.id),
            st = esc(t.state.name()),
            title = esc(&t.title),
            day = if t.day == 0 {
                String::new()
            } else {
                t.day.to_string()
            },
            pri = esc(&t.priority),
            roles = esc(&t.roles.join(", ")),
            agents = esc(&t.agents.join(", ")),
            n = t.attempts,
            why = esc(&t.reason),
        );
    }
    out.push_str("</tbody></table>");
    if tasks.len() > MAX_ROWS {
        let _ = write!(
            out,
            "<p class=\"note\">… and {} more: <code>swarmctl tasks</code></p>",
            tasks.len() - MAX_ROWS
        );
    }
    out
}

/// Agents grouped by the role they play now, with what each runs.
pub fn agents(agents: &[AgentView], decisions: &[String]) -> String {
    let mut by_role: BTreeMap<&str, Vec<&AgentView>> = BTreeMap::new();
    for a in agents {
        by_role.entry(a.active_role.as_str()).or_default().push(a);
    }
    let mut out = String::new();
    if by_role.is_empty() {
        out.push_str(r#"<p class="idle">No agents have registered.</p>"#);
    }
    for (role, list) in by_role {
        let live = list
            .iter()
            .filter(|a| a.state == AgentState::Connected)
            .count();
        let _ = write!(
            out,
            r#"<h3>{role} <span class="muted">{live} connected of {n}</span></h3><ul class="agents">"#,
            role = esc(if role.is_empty() { "(no role)" } else { role }),
            n = list.len()
        );
        for a in list.iter().take(MAX_ROWS) {
            let running: Vec<String> = a
                .running
                .iter()
                .map(|(task, attempt)| format!("{} (attempt {attempt})", esc(task)))
                .collect();
            let _ = write!(
                out,
                r#"<li class="{cls}" data-agent="{id}" data-state="{st}"><b>{id}</b> {st} · {busy}/{slots} busy{host}{runs}</li>"#,
                cls = state_class(a.state.name()),
                id = esc(&a.id),
                st = esc(a.state.name()),
                busy = a.busy,
                slots = a.slots,
                host = if a.host.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", esc(&a.host))
                },
                runs = if running.is_empty() {
                    String::new()
                } else {
                    format!(" · runs {}", running.join(", "))
                },
            );
        }
        out.push_str("</ul>");
    }
    if !decisions.is_empty() {
        out.push_str("<h3>Last checkpoint's decisions</h3><ul class=\"decisions\">");
        for d in decisions {
            let _ = write!(out, "<li>{}</li>", esc(d));
        }
        out.push_str("</ul>");
    }
    out
}

/// The checkpoint reports, newest first, each folded.
pub fn reports(list: &[StandupView]) -> String {
    if list.is_empty() {
        return r#"<p class="idle">No checkpoint has been held yet.</p>"#.into();
    }
    let mut out = String::new();
    for (i, s) in list.iter().rev().enumerate() {
        let _ = write!(
            out,
            r#"<details class="report" data-checkpoint="{id}"{open}><summary>#{id} {kind} · {time}</summary>"#,
            id = s.id,
            open = if i == 0 { " open" } else { "" },
            kind = esc(&s.kind),
            time = esc(&s.plan_time),
        );
        if !s.decisions.is_empty() {
            out.push_str("<ul class=\"decisions\">");
            for d in &s.decisions {
                let _ = write!(out, "<li>{}</li>", esc(d));
            }
            out.push_str("</ul>");
        }
        let _ = write!(out, "<pre>{}</pre></details>", esc(&s.report));
    }
    out
}

/// One task: what it is, its attempts, and the tail of its last log.
pub fn task(d: &TaskDetail, log_tail: &str) -> String {
    let t = &d.task;
    let mut out = format!(
        r#"<h3 data-detail="{id}" data-state="{st}">{id} {title} <span class="badge {cls}">{st}</span></h3><p>{pri} · {hours} h · roles {roles}{deps}</p>"#,
        id = esc(&t.id),
        st = esc(t.state.name()),
        cls = state_class(t.state.name()),
        title = esc(&t.title),
        pri = esc(&t.priority),
        hours = t.duration_hours,
        roles = esc(&t.roles.join(", ")),
        deps = if d.depends_on.is_empty() {
            String::new()
        } else {
            format!(" · after {}", esc(&d.depends_on.join(", ")))
        },
    );
    if !t.reason.is_empty() {
        let _ = write!(out, "<p class=\"warn\">{}</p>", esc(&t.reason));
    }
    out.push_str(&super::forms::task(&t.id, t.state));
    if !d.run.is_empty() {
        let _ = write!(out, "<pre class=\"run\">{}</pre>", esc(&d.run));
    }
    out.push_str(super::usage::ATTEMPTS_HEAD);
    for a in &d.attempts {
        let _ = write!(
            out,
            r#"<tr class="{cls}"><td>{n}</td><td>{st}</td><td>{agents}</td><td>{exit}</td>{usage}<td>{msg}</td></tr>"#,
            cls = state_class(a.state.name()),
            n = a.number,
            st = esc(a.state.name()),
            agents = esc(&a.agents.join(", ")),
            exit = a.exit_code.map(|c| c.to_string()).unwrap_or_default(),
            usage = super::usage::cells(a),
            msg = esc(&a.message),
        );
    }
    out.push_str("</tbody></table>");
    super::usage::total(&mut out, d);
    super::work::work(&mut out, d);
    if !log_tail.is_empty() {
        let _ = write!(
            out,
            "<h4>Log (tail)</h4><pre class=\"log\">{}</pre>",
            esc(log_tail)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::views::Counts;

    #[test]
    fn the_summary_escapes_and_counts() {
        let s = Status {
            plan: "<Plan>".into(),
            state: swarm_core::model::StatusState::Plan(swarm_core::model::PlanState::Running),
            counts: Counts {
                total: 3,
                running: 1,
                succeeded: 2,
                ..Counts::default()
            },
            shortfall: vec!["sre: 1 short".into()],
            budgets: vec!["day 1's budget is 80 % spent: $40.00 of $50.00".into()],
            ..Status::default()
        };
        let html = summary(&s);
        assert!(!html.contains("Spend:"), "nothing spent yet");
        assert!(
            html.contains("<b>Budgets:</b> day 1&#39;s budget is 80 % spent"),
            "{html}"
        );
        assert!(html.contains("&lt;Plan&gt;"));
        assert!(html.contains(r#"data-count="succeeded">succeeded 2"#));
        assert!(html.contains("sre: 1 short"));
    }

    #[test]
    fn the_summary_shows_what_was_spent_by_role() {
        use swarm_core::views::{SpendLine, SpendView, Tally};
        let t = |cost| Tally {
            cost_usd: cost,
            reports: 1,
            ..Tally::default()
        };
        let s = Status {
            plan: "P".into(),
            spend: SpendView {
                total: t(3.25),
                today: t(1.0),
                usd_per_plan_hour: 0.5,
                by_role: vec![SpendLine {
                    name: "sre".into(),
                    tally: t(3.25),
                }],
                ..SpendView::default()
            },
            ..Status::default()
        };
        assert!(
            summary(&s).contains(
                "<b>Spend:</b> $1.00 today, $3.25 in all ($0.50 per plan hour); by role: sre $3.25"
            ),
            "{}",
            summary(&s)
        );
    }

    #[test]
    fn agents_are_grouped_by_role() {
        let a = |id: &str, role: &str| AgentView {
            id: id.into(),
            roles: vec![role.into()],
            active_role: role.into(),
            slots: 1,
            busy: 1,
            host: "h".into(),
            state: AgentState::Connected,
            last_seen: 0,
            labels: BTreeMap::new(),
            running: vec![("1.1".into(), 7)],
            sandbox: "bwrap".into(),
        };
        let html = agents(&[a("s1", "sre"), a("q1", "qa"), a("s2", "sre")], &[]);
        let qa = html.find("<h3>qa").expect("qa");
        let sre = html.find("<h3>sre").expect("sre");
        assert!(qa < sre);
        assert!(html.contains("2 connected of 2"));
        assert!(html.contains("runs 1.1 (attempt 7)"));
    }
}
