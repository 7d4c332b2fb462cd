//! The operator's actions in the web view, in a real browser: a viewer
//! sees the plan but no forms, and its posts are refused; an admin logs
//! in, marks a manual task done with a note, applies a revised plan (the
//! change shown first) and approves the day's gate, and the page follows
//! the plan to its end without reloading. A post
//! without the session's CSRF token is refused and changes nothing, and
//! the events name the web session (`web:<id>`, never the cookie) as the
//! actor.

use swarm_tests::browser::{chromium, Browser};
use swarm_tests::events::EventLog;
use swarm_tests::{free_port, http_post, write_plan, Daemon};

/// 1.1 runs, 1.2 has no Run (a manual task: it waits for an operator),
/// day 1's exit criteria have no check (the gate waits for an operator),
/// and day 2's 2.1 runs once the gate opens.
const PLAN: &str = "# Web Actions\n\n### Day 1: Build\n\n\
**Task 1.1**: Build\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo built`\n\n\
**Task 1.2**: Review by a person\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n\n\
**Day 1 Exit Criteria**:\n- [ ] Reviewed\n\n\
### Day 2: Ship\n\n\
**Task 2.1**: Ship\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo shipped`\n";

/// What the revision adds.
const ADDED: &str = "\n**Task 2.2**: Announce\n- **Agent**: SRE\n- **Priority**: P2\n- **Duration**: 1 hour\n- **Dependencies**: Task 2.1\n- **Run**: `echo announced`\n";

const NOTE: &str = "checked the build by hand";

/// The page's state of task `id` in its table.
fn row_state(id: &str) -> String {
    format!("document.querySelector('#tasks tr[data-task=\"{id}\"]')?.dataset.state")
}

/// A post from inside the page, with or without the page's CSRF token:
/// `status text`.
fn post_from_page(path: &str, form: &str, with_csrf: bool) -> String {
    let headers = if with_csrf {
        "{'x-csrf-token': document.querySelector('meta[name=\"csrf-token\"]').content}"
    } else {
        "{}"
    };
    format!(
        "fetch('{path}', {{method: 'POST', credentials: 'same-origin', headers: {headers}, body: new URLSearchParams('{form}')}}).then(async r => r.status + ' ' + (await r.text()))"
    )
}

fn log_in(b: &mut Browser, home: &str, token: &str) -> String {
    b.goto(home);
    b.eval(&format!(
        "document.getElementById('token').value = '{token}'; document.getElementById('login').submit(); true"
    ));
    b.wait_for(
        "the view after logging in",
        20,
        "document.querySelectorAll('#tasks tr[data-task]').length === 3",
    );
    let who = b.eval("document.getElementById('who').textContent");
    who.as_str().expect("the session's name").to_string()
}

#[test]
fn an_operator_approves_a_gate_and_finishes_a_manual_task_in_the_browser() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var_os("SWARM_REQUIRE_BROWSER").is_none(),
            "SWARM_REQUIRE_BROWSER is set but no chromium is installed"
        );
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let http = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start_with(dir.path(), free_port(), &["--gates", "--http", &http]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let _sre = d.agent("sre-1", &["sre"]);
    d.wait_task("1.2", "running", 30);
    let read = |name: &str| {
        let t = std::fs::read_to_string(dir.path().join(".swarm").join(name)).expect("token");
        t.trim().to_string()
    };
    let (admin, viewer) = (read("admin.token"), read("viewer.token"));

    // Without a token, and with the viewer token as a bearer: refused.
    let done = "action=done&note=no";
    assert_eq!(http_post(&http, "/act/task/1.2", None, done).0, 401);
    let (code, body) = http_post(&http, "/act/task/1.2", Some(&viewer), done);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("viewer token"), "{body}");

    // A viewer's session: the whole view, no forms, and its posts refused.
    let mut b = Browser::start(&binary);
    let home = format!("http://{http}/");
    let viewer_session = log_in(&mut b, &home, &viewer);
    assert!(viewer_session.starts_with("web:"), "{viewer_session}");
    assert_eq!(b.eval("document.body.dataset.canChange"), "false");
    b.wait_for(
        "the plan's forms, hidden",
        20,
        "document.querySelector('#summary .plan-actions') !== null && getComputedStyle(document.querySelector('#summary .plan-actions')).display === 'none'",
    );
    let refused = b.eval(&post_from_page("/act/task/1.2", done, true));
    assert!(
        refused
            .as_str()
            .unwrap_or("")
            .starts_with("403 permission denied"),
        "{refused}"
    );
    b.eval("document.querySelector('header form').submit(); true");
    b.wait_for(
        "the login form",
        20,
        "document.getElementById('login') !== null",
    );

    // The admin's session.
    let session = log_in(&mut b, &home, &admin);
    assert_ne!(session, viewer_session);
    assert_eq!(b.eval("document.body.dataset.canChange"), "true");
    let reloads = b.eval("performance.getEntriesByType('navigation').length");
    // The cookie alone is not enough: without the CSRF token, refused.
    let forged = b.eval(&post_from_page("/act/task/1.2", done, false));
    assert!(
        forged
            .as_str()
            .unwrap_or("")
            .starts_with("403 refused: this post lacks the page's CSRF token"),
        "{forged}"
    );
    assert_eq!(
        d.ctl_json(&["task", "show", "1.2", "--json"])["state"],
        "running"
    );

    // Mark 1.2 done with a note, from its detail panel.
    b.eval("document.querySelector('#tasks tr[data-task=\"1.2\"]').click(); true");
    b.wait_for(
        "1.2's actions",
        20,
        "document.querySelector('#detail form[data-task-actions=\"1.2\"] button[value=\"done\"]') !== null",
    );
    b.eval(&format!(
        "const f = document.querySelector('#detail form[data-task-actions=\"1.2\"]'); f.querySelector('input[name=\"note\"]').value = '{NOTE}'; f.querySelector('button[value=\"done\"]').click(); true"
    ));
    b.wait_for(
        "1.2 succeeded in the page",
        30,
        &format!("{} === 'succeeded'", row_state("1.2")),
    );
    assert_eq!(
        b.eval("document.getElementById('act-result').textContent"),
        "1.2 is succeeded"
    );
    assert_eq!(
        b.eval(&row_state("2.1")),
        "pending",
        "day 2 waits for its gate"
    );

    // Revise the plan in the page: a task added after 2.1; the change is
    // shown first, and only then applied.
    let revised = write_plan(dir.path(), "revised.md", &format!("{PLAN}{ADDED}"));
    let doc = b.call("DOM.getDocument", serde_json::json!({}));
    let input = b.call(
        "DOM.querySelector",
        serde_json::json!({"nodeId": doc["root"]["nodeId"], "selector": "#revise input[type=file]"}),
    );
    b.call(
        "DOM.setFileInputFiles",
        serde_json::json!({"files": [revised.display().to_string()], "nodeId": input["nodeId"]}),
    );
    b.eval("document.querySelector('#revise input[name=\"reason\"]').value = 'announce it'; document.querySelector('#revise button[value=\"1\"]').click(); true");
    b.wait_for(
        "the change shown",
        20,
        "(document.getElementById('revision').textContent || '').includes('would change')",
    );
    let shown = b.eval("document.getElementById('revision').textContent");
    assert!(shown.as_str().unwrap_or("").contains("2.2"), "{shown}");
    assert_eq!(
        d.ctl_json(&["tasks", "--json"]).as_array().map(Vec::len),
        Some(3),
        "a dry run changes nothing"
    );
    b.eval("document.querySelector('#revise button[value=\"0\"]').click(); true");
    b.wait_for(
        "2.2 in the page",
        20,
        "document.querySelector('#tasks tr[data-task=\"2.2\"]') !== null",
    );

    // Approve day 1's gate: day 2 runs, and the page follows to the end.
    b.wait_for(
        "the gate's form",
        20,
        "document.querySelector('#summary form[action=\"/act/gate\"]') !== null",
    );
    b.eval("const g = document.querySelector('#summary form[action=\"/act/gate\"]'); g.querySelector('input[name=\"day\"]').value = '1'; g.querySelector('button').click(); true");
    b.wait_for(
        "every task succeeded in the page",
        60,
        "Array.from(document.querySelectorAll('#tasks tr[data-task]')).every(r => r.dataset.state === 'succeeded') && document.querySelector('#summary h2')?.dataset.planState === 'succeeded'",
    );
    assert_eq!(
        b.eval("performance.getEntriesByType('navigation').length"),
        reloads,
        "no reload"
    );

    // An admin token as a bearer needs no CSRF token; its name is the actor.
    let (code, body) = http_post(&http, "/act/standup", Some(&admin), "");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("held"), "{body}");

    // The events name the web session, which is not the cookie.
    let cookies = b.call("Network.getCookies", serde_json::json!({}));
    let cookie = cookies["cookies"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "swarmd_session"))
        .and_then(|c| c["value"].as_str())
        .expect("the session cookie")
        .to_string();
    let log = EventLog::read(&d);
    let marked = log.only("1.2 marked done", |e| e.is("task.succeeded", "1.2"));
    assert_eq!(marked.actor, session, "{log}");
    assert!(marked.message.contains(NOTE), "{marked}");
    let opened = log.only("the gate opening", |e| e.kind == "gate.opened");
    assert_eq!(opened.actor, session, "{log}");
    let shipped = log.only("2.1 starting", |e| e.is("task.running", "2.1"));
    let revised = log.only("the revision", |e| e.kind == "plan.revised");
    assert_eq!(revised.actor, session, "{log}");
    log.only("2.2 succeeding", |e| e.is("task.succeeded", "2.2"));
    assert!(opened.seq < shipped.seq, "{log}");
    let standup = log.only("the bearer's checkpoint", |e| {
        e.kind == "checkpoint.started" && e.actor == "admin"
    });
    assert!(standup.seq > shipped.seq, "{log}");
    assert!(
        log.events()
            .iter()
            .all(|e| e.actor != viewer_session && !e.actor.contains(&cookie[..16])),
        "the viewer changed nothing, and no event shows the cookie: {log}"
    );
}
